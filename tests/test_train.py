"""Training for real on synthesized speech: overfitting, exact resume after SIGKILL, DDP on CPU."""

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from dslearn import synth, train
from dslearn.checkpoint import CheckpointError, load_checkpoint
from dslearn.data import Utterance, write_manifest
from dslearn.inference import load_model
from dslearn.model import build_model, preset
from dslearn.train import (
    TrainConfig,
    Trainer,
    lr_at,
    model_flops_per_second,
    pick_precision,
    read_metrics,
)

SENTENCE = "please set a timer for twenty minutes in the kitchen"  # ten words, about 3 s


def _read_metrics(run: Path, split: str = "train") -> dict[int, dict]:
    return {r["step"]: r for r in read_metrics(run, split)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    synth.generate_corpus(out, hours=0.02, seed=11, progress=False)
    return out


def test_overfits_one_utterance_exactly(tmp_path):
    """DeepSpeech's CI smoke test: one ~3 s, 10-word utterance is learned exactly on CPU."""
    wave, words = synth.synthesize(SENTENCE, voice="en-us+m3")
    assert len(words) == 10 and 2.5 < len(wave) / 16000 < 4.0
    from dslearn import audio

    audio.save(tmp_path / "one.wav", wave)
    write_manifest(
        tmp_path / "one.jsonl", [Utterance(tmp_path / "one.wav", len(wave) / 16000, SENTENCE)]
    )
    torch.set_num_threads(2)
    cfg = TrainConfig(
        train=str(tmp_path / "one.jsonl"),
        valid=str(tmp_path / "one.jsonl"),
        out=str(tmp_path / "run"),
        preset="tiny",
        max_steps=300,
        lr=3e-3,
        warmup_steps=20,
        schedule="constant",
        eval_every=25,
        early_stop_patience=0,
        spec_augment=False,
        speed_perturb=(),
        tensorboard=False,
        progress=False,
        log_every=25,
    )
    exact = {}

    def stop_when_exact(record):
        if record["split"] == "valid" and record["wer"] == 0.0 and not exact:
            exact["step"] = record["step"]
            trainer._stop_signal = "transcript learned"

    trainer = Trainer(cfg, callbacks=[stop_when_exact])
    trainer.fit()
    assert exact, f"not exact after 300 steps; best {trainer.best}"
    assert exact["step"] <= 300
    asr = load_model(tmp_path / "run")
    assert asr.transcribe(tmp_path / "one.wav").text == SENTENCE


def _train_cmd(corpus: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dslearn",
        "train",
        "--preset",
        "tiny",
        "--train",
        str(corpus / "train.jsonl"),
        "--valid",
        str(corpus / "dev.jsonl"),
        "--out",
        str(out),
        "--max-steps",
        "40",
        "--batch-seconds",
        "15",
        "--eval-every",
        "10",
        "--log-every",
        "5",
        "--warmup-steps",
        "5",
        "--threads",
        "1",
        "--no-progress",
        *extra,
    ]


@pytest.mark.slow
def test_sigkill_then_resume_continues_exactly(corpus, tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    subprocess.run(_train_cmd(corpus, straight), check=True, capture_output=True, timeout=300)

    proc = subprocess.Popen(
        _train_cmd(corpus, killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 240
    while time.time() < deadline:
        metrics = killed / "metrics.jsonl"
        if metrics.exists() and max(_read_metrics(killed), default=0) >= 25:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Whatever moment the kill hit, the checkpoint under the real name is complete.
    ck = load_checkpoint(killed / "last.safetensors")
    assert ck.info["step"] in (20, 30)

    resumed = subprocess.run(
        _train_cmd(corpus, killed, "--resume"), capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed from {killed / 'last.safetensors'} at step {ck.info['step']}" in resumed.stdout

    a, b = _read_metrics(straight), _read_metrics(killed)
    assert sorted(b) == list(range(5, 45, 5))  # no step lost, none logged twice
    for step in sorted(a):
        assert b[step]["loss"] == pytest.approx(a[step]["loss"], rel=1e-4), step
        assert b[step]["lr"] == pytest.approx(a[step]["lr"])
    final_a = load_checkpoint(straight / "last.safetensors").model_state
    final_b = load_checkpoint(killed / "last.safetensors").model_state
    for key in final_a:
        torch.testing.assert_close(final_b[key], final_a[key], atol=1e-5, rtol=1e-4)
    assert not list(killed.glob(".*tmp*"))


@pytest.mark.slow
def test_torchrun_ddp_matches_single_process(corpus, tmp_path):
    if shutil.which("torchrun") is None and not (Path(sys.executable).parent / "torchrun").exists():
        pytest.skip("torchrun not installed")
    worker = Path(__file__).with_name("ddp_worker.py")
    torchrun = str(Path(sys.executable).parent / "torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    ddp = subprocess.run(
        [
            torchrun,
            "--standalone",
            "--nproc_per_node=2",
            str(worker),
            str(corpus),
            str(tmp_path / "ddp"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    saved = sorted(p.name for p in (tmp_path / "ddp").glob("rank*.safetensors"))
    assert ddp.returncode == 0, f"saved {saved}\n{ddp.stdout[-1500:]}\n{ddp.stderr[-3000:]}"
    single = subprocess.run(
        [sys.executable, str(worker), str(corpus), str(tmp_path / "single"), "--reference"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert single.returncode == 0, single.stderr[-3000:]

    from safetensors.torch import load_file

    rank0 = load_file(str(tmp_path / "ddp" / "rank0.safetensors"))
    rank1 = load_file(str(tmp_path / "ddp" / "rank1.safetensors"))
    reference = load_file(str(tmp_path / "single" / "rank0.safetensors"))
    # gloo sums the two ranks' gradients in another order than one process does, and Adam divides
    # each step by the gradient's running RMS: where a gradient is near zero that rounding grows to
    # about 1e-4 in six steps (4 weights of 97,280 at 7.5e-5 in one run; espeak-ng's audio, and so
    # the corpus, differs slightly from run to run). A gradient-averaging bug moves most weights by
    # about the learning rate (1e-3 per step) instead.
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key  # DDP keeps replicas identical
        diff = (rank0[key] - reference[key]).abs()
        assert diff.max() <= 2e-4, (key, diff.max())
        assert (diff > 2e-5).float().mean() <= 1e-3, (key, int((diff > 2e-5).sum()))
    ddp_loss, single_loss = _read_metrics(tmp_path / "ddp"), _read_metrics(tmp_path / "single")
    assert sorted(ddp_loss) == sorted(single_loss) and len(ddp_loss) >= 4
    for step in ddp_loss:
        assert ddp_loss[step]["loss"] == pytest.approx(single_loss[step]["loss"], rel=1e-5)


def test_auto_precision_is_bf16_only_on_cpus_that_compute_in_bf16(monkeypatch):
    cpu = torch.device("cpu")
    assert isinstance(train.cpu_has_native_bf16(), bool)
    monkeypatch.setattr(train, "cpu_has_native_bf16", lambda: True)
    assert pick_precision("auto", cpu) == "bf16"
    monkeypatch.setattr(train, "cpu_has_native_bf16", lambda: False)
    assert pick_precision("auto", cpu) == "fp32"
    assert pick_precision("bf16", cpu) == "bf16" and pick_precision("fp32", cpu) == "fp32"


def test_mfu_peak_follows_the_precision_the_gpu_really_computes_in(monkeypatch):
    # fp32 runs put cuDNN's convolutions and RNNs on the tensor cores as TF32 unless that is
    # turned off, so their MFU is measured against the TF32 peak (H200: 494.7 vs 67 TFLOP/s).
    gpu = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    assert train.peak_flops(gpu, "bf16") == 989e12
    assert train.peak_flops(gpu, "fp32") == 494.7e12
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    assert train.peak_flops(gpu, "fp32") == 67e12
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Some Other GPU")
    assert train.peak_flops(gpu, "bf16") is None
    assert train.peak_flops(torch.device("cpu"), "bf16") is None


def test_learning_rate_schedule():
    cfg = TrainConfig(train="", out="", lr=1.0, warmup_steps=10, max_steps=110, min_lr_ratio=0.1)
    assert lr_at(0, cfg) == pytest.approx(0.1)
    assert lr_at(9, cfg) == pytest.approx(1.0)
    assert lr_at(60, cfg) == pytest.approx(0.55)  # half way down the cosine
    assert lr_at(110, cfg) == pytest.approx(0.1)
    assert lr_at(500, cfg) == pytest.approx(0.1)
    assert lr_at(60, cfg, progress=0.5) == pytest.approx(0.55)  # progress overrides the steps
    assert lr_at(60, cfg, progress=2.0) == pytest.approx(0.1)


def test_a_time_budget_decays_the_learning_rate_over_its_minutes_not_a_step_guess(corpus, tmp_path):
    cfg = TrainConfig(
        train=str(corpus / "train.jsonl"),
        out=str(tmp_path),
        max_minutes=10,
        lr=1.0,
        warmup_steps=5,
        min_lr_ratio=0.1,
        progress=False,
    )
    trainer = Trainer(cfg)
    trainer.step, trainer.clock = 2, 30.0
    assert trainer._lr() == pytest.approx(lr_at(2, cfg))  # warming up: by steps
    trainer.step, trainer.clock = 5, 60.0  # the warm-up ended after a minute
    assert trainer._lr() == pytest.approx(1.0)
    # Half of the remaining 9 minutes gone: half way down the cosine, whatever the step count
    # (SortaGrad's cheap first steps made step-count guesses end the decay far too late).
    for step in (6, 50, 5000):
        trainer.step, trainer.clock = step, 60.0 + 270.0
        assert trainer._lr() == pytest.approx(0.55)
    trainer.clock = 600.0
    assert trainer._lr() == pytest.approx(0.1)
    # The decay's start travels with the checkpoint, so a resumed run keeps the same clock.
    assert trainer._checkpoint(with_training_state=True).info["decay_start_seconds"] == 60.0


def test_a_time_budget_run_ends_its_decay_when_the_budget_ends(corpus, tmp_path, monkeypatch):
    class SlowerEachStep:  # a fake clock: step k takes 0.04 k s, as SortaGrad's first epoch grows
        calls, now = 0, 0.0

        def perf_counter(self):
            self.calls += 1
            self.now += 0.02 * self.calls
            return self.now

    monkeypatch.setattr(train, "time", SlowerEachStep())
    cfg = TrainConfig(
        train=str(corpus / "train.jsonl"),
        out=str(tmp_path),
        preset="tiny",
        max_minutes=0.5,
        batch_seconds=10,
        lr=1e-3,
        warmup_steps=2,
        min_lr_ratio=0.05,
        log_every=1,
        tensorboard=False,
        progress=False,
    )
    Trainer(cfg).fit()
    lrs = [r["lr"] for step, r in sorted(_read_metrics(tmp_path).items()) if step > 2]
    assert len(lrs) > 30 and lrs == sorted(lrs, reverse=True)
    assert lrs[0] > 0.99e-3  # the top of the cosine just after the warm-up
    # The last step started about one step's time before the end: near the floor (5e-5). A
    # horizon in steps guessed from the first 20 (cheaper) steps left it at about 5e-4.
    assert lrs[-1] < 1e-4, lrs


@pytest.mark.parametrize("rnn_type", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_flops_count_matches_the_weights_a_frame_passes_through(rnn_type, bidirectional):
    # Without a context window every DS1 weight matrix is used once per 10 ms frame: one
    # multiply-add per weight, so the MFU's FLOP count must equal 2 x 100 x the weights.
    cfg = preset("ds1", context=0, rnn_type=rnn_type, bidirectional=bidirectional)
    weights = sum(p.numel() for p in build_model(cfg).parameters() if p.dim() == 2)
    assert model_flops_per_second(cfg) == 2 * 100 * weights


def test_bucketing_off_gives_random_batches_with_more_padding(corpus, tmp_path):
    def padding(bucketing):
        cfg = TrainConfig(
            train=str(corpus / "train.jsonl"),
            out=str(tmp_path / f"b{bucketing}"),
            bucketing=bucketing,
            batch_seconds=20,
            tensorboard=False,
            progress=False,
        )
        trainer = Trainer(cfg)
        trainer.sampler.set_epoch(1)  # past SortaGrad's sorted first epoch
        durations = [trainer.train_set.durations[i] for i in trainer.keep]
        real = padded = 0.0
        for batch in trainer.sampler:
            lengths = [durations[i] for i in batch]
            real, padded = real + sum(lengths), padded + len(lengths) * max(lengths)
        return 1 - real / padded

    assert padding(True) < padding(False) / 2


def test_sortagrad_can_be_turned_off(corpus, tmp_path):
    cfg = TrainConfig(
        train=str(corpus / "train.jsonl"),
        out=str(tmp_path),
        sortagrad=False,
        batch_seconds=10,
        progress=False,
    )
    sampler = Trainer(cfg).sampler
    first_epoch = [max(sampler.durations[i] for i in batch) for batch in sampler]
    assert first_epoch != sorted(first_epoch)  # not shortest-first


def test_a_new_run_refuses_to_mix_into_an_existing_one(corpus, tmp_path):
    cfg = TrainConfig(
        train=str(corpus / "train.jsonl"),
        out=str(tmp_path / "run"),
        max_steps=1,
        tensorboard=False,
        progress=False,
    )
    Trainer(cfg).fit()
    with pytest.raises(ValueError, match="already holds a training run.*--resume"):
        Trainer(cfg)


def test_read_metrics_gives_the_log_back_by_split(corpus, tmp_path):
    run = tmp_path / "run"
    Trainer(
        _quick_cfg(corpus, run, valid=str(corpus / "dev.jsonl"), max_steps=2, log_every=1)
    ).fit()
    assert [r["step"] for r in read_metrics(run, "train")] == [1, 2]
    (valid,) = read_metrics(run, "valid")
    assert valid["step"] == 2 and 0 <= valid["cer"] and "wer" in valid
    assert len(read_metrics(run)) == 3
    with pytest.raises(FileNotFoundError, match="nothing.*no training log"):
        read_metrics(tmp_path / "nothing")


def test_utterances_too_short_for_their_transcript_are_reported(tmp_path):
    wave, _ = synth.synthesize("hello there", voice="en-us+m1")
    from dslearn import audio

    audio.save(tmp_path / "ok.wav", wave)
    audio.save(tmp_path / "short.wav", wave[:1600])  # 0.1 s cannot hold 27 characters
    write_manifest(
        tmp_path / "m.jsonl",
        [
            Utterance(tmp_path / "ok.wav", len(wave) / 16000, "hello there"),
            Utterance(tmp_path / "short.wav", 0.1, "a very long transcript indeed"),
        ],
    )
    cfg = TrainConfig(
        train=str(tmp_path / "m.jsonl"),
        out=str(tmp_path / "run"),
        max_steps=1,
        tensorboard=False,
        progress=False,
    )
    with pytest.warns(UserWarning, match="1 of 2 training utterances are too short"):
        trainer = Trainer(cfg)
    skipped = [json.loads(x) for x in (tmp_path / "run" / "skipped.jsonl").read_text().splitlines()]
    assert [Path(s["audio_filepath"]).name for s in skipped] == ["short.wav"]
    assert trainer.keep == [0]


def test_unreadable_audio_stops_training_before_it_starts_with_every_file_named(corpus, tmp_path):
    from dslearn.data import ManifestError, read_manifest

    (tmp_path / "corrupt.wav").write_bytes(b"RIFF and then nothing")
    utts = read_manifest(corpus / "train.jsonl")
    # Bad files last: training on the good ones would have gone on until a batch met them.
    bad = [Utterance(tmp_path / n, 1.5, "hello there") for n in ("corrupt.wav", "gone.wav")]
    write_manifest(tmp_path / "train.jsonl", utts + bad)
    write_manifest(tmp_path / "dev.jsonl", read_manifest(corpus / "dev.jsonl") + bad[1:])
    cfg = _quick_cfg(corpus, tmp_path / "run", train=str(tmp_path / "train.jsonl"), max_steps=1)
    with pytest.raises(ManifestError, match="has 2 problem") as err:
        Trainer(cfg)
    n = len(utts)
    assert f"train.jsonl:{n + 1}: {tmp_path / 'corrupt.wav'}: cannot decode" in str(err.value)
    assert f"train.jsonl:{n + 2}: {tmp_path / 'gone.wav'}: no such file" in str(err.value)
    assert not (tmp_path / "run").exists()
    with pytest.raises(ManifestError, match=r"dev.jsonl \(audio files\) has 1 problem"):
        Trainer(
            dataclasses.replace(
                cfg, train=str(corpus / "train.jsonl"), valid=str(tmp_path / "dev.jsonl")
            )
        )


def test_recipe_presets_fill_unset_options_and_cli_wins():
    from dslearn.cli import build_parser, train_config
    from dslearn.train import RECIPES, recipe_config

    def cfg(*extra):
        base = ["train", "--train", "t.jsonl", "--out", "run"]
        return train_config(build_parser().parse_args(base + list(extra)))

    # The default preset, tiny, takes its CPU recipe; a preset without a recipe, the defaults.
    assert cfg() == recipe_config("tiny", train="t.jsonl", out="run")
    assert cfg().batch_seconds == 100.0 and cfg().features == {"normalize": "global"}
    assert cfg("--preset", "small") == TrainConfig(train="t.jsonl", out="run", preset="small")
    fsdd = cfg("--preset", "fsdd", "--lr", "0.01", "--set", "features.n_mels=40")
    assert fsdd.preset == "fsdd" and fsdd.lr == 0.01  # given on the command line
    assert fsdd.batch_seconds == RECIPES["fsdd"]["batch_seconds"]  # from the recipe
    assert fsdd.features == {"f_max": 4000.0, "n_mels": 40}  # merged, not replaced
    assert cfg("--preset", "fsdd", "--no-speed-perturb").speed_perturb == ()
    assert cfg("--preset", "librispeech-960", "--max-steps", "5").max_steps == 5
    plain = recipe_config("small", train="t", out="o", lr=1e-4)
    assert plain.batch_seconds == TrainConfig.batch_seconds and plain.lr == 1e-4
    for name in RECIPES:  # every recipe has its model preset and builds
        build_model(preset(name))


def test_spec_augment_settings_reach_the_trainer(corpus, tmp_path):
    from dslearn.cli import build_parser, train_config

    args = ["train", "--train", str(corpus / "train.jsonl"), "--out", str(tmp_path / "run")]
    args += ["--set", "spec_augment.time_masks=1", "--set", "spec_augment.freq_width=8"]
    cfg = train_config(build_parser().parse_args(args + ["--no-progress"]))
    assert cfg.spec_augment_params == {"time_masks": 1, "freq_width": 8}
    trainer = Trainer(dataclasses.replace(cfg, tensorboard=False))
    sa = trainer.spec_augment
    assert (sa.time_masks, sa.freq_width, sa.freq_masks) == (1, 8, 2)  # the rest: defaults
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['time_mask'\]"):
        Trainer(dataclasses.replace(cfg, spec_augment_params={"time_mask": 1}))
    with pytest.raises(ValueError, match="spec_augment.FIELD=VALUE"):
        train_config(build_parser().parse_args(args + ["--set", "augmentation.x=1"]))


def _quick_cfg(corpus: Path, out: Path, **fields) -> TrainConfig:
    base = dict(
        train=str(corpus / "train.jsonl"),
        out=str(out),
        batch_seconds=10,
        warmup_steps=1,
        tensorboard=False,
        progress=False,
    )
    return TrainConfig(**{**base, **fields})


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k].to(a[k].dtype)) for k in a)


def test_init_from_loads_weights_with_a_fresh_optimizer_and_schedule(corpus, tmp_path):
    Trainer(_quick_cfg(corpus, tmp_path / "src", max_steps=2)).fit()
    source = load_checkpoint(tmp_path / "src" / "last.safetensors").model_state
    tuned = Trainer(
        _quick_cfg(corpus, tmp_path / "tuned", max_steps=2, init_from=str(tmp_path / "src"))
    )
    assert _same_weights(tuned.model.state_dict(), source)
    assert tuned.step == 0 and not tuned.optimizer.state  # only the weights came over
    tuned.fit()
    assert tuned.step == 2
    assert not _same_weights(tuned.model.state_dict(), source)  # and it trained from there
    # A resumed fine-tuning run keeps its own later weights, not the ones it started from.
    again = Trainer(
        _quick_cfg(
            corpus, tmp_path / "tuned", max_steps=3, init_from=str(tmp_path / "src"), resume=True
        )
    )
    later = load_checkpoint(tmp_path / "tuned" / "last.safetensors").model_state
    assert again.step == 2 and _same_weights(again.model.state_dict(), later)


def test_init_from_the_shipped_model(corpus, tmp_path):
    from dslearn.inference import pretrained_path

    shipped = load_checkpoint(pretrained_path())
    cfg = _quick_cfg(corpus, tmp_path / "ft", preset=shipped.info["train_config"]["preset"])
    trainer = Trainer(dataclasses.replace(cfg, init_from="pretrained"))
    assert _same_weights(trainer.model.state_dict(), shipped.model_state)


def test_init_from_refuses_weights_that_mean_something_else(corpus, tmp_path):
    Trainer(_quick_cfg(corpus, tmp_path / "src", max_steps=1)).fit()
    src = str(tmp_path / "src")
    with pytest.raises(ValueError, match=r"--init-from .*src.last.*rnn_hidden 256 vs 128"):
        Trainer(_quick_cfg(corpus, tmp_path / "a", init_from=src, model={"rnn_hidden": 128}))
    with pytest.raises(ValueError, match=r"its features differ.*f_max None vs 4000"):
        Trainer(_quick_cfg(corpus, tmp_path / "b", init_from=src, features={"f_max": 4000.0}))
    # Dropout changes no weight, so it may differ.
    Trainer(_quick_cfg(corpus, tmp_path / "c", init_from=src, model={"dropout": 0.2}))
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        Trainer(_quick_cfg(corpus, tmp_path / "d", init_from=str(tmp_path / "nowhere")))


def test_global_cmvn_is_fitted_on_training_audio_saved_and_used_by_inference(corpus, tmp_path):
    from dslearn.data import SpeechDataset, collate
    from dslearn.features import FeatureConfig, build_features, compute_global_stats
    from dslearn.inference import Recognizer

    out = tmp_path / "run"
    cfg = _quick_cfg(corpus, out, max_steps=2, features={"normalize": "global"})
    trainer = Trainer(cfg)
    cmvn = trainer.features.cmvn
    assert cmvn.is_fitted
    # The tiny corpus is smaller than the sample, so the statistics are those of every utterance.
    plain = build_features(FeatureConfig(normalize="none"))
    data = SpeechDataset(corpus / "train.jsonl", trainer.alphabet)
    batch = collate([data[i] for i in trainer.keep])
    expected = compute_global_stats([plain(batch.audio, batch.audio_lengths)])
    assert torch.allclose(cmvn.mean, expected.mean, atol=1e-3)
    assert torch.allclose(cmvn.std, expected.std, atol=1e-3)
    trainer.fit()

    saved = load_checkpoint(out / "last.safetensors")
    assert torch.equal(saved.feature_state["cmvn.mean"], cmvn.mean)
    asr = load_model(out)
    audio, lengths = batch.audio[:3], batch.audio_lengths[:3]
    trainer.model.eval()
    with torch.no_grad():
        want, _ = trainer.model(*trainer.features(audio, lengths))
    got, _ = asr.log_probs(audio, lengths)
    assert torch.allclose(got, want, atol=1e-5)

    # Fine-tuning keeps the statistics the weights were trained with (not refitted on new data).
    tuned = Trainer(
        _quick_cfg(
            corpus,
            tmp_path / "tuned",
            train=str(corpus / "dev.jsonl"),
            features={"normalize": "global"},
            init_from=str(out),
        )
    )
    assert torch.equal(tuned.features.cmvn.mean, cmvn.mean)
    with pytest.raises(ValueError, match="normalize='global' but no CMVN statistics"):
        Recognizer(asr.model, asr.model_config, asr.alphabet, asr.feature_config)


def test_export_keeps_what_inference_needs_and_drops_what_only_resume_needs(corpus, tmp_path):
    from dslearn.checkpoint import export_weights, is_resumable

    run, cmvn = tmp_path / "run", {"normalize": "global"}
    Trainer(_quick_cfg(corpus, run, max_steps=2, features=cmvn)).fit()
    last = load_checkpoint(run / "last.safetensors")
    assert is_resumable(last)

    full = export_weights(run / "last.safetensors", tmp_path / "w32.safetensors")
    half = export_weights(run / "last.safetensors", tmp_path / "w16.safetensors", dtype="float16")
    w32, w16 = load_checkpoint(full), load_checkpoint(half)
    assert not is_resumable(w32) and not w32.extra_tensors and "optimizer" not in w32.info
    assert w32.info["step"] == 2 and w32.model_config == last.model_config
    assert _same_weights(w32.model_state, last.model_state)
    assert torch.equal(w32.feature_state["cmvn.mean"], last.feature_state["cmvn.mean"])
    assert w16.model_state["fc.weight"].dtype == torch.float16
    assert w16.feature_state["cmvn.mean"].dtype == torch.float32
    sizes = [p.stat().st_size for p in (half, full, run / "last.safetensors")]
    assert sizes[0] < 0.6 * sizes[1] < 0.6 * sizes[2]

    # Both load for inference: float32 gives the run's own outputs, float16 nearly.
    audio = torch.randn(2, 16000) * 0.1
    lengths = torch.tensor([16000, 12000])
    want, _ = load_model(run / "last.safetensors").log_probs(audio, lengths)
    assert torch.equal(load_model(full).log_probs(audio, lengths)[0], want)
    assert torch.allclose(load_model(half).log_probs(audio, lengths)[0], want, atol=0.05)
    with pytest.raises(ValueError, match="dtype 'int8'"):
        export_weights(run, tmp_path / "x.safetensors", dtype="int8")

    # An exported file can start a new run, but never pass for a run's last checkpoint.
    tuned = _quick_cfg(corpus, tmp_path / "ft", max_steps=1, features=cmvn, init_from=str(half))
    Trainer(tuned).fit()
    shutil.copy(full, run / "last.safetensors")
    with pytest.raises(ValueError, match="holds weights only.*--init-from"):
        Trainer(_quick_cfg(corpus, run, max_steps=3, resume=True, features=cmvn))
