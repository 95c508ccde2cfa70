"""Forced alignment: the readable Viterbi equals torchaudio's, segments, chunking, a real model."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from dslearn import align as A
from dslearn import inference
from dslearn.ctc import alignments
from dslearn.text import Alphabet

ALPHABET = Alphabet()
FOX = "the quick brown fox jumps over the lazy dog"


def random_log_probs(n_frames: int, n_classes: int = len(ALPHABET), seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (3 * torch.randn(n_frames, n_classes, generator=generator)).log_softmax(dim=-1)


def path_text(path: list[int]) -> str:
    return "".join("_" if label == 0 else ALPHABET.tokens[label] for label in path)


# --- the Viterbi path ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, n_frames",
    [("a", 1), ("aa", 3), ("aa", 7), ("hello", 6), ("hello", 30), ("abc", 3), (FOX, 120)],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_viterbi_equals_torchaudio(text, n_frames, seed):
    log_probs = random_log_probs(n_frames, seed=seed)
    targets = ALPHABET.encode(text)
    ref_path, ref_scores = A.viterbi_align_reference(log_probs, targets)
    fast_path, fast_scores = A.forced_align(log_probs, targets)
    assert ref_path == fast_path
    assert len(ref_path) == n_frames
    assert torch.allclose(ref_scores, fast_scores, atol=1e-5)
    assert float(ref_scores.sum()) == pytest.approx(float(fast_scores.sum()), abs=1e-4)
    # Each frame's score is the log-prob of the label chosen there.
    assert torch.allclose(fast_scores, log_probs[torch.arange(n_frames), fast_path])


def test_viterbi_is_the_best_of_all_alignments():
    """Enumerate every path that collapses to the target (small cases) and keep the best."""
    for seed in range(5):
        log_probs = random_log_probs(6, n_classes=4, seed=seed)
        target = [1, 2, 2]
        best = max(
            alignments(target, 6),
            key=lambda p: float(log_probs[torch.arange(6), list(p)].sum()),
        )
        path, _ = A.viterbi_align_reference(log_probs, target)
        assert path == list(best)


def test_hand_checked_tiny_case():
    # Classes: blank, a, b. Every frame prefers "a", but the transcript is "ab".
    probs = torch.tensor(
        [
            [0.1, 0.8, 0.1],
            [0.2, 0.7, 0.1],
            [0.3, 0.4, 0.3],
        ]
    )
    # Paths of 3 frames that collapse to "ab": aab .8*.7*.3 = .168, abb .024, a_b .048,
    # _ab .021, ab_ .024 -> "aab" wins.
    for fn in (A.viterbi_align_reference, A.forced_align):
        path, scores = fn(probs.log(), [1, 2])
        assert path == [1, 1, 2]
        assert math.exp(float(scores.sum())) == pytest.approx(0.168, rel=1e-5)


def test_repeated_letters_get_a_blank_between_them():
    # The frames strongly want "a" throughout, yet "aa" needs a blank in between.
    log_probs = torch.tensor([[0.05, 0.9, 0.05]] * 4).log()
    path, _ = A.forced_align(log_probs, [1, 1])
    assert path.count(0) >= 1 and path[0] == 1 and path[-1] == 1
    assert A.viterbi_align_reference(log_probs, [1, 1])[0] == path


def test_too_few_frames_is_an_error_naming_lengths_and_text():
    targets = ALPHABET.encode("hello")  # 5 letters + 1 blank between the two l's
    with pytest.raises(ValueError, match=r"'hello' needs at least 6 frames.*only 5 frames"):
        A.forced_align(random_log_probs(5), targets, text="hello")
    with pytest.raises(ValueError, match="needs at least 6 frames"):
        A.viterbi_align_reference(random_log_probs(5), targets)
    A.forced_align(random_log_probs(6), targets)  # exactly enough


def test_labels_outside_the_emissions_are_an_error():
    with pytest.raises(ValueError, match="outside 0..28"):
        A.forced_align(random_log_probs(10), [3, 40])
    with pytest.raises(ValueError, match="is the blank"):
        A.forced_align(random_log_probs(10), [3, 0, 4])


def test_empty_target_aligns_to_all_blanks():
    path, scores = A.forced_align(random_log_probs(4), [])
    assert path == [0, 0, 0, 0] and scores.shape == (4,)
    assert A.viterbi_align_reference(random_log_probs(4), [])[0] == path


# --- segments ------------------------------------------------------------------------------------


def encode_path(text: str) -> list[int]:
    """'_hh_e_l_ll_o' -> class per frame, '_' being the blank."""
    return [0 if c == "_" else ALPHABET.encode(c)[0] for c in text]


def test_token_segments_merge_runs_and_keep_repeats_apart():
    path = encode_path("_hhe_l_llo_")
    scores = torch.full((len(path),), math.log(0.5))
    scores[1] = math.log(0.125)  # first "h" frame: mean log-prob of h = log(0.25)
    segments = A.token_segments(path, scores)
    assert [ALPHABET.tokens[s.token_id] for s in segments] == list("hello")
    assert [(s.start_frame, s.end_frame) for s in segments] == [
        (1, 3),
        (3, 4),
        (5, 6),
        (7, 9),
        (9, 10),
    ]
    assert segments[0].score == pytest.approx(0.25)
    assert segments[1].score == pytest.approx(0.5)


def test_word_segments_plain_and_gap():
    path = encode_path("__hi__ _yo_")  # 11 frames of 20 ms
    scores = torch.full((len(path),), math.log(0.8))
    segments = A.token_segments(path, scores)
    plain = A.word_segments(segments, ALPHABET, frame_shift=0.02)
    assert [(w.word, w.start, w.end) for w in plain] == [("hi", 0.04, 0.08), ("yo", 0.16, 0.2)]
    assert plain[0].score == pytest.approx(0.8)
    gap = A.word_segments(segments, ALPHABET, frame_shift=0.02, boundaries="gap")
    # Frames 4..8 (blanks, space, blank) lie between the words: split at frame 6.
    assert [(w.start, w.end) for w in gap] == [(0.04, 0.12), (0.12, 0.2)]
    with pytest.raises(ValueError, match="boundaries"):
        A.word_segments(segments, ALPHABET, 0.02, boundaries="centre")


def test_word_score_is_mean_probability_over_character_frames():
    path = encode_path("aab")
    scores = torch.tensor([0.5, 0.5, 0.0625]).log()
    (word,) = A.word_segments(A.token_segments(path, scores), ALPHABET, 0.02)
    assert word.word == "ab"
    assert word.score == pytest.approx(0.25)  # (0.5 * 0.5 * 0.0625) ** (1 / 3)


# --- chunked emissions ---------------------------------------------------------------------------


class RampRecognizer:
    """Stands in for a model: output frame j of a chunk holds the input sample at j * 320.

    Feeding a ramp (sample i has value i) shows which sample of the *file* each stitched frame
    came from, so the chunk bookkeeping can be checked exactly.
    """

    alphabet = ALPHABET
    sample_rate = 16000
    frame_shift = 0.02

    def as_audio(self, audio) -> torch.Tensor:
        return torch.as_tensor(audio, dtype=torch.float32)

    def log_probs(self, audio: torch.Tensor, lengths: torch.Tensor):
        hop = 320
        out_lengths = lengths // hop + 1  # the frame count of the DS2 presets
        frames = audio.new_zeros(audio.shape[0], int(out_lengths.max()), len(self.alphabet))
        for b, (length, n) in enumerate(zip(lengths.tolist(), out_lengths.tolist())):
            # The last frame is centred on the chunk's end; clamp it to the last sample.
            at = (torch.arange(n) * hop).clamp(max=length - 1)
            frames[b, :n, 0] = audio[b, at]
        return frames, out_lengths


@pytest.mark.parametrize("seconds", [3.0, 20.0, 20.01, 47.3, 61.0])
def test_chunked_emissions_line_up_with_a_single_pass(seconds):
    n = int(seconds * 16000) + 7  # not a whole number of frames
    ramp = torch.arange(n, dtype=torch.float32)
    out = inference.chunked_emissions(
        RampRecognizer(), ramp, chunk_seconds=10.0, overlap_seconds=1.0
    )
    assert out.shape == (n // 320 + 1, len(ALPHABET))
    # Frame t came from file sample t * 320: the chunks' frames sit exactly on the file's.
    assert torch.equal(out[:, 0], torch.arange(out.shape[0], dtype=torch.float32) * 320)


def test_overlap_must_leave_room():
    with pytest.raises(ValueError, match="overlap"):
        inference.chunked_emissions(
            RampRecognizer(), torch.zeros(16000 * 30), chunk_seconds=2, overlap_seconds=4
        )


def test_align_explains_audio_too_short_for_its_text():
    with pytest.raises(
        ValueError, match=r"'hello you' needs at least 10 frames.*only 6 frames \(0.12 s"
    ):
        inference.align(RampRecognizer(), torch.zeros(1800), "hello you")
    with pytest.raises(ValueError, match="normalizes to an empty"):
        inference.align(RampRecognizer(), torch.zeros(16000), "?!")
    with pytest.raises(ValueError, match="not in the alphabet"):
        inference.align(RampRecognizer(), torch.zeros(16000), "hello 世界")


# --- with the shipped model ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def asr():
    from dslearn.inference import load_model

    try:
        return load_model()
    except FileNotFoundError as err:
        pytest.skip(f"no shipped model: {err}")


def test_align_synthesized_speech(asr):
    from dslearn.synth import synthesize

    audio, reference = synthesize(FOX, voice="en-us+m3")
    result = asr.align(torch.from_numpy(audio), FOX.upper() + ".")
    assert result.text == FOX
    assert [w.word for w in result.words] == FOX.split()
    assert len(result.chars) == len(FOX)
    assert 0.0 < result.score <= 1.0
    close = [abs(w.start - r["start"]) <= 0.1 for w, r in zip(result.words, reference)]
    assert sum(close) >= 0.8 * len(close), list(zip(result.words, reference))


def test_align_log_probs_equals_align_on_the_audio(asr):
    from dslearn.synth import synthesize

    audio = torch.from_numpy(synthesize(FOX, voice="en-us+f2")[0])
    direct = asr.align(audio, FOX, boundaries="space", onset=False)
    log_probs = asr.chunked_emissions(audio)
    reused = A.align_log_probs(log_probs, FOX, asr.alphabet, asr.frame_shift, boundaries="space")
    assert reused == direct
    # The names notebooks written before the move use still give the same results.
    assert torch.equal(A.emissions(asr, audio), log_probs)
    assert A.align_emissions(asr, log_probs, FOX) == direct
    assert A.align(asr, audio, FOX, onset=False) == direct


def test_align_module_does_not_import_the_recognizer():
    # Alignment works on emissions; the recognizer calls it, never the other way round.
    code = "import sys, dslearn.align; print('dslearn.inference' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
    source = Path(A.__file__).read_text(encoding="utf-8")
    assert (
        "dslearn.inference import" not in source and "from dslearn import inference" not in source
    )


def test_alignment_warnings_follow_the_thresholds():
    def alignment(score: float, word_scores: list[float]) -> A.Alignment:
        words = [A.WordSegment(f"w{i}", i, i + 1, s) for i, s in enumerate(word_scores)]
        return A.Alignment("", words, [], 0.02, score, 10)

    assert alignment(0.9, [0.9, 0.3]).warnings() == []
    (whole,) = alignment(A.MISMATCH_PATH_PROBABILITY - 0.01, [0.9, 0.0]).warnings()
    assert "does not seem to match the audio" in whole
    (word,) = alignment(0.5, [0.9, A.UNHEARD_WORD_SCORE / 2, 0.2]).warnings()
    assert "'w1'" in word and "'w0'" not in word and "'w2'" not in word


def test_warnings_tell_matching_from_mismatched_transcripts(asr):
    # The thresholds' measurements (benchmarks/alignment_mismatch.py), on other clips.
    from dslearn.synth import synthesize

    text = "open the door to the garden"
    audio = torch.from_numpy(synthesize(text, voice="en-us+f2", seed=7)[0])
    assert asr.align(audio, text).warnings() == []
    mismatch = asr.align(audio, "call my sister on sunday")
    assert mismatch.score < A.MISMATCH_PATH_PROBABILITY, mismatch.score
    assert "does not seem to match" in mismatch.warnings()[0]
    one_word = asr.align(audio, "open the window to the garden")
    assert one_word.score >= A.MISMATCH_PATH_PROBABILITY, one_word.score
    assert "'window'" in one_word.warnings()[0] and "'garden'" not in one_word.warnings()[0]


def test_speech_onset_finds_the_end_of_leading_silence():
    sr = 16000
    torch.manual_seed(0)
    noise = 1e-3 * torch.randn(sr)  # 1 s of quiet background
    t = torch.arange(sr // 2) / sr
    tone = 0.3 * torch.sin(2 * math.pi * 220 * t)
    audio = noise.clone()
    audio[int(0.37 * sr) : int(0.37 * sr) + tone.numel()] += tone
    assert A.speech_onset(audio, sr) == pytest.approx(0.37, abs=0.011)
    assert A.speech_onset(noise, sr) >= 0.0  # no speech: somewhere, never an error
    assert A.speech_onset(torch.zeros(10), sr) == 0.0


def test_with_speech_onset_moves_only_the_first_word():
    words = [A.WordSegment("a", 0.0, 0.4, 0.9), A.WordSegment("b", 0.4, 0.8, 0.9)]
    moved = A.with_speech_onset(words, 0.21)
    assert moved[0].start == 0.21 and moved[0].end == 0.4 and moved[1] == words[1]
    assert A.with_speech_onset(words, 0.5) == words  # past the first word's end: left alone


def test_first_word_starts_at_the_speech_onset(asr):
    # The shipped model fires the first letter in the leading silence; the onset fixes the start.
    from dslearn.synth import synthesize

    audio, reference = synthesize("she sells sea shells", voice="en-us+m3")
    silence = np.zeros(int(0.4 * 16000), dtype=audio.dtype)
    audio = torch.from_numpy(np.concatenate([silence, audio]))
    first = asr.align(audio, "she sells sea shells").words[0]
    assert abs(first.start - (0.4 + reference[0]["start"])) <= 0.05, (first, reference[0])


def test_align_long_audio_in_chunks(asr):
    from dslearn.synth import synthesize

    sentences = [
        FOX,
        "she sells sea shells by the sea shore",
        "peter piper picked a peck of pickled peppers",
        "how much wood would a woodchuck chuck if a woodchuck could chuck wood",
        "the rain in spain stays mainly in the plain",
        "turn on the lights in the kitchen and close the door behind you",
    ]
    waves, reference, offset = [], [], 0.0
    while offset < 60.0:
        for i, sentence in enumerate(sentences):
            wave, words = synthesize(sentence, voice="en-us+m3", seed=i)
            waves.append(wave)
            reference += [{**w, "start": w["start"] + offset} for w in words]
            offset += len(wave) / 16000
    audio = torch.from_numpy(np.concatenate(waves))
    text = " ".join(w["word"] for w in reference)
    assert 60.0 <= offset <= 90.0

    result = asr.align(audio, text, chunk_seconds=20.0, overlap_seconds=2.0)
    assert [w.word for w in result.words] == text.split()
    starts = [w.start for w in result.words]
    ends = [w.end for w in result.words]
    assert all(s < e for s, e in zip(starts, ends))
    assert all(e <= s for e, s in zip(ends[:-1], starts[1:]))  # in order, never overlapping
    assert result.n_frames == len(audio) // 320 + 1
    close = [abs(w.start - r["start"]) <= 0.1 for w, r in zip(result.words, reference)]
    assert sum(close) >= 0.8 * len(close)
    # One pass over the whole minute (fine on this model) gives (nearly) the same boundaries.
    single = asr.align(audio, text, chunk_seconds=120.0)
    shifts = [abs(a.start - b.start) for a, b in zip(result.words, single.words)]
    assert max(shifts) <= 0.04 and sum(s == 0 for s in shifts) >= 0.9 * len(shifts)


def test_word_segments_space_boundaries_meet_at_the_space():
    path = encode_path("_hi___ __yo_")  # the space fires at frame 6
    scores = torch.full((len(path),), math.log(0.8))
    segments = A.token_segments(path, scores)
    words = A.word_segments(segments, ALPHABET, frame_shift=0.02, boundaries="space")
    assert [(w.word, w.start, w.end) for w in words] == [("hi", 0.02, 0.12), ("yo", 0.12, 0.22)]
