"""Data: manifests of (audio file, duration, transcript), a Dataset, collate, a bucketing sampler.

A corpus is described by a *manifest*: a JSON Lines file, one utterance per line, with NeMo's fields

    {"audio_filepath": "wavs/0001.wav", "duration": 2.35, "text": "hello world"}

plus an optional ``"speaker"`` and optional ``"words"`` (``[{"word", "start", "end"}]``, seconds).
Relative paths are resolved against the manifest's folder, so a corpus folder can be moved or
copied as a whole. Fields dslearn does not know are kept when a manifest is read and written back.

The path from manifest to training batch:

    read_manifest ─► SpeechDataset[i] ─► Example(audio (samples,), targets (chars,), ...)
    BucketingBatchSampler ─► [i, j, ...] ─► collate ─► Batch(audio (batch, samples), lengths, ...)

Utterances differ a lot in length (1 s to 30 s). A batch is padded to its longest member, so a
batch mixing 2 s and 20 s clips is mostly zeros: wasted compute and memory. The sampler therefore
groups utterances of similar length and fills each batch up to a budget of *padded audio seconds*
(batch size x longest duration), so short clips come in big batches and long clips in small ones,
and memory use per step stays about constant (fewer out-of-memory surprises).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from dslearn import audio as audio_io
from dslearn.audio import SAMPLE_RATE, AudioError, PathLike
from dslearn.files import atomic_path
from dslearn.text import Alphabet, normalize

# --- limits used by validate_manifest ----------------------------------------------------------

# Fast read speech is ~6-7 syllables/s, about 15-20 characters/s with spaces. Beyond 25 the duration
# is almost surely wrong (truncated audio, a transcript of the wrong file), and CTC with a 20 ms
# output stride (50 frames/s) would have too few frames to emit the characters and their blanks.
# Of FSDD's 2,500 tightly trimmed digits, 5 exceed it ("three" in 0.18 s): real, but too short for
# a model with a 40 ms stride (5 frames for 6 labels with the blank between "ee"): worth a look.
MAX_CHARS_PER_SECOND = 25.0
# Even one word spoken with long silences around it rarely takes more than a few seconds per
# character; 10 s per character means the transcript covers only part of the audio.
MAX_SECONDS_PER_CHAR = 10.0
# Manifest durations are often rounded (2 decimals) and headers of compressed files can be a frame
# off; 0.1 s is far above that noise and far below a wrong file.
DURATION_TOLERANCE = 0.1  # seconds
DEFAULT_BATCH_SECONDS = 200.0  # padded audio seconds per batch: ~ 64 utterances of 3 s
DEFAULT_BUCKET_SIZE = 1000  # utterances shuffled together, then sorted by length, per epoch

_KNOWN_FIELDS = ("audio_filepath", "duration", "text", "speaker", "words")
_MAX_LISTED = 50  # problems quoted in an exception message; the rest are counted


class ManifestError(ValueError):
    """A manifest (or list of utterances) with problems; ``problems`` lists every one of them.

    Each problem reads ``"{manifest}:{line}: {reason}"`` so that editors and terminals can jump to
    the line.
    """

    def __init__(self, problems: Sequence[str], what: str = "manifest") -> None:
        self.problems = list(problems)
        shown = self.problems[:_MAX_LISTED]
        more = len(self.problems) - len(shown)
        lines = "\n".join(["", *shown] + ([f"... and {more} more"] if more else []))
        super().__init__(f"{what} has {len(self.problems)} problem(s):{lines}")


# --- utterances and manifests ------------------------------------------------------------------


def _absolute(path: PathLike, base: Path | None = None) -> Path:
    """Absolute, normalized path (``..`` removed) WITHOUT resolving symlinks.

    ``Path.resolve`` would follow symlinks, so a corpus folder made of links would be written back
    with paths into the link targets instead of paths relative to the manifest.
    """
    path = Path(path).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    return Path(os.path.abspath(path))


@dataclass
class Utterance:
    """One manifest line.

    ``text`` is the transcript as written in the manifest; ``SpeechDataset`` normalizes it.
    """

    audio_filepath: Path  # absolute; relative paths in a manifest resolve against its folder
    duration: float  # seconds, as stated by the manifest
    text: str  # transcript, not normalized
    speaker: str | None = None  # speaker or voice id, when the corpus has one
    words: list[dict] | None = None  # [{"word": str, "start": s, "end": s}], from file start
    extra: dict[str, Any] = field(default_factory=dict)  # unknown fields, written back unchanged
    # Where the utterance came from ("train.jsonl:17"), for error messages; not part of equality.
    origin: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.audio_filepath = _absolute(self.audio_filepath)
        self.duration = float(self.duration)

    def to_dict(self, relative_to: PathLike | None = None) -> dict[str, Any]:
        """The manifest line as a dict; the path is relative to ``relative_to`` when inside it."""
        path = self.audio_filepath
        if relative_to is not None:
            base = _absolute(relative_to)
            # Only paths inside the manifest's folder become relative: "../x.wav" would break as
            # soon as the manifest alone is moved, while a folder moved as a whole keeps working.
            if path.is_relative_to(base):
                path = path.relative_to(base)
        line: dict[str, Any] = {
            "audio_filepath": path.as_posix(),
            "duration": self.duration,
            "text": self.text,
        }
        if self.speaker is not None:
            line["speaker"] = self.speaker
        if self.words is not None:
            line["words"] = self.words
        for key, value in self.extra.items():
            line.setdefault(key, value)
        return line


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _parse_line(raw: bytes, base: Path) -> tuple[Utterance | None, list[str]]:
    """Parse one manifest line; returns the utterance (or None) and the structural problems."""
    try:
        text_line = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return None, [f"not valid UTF-8 ({err.reason} at byte {err.start})"]
    try:
        obj = json.loads(text_line)
    except json.JSONDecodeError as err:
        return None, [f"invalid JSON: {err.msg} (column {err.colno})"]
    if not isinstance(obj, dict):
        return None, [f"expected a JSON object, got {type(obj).__name__}"]

    problems = []
    missing = [k for k in ("audio_filepath", "duration", "text") if k not in obj]
    if missing:
        problems.append(f"missing field(s) {', '.join(map(repr, missing))}")
    path, dur, text = obj.get("audio_filepath"), obj.get("duration"), obj.get("text")
    if path is not None and (not isinstance(path, str) or not path.strip()):
        problems.append(f"'audio_filepath' must be a non-empty string, got {path!r}")
    if dur is not None:
        if not _is_number(dur) or not math.isfinite(dur):
            problems.append(f"'duration' must be a number of seconds, got {dur!r}")
        elif dur <= 0:
            problems.append(f"duration must be positive, got {dur!r}")
    if text is not None and not isinstance(text, str):
        problems.append(f"'text' must be a string, got {type(text).__name__}")
    speaker = obj.get("speaker")
    if speaker is not None and not isinstance(speaker, (str, int)):
        problems.append(f"'speaker' must be a string, got {type(speaker).__name__}")
    words = obj.get("words")
    if words is not None:
        good = isinstance(words, list) and all(
            isinstance(w, dict)
            and isinstance(w.get("word"), str)
            and _is_number(w.get("start"))
            and _is_number(w.get("end"))
            for w in words
        )
        if not good:
            problems.append('\'words\' must be a list of {"word": str, "start": s, "end": s}')
    if problems:
        return None, problems
    utt = Utterance(
        audio_filepath=_absolute(path, base),
        duration=dur,
        text=text,
        speaker=None if speaker is None else str(speaker),  # NeMo corpora sometimes use ints
        words=words,
        extra={k: v for k, v in obj.items() if k not in _KNOWN_FIELDS},
    )
    return utt, []


def _parse_manifest(path: PathLike) -> Iterator[tuple[int, Utterance | None, list[str]]]:
    """``(line number, utterance or None, problems)`` for every non-blank line of a manifest."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such manifest")
    base = _absolute(path).parent
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # UTF-8 byte-order mark written by some Windows editors
            if not raw.strip():
                continue  # blank lines (a trailing newline, a separator) are harmless
            utt, problems = _parse_line(raw, base)
            if utt is not None:
                utt.origin = f"{path}:{lineno}"
            yield lineno, utt, problems


def read_manifest(path: PathLike) -> list[Utterance]:
    """Read a JSON Lines manifest into ``Utterance`` objects, in file order.

    Relative ``audio_filepath`` values resolve against the manifest's folder (not the current
    directory). Only the structure is checked here (JSON, required fields, types, positive
    duration); every bad line is collected and reported at once in a ``ManifestError``. Use
    ``validate_manifest`` for the content checks (files exist, transcript fits the alphabet and
    the duration).
    """
    utterances, problems = [], []
    for lineno, utt, line_problems in _parse_manifest(path):
        problems += [f"{path}:{lineno}: {p}" for p in line_problems]
        if utt is not None:
            utterances.append(utt)
    if problems:
        raise ManifestError(problems, what=str(path))
    return utterances


def write_manifest(path: PathLike, utterances: Sequence[Utterance]) -> Path:
    """Write utterances as a JSON Lines manifest; returns its path.

    Audio files inside the manifest's folder are written with paths relative to it, others with
    absolute paths. Unknown fields in ``Utterance.extra`` are kept. The file is written to a
    temporary name first and renamed (``dslearn.files.atomic_path``), so a crash never leaves half
    a manifest behind, and processes writing the same manifest at once do not collide.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = _absolute(path).parent
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for utt in utterances:
            # ensure_ascii=False keeps "café" readable in the file instead of "caf\u00e9".
            f.write(json.dumps(utt.to_dict(relative_to=base), ensure_ascii=False) + "\n")
    return path


def mix_manifests(
    sources: Sequence[tuple[PathLike, int]],
    exclude_speakers: Sequence[str] = (),
    seed: int | None = 0,
) -> list[Utterance]:
    """Utterances of several manifests in one list, for training on a mix of corpora.

    ``sources``: ``(manifest, repeat)`` pairs; ``repeat`` copies of each utterance of that
    manifest go in (a small real-speech corpus repeated 3 times weighs 3 times more; with
    on-the-fly augmentation each copy sounds different). Utterances whose ``speaker`` is in
    ``exclude_speakers`` are left out (a held-out speaker). ``seed``: shuffle the result with it
    (None keeps manifest order). Paths come back absolute, so the mix can be written anywhere.
    """
    import random

    out: list[Utterance] = []
    for manifest, repeat in sources:
        if repeat < 1:
            raise ValueError(f"{manifest}: repeat must be at least 1, got {repeat}")
        kept = [u for u in read_manifest(manifest) if u.speaker not in set(exclude_speakers)]
        out += kept * repeat
    if seed is not None:
        random.Random(seed).shuffle(out)
    return out


def validate_manifest(
    path: PathLike,
    alphabet: Alphabet | None = None,
    check_audio: bool = True,
    normalizer: Callable[[str], str] | None = normalize,
) -> list[str]:
    """Every problem of a manifest, one ``"{path}:{line}: {reason}"`` string each; ``[]`` if fine.

    Checks, per line: valid UTF-8 JSON object; required fields with the right types; positive
    duration; non-empty transcript; characters the ``alphabet`` (default: ``Alphabet()``) cannot
    express after ``normalizer`` (default: ``dslearn.text.normalize``; ``None`` checks the raw
    text); a duration plausible for the transcript length (at most ``MAX_CHARS_PER_SECOND``
    characters per second and ``MAX_SECONDS_PER_CHAR`` seconds per character); word timings inside
    the utterance; the same audio file listed twice. With ``check_audio`` also: the audio file
    exists and decodes, and its header duration agrees with the manifest within
    ``DURATION_TOLERANCE`` seconds.
    """
    alphabet = alphabet if alphabet is not None else Alphabet()
    problems: list[str] = []
    first_line_of: dict[Path, int] = {}
    for lineno, utt, line_problems in _parse_manifest(path):
        here = f"{path}:{lineno}"
        problems += [f"{here}: {p}" for p in line_problems]
        if utt is None:
            continue
        problems += [f"{here}: {p}" for p in _content_problems(utt, alphabet, normalizer)]
        if utt.audio_filepath in first_line_of:
            line = first_line_of[utt.audio_filepath]
            problems.append(f"{here}: same audio file as line {line}: {utt.audio_filepath}")
        else:
            first_line_of[utt.audio_filepath] = lineno
        if check_audio:
            problems += [f"{here}: {p}" for p in _audio_problems(utt)]
    return problems


def _content_problems(
    utt: Utterance, alphabet: Alphabet, normalizer: Callable[[str], str] | None
) -> list[str]:
    text = normalizer(utt.text) if normalizer is not None else utt.text
    if not text.strip():
        if utt.text.strip():
            return [f"text {utt.text!r} is empty after normalization"]
        return ["empty text"]
    problems = []
    unknown = sorted(alphabet.unknown_characters(text))
    if unknown:
        chars = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in unknown)
        problems.append(f"character(s) {chars} of {text!r} not in the alphabet")
    rate = len(text) / utt.duration
    if rate > MAX_CHARS_PER_SECOND:
        problems.append(
            f"duration {utt.duration:g} s is too short for {len(text)} characters "
            f"({rate:.1f} chars/s > {MAX_CHARS_PER_SECOND:g})"
        )
    elif utt.duration / len(text) > MAX_SECONDS_PER_CHAR:
        problems.append(
            f"duration {utt.duration:g} s is too long for {len(text)} characters "
            f"({utt.duration / len(text):.1f} s per character > {MAX_SECONDS_PER_CHAR:g})"
        )
    for k, w in enumerate(utt.words or []):
        if not 0 <= w["start"] <= w["end"] <= utt.duration + DURATION_TOLERANCE:
            problems.append(
                f"word {k} {w['word']!r} spans {w['start']:g}-{w['end']:g} s, outside "
                f"0-{utt.duration:g} s or ending before it starts"
            )
    return problems


def require_readable_audio(
    utterances: Sequence[Utterance], what: str = "manifest", progress: bool = False
) -> None:
    """Raise one ``ManifestError`` listing every utterance whose audio cannot be decoded.

    Judged from the file headers (missing, empty, not audio, no samples): about 0.13 ms a file
    once the disk cache holds them (11 s for 84,000 files on one core; threads only fight over
    the GIL). Training and evaluation call it before their first step, so that a bad file deep
    in a long manifest stops them at once, with every other bad file named too, instead of
    hours in. ``progress`` allows a bar, shown past 20,000 files, where the wait is noticeable.
    """
    from tqdm.auto import tqdm

    problems = []
    quiet = not progress or len(utterances) <= 20_000
    for utt in tqdm(utterances, desc="checking audio", unit="file", disable=quiet):
        where = utt.origin or what
        try:
            if audio_io.num_frames(utt.audio_filepath) == 0:
                problems.append(f"{where}: {utt.audio_filepath}: contains no audio samples")
        except AudioError as err:
            problems.append(f"{where}: {err}")
    if problems:
        raise ManifestError(problems, what=f"{what} (audio files)")


def _audio_problems(utt: Utterance) -> list[str]:
    if not utt.audio_filepath.exists():
        return [f"audio file not found: {utt.audio_filepath}"]
    try:
        actual = audio_io.duration(utt.audio_filepath)
    except AudioError as err:
        return [f"unreadable audio: {err}"]
    if abs(actual - utt.duration) > DURATION_TOLERANCE:
        return [f"duration {utt.duration:g} s in the manifest, {actual:.3f} s in the audio file"]
    return []


# --- dataset -----------------------------------------------------------------------------------


class Example(NamedTuple):
    """One item of a ``SpeechDataset``."""

    audio: torch.Tensor  # (samples,) float32 mono at the dataset's sample rate
    targets: torch.Tensor  # (chars,) int64 class ids of the normalized text (no blanks)
    index: int  # position in the dataset
    text: str  # the normalized transcript the targets encode
    path: Path  # the audio file


class SpeechDataset(Dataset):
    """Utterances of a manifest as ``Example(audio, targets, index, text, path)``.

    Args:
        manifest: a manifest path, or a list of ``Utterance``.
        alphabet: the model's alphabet (default ``Alphabet()``).
        normalizer: maps a raw transcript onto the alphabet (default ``dslearn.text.normalize``;
            ``None`` uses texts as they are).
        on_unknown: what to do with a transcript holding characters the alphabet lacks after
            normalization: ``"error"`` raises one ``ManifestError`` listing every such utterance
            (file, line and character); ``"drop"`` removes the characters (as
            ``Alphabet.encode``); ``"skip"`` leaves those utterances out, with a warning.
        transform: optional ``f(audio (samples,)) -> audio (samples',)`` applied after loading,
            e.g. augmentation. ``durations`` stay those of the manifest.
        sample_rate: rate in Hz the audio is resampled to.

    Transcripts are normalized and encoded once, here, so that a bad transcript fails at startup
    rather than hours into training. Audio is read lazily in ``__getitem__``.
    """

    def __init__(
        self,
        manifest: PathLike | Sequence[Utterance],
        alphabet: Alphabet | None = None,
        *,
        normalizer: Callable[[str], str] | None = normalize,
        on_unknown: str = "error",
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        if on_unknown not in ("error", "drop", "skip"):
            raise ValueError(f"on_unknown must be 'error', 'drop' or 'skip', got {on_unknown!r}")
        if isinstance(manifest, (str, os.PathLike)):
            self.source = str(manifest)
            utterances = read_manifest(manifest)
        else:
            self.source = "utterance list"
            utterances = list(manifest)
        self.alphabet = alphabet if alphabet is not None else Alphabet()
        self.transform = transform
        self.sample_rate = sample_rate

        self.utterances: list[Utterance] = []
        self.texts: list[str] = []  # normalized transcripts
        self._targets: list[list[int]] = []
        bad: list[str] = []
        for utt in utterances:
            text = normalizer(utt.text) if normalizer is not None else utt.text
            unknown = sorted(self.alphabet.unknown_characters(text))
            if unknown and on_unknown != "drop":
                chars = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in unknown)
                where = utt.origin or str(utt.audio_filepath)
                bad.append(
                    f"{where}: {utt.audio_filepath.name}: character(s) {chars} of {text!r} "
                    f"not in the alphabet {''.join(self.alphabet.symbols)!r}"
                )
                continue
            if unknown:  # "drop": remove them, and the double spaces that can leave behind
                text = " ".join("".join(c for c in text if c in self.alphabet).split())
            self.utterances.append(utt)
            self.texts.append(text)
            self._targets.append(self.alphabet.encode(text))
        if bad and on_unknown == "error":
            hint = "; pass on_unknown='drop' or 'skip', or a larger alphabet"
            raise ManifestError(bad, what=f"{self.source}{hint}")
        if bad:
            warnings.warn(
                f"{self.source}: skipped {len(bad)} utterance(s) the alphabet cannot express; "
                f"first: {bad[0]}",
                stacklevel=2,
            )
        self.durations: list[float] = [u.duration for u in self.utterances]  # seconds

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, index: int) -> Example:
        utt = self.utterances[index]
        wave = audio_io.load(utt.audio_filepath, sample_rate=self.sample_rate)
        if self.transform is not None:
            wave = self.transform(wave)
        targets = torch.tensor(self._targets[index], dtype=torch.long)
        return Example(wave, targets, index, self.texts[index], utt.audio_filepath)

    def target_ids(self, index: int) -> list[int]:
        """Class ids of utterance ``index``'s normalized transcript (without reading audio)."""
        return self._targets[index]

    def path(self, index: int) -> Path:
        """Audio file of utterance ``index``."""
        return self.utterances[index].audio_filepath

    @property
    def total_duration(self) -> float:
        """Seconds of audio in the dataset (from the manifest)."""
        return float(sum(self.durations))


# --- batches -----------------------------------------------------------------------------------


@dataclass
class Batch:
    """Padded examples. Audio is ``(batch, samples)``; lengths travel with it."""

    audio: torch.Tensor  # (batch, max_samples) float32, zero after each utterance's end
    audio_lengths: torch.Tensor  # (batch,) int64 samples
    targets: torch.Tensor  # (batch, max_chars) int64 class ids, padded with 0 (blank)
    target_lengths: torch.Tensor  # (batch,) int64 characters
    indices: torch.Tensor  # (batch,) int64 dataset indices
    texts: list[str]  # normalized transcripts (the references for WER/CER)
    paths: list[Path]  # audio files

    def __len__(self) -> int:
        return len(self.texts)

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        """A copy with every tensor on ``device``."""
        return replace(
            self,
            **{
                name: getattr(self, name).to(device, non_blocking=non_blocking)
                for name in ("audio", "audio_lengths", "targets", "target_lengths", "indices")
            },
        )

    def pin_memory(self) -> Batch:
        """Page-locked copy; ``DataLoader(pin_memory=True)`` calls this for faster GPU copies."""
        return replace(
            self,
            **{
                name: getattr(self, name).pin_memory()
                for name in ("audio", "audio_lengths", "targets", "target_lengths", "indices")
            },
        )


def collate(examples: Sequence[Example]) -> Batch:
    """Stack ``Example``s into a ``Batch``, zero-padding audio and blank-padding targets.

    Padding targets with 0 (blank) is safe: CTC reads only the first ``target_lengths[b]`` ids.
    """
    if not examples:
        raise ValueError("collate needs at least one example")
    audio_lengths = torch.tensor([e.audio.shape[0] for e in examples], dtype=torch.long)
    target_lengths = torch.tensor([e.targets.shape[0] for e in examples], dtype=torch.long)
    audio = torch.zeros(len(examples), int(audio_lengths.max()), dtype=torch.float32)
    targets = torch.zeros(len(examples), int(target_lengths.max()), dtype=torch.long)
    for b, e in enumerate(examples):
        audio[b, : e.audio.shape[0]] = e.audio
        targets[b, : e.targets.shape[0]] = e.targets
    return Batch(
        audio=audio,
        audio_lengths=audio_lengths,
        targets=targets,
        target_lengths=target_lengths,
        indices=torch.tensor([e.index for e in examples], dtype=torch.long),
        texts=[e.text for e in examples],
        paths=[e.path for e in examples],
    )


# --- bucketing sampler -------------------------------------------------------------------------


class BucketingBatchSampler(Sampler[list[int]]):
    """Batches of similar-length utterances that fill a budget of padded audio seconds.

    Args:
        durations: seconds per utterance (``SpeechDataset.durations``).
        max_batch_seconds: budget per batch, counting padding: ``len(batch) * longest <= budget``.
            An utterance longer than the budget gets a batch of its own (never dropped).
        max_batch_size: optional cap on utterances per batch.
        shuffle: ``False`` gives the same shortest-first batches every epoch (evaluation).
        sortagrad: in epoch 0, batches come shortest-first (SortaGrad, DeepSpeech 2): short
            utterances give stable gradients while the model is still random.
        bucket_size: utterances shuffled together and then sorted by length, per epoch. Larger
            means less padding but batches that look more alike from epoch to epoch; ``None``
            sorts the whole dataset.
        bucketing: ``False`` fills batches from the shuffled order as it comes, without sorting
            by length: the plain random batches that bucketing improves on (more padding).
        seed: with the epoch, fixes every batch; all ranks must use the same seed.
        num_replicas, rank: distributed training. Every rank computes the same plan and takes
            every ``num_replicas``-th batch, so shares are disjoint; a few batches are repeated
            so that all ranks run the same number of steps (DDP would hang otherwise). Batches
            of similar length run at the same step on all ranks, so no rank waits long for another.

    One epoch: shuffle the indices, cut them into buckets of ``bucket_size``, sort each bucket by
    duration, fill batches greedily up to the budget, then shuffle the order of the batches.

    Iterating yields the remaining batches of the current epoch and then moves to the next epoch,
    so ``state_dict()`` is always the point to resume from and a forgotten ``set_epoch`` does not
    repeat the same order. ``set_epoch`` works as with ``DistributedSampler``. When iterated by a
    ``DataLoader`` with workers, the sampler runs a few batches ahead of the training loop: to
    resume, count the batches the loop consumed and pass them as ``position`` to
    ``load_state_dict``.
    """

    def __init__(
        self,
        durations: Sequence[float],
        max_batch_seconds: float = DEFAULT_BATCH_SECONDS,
        *,
        max_batch_size: int | None = None,
        shuffle: bool = True,
        sortagrad: bool = True,
        bucket_size: int | None = DEFAULT_BUCKET_SIZE,
        bucketing: bool = True,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        super().__init__()
        self.durations = np.asarray(durations, dtype=np.float64)
        if self.durations.ndim != 1 or not np.isfinite(self.durations).all():
            raise ValueError("durations must be a flat sequence of finite seconds")
        if (self.durations < 0).any():
            raise ValueError("durations must not be negative")
        if not max_batch_seconds > 0:
            raise ValueError(f"max_batch_seconds must be positive, got {max_batch_seconds}")
        if max_batch_size is not None and max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {max_batch_size}")
        if bucket_size is not None and bucket_size < 1:
            raise ValueError(f"bucket_size must be at least 1 or None, got {bucket_size}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} is outside 0..{num_replicas - 1}")
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        self.max_batch_seconds = float(max_batch_seconds)
        self.max_batch_size = max_batch_size
        self.shuffle = shuffle
        self.sortagrad = sortagrad
        self.bucket_size = bucket_size
        self.bucketing = bucketing
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.position = 0  # batches of this epoch already yielded on this rank
        self._cache: tuple[int, list[list[int]]] | None = None
        oversize = int((self.durations > self.max_batch_seconds).sum())
        if oversize:
            warnings.warn(
                f"{oversize} utterance(s) are longer than max_batch_seconds="
                f"{self.max_batch_seconds:g} (longest {self.durations.max():.1f} s); each gets a "
                "batch of its own, which may not fit in memory",
                stacklevel=2,
            )

    # The plan of an epoch is a pure function of (durations, settings, seed, epoch): every rank
    # computes the same one, and a resumed run recomputes exactly the batches it had.

    def _fill(self, order: np.ndarray) -> list[list[int]]:
        """Greedy batches over ``order`` (ascending durations) within the padded budget."""
        batches: list[list[int]] = []
        current: list[int] = []
        longest = 0.0
        for i in order.tolist():
            d = self.durations[i]
            fits = (len(current) + 1) * max(longest, d) <= self.max_batch_seconds and (
                self.max_batch_size is None or len(current) < self.max_batch_size
            )
            if current and not fits:
                batches.append(current)
                current, longest = [], 0.0
            current.append(i)
            longest = max(longest, d)
        if current:
            batches.append(current)
        return batches

    def _plan(self, epoch: int) -> list[list[int]]:
        """This rank's batches for ``epoch``."""
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1]
        n, durations = len(self.durations), self.durations
        rng = np.random.default_rng([self.seed, epoch])
        sorted_epoch = not self.shuffle or (self.sortagrad and epoch == 0)
        if sorted_epoch or self.bucket_size is None or self.bucket_size >= n:
            order = rng.permutation(n) if not sorted_epoch else np.arange(n)
            buckets = [order]
        else:
            order = rng.permutation(n)
            buckets = [order[s : s + self.bucket_size] for s in range(0, n, self.bucket_size)]
        batches = []
        for bucket in buckets:
            if self.bucketing or sorted_epoch:
                # Stable sort: ties keep the (shuffled or original) order: reproducible plans.
                bucket = bucket[np.argsort(durations[bucket], kind="stable")]
            batches += self._fill(bucket)

        # Sort the batches by their longest member, repeat the shortest ones until every rank has
        # as many, and deal consecutive (similar-length) batches out as one step for all ranks.
        batches.sort(key=lambda b: durations[b].max())
        if batches:
            pad = -len(batches) % self.num_replicas
            batches += [batches[k % len(batches)] for k in range(pad)]
            batches.sort(key=lambda b: durations[b].max())
        r = self.num_replicas
        steps = [batches[s : s + r] for s in range(0, len(batches), r)]
        if not sorted_epoch:
            steps = [steps[k] for k in rng.permutation(len(steps))]
            steps = [[step[k] for k in rng.permutation(r)] for step in steps]
        mine = [step[self.rank] for step in steps]
        self._cache = (epoch, mine)
        return mine

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._plan(self.epoch)
        if self.position > len(batches):
            raise ValueError(
                f"position {self.position} is past the {len(batches)} batches of epoch {self.epoch}"
            )
        for k in range(self.position, len(batches)):
            self.position = k + 1  # counted when handed out: a checkpoint now resumes after it
            yield list(batches[k])
        self.epoch += 1
        self.position = 0

    def __len__(self) -> int:
        """Batches per epoch on this rank (can vary by a few between epochs)."""
        return len(self._plan(self.epoch))

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch to iterate. Changing it restarts from the epoch's first batch; setting
        the epoch already loaded by ``load_state_dict`` keeps the resume position."""
        if epoch != self.epoch:
            self.epoch, self.position = epoch, 0

    def state_dict(self) -> dict[str, int]:
        """Where iteration stands: ``epoch`` and ``position`` (batches already yielded in it)."""
        return {
            "epoch": self.epoch,
            "position": self.position,
            "seed": self.seed,
            "num_replicas": self.num_replicas,
            "num_utterances": len(self.durations),
        }

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue from ``state``: the next iteration yields the batches after ``position``.

        Only ``epoch`` and ``position`` are required; the other keys, when present, must match
        this sampler, because a different seed, world size or dataset gives different batches.
        """
        for key, mine in (
            ("seed", self.seed),
            ("num_replicas", self.num_replicas),
            ("num_utterances", len(self.durations)),
        ):
            if key in state and state[key] != mine:
                raise ValueError(
                    f"cannot resume mid-epoch: the state has {key}={state[key]}, this sampler "
                    f"{mine}; the batches would differ"
                )
        epoch, position = int(state["epoch"]), int(state["position"])
        if position < 0 or position > len(self._plan(epoch)):
            raise ValueError(
                f"position {position} is outside epoch {epoch}'s {len(self._plan(epoch))} batches"
            )
        self.epoch, self.position = epoch, position


def padding_fraction(batches: Sequence[Sequence[int]], durations: Sequence[float]) -> float:
    """Fraction of padded audio that is padding: ``1 - real seconds / (size x longest)`` summed."""
    durations = np.asarray(durations, dtype=np.float64)
    real = padded = 0.0
    for batch in batches:
        d = durations[list(batch)]
        real += d.sum()
        padded += len(d) * d.max() if len(d) else 0.0
    return 0.0 if padded == 0 else 1.0 - real / padded


def make_loader(
    dataset: SpeechDataset,
    max_batch_seconds: float = DEFAULT_BATCH_SECONDS,
    *,
    max_batch_size: int | None = None,
    shuffle: bool = True,
    sortagrad: bool = True,
    bucket_size: int | None = DEFAULT_BUCKET_SIZE,
    seed: int = 0,
    num_replicas: int = 1,
    rank: int = 0,
    num_workers: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """A ``DataLoader`` of ``Batch``es from a ``BucketingBatchSampler`` over ``dataset``.

    The sampler is ``loader.batch_sampler`` (call its ``set_epoch``/``state_dict`` there).
    ``num_workers`` processes read and resample audio in parallel with training.
    """
    sampler = BucketingBatchSampler(
        dataset.durations,
        max_batch_seconds,
        max_batch_size=max_batch_size,
        shuffle=shuffle,
        sortagrad=sortagrad,
        bucket_size=bucket_size,
        seed=seed,
        num_replicas=num_replicas,
        rank=rank,
    )
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
    )
