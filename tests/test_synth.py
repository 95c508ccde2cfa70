"""The embedded corpus: espeak-ng speech, word timings, noise and reverb, and the corpus on disk."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dslearn import synth
from dslearn.text import normalize

TRANSCRIPT = re.compile(r"[a-z']+( [a-z']+)*")
SR = synth.SAMPLE_RATE


def rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-30)


# --- one utterance -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def timer():
    """A known sentence, clean, in a plain voice, with 0.2 s of silence on both sides."""
    audio, words = synth.synthesize("Set a timer for 25 minutes!", "en-us+m3", pad=(0.2, 0.2))
    return audio, words


def test_synthesize_speaks_the_normalized_text(timer):
    audio, words = timer
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert [w["word"] for w in words] == "set a timer for twenty five minutes".split()
    duration = len(audio) / SR
    assert 1.5 < duration < 4.0  # seven words at 175 wpm plus 0.4 s of padding
    assert np.abs(audio).max() <= 1.0
    assert rms_db(audio) > -40  # clearly not silence
    assert rms_db(audio[: int(0.15 * SR)]) < -90  # the padding is silent (no noise asked for)


def test_audio_is_16_khz_and_resampling_keeps_time():
    # The same speech at espeak-ng's own rate and at 16 kHz must last equally long in seconds.
    audio_22, words_22 = synth.synthesize("call the doctor tomorrow", sample_rate=22050)
    audio_16, words_16 = synth.synthesize("call the doctor tomorrow", sample_rate=16000)
    assert abs(len(audio_22) / 22050 - len(audio_16) / 16000) < 0.02
    for a, b in zip(words_22, words_16, strict=True):
        assert abs(a["start"] - b["start"]) < 0.02


def test_word_timings_are_ordered_inside_the_audio_and_bracket_the_sound(timer):
    audio, words = timer
    duration = len(audio) / SR
    peak = np.abs(audio).max()
    for i, w in enumerate(words):
        assert 0 <= w["start"] < w["end"] <= duration
        if i:
            assert w["start"] >= words[i - 1]["end"]
            assert w["start"] > words[i - 1]["start"]
        inside = audio[round(w["start"] * SR) : round(w["end"] * SR)]
        assert np.abs(inside).max() > 0.05 * peak, f"{w['word']!r} spans no sound"
    # Nothing audible before the first word, after the last, or in gaps between words.
    quiet = [(0.0, words[0]["start"]), (words[-1]["end"], duration)]
    quiet += [(a["end"], b["start"]) for a, b in zip(words, words[1:], strict=False)]
    for start, end in quiet:
        gap = audio[round(start * SR) + 40 : round(end * SR) - 40]  # 2.5 ms inside each edge
        if gap.size:
            assert np.abs(gap).max() < 0.01 * peak, f"sound between {start:.3f} and {end:.3f} s"
    # The first word starts right after the padding (espeak-ng adds ~10 ms of its own).
    assert 0.195 <= words[0]["start"] < 0.25
    assert words[-1]["end"] > duration - 0.25


def test_stop_closures_at_word_edges_are_not_part_of_the_word(timer):
    # "a timer": espeak-ng's WORD event for "timer" marks the start of the silent closure of its
    # "t"; the word's start is moved to the burst, where the sound begins.
    audio, words = timer
    timer_word = words[2]
    assert timer_word["word"] == "timer"
    before = audio[round((timer_word["start"] - 0.02) * SR) : round(timer_word["start"] * SR) - 40]
    assert np.abs(before).max() < 1e-3
    assert timer_word["start"] - words[1]["end"] > 0.02  # the closure is a real gap


def test_padding_shifts_every_word_by_the_same_amount():
    _, short = synth.synthesize("please open the window", pad=(0.1, 0.1))
    _, long = synth.synthesize("please open the window", pad=(0.6, 0.1))
    shifts = [b["start"] - a["start"] for a, b in zip(short, long, strict=True)]
    assert all(abs(s - 0.5) < 0.01 for s in shifts), shifts


def test_faster_speech_gives_earlier_word_times():
    slow_audio, slow = synth.synthesize("the train leaves at seven thirty", rate=120)
    fast_audio, fast = synth.synthesize("the train leaves at seven thirty", rate=260)
    assert len(fast_audio) < 0.7 * len(slow_audio)
    assert fast[-1]["start"] < 0.7 * slow[-1]["start"]


def test_words_espeak_ng_speaks_as_one_unit_still_get_their_own_times():
    # In the New York accent espeak-ng joins "the huge" into one unit with a single WORD event.
    words = "the huge winner".split()
    raw, events, _ = synth._engine().speak(
        "\u00a0".join(words), "en-us-nyc+m3", 175, 50, 50, 100, 0
    )
    assert len(events) < len(words)  # the case this test is about still happens
    _, timed = synth.synthesize("the huge winner", "en-us-nyc+m3")
    assert [w["word"] for w in timed] == words
    the, huge, winner = timed
    assert the["start"] < the["end"] <= huge["start"] < huge["end"] <= winner["start"]
    assert huge["end"] - huge["start"] > 0.1  # a real share of the unit, not a sliver


def test_a_first_word_without_a_word_event_starts_with_the_first_sound():
    # en-us-nyc says "hugo" as "yugo" and reports its first WORD event at "said".
    words = "hugo said the worm".split()
    _, events, _ = synth._engine().speak("\u00a0".join(words), "en-us-nyc+m3", 175, 50, 50, 100, 0)
    assert events and events[0][0] != 1  # the case this test is about still happens
    audio, timed = synth.synthesize("hugo said the worm", "en-us-nyc+m3", pad=(0.1, 0.1))
    assert [w["word"] for w in timed] == words
    hugo, said = timed[:2]
    assert 0.09 <= hugo["start"] < 0.2 < hugo["end"] <= said["start"]


def test_function_word_pairs_each_get_a_word_event():
    # With plain spaces espeak-ng reads "of the" or "out of" as one dictionary unit with one
    # event; synthesize joins words with no-break spaces so that each word has its own.
    words = "most of the time i get out of the car with the keys".split()
    engine = synth._engine()
    _, plain, _ = engine.speak(" ".join(words), "en-us+m3", 175, 50, 50, 100, 0)
    _, no_break, _ = engine.speak("\u00a0".join(words), "en-us+m3", 175, 50, 50, 100, 0)
    assert len(plain) < len(words) == len(no_break)
    _, timed = synth.synthesize(" ".join(words))
    assert [w["word"] for w in timed] == words
    assert all(b["start"] > a["start"] for a, b in zip(timed, timed[1:], strict=False))


@pytest.mark.parametrize("text", ["", "   ", "?!", "...", "\u4f60\u597d"])
def test_unspeakable_text_is_refused_with_the_text_named(text):
    with pytest.raises(synth.SynthError) as err:
        synth.synthesize(text)
    assert repr(text) in str(err.value)


def test_unknown_voices_are_refused_by_name():
    with pytest.raises(synth.SynthError, match="nosuchvariant"):
        synth.synthesize("hello", "en-us+nosuchvariant")
    with pytest.raises(synth.SynthError, match="xx-zz"):
        synth.synthesize("hello", "xx-zz+m3")
    assert {"m3", "f2", "klatt"} <= set(synth.list_voices())


def test_default_voices_exist_in_the_installed_espeak_ng():
    # An unknown variant would make espeak-ng fall back to its default voice without a word.
    assert set(synth.TRAIN_VARIANTS) <= set(synth.list_voices())
    assert set(synth.UNSEEN_VARIANTS) <= set(synth.list_voices())
    assert not set(synth.TRAIN_VARIANTS) & set(synth.UNSEEN_VARIANTS)
    for accent in synth.ACCENTS:
        assert len(synth.synthesize("yes", f"{accent}+m3")[0]) > 0


# --- noise, reverb, resampling -------------------------------------------------------------------


@pytest.mark.parametrize("color", ["white", "pink", "brown"])
@pytest.mark.parametrize("snr_db", [0.0, 10.0, 25.0])
def test_add_noise_hits_the_requested_snr(timer, color, snr_db):
    clean, words = timer
    span = (round(words[0]["start"] * SR), round(words[-1]["end"] * SR))
    noisy = synth.add_noise(clean, snr_db, color, rng=3, span=span)
    noise = noisy.astype(np.float64) - clean
    measured = rms_db(clean[span[0] : span[1]]) - rms_db(noise)
    assert abs(measured - snr_db) < 0.05
    assert rms_db(noisy[: span[0]]) > -80  # the padding now holds noise


def test_noise_colors_have_their_spectral_slopes():
    slopes = {}
    for color in ("white", "pink", "brown"):
        noise = synth.colored_noise(1 << 16, color, rng=0).astype(np.float64)
        power = np.abs(np.fft.rfft(noise)) ** 2
        freqs = np.fft.rfftfreq(len(noise), 1 / SR)
        bands = [(100, 200), (1600, 3200)]  # four octaves apart
        level = [power[(freqs >= lo) & (freqs < hi)].mean() for lo, hi in bands]
        slopes[color] = 10 * np.log10(level[1] / level[0]) / 4  # dB per octave
    assert abs(slopes["white"]) < 1
    assert abs(slopes["pink"] + 3) < 1  # 1/f: -3 dB per octave
    assert abs(slopes["brown"] + 6) < 1  # 1/f^2: -6 dB per octave


def test_synthesize_with_noise_measures_the_snr_from_the_audio_alone():
    audio, words = synth.synthesize(
        "remind me to call the bank tomorrow", pad=(0.4, 0.2), noise_snr_db=10.0,
        noise_color="white", seed=5,
    )  # fmt: skip
    noise_power = np.mean(audio[: int(0.35 * SR)].astype(np.float64) ** 2)  # only noise here
    span = audio[round(words[0]["start"] * SR) : round(words[-1]["end"] * SR)]
    speech_power = np.mean(span.astype(np.float64) ** 2) - noise_power
    assert abs(10 * np.log10(speech_power / noise_power) - 10.0) < 1.0


def test_room_impulse_response_decays_at_the_requested_rt60():
    for rt60 in (0.3, 0.7):
        ir = synth.room_impulse_response(rt60, SR, drr_db=3.0, rng=1).astype(np.float64)
        tail = ir[1:] ** 2
        edc = 10 * np.log10(np.cumsum(tail[::-1])[::-1] / tail.sum())  # Schroeder decay curve
        t = np.arange(len(edc)) / SR
        fit = (edc < -5) & (edc > -25)
        slope = np.polyfit(t[fit], edc[fit], 1)[0]  # dB per second
        assert abs(-60 / slope - rt60) < 0.1 * rt60
        assert abs(10 * np.log10(ir[0] ** 2 / tail.sum()) - 3.0) < 0.01  # direct / reverberant


def test_reverb_smears_sound_into_the_silence_after_speech(timer):
    clean, words = timer
    wet = synth.add_reverb(clean, rt60=0.5, rng=2)
    assert wet.shape == clean.shape
    assert abs(rms_db(wet) - rms_db(clean)) < 0.01  # same level
    after = slice(round((words[-1]["end"] + 0.02) * SR), round((words[-1]["end"] + 0.12) * SR))
    assert rms_db(clean[after]) < -90 < -60 < rms_db(wet[after])
    assert np.corrcoef(clean, wet)[0, 1] < 0.95


def test_resample_keeps_frequencies_and_times_and_removes_what_does_not_fit():
    t = np.arange(22050) / 22050
    tone = synth.resample(np.sin(2 * np.pi * 1000 * t), 22050, 16000)
    assert len(tone) == 16000
    spectrum = np.abs(np.fft.rfft(tone))
    assert np.argmax(spectrum) == 1000  # 1 Hz bins: still 1 kHz
    assert abs(np.sqrt(np.mean(tone[1000:-1000] ** 2)) - np.sqrt(0.5)) < 0.01
    high = synth.resample(np.sin(2 * np.pi * 10000 * t), 22050, 16000)
    assert np.sqrt(np.mean(high**2)) < 1e-3  # above 8 kHz: filtered out, not aliased
    click = np.zeros(22050, np.float32)
    click[11025] = 1.0
    assert np.argmax(synth.resample(click, 22050, 16000)) == 8000  # 0.5 s stays 0.5 s


# --- text ----------------------------------------------------------------------------------------


def test_word_lists_hold_only_lowercase_letters_and_apostrophes():
    for name in ("nouns", "adjectives", "verbs", "adverbs", "names", "places", "items"):
        entries = synth.word_list(name)
        assert len(entries) == len(set(entries)), f"{name}.txt has duplicates"
        for entry in entries:
            assert TRANSCRIPT.fullmatch(entry), f"{name}.txt: {entry!r}"
    assert len(synth.vocabulary()) >= 2000


def test_generated_sentences_are_normalized_distinct_and_seeded():
    sentences = synth.generate_sentences(300, seed=1)
    assert len(set(sentences)) == 300
    for s in sentences:
        assert TRANSCRIPT.fullmatch(s), s
        assert normalize(s) == s
    assert synth.generate_sentences(300, seed=1) == sentences
    assert synth.generate_sentences(300, seed=2) != sentences
    assert not set(synth.generate_sentences(50, seed=1, exclude=sentences[:50])) & set(
        sentences[:50]
    )
    text = " ".join(sentences)
    assert re.search(r"\b(twenty|thirty|forty|fifty) \w+", text)  # numbers read aloud
    assert re.search(r"\b(set|call|play|turn|remind|add)\b", text)  # commands


def test_only_commands_when_asked():
    rng = random.Random(0)
    starts = {t.split("{")[0].split()[0] for t in synth.COMMANDS}
    for _ in range(50):
        sentence = synth.generate_sentence(rng, {"command": 1.0})
        assert sentence.split()[0] in starts | {"what's", "is", "tell"}


# --- the corpus ----------------------------------------------------------------------------------

TINY = dict(hours=0.01, text_sentences=300, progress=False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus")
    summary = synth.generate_corpus(out, seed=0, workers=2, **TINY)
    return out, summary


def read_manifest(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_corpus_manifests_point_at_16_khz_wavs_of_the_stated_duration(corpus):
    out, summary = corpus
    for split in synth.SPLITS:
        rows = read_manifest(out / f"{split}.jsonl")
        assert len(rows) >= 2
        assert summary["splits"][split]["utterances"] == len(rows)
        for row in rows:
            assert set(row) == {"audio_filepath", "duration", "text", "speaker", "words"}
            path = out / row["audio_filepath"]
            info = sf.info(str(path))
            assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
            assert info.frames / info.samplerate == row["duration"]
            assert TRANSCRIPT.fullmatch(row["text"]), row["text"]
            assert [w["word"] for w in row["words"]] == row["text"].split()
            starts = [w["start"] for w in row["words"]]
            assert starts == sorted(starts) and len(set(starts)) == len(starts)
            assert all(0 <= w["start"] < w["end"] <= row["duration"] for w in row["words"])
    assert 0.005 < summary["hours"] < 0.03  # asked for 0.01 h; tiny splits round up


def test_corpus_splits_share_no_sentence_and_the_lm_text_has_no_test_sentence(corpus):
    out, _ = corpus
    texts = {s: [r["text"] for r in read_manifest(out / f"{s}.jsonl")] for s in synth.SPLITS}
    for i, a in enumerate(synth.SPLITS):
        assert len(set(texts[a])) == len(texts[a])
        for b in synth.SPLITS[i + 1 :]:
            assert not set(texts[a]) & set(texts[b]), (a, b)
    lm = (out / "text" / "train.txt").read_text().splitlines()
    assert set(texts["train"]) <= set(lm)
    assert len(lm) == len(texts["train"]) + TINY["text_sentences"]
    held_out = set(texts["dev"]) | set(texts["test"]) | set(texts["test-unseen-voices"])
    assert not held_out & set(lm)
    assert all(TRANSCRIPT.fullmatch(line) for line in lm)


def test_unseen_voices_never_speak_in_train_dev_or_test(corpus):
    out, _ = corpus
    variant = {s: {r["speaker"].split("+")[1] for r in read_manifest(out / f"{s}.jsonl")}
               for s in synth.SPLITS}  # fmt: skip
    assert variant["test-unseen-voices"] <= set(synth.UNSEEN_VARIANTS)
    for split in ("train", "dev", "test"):
        assert variant[split] <= set(synth.TRAIN_VARIANTS)
        assert not variant[split] & variant["test-unseen-voices"]
    assert len(variant["train"]) > 5  # many speakers, not one


def all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_seed_gives_the_same_bytes_for_any_number_of_workers(corpus, tmp_path):
    out, _ = corpus
    synth.generate_corpus(tmp_path / "one", seed=0, workers=1, **TINY)
    first, again = all_files(out), all_files(tmp_path / "one")
    assert sorted(first) == sorted(again)
    different = [name for name in first if first[name] != again[name]]
    assert not different, different[:5]
    synth.generate_corpus(tmp_path / "other", seed=1, workers=2, **TINY)
    other = read_manifest(tmp_path / "other" / "train.jsonl")
    assert [r["text"] for r in other] != [r["text"] for r in read_manifest(out / "train.jsonl")]


def test_an_existing_corpus_is_kept_unless_overwrite(tmp_path):
    out = tmp_path / "c"
    synth.generate_corpus(out, seed=0, workers=1, hours=0.002, text_sentences=0, progress=False)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite"):
        synth.generate_corpus(out, seed=1, hours=0.002, progress=False)
    summary = synth.generate_corpus(
        out, seed=1, workers=1, hours=0.002, text_sentences=0, progress=False, overwrite=True
    )
    assert (out / "notes.txt").read_text() == "mine"  # only the corpus's own files are replaced
    wavs = sorted((out / "audio").rglob("*.wav"))
    assert len(wavs) == summary["utterances"]
    assert json.loads((out / "corpus.json").read_text())["config"]["seed"] == 1


def test_config_overrides_are_checked():
    with pytest.raises(TypeError, match="noise_probabilty"):
        synth.generate_corpus("unused", noise_probabilty=0.5)
    with pytest.raises(ValueError, match="both"):
        synth.SynthConfig(voices=("m1", "m7"), unseen_voices=("m7",))
    with pytest.raises(ValueError, match="reversed"):
        synth.SynthConfig(rate_wpm=(200, 100))


def test_describe_corpus_names_every_split(corpus):
    out, summary = corpus
    text = synth.describe_corpus(out, summary=summary)
    for split in synth.SPLITS:
        n = summary["splits"][split]["utterances"]
        assert re.search(rf"{re.escape(split)}\s+{n}\s", text), text
    assert "never occur in train/dev/test" in text
    assert read_manifest(out / "test.jsonl")[0]["text"] in text


# --- espeak-ng crashes ----------------------------------------------------------------------------

# espeak-ng 1.52 dies with a segmentation fault on this one (found by `dslearn synth --hours 30
# --seed 3`): the "rob" variant, low pitch, wide pitch range, the word "immediately".
CRASHER = dict(text="they will install the activity immediately", voice="en-gb-x-rp+rob",
               rate=207, pitch=34, pitch_range=85, volume=85)  # fmt: skip


def _task(split: str, n: int, text: str, voice: str = "en-us+m3", **params) -> dict:
    params = {"rate": 170, "pitch": 50, "pitch_range": 50, "volume": 90, **params}
    path = f"audio/{split}/{split}-{n:06d}.wav"
    return {"split": split, "path": path, "text": text, "voice": voice, **params,
            "pad": [0.1, 0.1], "noise_snr_db": None, "noise_color": "white",
            "reverb_rt60": None, "reverb_drr_db": 0.0, "seed": n}  # fmt: skip


def _espeak_ng_crashes_on(params: dict) -> bool:
    import subprocess
    import sys

    code = f"from dslearn import synth; synth.synthesize(**{params!r})"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode != 0


def test_an_utterance_that_crashes_espeak_ng_is_left_out_and_named(tmp_path, monkeypatch):
    if not _espeak_ng_crashes_on(CRASHER):
        pytest.skip(f"espeak-ng {synth.espeak_version()} does not crash on {CRASHER}")
    tasks = [
        _task("train", 0, "set a timer for ten minutes"),
        _task("train", 1, **CRASHER),
        _task("train", 2, "call olivia at seven"),
        _task("dev", 0, "what is the weather"),
        _task("test", 0, "play some music"),
        _task("test-unseen-voices", 0, "turn off the lights", voice="en-us+f2"),
    ]
    lines = [t["text"] for t in tasks if t["split"] == "train"]
    monkeypatch.setattr(synth.corpus, "_plan", lambda config: (tasks, lines))
    corpora = {}
    for workers in (1, 2):  # shards of 2: the crash is in the first, spoken alongside others
        out = tmp_path / f"w{workers}"
        with pytest.warns(UserWarning, match=r"crashed on 1 of 6 .*train-000001\.wav"):
            summary = synth.generate_corpus(
                out, workers=workers, utterances_per_process=2, progress=False
            )
        train = read_manifest(out / "train.jsonl")
        assert [r["text"] for r in train] == [tasks[0]["text"], tasks[2]["text"]]
        assert not (out / tasks[1]["path"]).exists()
        assert summary["utterances"] == 5 and summary["splits"]["train"]["utterances"] == 2
        (crash,) = json.loads((out / "corpus.json").read_text())["summary"]["crashed"]
        assert crash["path"] == tasks[1]["path"] and crash["exit_code"] != 0
        assert "left out: 1" in synth.describe_corpus(out, summary)
        corpora[workers] = all_files(out)
    assert corpora[1] == corpora[2]  # the recovery does not depend on the number of workers


def test_an_error_in_a_worker_stops_the_corpus_with_its_message(tmp_path, monkeypatch):
    tasks = [_task("train", 0, "set a timer"), _task("train", 1, "call bob", voice="en-us+nobody")]
    monkeypatch.setattr(synth.corpus, "_plan", lambda config: (tasks, ["set a timer", "call bob"]))
    with pytest.raises(ValueError, match="nobody") as raised:
        synth.generate_corpus(tmp_path / "c", workers=2, utterances_per_process=1, progress=False)
    assert "shard 1" in str(raised.value.__cause__)
    assert not (tmp_path / "c" / "corpus.json").exists()  # no corpus that looks finished
