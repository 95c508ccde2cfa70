"""The `dslearn` command line, run as a user runs it: a subprocess."""

import json
import subprocess
import sys
from pathlib import Path

import pytest


def dslearn(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dslearn", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_help_lists_the_subcommands():
    out = dslearn("--help")
    assert out.returncode == 0
    commands = ("synth", "train", "eval", "transcribe", "align", "lm", "demo", "model", "export")
    for command in commands:
        assert command in out.stdout


def test_synth_writes_a_corpus_and_refuses_to_clobber_it(tmp_path):
    out = dslearn("synth", "--out", str(tmp_path / "c"), "--hours", "0.01", "--seed", "3")
    assert out.returncode == 0, out.stderr
    assert "test-unseen-voices" in out.stdout
    for split in ("train", "dev", "test", "test-unseen-voices"):
        lines = (tmp_path / "c" / f"{split}.jsonl").read_text().splitlines()
        assert lines, split
        first = json.loads(lines[0])
        assert {"audio_filepath", "duration", "text", "speaker", "words"} <= set(first)
        assert (tmp_path / "c" / first["audio_filepath"]).is_file()
    again = dslearn("synth", "--out", str(tmp_path / "c"), "--hours", "0.01")
    assert again.returncode == 2
    assert "--overwrite" in again.stderr or "overwrite" in again.stderr
    assert "Traceback" not in again.stderr


def test_synth_rejects_nonsense_hours(tmp_path):
    out = dslearn("synth", "--out", str(tmp_path / "c"), "--hours", "-1")
    assert out.returncode == 2 and "hours" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    out = dslearn(
        "demo",
        "--out",
        str(tmp_path / "demo"),
        "--run",
        str(tmp_path / "run"),
        "--hours",
        "0.01",
        "--steps",
        "3",
    )
    assert out.returncode == 0, out.stderr
    assert "for 3 steps" in out.stdout and "What to expect" in out.stdout
    assert "best dev CER" in out.stdout
    assert "(batch, frames, n_mels)" in out.stdout
    assert "test-unseen-voices" in out.stdout and "reference:" in out.stdout
    assert (tmp_path / "run" / "last.safetensors").is_file()


def test_model_list_prints_every_preset_with_its_size():
    from dslearn.model import PRESETS, build_model, count_parameters

    out = dslearn("model", "--list")
    assert out.returncode == 0
    for name in PRESETS:
        n = count_parameters(build_model(PRESETS[name]))
        assert f"{n:,}" in out.stdout, name


def test_train_init_from_the_shipped_model(tmp_path):
    """Fine-tuning from the command line: the shipped weights, a fresh run; a wrong preset fails."""
    from dslearn import synth

    synth.generate_corpus(tmp_path / "c", hours=0.01, seed=4, progress=False)
    common = ("train", "--train", str(tmp_path / "c" / "train.jsonl"), "--init-from", "pretrained")
    steps = ("--max-steps", "2", "--batch-seconds", "10", "--no-progress", "--threads", "2")
    out = dslearn(*common, "--preset", "small", "--out", str(tmp_path / "ft"), *steps)
    assert out.returncode == 0, out.stderr
    assert "initialized from" in out.stdout and "pretrained" in out.stdout
    assert json.loads((tmp_path / "ft" / "config.json").read_text())["init_from"] == "pretrained"
    wrong = dslearn(*common, "--preset", "tiny", "--out", str(tmp_path / "bad"), *steps)
    assert wrong.returncode == 2
    assert "dslearn train: error: --init-from" in wrong.stderr and "rnn_hidden 320" in wrong.stderr


def test_export_writes_a_half_size_model_that_transcribes_the_same(tmp_path):
    from dslearn import audio, synth
    from dslearn.inference import pretrained_path
    from dslearn.metrics import cer

    wave, _ = synth.synthesize("the kingdom lent our meadow", voice="en-us+m3", seed=1)
    clip = str(audio.save(tmp_path / "clip.wav", wave))
    half = tmp_path / "half.safetensors"
    out = dslearn("export", str(pretrained_path()), "--out", str(half), "--dtype", "float16")
    assert out.returncode == 0, out.stderr
    assert "float16 weights" in out.stdout
    assert half.stat().st_size < 0.55 * pretrained_path().stat().st_size
    shipped = dslearn("transcribe", clip)
    exported = dslearn("transcribe", "--model", str(half), clip)
    assert exported.returncode == 0, exported.stderr
    # the same text from both files, and a real transcript (greedy may misspell a letter or two)
    assert exported.stdout == shipped.stdout
    text = shipped.stdout.split(": ", 1)[1].strip()
    assert cer("the kingdom lent our meadow", text) < 0.15, text
    same = dslearn("export", str(half), "--out", str(half))
    assert same.returncode == 2 and "is the checkpoint being exported" in same.stderr
