"""The Conformer-CTC and Transformer-CTC encoders: shapes, lengths, padding, torchaudio,
checkpoints, and training with the same trainer, decoders and aligner as DeepSpeech."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torchaudio.models import Conformer

from dslearn import synth
from dslearn.audio import save as save_audio
from dslearn.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from dslearn.data import Utterance, write_manifest
from dslearn.inference import load_model
from dslearn.metrics import cer
from dslearn.model import (
    PRESETS,
    ConformerCTC,
    ModelConfig,
    build_model,
    conformer_block,
    convolution_module,
    count_parameters,
    preset,
    time_stride,
)
from dslearn.train import model_flops_per_second

ATTENTION = ["conformer-tiny", "transformer-tiny", "conformer-small"]


def _model(name: str, **overrides) -> ConformerCTC:
    torch.manual_seed(0)
    return build_model(preset(name, **overrides)).eval()


@pytest.mark.parametrize("name", ATTENTION)
def test_shapes_and_output_lengths(name):
    model = _model(name)
    lengths = torch.tensor([301, 200, 17])
    log_probs, out_lengths = model(torch.randn(3, 301, 80), lengths)
    stride = time_stride(model.cfg)
    expected = (lengths - 1) // stride + 1  # "same" padding: ceil(T / stride) frames
    assert out_lengths.tolist() == expected.tolist() == model.output_lengths(lengths).tolist()
    assert log_probs.shape == (3, int(expected.max()), model.cfg.n_classes)
    # Log-probabilities: every frame is a distribution over the alphabet.
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]))


@pytest.mark.parametrize("name", ATTENTION)
def test_presets_match_the_deepspeech_sizes_they_are_compared_with(name):
    rival = "small" if name.endswith("small") else "tiny"
    ours, theirs = count_parameters(_model(name)), count_parameters(build_model(PRESETS[rival]))
    assert abs(ours / theirs - 1) < 0.05, (ours, theirs)


@pytest.mark.parametrize("name", ["conformer-tiny", "transformer-tiny"])
def test_an_utterance_gets_the_same_outputs_alone_and_batched_with_longer_ones(name):
    model = _model(name)
    torch.manual_seed(1)
    x, lengths = torch.randn(3, 400, 80), torch.tensor([400, 230, 61])
    x[1, 230:] = 1e3  # garbage in the padding must not matter
    x[2, 61:] = -1e3
    batched, out_lengths = model(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone, alone_lengths = model(x[i : i + 1, :n], lengths[i : i + 1])
        assert alone_lengths.item() == out_lengths[i].item()
        torch.testing.assert_close(batched[i, : out_lengths[i]], alone[0], atol=1e-5, rtol=1e-5)


def test_the_convolution_modules_batch_norm_counts_real_frames_only():
    """In training, batch statistics must not depend on how much padding the batch carries."""
    short, long = _model("conformer-tiny").train(), _model("conformer-tiny").train()
    d = short.cfg.d_model
    x, valid = torch.randn(2, 100, d), torch.arange(100)[None, :] < torch.tensor([[100], [60]])
    padded = torch.cat([x, torch.randn(2, 150, d)], dim=1)
    valid_padded = torch.cat([valid, torch.zeros(2, 150, dtype=torch.bool)], dim=1)
    out = convolution_module(short.blocks[0].conv_module, x, valid)
    out_padded = convolution_module(long.blocks[0].conv_module, padded, valid_padded)
    norm_a, norm_b = (m.blocks[0].conv_module.sequential[3] for m in (short, long))
    torch.testing.assert_close(norm_a.running_mean, norm_b.running_mean)
    torch.testing.assert_close(norm_a.running_var, norm_b.running_var)
    torch.testing.assert_close(out[valid], out_padded[:, :100][valid])


def test_blocks_compute_what_torchaudio_conformer_computes_without_padding():
    model = _model("conformer-tiny")
    cfg = model.cfg
    reference = Conformer(
        cfg.d_model, cfg.attention_heads, cfg.ffn_dim, cfg.encoder_layers, cfg.conv_kernel
    ).eval()
    reference.conformer_layers.load_state_dict(model.blocks.state_dict())
    h = torch.randn(2, 50, cfg.d_model)
    expected, _ = reference(h, torch.tensor([50, 50]))
    valid = torch.ones(2, 50, dtype=torch.bool)
    for block in model.blocks:
        h = conformer_block(block, h, valid)
    torch.testing.assert_close(h, expected)


def test_transformer_is_the_conformer_without_its_convolution_modules():
    conformer, transformer = _model("conformer-tiny"), _model("transformer-tiny")
    assert all(b.conv_module is not None for b in conformer.blocks)
    assert all(b.conv_module is None for b in transformer.blocks)
    assert not any("conv_module" in k for k in transformer.state_dict())


def test_flops_count_matches_the_weights_a_frame_passes_through():
    # No conv front end and no attention span: each weight is one multiply-add per frame.
    for arch in ("conformer", "transformer"):
        cfg = ModelConfig(
            arch=arch, conv_channels=(), conv_kernels=(), conv_strides=(), d_model=64, ffn_dim=128
        )
        weights = sum(p.numel() for p in build_model(cfg).parameters() if p.dim() >= 2)
        assert model_flops_per_second(cfg, utterance_seconds=0) == 2 * 100 * weights
        # Attention adds 2 x 2 x d multiply-adds per frame per frame it looks at, per layer.
        extra = model_flops_per_second(cfg, utterance_seconds=1) - 2 * 100 * weights
        assert extra == pytest.approx(2 * 100 * cfg.encoder_layers * 2 * 100 * cfg.d_model)


def test_bad_configs_are_refused_with_the_field_named():
    with pytest.raises(ValueError, match="attention_heads"):
        build_model(preset("conformer-tiny", d_model=100, attention_heads=3))
    with pytest.raises(ValueError, match="conv_kernel"):
        build_model(preset("conformer-tiny", conv_kernel=16))
    with pytest.raises(ValueError, match="streaming"):
        build_model(preset("conformer-tiny", bidirectional=False))
    with pytest.raises(ValueError, match="conformer"):
        build_model(preset("tiny", arch="lstm"))


def test_checkpoint_round_trip_gives_the_same_transcription_model(tmp_path):
    model = _model("conformer-tiny", n_classes=29)
    path = save_checkpoint(
        tmp_path / "run" / "best.safetensors",
        Checkpoint(
            model_state=model.state_dict(),
            model_config=model.cfg.to_dict(),
            alphabet={"symbols": " abcdefghijklmnopqrstuvwxyz'"},
            feature_config={"kind": "logmel", "n_mels": 80},
            info={"step": 3},
        ),
    )
    assert ModelConfig.from_dict(load_checkpoint(path).model_config) == model.cfg
    asr = load_model(tmp_path / "run")
    assert isinstance(asr.model, ConformerCTC)
    x, lengths = torch.randn(1, 120, 80), torch.tensor([120])
    torch.testing.assert_close(asr.model(x, lengths)[0], model(x, lengths)[0])


SENTENCE = "set a timer for ten minutes"


@pytest.mark.slow
def test_conformer_trains_resumes_decodes_and_aligns_from_the_command_line(tmp_path):
    """One utterance, learned by dslearn train with the Conformer preset; then resume, every
    decoder and the aligner take the run like any other."""
    wave, words = synth.synthesize(SENTENCE, voice="en-us+m3")
    save_audio(tmp_path / "one.wav", wave)
    write_manifest(
        tmp_path / "one.jsonl", [Utterance(tmp_path / "one.wav", len(wave) / 16000, SENTENCE)]
    )
    run = tmp_path / "run"
    base = [sys.executable, "-m", "dslearn", "train", "--preset", "conformer-tiny",
            "--train", str(tmp_path / "one.jsonl"), "--valid", str(tmp_path / "one.jsonl"),
            "--out", str(run), "--lr", "2e-3", "--warmup-steps", "20", "--schedule", "constant",
            "--eval-every", "50", "--log-every", "10", "--no-spec-augment", "--no-speed-perturb",
            "--threads", "2", "--no-progress"]  # fmt: skip
    subprocess.run([*base, "--max-steps", "100"], check=True, capture_output=True, timeout=600)
    resumed = subprocess.run(
        [*base, "--max-steps", "300", "--resume"], capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "at step 100" in resumed.stdout
    asr = load_model(run)
    assert isinstance(asr.model, ConformerCTC)
    # lm: flashlight's beam search with the shipped grammar LM, at fixed weights: the tuned ones
    # in lm.arpa.tuned.json belong to the shipped model, not to this one-utterance Conformer
    decoders = {"greedy": {}, "beam": {}, "lm": {"alpha": 1.0, "beta": 1.0}}
    heard = {k: asr.transcribe(tmp_path / "one.wav", decoder=asr.decoder(k, **kw)).text
             for k, kw in decoders.items()}  # fmt: skip
    # espeak-ng's audio differs by a few samples from call to call (its state carries over), so
    # the one utterance is not the same on every run: allow one letter of 27 (a final "s")
    assert all(cer(SENTENCE, text) <= 1 / 27 for text in heard.values()), heard
    aligned = subprocess.run(
        [sys.executable, "-m", "dslearn", "align", str(tmp_path / "one.wav"), SENTENCE,
         "--model", str(run), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert aligned.returncode == 0, aligned.stderr
    assert SENTENCE.split()[0] in aligned.stdout and SENTENCE.split()[-1] in aligned.stdout
    # --init-from: a new run starts from the learned weights (a fresh model starts near 3 nats).
    tuned = tmp_path / "tuned"
    base[base.index(str(run))] = str(tuned)
    subprocess.run([*base, "--max-steps", "10", "--init-from", str(run)], check=True,
                   capture_output=True, timeout=600)  # fmt: skip
    from dslearn.train import read_metrics

    assert read_metrics(tuned, "train")[0]["loss"] < 0.5


def test_attention_maps_are_distributions_over_the_real_frames_only():
    model = _model("conformer-tiny")
    x, lengths = torch.randn(2, 200, 80), torch.tensor([200, 120])
    maps = model.attention_maps(x, lengths)
    out_lengths = model.output_lengths(lengths)
    assert len(maps) == model.cfg.encoder_layers
    for weights in maps:
        assert weights.shape == (2, int(out_lengths.max()), int(out_lengths.max()))
        torch.testing.assert_close(weights.sum(-1), torch.ones(2, weights.shape[1]))
        assert weights[1, :, int(out_lengths[1]) :].abs().max() == 0  # padding gets nothing


def test_attention_figure_has_its_axes_in_seconds():
    import matplotlib

    matplotlib.use("agg")
    from dslearn import plot

    ax = plot.attention(torch.full((50, 50), 1 / 50), frame_shift=0.03, title="uniform")
    assert ax.images[0].get_extent() == pytest.approx([0, 1.5, 0, 1.5])
    assert "(s)" in ax.get_xlabel() and ax.get_title() == "uniform"


@pytest.mark.slow
def test_conformer_trains_under_torchrun_ddp_with_identical_replicas(tmp_path):
    """Two CPU processes (gloo) train a small Conformer; DDP keeps their parameters equal."""
    torchrun = Path(sys.executable).parent / "torchrun"
    if not torchrun.exists() and shutil.which("torchrun") is None:
        pytest.skip("torchrun not installed")
    corpus = tmp_path / "corpus"
    synth.generate_corpus(corpus, hours=0.01, seed=3, progress=False)
    worker = Path(__file__).with_name("ddp_worker.py")
    run = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node=2", str(worker), str(corpus),
         str(tmp_path / "ddp"), "--conformer"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    from safetensors.torch import load_file

    rank0 = load_file(str(tmp_path / "ddp" / "rank0.safetensors"))
    rank1 = load_file(str(tmp_path / "ddp" / "rank1.safetensors"))
    assert any("blocks.0.conv_module" in key for key in rank0)
    start = build_model(preset("conformer-tiny", d_model=32, attention_heads=2, ffn_dim=64,
                               encoder_layers=1, conv_kernel=3))  # fmt: skip
    parameters = dict(start.named_parameters())
    for key in parameters:  # batch-norm running statistics stay per process until the next step
        assert torch.equal(rank0[key], rank1[key]), key
    assert not torch.equal(rank0["fc.weight"], start.state_dict()["fc.weight"])  # it trained


def test_conformer_trains_in_bfloat16_autocast(tmp_path):
    """Mixed precision: the attention and convolution modules run under bf16 autocast."""
    corpus = tmp_path / "corpus"
    synth.generate_corpus(corpus, hours=0.005, seed=4, progress=False)
    from dslearn.train import TrainConfig, Trainer, read_metrics

    cfg = TrainConfig(
        train=str(corpus / "train.jsonl"), out=str(tmp_path / "run"), preset="conformer-tiny",
        model={"encoder_layers": 1}, max_steps=3, batch_seconds=10, warmup_steps=1,
        precision="bf16", log_every=1, tensorboard=False, progress=False, device="cpu",
    )  # fmt: skip
    trainer = Trainer(cfg)
    trainer.fit()
    losses = [r["loss"] for r in read_metrics(tmp_path / "run", "train")]
    assert trainer.precision == "bf16" and len(losses) == 3
    assert all(torch.isfinite(torch.tensor(losses))), losses
