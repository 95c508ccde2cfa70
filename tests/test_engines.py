"""The speech engines of dslearn.synth: Flite and Festival beside espeak-ng, open text, long files.

Flite and Festival come from Debian packages (the Makefile's test target installs them); where
they are absent their tests skip with the package to install.
"""

import json

import numpy as np
import pytest

from dslearn import synth
from dslearn.synth import EngineMissing, SynthError, get_engine

MISSING = synth.available_engines()


def _needs(name: str):
    return pytest.mark.skipif(MISSING[name] is not None, reason=str(MISSING[name]))


def _voiced_seconds(audio: np.ndarray, sample_rate: int = 16000) -> float:
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160)
    energy = (frames**2).mean(axis=1)
    return float((energy > energy.max() * 1e-3).sum() * 0.01)


@pytest.mark.parametrize("name", ["flite", "festival"])
def test_each_voice_of_an_engine_speaks_at_16_khz_without_inventing_word_times(name):
    if MISSING[name] is not None:
        pytest.skip(MISSING[name])
    engine = get_engine(name)
    text = "the portals of heaven opened slowly"
    for voice in engine.voices + engine.unseen_voices:
        audio, words = engine.speak(text, voice, rate=1.0)
        assert audio.dtype == np.float32 and np.isfinite(audio).all()
        assert 0.05 < np.abs(audio).max() <= 1.0
        assert 1.0 < _voiced_seconds(audio) < 4.5, voice  # six words, not silence or a stall
        assert words is None  # these engines report none through their command lines


@_needs("flite")
def test_rate_changes_the_speed():
    engine = get_engine("flite")
    slow, _ = engine.speak("one two three four five six", "slt", rate=0.7)
    fast, _ = engine.speak("one two three four five six", "slt", rate=1.4)
    assert len(slow) > 1.6 * len(fast)


def test_a_missing_engine_names_the_package_to_install(monkeypatch):
    monkeypatch.setattr(synth.engine.shutil, "which", lambda program: None)
    with pytest.raises(EngineMissing, match="apt-get install flite"):
        get_engine("flite")
    with pytest.raises(EngineMissing, match="apt-get install festival"):
        get_engine("festival").speak("hello there", "kal_diphone")
    with pytest.raises(SynthError, match="unknown speech engine 'mbrola'.*espeak, flite"):
        get_engine("mbrola")


@_needs("flite")
def test_unknown_voice_and_bad_rate_are_named():
    with pytest.raises(SynthError, match="no voice 'bob'.*kal16"):
        get_engine("flite").speak("hello", "bob")
    with pytest.raises(SynthError, match="rate 3.0"):
        get_engine("flite").speak("hello", "slt", rate=3.0)


def test_espeak_is_an_engine_with_word_times():
    engine = get_engine("espeak")
    audio, words = engine.speak("set a timer", "en-us+m3", rate=1.2)
    assert [w["word"] for w in words] == ["set", "a", "timer"]
    assert all(0 <= w["start"] < w["end"] <= len(audio) / 16000 for w in words)


def _rows(out, split):
    return [json.loads(line) for line in (out / f"{split}.jsonl").read_text().splitlines()]


@_needs("flite")
def test_a_corpus_of_two_engines_keeps_unseen_voices_out_and_is_reproducible(tmp_path):
    settings = dict(hours=0.03, seed=5, engines=("espeak", "flite"), progress=False)
    synth.generate_corpus(tmp_path / "a", workers=1, **settings)
    synth.generate_corpus(tmp_path / "b", workers=2, **settings)
    for split in synth.SPLITS:
        assert (tmp_path / "a" / f"{split}.jsonl").read_bytes() == (
            tmp_path / "b" / f"{split}.jsonl"
        ).read_bytes()
    seen = [r for s in ("train", "dev", "test") for r in _rows(tmp_path / "a", s)]
    unseen = _rows(tmp_path / "a", "test-unseen-voices")
    flite = [r for r in seen if r["speaker"].startswith("flite:")]
    assert flite and all("words" not in r for r in flite)  # no invented timings
    assert all("words" in r for r in seen if ":" not in r["speaker"])  # espeak-ng keeps its own
    assert not {r["speaker"] for r in flite} & {"flite:rms"}
    assert {r["speaker"] for r in unseen} <= {"flite:rms"} | {
        f"{a}+{v}" for a in synth.ACCENTS for v in synth.UNSEEN_VARIANTS
    }


def test_open_text_comes_from_wordnet_normalized_and_never_in_two_splits(tmp_path):
    try:
        pool = synth.open_sentences()
    except SynthError as err:
        pytest.skip(str(err))
    assert len(pool) > 30000 and len(set(pool)) == len(pool)
    assert all(set(t) <= set("abcdefghijklmnopqrstuvwxyz' ") for t in pool[:2000])
    synth.generate_corpus(tmp_path, hours=0.02, seed=3, open_weight=1.0, progress=False)
    texts = {s: {r["text"] for r in _rows(tmp_path, s)} for s in synth.SPLITS}
    assert all(t in set(pool) for t in texts["train"])
    for a in synth.SPLITS:
        for b in synth.SPLITS:
            assert a == b or not texts[a] & texts[b]


def test_long_utterances_join_sentences_with_pauses_and_keep_word_times(tmp_path):
    synth.generate_corpus(
        tmp_path, hours=0.02, seed=2, long_probability=1.0, long_pause=(0.5, 0.5), progress=False
    )
    row = max(_rows(tmp_path, "train"), key=lambda r: len(r["text"]))
    words = row["words"]
    assert [w["word"] for w in words] == row["text"].split()
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and words[-1]["end"] <= row["duration"]
    gaps = [b["start"] - a["end"] for a, b in zip(words, words[1:], strict=False)]
    assert max(gaps) >= 0.5  # the pause between two sentences


def test_cli_synth_names_a_missing_engine_before_it_starts(tmp_path, monkeypatch, capsys):
    from dslearn.cli import main

    monkeypatch.setattr(synth.engine.shutil, "which", lambda program: None)
    code = main(["synth", "--out", str(tmp_path / "c"), "--hours", "0.01", "--engines",
                 "espeak,festival"])  # fmt: skip
    assert code == 2
    assert "apt-get install festival" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()  # nothing half-made
