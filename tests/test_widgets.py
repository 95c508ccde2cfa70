"""dslearn.plot and dslearn.widgets driven from Python (test_browser.py drives them in Chromium)."""

import math
import re

import numpy as np
import pytest
import torch

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import matplotlib  # noqa: E402

matplotlib.use("agg")

from dslearn import plot, synth, widgets  # noqa: E402
from dslearn.ctc import alignments, ctc_forward_reference, extend_with_blanks  # noqa: E402
from dslearn.text import Alphabet  # noqa: E402

ALPHABET = Alphabet()


@pytest.fixture(scope="module")
def asr():
    import dslearn

    return dslearn.load_model()


@pytest.fixture(scope="module")
def clip():
    audio, words = synth.synthesize("set a timer for ten minutes", voice="en-us+m3", seed=0)
    return audio, words


@pytest.mark.parametrize("word, frames", [("cat", 5), ("see", 6), ("hello", 8), ("a", 3)])
def test_trellis_path_follows_every_alignment(word, frames):
    ids = ALPHABET.encode(word)
    ext = extend_with_blanks(ids)
    for path in alignments(ids, frames):
        rows = plot.trellis_path(path)
        assert [ext[r] for r in rows] == list(path)  # each frame sits on a row with its label
        assert all(b - a in (0, 1, 2) for a, b in zip(rows, rows[1:]))  # stay, step or skip
        assert rows[-1] >= len(ext) - 2  # ends on the last label or the blank after it


def test_ctc_explorer_paths_sum_to_the_forward_algorithm():
    box = widgets.ctc_explorer(words=("cat", "hello"))
    state = box.state
    assert len(state["paths"]) == 28 and "28</b> valid alignments of 'cat' in 5" in box.text.value
    total = sum(math.exp(s) for s in state["scores"])
    assert total == pytest.approx(state["total"], rel=1e-5)
    lp = widgets.toy_posteriors("cat", 5)
    assert state["total"] == pytest.approx(
        math.exp(-ctc_forward_reference(lp, ALPHABET.encode("cat")))
    )
    image = box.image.value
    box.controls["path"].value = 3
    assert box.image.value != image and "Path 3:" in box.text.value
    box.controls["word"].value = "hello"  # "ll" needs a blank between: 6 frames at least
    assert box.controls["frames"].min == 6 and box.controls["path"].value == 1
    assert all(p.count(ALPHABET.encode("l")[0]) >= 2 for p in box.state["paths"])


def test_feature_explorer_reports_the_shape(clip):
    audio, _ = clip
    box = widgets.feature_explorer(audio)
    frames = 1 + len(audio) // 160
    assert f"({frames}, 80)" in box.text.value
    image = box.image.value
    box.controls["hop_length"].value = 320
    box.controls["n_mels"].value = 40
    assert f"({1 + len(audio) // 320}, 40)" in box.text.value and box.image.value != image
    box.controls["kind"].value = "mfcc"
    assert ", 13)" in box.text.value


def test_decoding_explorer_changes_with_the_beam(asr, clip, tmp_path):
    from dslearn.inference import pretrained_lm_path

    audio, _ = clip
    log_probs = asr.emissions([torch.from_numpy(audio)])
    box = widgets.decoding_explorer(log_probs, ["set a timer for ten minutes"], asr.alphabet,
                                    pretrained_lm_path(), asr.frame_shift)  # fmt: skip
    wer = lambda: float(re.search(r"dslearn-beam-wer'>([0-9.]+)", box.text.value)[1])  # noqa: E731
    assert wer() == 0.0 and "set a timer for ten minutes" in box.state["beam"][0]
    box.controls["alpha"].value = 3.0
    box.controls["beta"].value = -2.0
    box.controls["beam"].value = 1
    # The shown hypothesis is what the fast decoder gives with the sliders' settings.
    from dslearn.decoding import LMBeamSearchDecoder

    decoder = LMBeamSearchDecoder(asr.alphabet, lm=pretrained_lm_path(), alpha=3.0, beta=-2.0,
                                  beam_size=1, frame_shift=asr.frame_shift)  # fmt: skip
    expected = decoder(log_probs[0][None], torch.tensor([log_probs[0].shape[0]]))[0].text
    assert box.state["beam"] == [expected] and f"<code>{expected}</code>" in box.text.value


def test_alignment_player_plays_one_word(asr, clip):
    audio, _ = clip
    alignment = asr.align(torch.from_numpy(audio), "set a timer for ten minutes")
    box = widgets.alignment_player(audio, alignment)
    assert [b.description for b in box.buttons] == "set a timer for ten minutes".split()
    box.buttons[2].click()
    word = alignment.words[2]
    samples = int(word.end * 16000) - int(word.start * 16000)
    assert len(box.player.value) == 44 + 2 * samples  # a 16-bit WAV of exactly that span
    assert "timer" in box.label.value


def test_recorder_transcribes_uploaded_bytes(asr, clip):
    pytest.importorskip("anywidget")
    audio, _ = clip
    recorder = widgets.Recorder(asr)
    result = recorder.transcribe_bytes(widgets.wav_bytes(audio))
    assert result["lm"] == "set a timer for ten minutes"
    assert [w.word for w in result["words"]] == result["lm"].split()
    assert "dslearn-lm" in recorder.text.value and recorder.image.value
    assert recorder.transcribe_bytes(b"not audio") == {}
    assert "cannot read" in recorder.text.value
    silence = widgets.wav_bytes(np.zeros(400, dtype=np.float32))
    assert recorder.transcribe_bytes(silence) == {} and "shorter than 0.1 s" in recorder.text.value


def test_recorder_shows_no_image_before_a_recording(asr, clip):
    # An Image widget without a value is drawn as the browser's broken-image icon.
    pytest.importorskip("anywidget")
    recorder = widgets.Recorder(asr)
    assert not recorder.image.value and recorder.image.layout.display == "none"
    assert "record or upload" in recorder.text.value
    assert recorder.transcribe_bytes(b"not audio") == {}  # a failure draws nothing either
    assert recorder.image.layout.display == "none"
    recorder.transcribe_bytes(widgets.wav_bytes(clip[0]))
    assert recorder.image.value and recorder.image.layout.display != "none"


def test_live_training_draws_posteriors_of_the_tracked_clip(tmp_path, clip):
    import soundfile as sf

    from dslearn.data import Utterance, write_manifest
    from dslearn.train import TrainConfig, Trainer

    audio, _ = clip
    sf.write(tmp_path / "a.wav", audio, 16000)
    utt = Utterance(tmp_path / "a.wav", len(audio) / 16000, "set a timer for ten minutes")
    manifest = write_manifest(tmp_path / "m.jsonl", [utt])
    cfg = TrainConfig(train=str(manifest), out=str(tmp_path / "run"), max_steps=3, log_every=1,
                      warmup_steps=1, tensorboard=False, progress=False, threads=1)  # fmt: skip
    trainer = Trainer(cfg)
    live = plot.LiveTraining(trainer, tmp_path / "a.wav", every=1)
    trainer.callbacks.append(live)
    trainer.fit()
    assert [r["step"] for r in live.records if r["split"] == "train"] == [1, 2, 3]
    log_probs = live.current_posteriors()
    assert log_probs.shape[1] == len(ALPHABET)
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(log_probs.shape[0]), atol=1e-4)
    fig = live.figure()
    assert len(fig.axes) == 3
