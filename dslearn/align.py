"""Forced alignment: where in the audio each word of a *known* transcript is spoken.

Recognition asks "what was said?"; alignment already knows the words and asks "when?". A CTC model
gives, for every output frame, log-probabilities over the alphabet (blank at index 0). Among all
frame-by-frame label paths that collapse to the transcript (``dslearn.ctc.alignments``), forced
alignment picks the single most probable one: the *Viterbi path*. It walks the same trellis as the
CTC forward algorithm (``dslearn.ctc.ctc_forward_reference``), with ``max`` in place of
``logsumexp`` and a note of which state each best score came from, so the path can be read back.

Pipeline::

    audio (samples,) --Recognizer.chunked_emissions--> log-probs (T, C)
        --forced_align--> path (T,), scores (T,)
        --token_segments--> one TokenSegment per character (frames)
        --word_segments--> one WordSegment per word (seconds)
        --with_speech_onset--> the first word starts where the audio's energy says speech starts
        --alignment_warnings--> whether the scores say the transcript was not what was said

This module works on log-probabilities and knows nothing of the model that made them:
``align_log_probs(log_probs, text, alphabet, frame_shift)`` runs the steps after the emissions,
and ``Recognizer.align(audio, text)`` (``dslearn.inference``) runs all of them.
``viterbi_align_reference`` is the version to read next to a notebook; ``forced_align`` is the
fast one (``torchaudio.functional.forced_align``), and the tests prove the two find the same path.

Forced alignment always finds a path, even for a transcript of something else; its scores tell:
``alignment_warnings`` compares them with ``MISMATCH_PATH_PROBABILITY`` (mean path probability
per frame) and ``UNHEARD_WORD_SCORE`` (per word), thresholds measured on matching and mismatched
transcripts (see their comment).

Units: frames are output frames of the model, ``frame_shift`` seconds apart (20 ms for the DS2
presets: a 10 ms feature hop times a time stride of 2). Frame ``t`` is centred on time
``t * frame_shift`` (features use centred windows). Word times are in seconds from the start of
the audio; see ``word_segments`` for how frames become boundaries.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torchaudio

from dslearn import vad
from dslearn.ctc import extend_with_blanks
from dslearn.text import Alphabet, normalize

NEG_INF = float("-inf")
BOUNDARIES = ("plain", "gap", "space")  # the word-boundary conventions of ``word_segments``


@dataclass(frozen=True)
class TokenSegment:
    """One label of the transcript, held for the frames ``[start_frame, end_frame)``."""

    token_id: int  # class index (never the blank)
    start_frame: int  # first frame of the run
    end_frame: int  # one past the last frame of the run
    score: float  # mean probability over its frames: exp(mean frame log-prob), in [0, 1]

    @property
    def n_frames(self) -> int:
        return self.end_frame - self.start_frame


@dataclass(frozen=True)
class WordSegment:
    """One word of the transcript with its time span in seconds."""

    word: str
    start: float  # seconds from the start of the audio
    end: float  # seconds
    score: float  # mean probability over the word's character frames, in [0, 1]


@dataclass
class Alignment:
    """Everything ``align`` found: words in seconds, characters in frames.

    ``chars`` holds one segment per character of ``text`` (spaces included), in order; a
    character's times are ``seg.start_frame * frame_shift`` to ``seg.end_frame * frame_shift``
    and its symbol is ``alphabet.tokens[seg.token_id]``. Iterating an ``Alignment`` yields its
    words.
    """

    text: str  # the normalized transcript that was aligned
    words: list[WordSegment]
    chars: list[TokenSegment]
    frame_shift: float  # seconds per frame
    score: float  # mean probability of the path over all frames (blanks included), in [0, 1]
    n_frames: int  # frames of emissions the transcript was aligned to

    def __iter__(self) -> Iterator[WordSegment]:
        return iter(self.words)

    def __len__(self) -> int:
        return len(self.words)

    def warnings(self) -> list[str]:
        """Why the transcript seems not to match the audio; empty if it does
        (``alignment_warnings``)."""
        return alignment_warnings(self)


# --- the Viterbi path ----------------------------------------------------------------------------


def frames_needed(targets: Sequence[int], blank: int = 0) -> int:
    """Fewest frames a CTC path for ``targets`` can have: one per label, plus one blank between
    two equal neighbours (``"ll"`` needs l, blank, l, since ``"ll"`` alone collapses to ``"l"``).
    """
    repeats = sum(1 for a, b in zip(targets[:-1], targets[1:]) if a == b and a != blank)
    return len(targets) + repeats


def _check_inputs(
    n_frames: int,
    n_classes: int,
    targets: Sequence[int],
    blank: int,
    text: str | None,
    frame_shift: float | None = None,
) -> None:
    """Raise a ``ValueError`` that says what is wrong before any trellis is built."""
    what = f"transcript {text!r}" if text is not None else f"target of {len(targets)} labels"
    for position, label in enumerate(targets):
        if not 0 <= label < n_classes or label == blank:
            problem = "is the blank" if label == blank else f"is outside 0..{n_classes - 1}"
            raise ValueError(
                f"label {label} at position {position} of the {what} {problem}: "
                "it is not a character of the model's alphabet"
            )
    needed = frames_needed(targets, blank)
    if needed > n_frames:
        repeats = needed - len(targets)
        seconds = f" ({n_frames * frame_shift:.2f} s of audio)" if frame_shift else ""
        raise ValueError(
            f"the {what} needs at least {needed} frames ({len(targets)} characters + {repeats} "
            f"blank{'' if repeats == 1 else 's'} between repeated letters) but the emissions have "
            f"only {n_frames} frames"
            f"{seconds}: the audio is too short for the transcript"
        )


def viterbi_align_reference(
    log_probs: torch.Tensor, targets: Sequence[int], blank: int = 0
) -> tuple[list[int], torch.Tensor]:
    """Most probable CTC path for ``targets``: the readable version (plain Python loops).

    Args:
        log_probs: ``(T, C)`` per-frame log-probabilities of one utterance.
        targets: the transcript as class indices (no blanks), length ``L``.
        blank: index of the blank class.

    Returns:
        ``(path, scores)``: ``path`` is one label per frame (``T`` ints, blank or a target label)
        that collapses to ``targets``; ``scores`` is ``(T,)``, the log-probability of the chosen
        label at each frame (so ``scores.sum()`` is the log-probability of the whole path).

    The states are the extended target ``[blank, y1, blank, y2, ..., yL, blank]``. ``best[t][s]``
    is the highest log-probability of any path prefix of frames ``0..t`` that ends in state
    ``s``. A state is entered from itself (the label is held), from the state before, or from two
    states back when that skips a blank between two *different* labels (between equal labels the
    blank is required, or the two would merge into one). O(T * L) steps.
    """
    targets = [int(label) for label in targets]
    n_frames, n_classes = log_probs.shape
    _check_inputs(n_frames, n_classes, targets, blank, text=None)
    lp = log_probs.detach().double().cpu().tolist()  # Python floats: easy to step through
    ext = extend_with_blanks(targets, blank)
    n_states = len(ext)

    best = [[NEG_INF] * n_states for _ in range(n_frames)]
    came_from = [[-1] * n_states for _ in range(n_frames)]  # the state at t - 1 on the best path
    # A path starts with the leading blank or directly with the first label.
    best[0][0] = lp[0][ext[0]]
    if n_states > 1:
        best[0][1] = lp[0][ext[1]]
    for t in range(1, n_frames):
        for s in range(n_states):
            sources = [s]
            if s >= 1:
                sources.append(s - 1)
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                sources.append(s - 2)
            previous = max(sources, key=lambda p: best[t - 1][p])  # ties: the first listed
            if best[t - 1][previous] == NEG_INF:
                continue  # no path reaches s this early
            best[t][s] = best[t - 1][previous] + lp[t][ext[s]]
            came_from[t][s] = previous

    # A complete path ends on the last label or on the blank after it.
    finals = [n_states - 1] + ([n_states - 2] if n_states > 1 else [])
    state = max(finals, key=lambda s: best[n_frames - 1][s])
    if best[n_frames - 1][state] == NEG_INF:  # only when log_probs hold -inf (zero probability)
        raise ValueError("no path of finite probability collapses to the target")
    states = [state]
    for t in range(n_frames - 1, 0, -1):  # follow the notes back to frame 0
        state = came_from[t][state]
        states.append(state)
    states.reverse()

    path = [ext[s] for s in states]
    scores = torch.tensor([lp[t][label] for t, label in enumerate(path)], dtype=log_probs.dtype)
    return path, scores


def forced_align(
    log_probs: torch.Tensor,
    targets: Sequence[int] | torch.Tensor,
    blank: int = 0,
    *,
    text: str | None = None,
    frame_shift: float | None = None,
) -> tuple[list[int], torch.Tensor]:
    """Most probable CTC path for ``targets``: the fast version (``torchaudio``'s C++/CUDA code).

    Same arguments and results as ``viterbi_align_reference``: ``log_probs`` ``(T, C)``,
    ``targets`` ``L`` class indices -> ``(path, scores)`` with ``path`` ``T`` labels and
    ``scores`` ``(T,)`` log-probabilities on the CPU. ``text`` (the transcript) and
    ``frame_shift`` (seconds per frame) only make error messages more specific.

    Raises ``ValueError`` naming the lengths (and ``text``) when ``T`` is smaller than ``L`` plus
    the number of repeated neighbours, and when a label is the blank or outside ``0..C-1``.
    """
    targets = [int(label) for label in targets]
    n_frames, n_classes = log_probs.shape
    _check_inputs(n_frames, n_classes, targets, blank, text, frame_shift)
    if not targets:  # torchaudio wants at least one label; the only path is all blanks
        return [blank] * n_frames, log_probs[:, blank].detach().float().cpu()
    # torchaudio wants a batch of one: (1, T, C) float log-probs and (1, L) int32 targets.
    emissions = log_probs.detach().float()[None]
    target_tensor = torch.tensor([targets], dtype=torch.int32, device=emissions.device)
    path, scores = torchaudio.functional.forced_align(emissions, target_tensor, blank=blank)
    return path[0].tolist(), scores[0].cpu()


# --- from frames to characters and words ---------------------------------------------------------


def token_segments(path: Sequence[int], scores: torch.Tensor, blank: int = 0) -> list[TokenSegment]:
    """Merge a frame path into runs of one non-blank label.

    Args:
        path: ``T`` labels, one per frame (from ``forced_align``).
        scores: ``(T,)`` log-probabilities of those labels.

    Returns one ``TokenSegment`` per run of equal non-blank labels, in frame units. Blanks end a
    run, so the doubled letter of "hello" (path ``h e l _ l o``) gives two ``l`` segments; on a
    Viterbi path of a transcript this is exactly one segment per transcript character.
    """
    scores = torch.as_tensor(scores, dtype=torch.float64).tolist()
    segments: list[TokenSegment] = []
    t = 0
    while t < len(path):
        label, start = int(path[t]), t
        while t < len(path) and int(path[t]) == label:
            t += 1
        if label != blank:
            mean_log_prob = sum(scores[start:t]) / (t - start)
            segments.append(TokenSegment(label, start, t, math.exp(mean_log_prob)))
    return segments


def _mean_probability(segments: Sequence[TokenSegment]) -> float:
    """exp(mean log-prob) over all frames of ``segments``, from their per-segment means."""
    frames = sum(seg.n_frames for seg in segments)
    if frames == 0 or any(seg.score <= 0.0 for seg in segments):
        return 0.0
    return math.exp(sum(seg.n_frames * math.log(seg.score) for seg in segments) / frames)


def word_segments(
    segments: Sequence[TokenSegment],
    alphabet: Alphabet,
    frame_shift: float,
    boundaries: str = "plain",
) -> list[WordSegment]:
    """Group character segments into words (split at the space character) with times in seconds.

    Args:
        segments: ``token_segments`` of a path, in frame order.
        alphabet: maps class indices to characters; its space separates words.
        frame_shift: seconds per frame.
        boundaries: how frames become word boundaries:

            * ``"plain"``: a word starts where its first character's frames start and ends where
              its last character's frames end: ``[first.start_frame, last.end_frame) *
              frame_shift``. The blanks a CTC model puts around its characters stay outside.
            * ``"gap"``: as ``"plain"``, then the frames between two neighbouring words (the
              blanks and the space) are split at their middle, half to each word, so that words
              in continuous speech touch, as in a reference that marks no pauses.
            * ``"space"``: as ``"plain"``, then two neighbouring words meet where the model
              emits the space between them: the model fires the space when the next word
              begins, so this follows onsets more closely than the middle of the gap
              (``benchmarks/alignment.py`` compares the three with espeak-ng's timings).

    A word's ``score`` is the mean probability of its character frames (the exp of their mean
    log-probability; blanks inside the word do not count).
    """
    if boundaries not in BOUNDARIES:
        raise ValueError(f"boundaries must be one of {BOUNDARIES}, got {boundaries!r}")
    # Group the character segments of each word; the space segments only separate them.
    groups: list[list[TokenSegment]] = [[]]
    space_starts: list[int] = []  # the first space frame after each word but the last
    for seg in segments:
        if seg.token_id == alphabet.space_id:
            if groups[-1]:
                groups.append([])
                space_starts.append(seg.start_frame)
        else:
            groups[-1].append(seg)
    if not groups[-1]:
        groups.pop()
    spans = [(g[0].start_frame, g[-1].end_frame) for g in groups]  # frames, "plain"
    if boundaries != "plain":
        for i in range(len(spans) - 1):
            if boundaries == "space":
                meet = space_starts[i]
            else:
                meet = (spans[i][1] + spans[i + 1][0]) / 2  # may be half a frame
            spans[i], spans[i + 1] = (spans[i][0], meet), (meet, spans[i + 1][1])
    return [
        WordSegment(
            "".join(alphabet.tokens[seg.token_id] for seg in group),
            round(start * frame_shift, 3),
            round(end * frame_shift, 3),
            _mean_probability(group),
        )
        for group, (start, end) in zip(groups, spans)
    ]


# --- where speech starts ------------------------------------------------------------------------

ONSET_ABOVE_FLOOR_DB = 10.0  # energy over the noise floor that counts as speech


def speech_onset(
    audio: torch.Tensor, sample_rate: int, above_floor_db: float = ONSET_ABOVE_FLOOR_DB
) -> float:
    """Seconds at which speech starts in ``(samples,)`` audio: an energy detector.

    Energy is measured in 10 ms frames; the noise floor is the 5th percentile of the frames'
    energies (dB), and speech starts at the first frame ``above_floor_db`` louder than that.
    Returns 0.0 for audio shorter than a frame or with no frame above the threshold.
    """
    db = vad.frame_energy_db(audio, sample_rate)
    if db.numel() == 0:
        return 0.0
    loud = db > torch.quantile(db, 0.05) + above_floor_db
    return float(loud.double().argmax()) * vad.FRAME_SECONDS if loud.any() else 0.0


def with_speech_onset(words: list[WordSegment], onset: float) -> list[WordSegment]:
    """``words`` with the first word starting at ``onset`` seconds (if that is before its end).

    A CTC model may fire a word's first letter anywhere before the word, and at the start of a
    recording it often does so in the leading silence (the shipped model: at frame 0 in 139 of
    200 dev utterances), which makes the first word start too early. The other words are bounded
    by their neighbours, so only the first one needs the audio's own evidence.
    """
    if not words or onset >= words[0].end:
        return list(words)
    return [dataclasses.replace(words[0], start=round(onset, 3)), *words[1:]]


# --- everything together, on emissions ----------------------------------------------------------


def align_log_probs(
    log_probs: torch.Tensor,
    text: str,
    alphabet: Alphabet,
    frame_shift: float,
    *,
    boundaries: str = "space",
) -> Alignment:
    """Align ``text`` to per-frame log-probabilities ``(T, C)`` of one recording.

    Args:
        log_probs: ``(T, C)`` log-probabilities over ``alphabet`` (blank at its ``blank_id``), as
            ``Recognizer.chunked_emissions`` computes them.
        text: the transcript; normalized like training transcripts (``dslearn.text.normalize``:
            lowercase, digits as words, punctuation dropped), it must then fit ``alphabet``.
        alphabet: the model's alphabet.
        frame_shift: seconds per frame of ``log_probs``.
        boundaries: see ``word_segments`` (``"space"``, the default, comes closest to
            espeak-ng's word times in ``benchmarks/alignment.py``).

    Returns an ``Alignment``: ``.words`` in seconds, ``.chars`` in frames. With no audio at hand
    there is no speech onset: ``with_speech_onset(result.words, speech_onset(...))`` adds it, as
    ``Recognizer.align`` does. ``Alignment.warnings`` says when the text seems not to be what
    was said.

    Raises ``ValueError`` when the text is empty after normalization, has characters outside the
    alphabet (``TextError``, naming the character), or needs more frames than ``T``.
    """
    normalized = normalize(text)
    if not normalized:
        raise ValueError(f"nothing to align: {text!r} normalizes to an empty transcript")
    targets = alphabet.encode(normalized)
    blank = alphabet.blank_id
    path, scores = forced_align(log_probs, targets, blank, text=normalized, frame_shift=frame_shift)
    chars = token_segments(path, scores, blank)
    return Alignment(
        text=normalized,
        words=word_segments(chars, alphabet, frame_shift, boundaries),
        chars=chars,
        frame_shift=frame_shift,
        score=math.exp(float(scores.double().mean())),
        n_frames=log_probs.shape[0],
    )


# --- does the transcript fit the audio? ---------------------------------------------------------

# Forced alignment always finds *a* path, even for words that were never said; these two
# thresholds say when its scores mean "the text does not match the audio". Measured with the
# shipped model by ``benchmarks/alignment_mismatch.py`` on espeak-ng clips of 36 sentences (6 fixed,
# 30 from the corpus generator) in 5 voices, clean and at 10 dB SNR with 0.4 s reverb:
#   mean path probability per frame (``Alignment.score``): matching transcripts 0.86-0.99 clean,
#   0.73-0.97 noisy; another sentence's transcript 0.000-0.070; the same sentence with its middle
#   word replaced 0.16-0.67 (between: that case is caught word by word, below).
#   lowest word score: matching transcripts 0.43 and up clean, 0.098 and up noisy (and 0.05 for
#   "to" in tests/test_align.py's "open the door to the garden"); the replaced word 0.003 at most.
# Each threshold sits near the geometric mean of the two sides it separates (0.23 and 0.012).
MISMATCH_PATH_PROBABILITY = 0.2  # below: the transcript as a whole is not what was said
UNHEARD_WORD_SCORE = 0.01  # below: this word was probably not said (or not where the path put it)


def alignment_warnings(
    result: Alignment,
    min_path_probability: float = MISMATCH_PATH_PROBABILITY,
    min_word_score: float = UNHEARD_WORD_SCORE,
) -> list[str]:
    """Sentences saying why ``result`` is probably not trustworthy; empty when nothing is wrong.

    The whole transcript is doubted when ``result.score`` (mean path probability per frame) is
    below ``min_path_probability``; otherwise each word scoring below ``min_word_score`` is named.
    """
    if result.score < min_path_probability:
        return [
            f"the transcript does not seem to match the audio: path probability per frame "
            f"{result.score:.3f} is below {min_path_probability} (matching transcripts score "
            f"about 0.7 or more); the word times are not to be trusted"
        ]
    unheard = [w for w in result.words if w.score < min_word_score]
    if not unheard:
        return []
    listed = ", ".join(f"{w.word!r} ({w.score:.3f})" for w in unheard)
    return [
        f"{'this word does' if len(unheard) == 1 else 'these words do'} not seem to be in the "
        f"audio (score below {min_word_score}): {listed}"
    ]


# --- names kept for code written before alignment moved off the recognizer ----------------------
# They only call the recognizer they are given (anything with ``alphabet``, ``frame_shift``,
# ``chunked_emissions`` and ``align``); this module imports nothing of ``dslearn.inference``.


def emissions(asr, audio, chunk_seconds: float = 20.0, overlap_seconds: float = 2.0):
    """``asr.chunked_emissions(audio, chunk_seconds, overlap_seconds)``: log-probs ``(T, C)``."""
    return asr.chunked_emissions(audio, chunk_seconds, overlap_seconds)


def align_emissions(
    asr, log_probs: torch.Tensor, text: str, *, boundaries: str = "space"
) -> Alignment:
    """``align_log_probs(log_probs, text, asr.alphabet, asr.frame_shift, boundaries=...)``."""
    return align_log_probs(log_probs, text, asr.alphabet, asr.frame_shift, boundaries=boundaries)


def align(asr, audio, text: str, **options) -> Alignment:
    """``asr.align(audio, text, **options)`` (see ``dslearn.inference.Recognizer.align``)."""
    return asr.align(audio, text, **options)
