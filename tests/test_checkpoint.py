"""Checkpoints: safetensors only, atomic writes, never unpickling a stranger's file."""

import os
import pickle

import pytest
import torch

from dslearn.checkpoint import (
    Checkpoint,
    CheckpointError,
    blend_weights,
    load_checkpoint,
    optimizer_from_tensors,
    optimizer_to_tensors,
    resolve_model_path,
    save_checkpoint,
)
from dslearn.model import ModelConfig, build_model, preset


def _checkpoint(model) -> Checkpoint:
    return Checkpoint(
        model_state=model.state_dict(),
        model_config=preset("tiny").to_dict(),
        alphabet={"symbols": " abc"},
        feature_config={"kind": "logmel", "n_mels": 80},
        info={"step": 7},
    )


def test_round_trip_keeps_weights_and_header(tmp_path):
    model = build_model(preset("tiny"))
    path = save_checkpoint(tmp_path / "run" / "best.safetensors", _checkpoint(model))
    ck = load_checkpoint(path)
    assert ck.info == {"step": 7} and ck.alphabet == {"symbols": " abc"}
    assert ModelConfig.from_dict(ck.model_config) == preset("tiny")
    for key, value in model.state_dict().items():
        assert torch.equal(ck.model_state[key], value)
    # A run directory stands for its best checkpoint.
    assert resolve_model_path(tmp_path / "run") == path


def test_optimizer_state_round_trip(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    tensors, meta = optimizer_to_tensors(opt.state_dict())
    restored = torch.optim.AdamW(torch.nn.Linear(3, 2).parameters(), lr=0.5)
    restored.load_state_dict(optimizer_from_tensors(tensors, meta))
    assert restored.param_groups[0]["lr"] == 0.1
    assert torch.equal(
        restored.state_dict()["state"][0]["exp_avg"], opt.state[model.weight]["exp_avg"]
    )


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_pickle_is_refused_without_being_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "model.safetensors"
    evil.write_bytes(pickle.dumps({"weights": _Exploit()}))
    with pytest.raises(CheckpointError, match="never unpickles"):
        load_checkpoint(evil)
    assert not (tmp_path / "pwned").exists()


def test_safetensors_without_dslearn_header_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(CheckpointError, match="without a dslearn header"):
        load_checkpoint(tmp_path / "other.safetensors")


def test_missing_paths_are_named(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.safetensors")
    with pytest.raises(CheckpointError, match="neither best.safetensors nor last.safetensors"):
        load_checkpoint(tmp_path)


def test_failed_write_leaves_previous_checkpoint_intact(tmp_path, monkeypatch):
    model = build_model(preset("tiny"))
    path = save_checkpoint(tmp_path / "last.safetensors", _checkpoint(model))
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("dslearn.checkpoint.os.replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, _checkpoint(build_model(preset("tiny"))))
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_blending_two_twins_interpolates_every_weight_and_refuses_strangers(tmp_path):
    torch.manual_seed(0)
    a, b = build_model(preset("tiny")), build_model(preset("tiny"))
    save_checkpoint(tmp_path / "a.safetensors", _checkpoint(a))
    save_checkpoint(tmp_path / "b.safetensors", _checkpoint(b))
    out = blend_weights(tmp_path / "a.safetensors", tmp_path / "b.safetensors", 0.25,
                        tmp_path / "ab.safetensors")  # fmt: skip
    blended = load_checkpoint(out).model_state
    sa, sb = a.state_dict(), b.state_dict()
    for name, value in blended.items():
        if value.is_floating_point():
            torch.testing.assert_close(value, 0.75 * sa[name] + 0.25 * sb[name])
        else:
            assert torch.equal(value, sb[name])
    assert load_checkpoint(out).info["blend"]["weight_b"] == 0.25
    other = _checkpoint(build_model(preset("small")))
    other.model_config = preset("small").to_dict()
    save_checkpoint(tmp_path / "small.safetensors", other)
    with pytest.raises(ValueError, match="different model_config"):
        blend_weights(tmp_path / "a.safetensors", tmp_path / "small.safetensors", 0.5,
                      tmp_path / "x.safetensors")  # fmt: skip
    with pytest.raises(ValueError, match="weight_b=1.5"):
        blend_weights(tmp_path / "a.safetensors", tmp_path / "b.safetensors", 1.5,
                      tmp_path / "x.safetensors")  # fmt: skip


def test_export_blend_from_on_the_command_line(tmp_path):
    from dslearn.cli import main

    torch.manual_seed(1)
    a, b = build_model(preset("tiny")), build_model(preset("tiny"))
    save_checkpoint(tmp_path / "a.safetensors", _checkpoint(a))
    save_checkpoint(tmp_path / "b.safetensors", _checkpoint(b))
    args = ["export", str(tmp_path / "b.safetensors"), "--out", str(tmp_path / "ab.safetensors")]
    args += ["--blend-from", str(tmp_path / "a.safetensors"), "--blend-weight", "0.6"]
    assert main(args) == 0
    got = load_checkpoint(tmp_path / "ab.safetensors").model_state
    key = next(k for k in got if k.endswith("weight_hh_l0"))
    torch.testing.assert_close(got[key], 0.4 * a.state_dict()[key] + 0.6 * b.state_dict()[key])

    # Either side may be named as --init-from names a model: a run directory, or "pretrained".
    from dslearn.inference import pretrained_path

    run = tmp_path / "run"
    run.mkdir()
    shipped = load_checkpoint(pretrained_path())
    save_checkpoint(run / "best.safetensors", shipped)
    args = ["export", str(run), "--out", str(tmp_path / "p.safetensors"), "--blend-from",
            "pretrained", "--blend-weight", "0.3"]  # fmt: skip
    assert main(args) == 0
    for name, value in load_checkpoint(tmp_path / "p.safetensors").model_state.items():
        torch.testing.assert_close(value, shipped.model_state[name])  # a blend of twins
