"""Real speech corpora: from their published layouts to dslearn manifests, and safe downloads.

    dslearn data prepare librispeech --root ~/corpora --out data/librispeech --subset dev-clean
    dslearn data prepare fsdd --root ../shared/fsdd --out data/fsdd

Each importer walks a corpus folder as its publisher lays it out, normalizes the transcripts with
``dslearn.text.normalize`` and writes one manifest per split (``train.jsonl``, ``dev.jsonl``, ...).
Nothing is dropped silently: an utterance whose audio cannot be read, whose transcript is empty, or
whose transcript has characters the alphabet cannot express is written to ``rejected.jsonl`` with
the reason, and ``prepare`` reports how many.

Formats (``NAME`` in ``dslearn data prepare NAME``):

- ``librispeech``: ``LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt`` with
  ``<id>.flac`` beside it; one manifest per subset (``dev-clean.jsonl``, ...). The published n-gram
  LMs (``3-gram.pruned.1e-7.arpa.gz``, ...) become lowercase ARPA files with ``--lm``.
- ``fsdd``: Free Spoken Digit Dataset, ``recordings/<digit>_<speaker>_<take>.wav``. Takes 0-4 of
  every speaker are ``dev`` (the dataset's own test convention), 5-49 ``train``; ``speakers/``
  holds one manifest per speaker for speaker-held-out evaluation.
- ``ljspeech``: ``metadata.csv`` (``id|text|normalized text``) and ``wavs/<id>.wav``; one speaker,
  so ``dev``/``test`` are every 50th utterance (offsets 1 and 0), the rest ``train``.
- ``commonvoice``: ``<split>.tsv`` (``client_id``, ``path``, ``sentence``) and ``clips/``; MP3
  clips need a libsndfile with MP3 (1.1 or newer); otherwise each clip is rejected with that reason.
- ``timit``: TIMIT-style ``<TRAIN|TEST>/<dialect>/<speaker>/<utt>.WAV`` with ``<utt>.TXT``
  (``start end text``) and, when present, ``<utt>.WRD`` word times, kept as ``"words"``.
- ``folder``: any folder of audio files with same-named ``.txt`` transcripts (``all.jsonl``).
- ``asterisk``: the Asterisk PBX's English prompts as Debian packages them (one speaker, Allison
  Smith; 8 kHz telephone audio; CC BY-SA 3.0): ``apt install asterisk-core-sounds-en-wav
  asterisk-core-sounds-en``, then ``--root /usr/share/asterisk/sounds/en``. Transcripts come from
  ``core-sounds-en.txt`` (``name: text``; found in ``--root`` or in the package's doc folder);
  prompts whose text is only a note in brackets or parentheses (``[this is a simple beep tone]``,
  ``(1 second of silence)``) are rejected as not speech, such notes inside a text are dropped.
  Every 10th prompt in name order is ``test`` (offset 0), the next one ``dev``, the rest
  ``train``.

Downloads happen only when asked (``--download``): resumable over HTTP (a ``.part`` file continues
where it stopped), checked against a known sha256 (a mismatch deletes the file and says so; files
without a known checksum need ``--allow-unverified``), and extracted by ``safe_extract``, which
refuses the whole archive, before writing anything, if any member has an absolute path, ``..``, a
link leaving the target folder, or is a device file. Archives already in ``--root`` are used as
they are (offline mode).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from dslearn import audio as audio_io
from dslearn.audio import AudioError, PathLike
from dslearn.data import Utterance, write_manifest
from dslearn.files import atomic_path
from dslearn.text import Alphabet, normalize


class CorpusError(ValueError):
    """A corpus, archive or download that cannot be used; the message names the file or URL."""


class UnsafeArchiveError(CorpusError):
    """An archive with members that would land outside the target folder (nothing was extracted)."""


# --- downloads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Remote:
    """A file to download: where from, and the sha256 it must have (None: not known to dslearn)."""

    url: str
    sha256: str | None

    @property
    def filename(self) -> str:
        return PurePosixPath(self.url).name


_OPENSLR = "https://www.openslr.org/resources"
# Checksums as published with torchaudio's dataset classes (same archives, same bytes).
LIBRISPEECH_SUBSETS: dict[str, Remote] = {
    name: Remote(f"{_OPENSLR}/12/{name}.tar.gz", sha)
    for name, sha in {
        "dev-clean": "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3",
        "dev-other": "12661c48e8c3fe1de2c1caa4c3e135193bfb1811584f11f569dd12645aa84365",
        "test-clean": "39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23",
        "test-other": "d09c181bba5cf717b3dee7d4d592af11a3ee3a09e08ae025c5506f6ebe961c29",
        "train-clean-100": "d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2",
        "train-clean-360": "146a56496217e96c14334a160df97fffedd6e0a04e66b9c5af0d40be3c792ecf",
        "train-other-500": "ddb22f27f96ec163645d53215559df6aa36515f26e01dd70798188350adcb6d2",
    }.items()
}
# OpenSLR publishes md5 sums only for the LMs, so their sha256 is not known here.
LIBRISPEECH_LMS: dict[str, Remote] = {
    name: Remote(f"{_OPENSLR}/11/{name}.arpa.gz", None)
    for name in ("3-gram", "3-gram.pruned.1e-7", "3-gram.pruned.3e-7", "4-gram")
}
LJSPEECH = Remote(
    "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2",
    "be1a30453f28eb8dd26af4101ae40cbf2c50413b1bb21936cbcdc6fae3de8aa5",
)
# GitHub builds source archives on request; their bytes are not guaranteed stable, so no sha256.
FSDD = Remote(
    "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/"
    "26eb9aaf76e81b692f806f9140c2d2777410d7a1.zip",
    None,
)
CHUNK_BYTES = 1 << 20  # 1 MiB per read: progress moves smoothly, memory stays flat


def sha256sum(path: PathLike) -> str:
    """Hex sha256 of a file, read in chunks (archives can be tens of GB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def download(
    url: str,
    path: PathLike,
    sha256: str | None = None,
    *,
    allow_unverified: bool = False,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``path``, resuming a previous partial download, and verify its sha256.

    Bytes go to ``path + ".part"``; when it exists, the request asks for the rest with an HTTP
    ``Range`` header (a server that ignores it sends everything again). An interrupted download
    keeps the ``.part`` file, so calling again continues. Once complete, the sha256 is checked: a
    mismatch deletes the file and raises. ``sha256=None`` refuses unless ``allow_unverified``.
    An existing ``path`` is verified and returned without downloading.
    """
    path = Path(path)
    if sha256 is None and not allow_unverified:
        raise CorpusError(
            f"{url}: dslearn knows no sha256 for this file, so it cannot verify the download; "
            "pass --allow-unverified (allow_unverified=True) to download it anyway"
        )
    if path.exists():
        _verify(path, sha256, url)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "dslearn"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code != 416:  # 416: nothing left to send, the .part file is already complete
            raise CorpusError(f"{url}: download failed: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        raise CorpusError(f"{url}: download failed: {err}") from err
    else:
        with response:
            resumed = response.status == 206
            if have and not resumed:
                have = 0  # the server sent the whole file again
            length = response.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            bar = tqdm(
                total=total,
                initial=have,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=path.name,
                disable=not progress,
            )
            try:
                with open(part, "ab" if resumed else "wb") as f, bar:
                    while chunk := response.read(CHUNK_BYTES):
                        f.write(chunk)
                        bar.update(len(chunk))
            except OSError as err:
                raise CorpusError(
                    f"{url}: download interrupted after {part.stat().st_size} bytes ({err}); "
                    f"run again to resume from {part}"
                ) from err
            if total is not None and part.stat().st_size < total:
                raise CorpusError(
                    f"{url}: download interrupted after {part.stat().st_size} of {total} bytes; "
                    f"run again to resume from {part}"
                )
    _verify(part, sha256, url)
    part.replace(path)
    return path


def _verify(path: Path, sha256: str | None, url: str) -> None:
    actual = sha256sum(path)
    if sha256 is None:
        print(f"{path.name}: not verified (no known checksum); its sha256 is {actual}")
        return
    if actual != sha256.lower():
        path.unlink()
        raise CorpusError(
            f"{url}: sha256 mismatch (expected {sha256}, got {actual}); "
            f"the corrupt file {path} was deleted, run again to download it afresh"
        )


# --- safe extraction ---------------------------------------------------------------------------


def _zip_member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if ".." in parts:
        return "path leaves the target folder (..)"
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        return "symbolic link"
    return None


def unsafe_members(archive: PathLike, dest: PathLike) -> list[str]:
    """Members of a tar or zip archive that must not be extracted into ``dest``, with reasons.

    No absolute paths; for the rest, tar files go through tarfile's ``data`` filter (Python's
    safe-extraction policy): no ``..`` out of ``dest``, no links pointing outside it, no device
    files or FIFOs.
    """
    archive, dest = Path(archive), Path(dest)
    problems: list[str] = []
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if reason := _zip_member_problem(info):
                    problems.append(f"{info.filename}: {reason}")
        return problems
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                # The data filter would strip the leading "/" and extract; such an archive was
                # built to write elsewhere, so it is refused rather than repaired.
                if member.name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", member.name):
                    problems.append(f"{member.name}: absolute path")
                    continue
                try:
                    tarfile.data_filter(member, str(dest))
                except tarfile.FilterError as err:
                    problems.append(f"{member.name}: {err}")
    except tarfile.TarError as err:
        raise CorpusError(f"{archive}: not a readable tar or zip archive: {err}") from err
    return problems


def safe_extract(archive: PathLike, dest: PathLike) -> Path:
    """Extract a tar (any compression) or zip archive into ``dest``, all or nothing.

    Every member is checked first (``unsafe_members``); one bad member refuses the whole archive
    with ``UnsafeArchiveError`` naming them, before any file is written.
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise CorpusError(f"{archive}: no such archive")
    if problems := unsafe_members(archive, dest):
        listed = "\n".join(problems[:20]) + (
            f"\n... and {len(problems) - 20} more" * (len(problems) > 20)
        )
        raise UnsafeArchiveError(f"{archive}: refused to extract, unsafe members:\n{listed}")
    dest.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    return dest


def fetch(
    remote: Remote,
    root: PathLike,
    *,
    download_missing: bool,
    allow_unverified: bool = False,
    progress: bool = True,
) -> Path:
    """The archive ``remote`` names, extracted under ``root``; returns ``root``.

    Offline first: an archive already in ``root`` is used as it is (verified when the checksum is
    known); it is downloaded only with ``download_missing``. A marker file records a finished
    extraction so that a second ``prepare`` does not extract again.
    """
    root = Path(root)
    archive = root / remote.filename
    marker = root / f".{remote.filename}.extracted"
    if marker.exists():
        return root
    if not archive.exists():
        if not download_missing:
            raise CorpusError(
                f"{archive}: not found; pass --download to fetch it from {remote.url}"
            )
        download(remote.url, archive, remote.sha256, allow_unverified=allow_unverified,
                 progress=progress)  # fmt: skip
    elif remote.sha256 is not None:
        _verify(archive, remote.sha256, str(archive))
    safe_extract(archive, root)
    marker.touch()
    return root


# --- collecting utterances ---------------------------------------------------------------------


@dataclass
class Prepared:
    """What an importer found: utterances per split, and those it could not use (with reasons)."""

    splits: dict[str, list[Utterance]] = field(default_factory=dict)
    rejected: list[dict] = field(default_factory=list)
    groups: dict[str, list[Utterance]] = field(default_factory=dict)  # e.g. one per speaker


class _Collector:
    """Normalizes transcripts, reads durations, puts each utterance in a split or rejects it."""

    def __init__(self, alphabet: Alphabet, progress: bool, desc: str) -> None:
        self.alphabet = alphabet
        self.result = Prepared()
        self.bar = tqdm(desc=desc, unit="utt", disable=not progress)

    def add(
        self,
        split: str,
        audio_path: Path,
        raw_text: str,
        speaker: str | None = None,
        words: list[dict] | None = None,
        source: str | None = None,
    ) -> Utterance | None:
        self.bar.update(1)
        text = normalize(raw_text)
        reason = None
        if not text:
            reason = "empty transcript"
        elif unknown := self.alphabet.unknown_characters(text):
            reason = f"characters outside the alphabet: {''.join(sorted(unknown))!r}"
        if reason is None:
            try:
                seconds = audio_io.duration(audio_path)
            except AudioError as err:
                reason = str(err)
            else:
                if seconds <= 0:
                    reason = f"{audio_path}: no samples"
        if reason is not None:
            self.result.rejected.append(
                {"split": split, "audio_filepath": str(audio_path), "text": raw_text,
                 "source": source, "reason": reason}
            )  # fmt: skip
            return None
        utt = Utterance(audio_path, round(seconds, 4), text, speaker=speaker, words=words)
        self.result.splits.setdefault(split, []).append(utt)
        return utt

    def reject(self, split: str, audio_path: Path | None, raw_text: str, source: str, reason: str):
        self.bar.update(1)
        self.result.rejected.append(
            {"split": split, "audio_filepath": str(audio_path) if audio_path else None,
             "text": raw_text, "source": source, "reason": reason}
        )  # fmt: skip

    def done(self) -> Prepared:
        self.bar.close()
        return self.result


# --- importers ---------------------------------------------------------------------------------


def _librispeech_subsets(root: Path) -> dict[str, Path]:
    """Subset name -> folder, for ``root`` = the folder holding ``LibriSpeech/``, ``LibriSpeech/``
    itself, or one subset folder."""
    for base in (root / "LibriSpeech", root):
        if not base.is_dir():
            continue
        found = {
            d.name: d
            for d in sorted(base.iterdir())
            if d.is_dir() and any(d.glob("*/*/*.trans.txt"))
        }
        if found:
            return found
    if any(root.glob("*/*/*.trans.txt")):
        return {root.name: root}
    return {}


def librispeech(
    root: PathLike,
    subsets: Sequence[str] | None = None,
    *,
    alphabet: Alphabet | None = None,
    progress: bool = True,
) -> Prepared:
    """LibriSpeech (``<subset>/<speaker>/<chapter>/*.trans.txt`` + flac): one split per subset."""
    root = Path(root)
    found = _librispeech_subsets(root)
    if subsets:
        missing = [s for s in subsets if s not in found]
        if missing:
            raise CorpusError(
                f"{root}: LibriSpeech subset(s) {', '.join(missing)} not found "
                f"(found: {', '.join(found) or 'none'}); pass --download to fetch them"
            )
        found = {s: found[s] for s in subsets}
    if not found:
        raise CorpusError(f"{root}: no LibriSpeech subsets (no */*/*/*.trans.txt files)")
    collect = _Collector(alphabet or Alphabet(), progress, "librispeech")
    for subset, folder in found.items():
        for trans in sorted(folder.glob("*/*/*.trans.txt")):
            for n, line in enumerate(trans.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                utt_id, _, text = line.strip().partition(" ")
                collect.add(subset, trans.parent / f"{utt_id}.flac", text,
                            speaker=utt_id.split("-")[0], source=f"{trans}:{n}")  # fmt: skip
    return collect.done()


def librispeech_lm(
    name: str,
    root: PathLike,
    out: PathLike,
    *,
    download_missing: bool = False,
    allow_unverified: bool = False,
    progress: bool = True,
) -> Path:
    """One of LibriSpeech's published n-gram LMs as a lowercase ARPA file in ``out``.

    The LMs are uppercase, like LibriSpeech's transcripts; dslearn's alphabet is lowercase, so the
    words are lowercased on the way (every word is uppercase there, so no two words merge).
    """
    if name not in LIBRISPEECH_LMS:
        raise CorpusError(
            f"unknown LibriSpeech LM {name!r}; choose from {', '.join(LIBRISPEECH_LMS)}"
        )
    remote = LIBRISPEECH_LMS[name]
    archive = Path(root) / remote.filename
    if not archive.exists():
        if not download_missing:
            raise CorpusError(
                f"{archive}: not found; pass --download to fetch it from {remote.url}"
            )
        download(remote.url, archive, remote.sha256, allow_unverified=allow_unverified,
                 progress=progress)  # fmt: skip
    target = Path(out) / f"librispeech-{name}.arpa"
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8") as dst:
        with gzip.open(archive, "rt", encoding="utf-8") as src:
            for line in src:
                dst.write(line.lower() if not line.startswith("\\") else line)
    return target


DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
FSDD_DEV_TAKES = 5  # takes 0-4 of each digit and speaker: FSDD's own held-out convention
_FSDD_NAME = re.compile(r"^(\d)_([A-Za-z0-9]+)_(\d+)$")


def fsdd(root: PathLike, *, alphabet: Alphabet | None = None, progress: bool = True) -> Prepared:
    """Free Spoken Digit Dataset: ``train`` (takes 5-49), ``dev`` (0-4), a group per speaker."""
    root = Path(root)
    candidates = [root / "recordings", *sorted(root.glob("*/recordings"))]
    folder = next((c for c in candidates if c.is_dir()), None)
    if folder is None:
        raise CorpusError(
            f"{root}: no FSDD 'recordings' folder (expected recordings/0_george_0.wav ...)"
        )
    collect = _Collector(alphabet or Alphabet(), progress, "fsdd")
    for wav in sorted(folder.glob("*.wav")):
        match = _FSDD_NAME.match(wav.stem)
        if match is None:
            collect.reject("?", wav, "", str(wav), "file name is not <digit>_<speaker>_<take>.wav")
            continue
        digit, speaker, take = int(match[1]), match[2], int(match[3])
        split = "dev" if take < FSDD_DEV_TAKES else "train"
        utt = collect.add(split, wav, DIGIT_WORDS[digit], speaker=speaker, source=str(wav))
        if utt is not None:
            collect.result.groups.setdefault(speaker, []).append(utt)
    result = collect.done()
    if not result.splits:
        raise CorpusError(f"{folder}: no usable FSDD recordings")
    return result


LJSPEECH_HELDOUT_EVERY = 50  # one utterance in 50 to test (offset 0) and one to dev (offset 1)


def ljspeech(
    root: PathLike, *, alphabet: Alphabet | None = None, progress: bool = True
) -> Prepared:
    """LJSpeech (``metadata.csv`` + ``wavs/``): the normalized-text column, split by position."""
    root = Path(root)
    meta = next(
        (p for p in (root / "metadata.csv", *root.glob("*/metadata.csv")) if p.is_file()), None
    )
    if meta is None:
        raise CorpusError(f"{root}: no LJSpeech metadata.csv")
    collect = _Collector(alphabet or Alphabet(), progress, "ljspeech")
    lines = meta.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        fields = line.split("|")
        if len(fields) < 2:
            collect.reject("?", None, line, f"{meta}:{n}", "expected id|text|normalized text")
            continue
        text = fields[2] if len(fields) > 2 and fields[2].strip() else fields[1]
        position = n - 1
        split = {0: "test", 1: "dev"}.get(position % LJSPEECH_HELDOUT_EVERY, "train")
        collect.add(split, meta.parent / "wavs" / f"{fields[0]}.wav", text, speaker="lj",
                    source=f"{meta}:{n}")  # fmt: skip
    return collect.done()


COMMONVOICE_SPLITS = ("train", "dev", "test")


def common_voice(
    root: PathLike,
    splits: Sequence[str] | None = None,
    *,
    alphabet: Alphabet | None = None,
    progress: bool = True,
) -> Prepared:
    """Common Voice (``<split>.tsv`` + ``clips/``); default splits train/dev/test where present."""
    root = Path(root)
    base = next((p.parent for p in (root / "train.tsv", *root.glob("*/*.tsv"), *root.glob("*.tsv"))
                 if p.is_file()), None)  # fmt: skip
    if base is None:
        raise CorpusError(f"{root}: no Common Voice .tsv files")
    wanted = (
        list(splits) if splits else [s for s in COMMONVOICE_SPLITS if (base / f"{s}.tsv").is_file()]
    )
    missing = [s for s in wanted if not (base / f"{s}.tsv").is_file()]
    if missing or not wanted:
        raise CorpusError(
            f"{base}: missing Common Voice split file(s) "
            f"{', '.join(s + '.tsv' for s in (missing or COMMONVOICE_SPLITS))}"
        )
    collect = _Collector(alphabet or Alphabet(), progress, "commonvoice")
    for split in wanted:
        tsv = base / f"{split}.tsv"
        with open(tsv, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            need = {"client_id", "path", "sentence"}
            if not need <= set(reader.fieldnames or ()):
                raise CorpusError(
                    f"{tsv}: header lacks {', '.join(sorted(need - set(reader.fieldnames or ())))}"
                )
            for n, row in enumerate(reader, 2):
                clip = base / "clips" / row["path"]
                collect.add(split, clip, row["sentence"] or "", speaker=row["client_id"],
                            source=f"{tsv}:{n}")  # fmt: skip
    return collect.done()


AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
_TIMIT_HEADER = re.compile(r"^\s*\d+\s+\d+\s+")  # "0 46797 She had your dark suit ..."


def _same_stem(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix.lower()), path.with_suffix(suffix.upper())):
        if candidate.is_file():
            return candidate
    return None


def _audio_files(root: Path) -> Iterable[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def timit(root: PathLike, *, alphabet: Alphabet | None = None, progress: bool = True) -> Prepared:
    """TIMIT-style: ``<TRAIN|TEST>/<dialect>/<speaker>/<utt>.WAV`` + ``.TXT`` (+ ``.WRD`` times).

    The split is the top folder's name, lowercased (``train``/``test``; ``all`` when there is
    none); the speaker is the audio's folder. Word times from ``.WRD`` (sample offsets) become
    ``"words"`` in seconds.
    """
    root = Path(root)
    collect = _Collector(alphabet or Alphabet(), progress, "timit")
    for wav in _audio_files(root):
        txt = _same_stem(wav, ".txt")
        if txt is None:
            continue  # not an utterance (e.g. a stray sound file): TIMIT pairs every WAV with a TXT
        top = wav.relative_to(root).parts[0].lower()
        split = top if top in ("train", "test") else "all"
        text = _TIMIT_HEADER.sub("", txt.read_text(encoding="utf-8", errors="replace").strip())
        words = None
        if (wrd := _same_stem(wav, ".wrd")) is not None:
            try:
                rate = audio_io.info(wav).samplerate
                words = []
                for line in wrd.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        start, end, word = line.split()[:3]
                        words.append({"word": normalize(word), "start": int(start) / rate,
                                      "end": int(end) / rate})  # fmt: skip
            except (AudioError, ValueError) as err:
                collect.reject(split, wav, text, str(wrd), f"{wrd}: unreadable word times: {err}")
                continue
        collect.add(split, wav, text, speaker=wav.parent.name, words=words, source=str(txt))
    result = collect.done()
    if not result.splits and not result.rejected:
        raise CorpusError(f"{root}: no TIMIT-style utterances (audio files with same-named .TXT)")
    return result


def folder(root: PathLike, *, alphabet: Alphabet | None = None, progress: bool = True) -> Prepared:
    """Any folder (searched recursively) of audio files with same-named ``.txt`` transcripts.

    Audio without a transcript is reported in ``rejected`` rather than ignored.
    """
    root = Path(root)
    collect = _Collector(alphabet or Alphabet(), progress, "folder")
    for path in _audio_files(root):
        txt = _same_stem(path, ".txt")
        if txt is None:
            collect.reject(
                "all", path, "", str(path), f"no transcript {path.with_suffix('.txt').name}"
            )
            continue
        collect.add("all", path, txt.read_text(encoding="utf-8", errors="replace"), source=str(txt))
    result = collect.done()
    if not result.splits and not result.rejected:
        raise CorpusError(f"{root}: no audio files ({', '.join(AUDIO_SUFFIXES)}) found")
    return result


ASTERISK_PACKAGES = "asterisk-core-sounds-en-wav asterisk-core-sounds-en"
ASTERISK_TRANSCRIPTS = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
ASTERISK_HELDOUT_EVERY = 10  # in name order: offset 0 -> test, offset 1 -> dev, the rest train
_NOTES = re.compile(r"\[[^\]]*\]|\([^)]*\)")  # [beep], (10 seconds of silence): not said


def _asterisk_transcripts(root: Path, transcripts: Path | None) -> Path:
    candidates = [transcripts] if transcripts else [
        root / "core-sounds-en.txt", root / "core-sounds-en.txt.gz", ASTERISK_TRANSCRIPTS
    ]  # fmt: skip
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise CorpusError(
            f"no Asterisk transcripts (core-sounds-en.txt) in {root} or {ASTERISK_TRANSCRIPTS}: "
            f"install Debian's {ASTERISK_PACKAGES.split()[1]} (apt install {ASTERISK_PACKAGES})"
        )
    return found


def asterisk(
    root: PathLike,
    *,
    transcripts: PathLike | None = None,
    alphabet: Alphabet | None = None,
    progress: bool = True,
) -> Prepared:
    """The Asterisk English prompts: ``<name>.wav`` under ``root`` (subfolders like ``digits/``
    included), transcripts from ``core-sounds-en.txt`` (``name: text``). See the module doc."""
    root = Path(root)
    table = _asterisk_transcripts(root, Path(transcripts) if transcripts else None)
    opener = gzip.open if table.suffix == ".gz" else open
    with opener(table, "rt", encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    entries = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        name, sep, text = line.partition(":")
        if not sep or not name.strip():
            raise CorpusError(f"{table}:{n}: expected 'name: text', got {line!r}")
        entries.append((name.strip(), text.strip(), f"{table}:{n}"))
    collect = _Collector(alphabet or Alphabet(), progress, "asterisk")
    described = set()
    for position, (name, text, source) in enumerate(sorted(entries)):
        split = {0: "test", 1: "dev"}.get(position % ASTERISK_HELDOUT_EVERY, "train")
        wav = root / f"{name}.wav"
        described.add(wav)
        spoken = _NOTES.sub(" ", text)
        if not normalize(spoken):
            collect.reject(split, wav, text, source, f"not speech: {text!r}")
        elif not wav.is_file():
            collect.reject(split, wav, text, source, f"{wav}: no audio file for this prompt")
        else:
            collect.add(split, wav, spoken, speaker="allison", source=source)
    for wav in sorted(root.rglob("*.wav")):
        if wav not in described:
            collect.reject("?", wav, "", str(wav), f"no transcript in {table.name}")
    result = collect.done()
    if not result.splits:
        raise CorpusError(
            f"{root}: no Asterisk prompt with both audio and a transcript (are the WAV prompts "
            f"installed? apt install {ASTERISK_PACKAGES})"
        )
    return result


# --- the one entry point -------------------------------------------------------------------------


@dataclass
class PrepareReport:
    """Files ``prepare`` wrote, and what it could not use."""

    manifests: dict[str, Path]  # split (or "speakers/<name>") -> manifest path
    counts: dict[str, int]  # split -> utterances
    hours: dict[str, float]  # split -> hours of audio
    rejected: int
    rejected_path: Path | None
    reasons: Counter
    lm: Path | None = None

    def summary(self) -> str:
        lines = [f"{split:>16}: {self.counts[split]:6d} utterances, {self.hours[split]:7.2f} h -> "
                 f"{self.manifests[split]}" for split in self.counts]  # fmt: skip
        if self.rejected:
            lines.append(
                f"rejected {self.rejected} utterance(s), with reasons in {self.rejected_path}:"
            )
            lines += [f"  {n:6d} x {reason}" for reason, n in self.reasons.most_common(5)]
        if self.lm:
            lines.append(f"language model -> {self.lm}")
        return "\n".join(lines)


NAMES = ("librispeech", "fsdd", "ljspeech", "commonvoice", "timit", "folder", "asterisk")


def prepare(
    name: str,
    root: PathLike,
    out: PathLike,
    *,
    subsets: Sequence[str] | None = None,
    download: bool = False,
    allow_unverified: bool = False,
    lm: str | None = None,
    alphabet: Alphabet | None = None,
    progress: bool = True,
) -> PrepareReport:
    """Import corpus ``name`` from ``root`` (downloading into it if asked); manifests go to ``out``.

    ``subsets``: LibriSpeech subsets (``dev-clean``, ...) or Common Voice splits; ``lm``: a
    LibriSpeech LM name to convert (``3-gram.pruned.1e-7``). Writes ``<split>.jsonl`` per split,
    ``speakers/<speaker>.jsonl`` where the corpus is made for speaker-held-out tests (FSDD), and
    ``rejected.jsonl`` when anything was rejected.
    """
    if name not in NAMES:
        raise CorpusError(f"unknown corpus {name!r}; choose from {', '.join(NAMES)}")
    root, out = Path(root), Path(out)
    if name == "asterisk" and not root.is_dir():
        raise CorpusError(
            f"{root}: no such folder; the Asterisk prompts come from Debian's packages "
            f"(apt install {ASTERISK_PACKAGES}), then --root /usr/share/asterisk/sounds/en"
        )
    if not root.is_dir() and not download:
        raise CorpusError(f"{root}: no such folder (pass --download to fetch the corpus into it)")
    root.mkdir(parents=True, exist_ok=True)
    kwargs = dict(alphabet=alphabet, progress=progress)
    get = dict(download_missing=download, allow_unverified=allow_unverified, progress=progress)
    importer: Callable[[], Prepared]
    if name == "librispeech":
        if download:
            if not subsets:
                raise CorpusError(
                    f"name the LibriSpeech subsets to download with --subset "
                    f"({', '.join(LIBRISPEECH_SUBSETS)})"
                )
            present = _librispeech_subsets(root)
            for subset in subsets:
                if subset not in LIBRISPEECH_SUBSETS:
                    raise CorpusError(f"unknown LibriSpeech subset {subset!r}")
                if subset not in present:
                    fetch(LIBRISPEECH_SUBSETS[subset], root, **get)
        importer = lambda: librispeech(root, subsets, **kwargs)  # noqa: E731
    elif name == "fsdd":
        if (
            download
            and not any((root / "recordings").glob("*.wav"))
            and not any(root.glob("*/recordings"))
        ):
            fetch(FSDD, root, **get)
        importer = lambda: fsdd(root, **kwargs)  # noqa: E731
    elif name == "ljspeech":
        if download and not any(root.glob("**/metadata.csv")):
            fetch(LJSPEECH, root, **get)
        importer = lambda: ljspeech(root, **kwargs)  # noqa: E731
    else:
        if download and name == "asterisk":
            raise CorpusError(f"install the Asterisk prompts with apt install {ASTERISK_PACKAGES}")
        if download:
            raise CorpusError(
                f"{name} cannot be downloaded by dslearn (Common Voice needs an account and "
                "TIMIT a license); download it yourself and point --root at it"
            )
        importer = {
            "commonvoice": lambda: common_voice(root, subsets, **kwargs),
            "timit": lambda: timit(root, **kwargs),
            "folder": lambda: folder(root, **kwargs),
            "asterisk": lambda: asterisk(root, **kwargs),
        }[name]
    result = importer()
    return _write(result, out, lm_path=_lm(name, lm, root, out, get))


def _lm(name: str, lm: str | None, root: Path, out: Path, get: dict) -> Path | None:
    if lm is None:
        return None
    if name != "librispeech":
        raise CorpusError(f"--lm is for LibriSpeech's published LMs, not {name}")
    return librispeech_lm(lm, root, out, **get)


def _write(result: Prepared, out: Path, lm_path: Path | None = None) -> PrepareReport:
    out.mkdir(parents=True, exist_ok=True)
    manifests, counts, hours = {}, {}, {}
    for split, utts in result.splits.items():
        manifests[split] = write_manifest(out / f"{split}.jsonl", utts)
        counts[split] = len(utts)
        hours[split] = sum(u.duration for u in utts) / 3600
    for group, utts in result.groups.items():
        write_manifest(out / "speakers" / f"{group}.jsonl", utts)
    rejected_path = out / "rejected.jsonl"
    if result.rejected:
        with open(rejected_path, "w", encoding="utf-8") as f:
            for item in result.rejected:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
    elif rejected_path.exists():
        rejected_path.unlink()  # from an earlier run that had problems since fixed
    reasons = Counter(re.sub(r"^\S+: ", "", r["reason"]) for r in result.rejected)
    return PrepareReport(manifests, counts, hours, len(result.rejected),
                         rejected_path if result.rejected else None, reasons, lm_path)  # fmt: skip


def speaker_manifests(out: PathLike) -> dict[str, Path]:
    """Speaker -> manifest written by ``prepare`` under ``out/speakers`` (FSDD)."""
    return {p.stem: p for p in sorted(Path(out, "speakers").glob("*.jsonl"))}
