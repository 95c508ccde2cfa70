"""Inference: a trained model with its features, alphabet and decoder, ready to transcribe files.

>>> import dslearn
>>> asr = dslearn.load_model()            # the pretrained model shipped in the package
>>> asr.transcribe("clip.wav").text

Long recordings are cut into overlapping chunks; each word is kept from the chunk in which it
lies furthest from the edge, so no word is cut in half or transcribed twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from dslearn import audio as audio_io
from dslearn import vad
from dslearn.checkpoint import load_checkpoint, resolve_model_path
from dslearn.decoding import GreedyDecoder, Hypothesis, WordTiming
from dslearn.features import FeatureConfig, build_features
from dslearn.model import ModelConfig, build_model, time_stride
from dslearn.text import Alphabet

PRETRAINED_DIR = "pretrained"  # inside dslearn/assets


DECODERS = ("greedy", "beam", "lm")
DEFAULT_ALPHA, DEFAULT_BETA = 0.5, 1.0  # used until `dslearn lm tune` has written better ones


def pretrained_path() -> Path:
    """The checkpoint shipped in the package (dslearn/assets/pretrained/model.safetensors)."""
    path = Path(str(resources.files("dslearn") / "assets" / PRETRAINED_DIR / "model.safetensors"))
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: the pretrained model is missing from this installation; pass --model"
        )
    return path


# The LMs shipped beside the pretrained model, by the name `--lm NAME` accepts.
SHIPPED_LMS = {
    "grammar": "lm.arpa",  # the synthetic corpus's grammar: commands, numbers, dates (the default)
    "english": "lm-english.arpa.gz",  # open English text (WordNet's definitions and examples)
}


def pretrained_lm_path(name: str = "grammar") -> Path | None:
    """A word 3-gram LM shipped beside the pretrained model (``SHIPPED_LMS``), or ``None`` if it
    is missing from this installation."""
    if name not in SHIPPED_LMS:
        raise ValueError(f"no shipped LM called {name!r}; shipped: {', '.join(SHIPPED_LMS)}")
    path = Path(str(resources.files("dslearn") / "assets" / PRETRAINED_DIR / SHIPPED_LMS[name]))
    return path if path.exists() else None


def resolve_lm(lm: str | os.PathLike | None) -> Path | None:
    """``lm`` as a path: a shipped LM's name ("grammar", "english") or a file, else None."""
    if lm is None:
        return None
    if str(lm) in SHIPPED_LMS and not Path(lm).exists():
        path = pretrained_lm_path(str(lm))
        if path is None:
            raise FileNotFoundError(f"the shipped LM {lm!r} is missing from this installation")
        return path
    return Path(lm)


def tuned_path(lm: str | os.PathLike) -> Path:
    """Where ``dslearn lm tune`` writes the best alpha/beta for ``lm``: ``LM.tuned.json``."""
    return Path(f"{lm}.tuned.json")


def decoder_settings(lm: str | os.PathLike | None) -> dict:
    """alpha, beta (and the beam's size and tokens per frame) for ``lm``: what ``lm tune``
    stored, else the defaults."""
    settings = {"alpha": DEFAULT_ALPHA, "beta": DEFAULT_BETA}
    if lm is not None and tuned_path(lm).exists():
        try:
            tuned = json.loads(tuned_path(lm).read_text(encoding="utf-8"))
            settings.update({k: float(tuned[k]) for k in ("alpha", "beta")})
            if "beam_size" in tuned:
                settings["beam_size"] = int(tuned["beam_size"])
            if "beam_size_token" in tuned:  # null: every token at every frame
                token = tuned["beam_size_token"]
                settings["beam_size_token"] = None if token is None else int(token)
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(
                f"{tuned_path(lm)}: not a tuning file from `dslearn lm tune`: {err}"
            ) from err
    return settings


@dataclass(frozen=True)
class ChunkOptions:
    """How ``Recognizer.transcribe`` reads a recording longer than one chunk.

    Such a recording is first cut in the middle of its pauses (``dslearn.vad``: quiet stretches of
    at least ``min_pause_seconds``), so that the model hears sentence-like pieces as in training;
    a piece still longer than ``chunk_seconds`` is read in chunks overlapping by
    ``overlap_seconds``, whose words are stitched back together. ``cut_at_pauses=False`` reads the
    whole recording in fixed chunks. Audio no longer than one chunk is read in one pass.
    """

    chunk_seconds: float = 20.0  # audio per forward pass for long files
    overlap_seconds: float = 2.0  # shared by neighbouring chunks; words are split inside it
    cut_at_pauses: bool = True
    min_pause_seconds: float = 0.25


@dataclass
class FileResult:
    """One file of ``Recognizer.transcribe_files``: its hypothesis, or why it has none."""

    path: str
    hypothesis: Hypothesis | None = None
    error: str | None = None  # names the file and the reason (unreadable, empty, missing, ...)


class Recognizer:
    """Features -> acoustic model -> decoder, on one device."""

    def __init__(
        self,
        model: torch.nn.Module,
        model_config: ModelConfig,
        alphabet: Alphabet,
        feature_config: FeatureConfig,
        device: str | torch.device = "cpu",
        source: str = "",
        feature_state: dict[str, torch.Tensor] | None = None,
    ) -> None:
        """``feature_state``: the feature extractor's fitted statistics (global CMVN), as a
        checkpoint carries them; required when ``feature_config.normalize == "global"``."""
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.model_config = model_config
        self.alphabet = alphabet
        self.feature_config = feature_config
        self.features = build_features(feature_config)
        if feature_state:
            self.features.load_state_dict(feature_state)
        elif feature_config.normalize == "global":
            raise ValueError(
                f"{source or 'Recognizer'}: features.normalize='global' but no CMVN statistics "
                "were given (a checkpoint written by dslearn's trainer carries them)"
            )
        self.features = self.features.to(self.device).eval()
        self.frame_shift = feature_config.hop_length / feature_config.sample_rate
        self.frame_shift *= time_stride(model_config)  # seconds per output frame
        self.greedy = GreedyDecoder(alphabet, frame_shift=self.frame_shift)
        self.source = source

    @property
    def sample_rate(self) -> int:
        return self.feature_config.sample_rate

    @torch.inference_mode()
    def log_probs(
        self, audio: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, samples)`` padded audio, ``(B,)`` lengths -> ``(B, T', C)`` log-probs, lengths."""
        audio, lengths = audio.to(self.device), lengths.to(self.device)
        feats, frames = self.features(audio, lengths)
        log_probs, out_lengths = self.model(feats, frames)
        return log_probs.float(), out_lengths

    def decoder(
        self,
        kind: str = "greedy",
        lm: str | os.PathLike | None = None,
        alpha: float | None = None,
        beta: float | None = None,
        beam_size: int | None = None,
        beam_size_token: int | None | str = "tuned",
    ):
        """A decoder for this model's alphabet and frame rate.

        ``kind``: "greedy"; "beam" (the readable prefix beam search; word LM only if ``lm`` is
        given); "lm" (the fast flashlight beam search with a KenLM LM, by default the grammar LM
        shipped beside the pretrained model; ``lm="english"`` picks the shipped open-English LM).
        ``alpha``/``beta`` default to the values ``dslearn lm tune`` stored beside the LM, else
        0.5/1.0. ``beam_size_token`` (the "lm" decoder only): how many of each frame's most
        probable tokens the search tries, None for all; "tuned" takes what ``lm tune`` stored,
        else ``LMBeamSearchDecoder``'s default (fast on a large vocabulary, but a small lexicon
        such as ten digit words needs all tokens: see ``LMBeamSearchDecoder``).
        """
        if kind not in DECODERS:
            raise ValueError(f"unknown decoder {kind!r}; choose one of {', '.join(DECODERS)}")
        lm = resolve_lm(lm)
        if kind == "greedy":
            return GreedyDecoder(self.alphabet, frame_shift=self.frame_shift)
        if kind == "lm" and lm is None:
            lm = pretrained_lm_path()
            if lm is None:
                raise FileNotFoundError("--decoder lm needs --lm LM.arpa (no LM is shipped here)")
        settings = decoder_settings(lm)
        alpha = settings["alpha"] if alpha is None else alpha
        beta = settings["beta"] if beta is None else beta
        if kind == "beam":
            from dslearn.decoding import PrefixBeamSearchDecoder

            ngram = None
            if lm is not None:
                from dslearn.lm import NGramLM

                ngram = NGramLM.from_arpa(lm)
            return PrefixBeamSearchDecoder(
                self.alphabet,
                beam_size=beam_size or settings.get("beam_size", 16),
                lm=ngram,
                alpha=alpha,
                beta=beta,
                frame_shift=self.frame_shift,
            )
        from dslearn.decoding import LMBeamSearchDecoder

        search = {}
        if beam_size_token != "tuned":
            search["beam_size_token"] = beam_size_token
        elif "beam_size_token" in settings:
            search["beam_size_token"] = settings["beam_size_token"]
        return LMBeamSearchDecoder(
            self.alphabet,
            lm=lm,
            alpha=alpha,
            beta=beta,
            beam_size=beam_size or settings.get("beam_size", 32),
            frame_shift=self.frame_shift,
            **search,
        )

    def emissions(
        self, audio: list, batch_size: int = 16, progress: bool = False
    ) -> list[torch.Tensor]:
        """Per-frame log-probabilities of each input, ``(T_i, C)`` on the CPU, in input order.

        Compute them once and decode many times: that is how ``dslearn lm tune`` tries dozens of
        alpha/beta pairs in the time of a few decodes. Inputs are not chunked, so keep them short.
        """
        from tqdm.auto import tqdm

        order = sorted(range(len(audio)), key=lambda i: str(audio[i]))
        out: list[torch.Tensor | None] = [None] * len(audio)
        starts = range(0, len(order), batch_size)
        for start in tqdm(starts, desc="posteriors", unit="batch", disable=not progress):
            ids = order[start : start + batch_size]
            waves = [self.as_audio(audio[i]) for i in ids]
            lengths = torch.tensor([w.numel() for w in waves])
            batch = torch.nn.utils.rnn.pad_sequence(waves, batch_first=True)
            log_probs, out_lengths = self.log_probs(batch, lengths)
            for j, i in enumerate(ids):
                out[i] = log_probs[j, : int(out_lengths[j])].cpu()
        return out  # type: ignore[return-value]

    def as_audio(self, item: str | os.PathLike | torch.Tensor | np.ndarray) -> torch.Tensor:
        """A file path (loaded and resampled) or ``(samples,)`` audio -> float32 ``(samples,)``."""
        if isinstance(item, str | os.PathLike):
            return audio_io.load(item, self.sample_rate)
        wave = torch.as_tensor(item, dtype=torch.float32)
        if wave.ndim != 1:
            raise ValueError(
                f"expected (samples,) audio at {self.sample_rate} Hz, got {wave.shape}"
            )
        return wave

    def transcribe(
        self,
        audio: str | os.PathLike | torch.Tensor | list,
        decoder=None,
        batch_size: int = 16,
        chunks: ChunkOptions = ChunkOptions(),
    ) -> Hypothesis | list[Hypothesis]:
        """Transcribe a file path or a ``(samples,)`` tensor at 16 kHz, or a list of them.

        Returns one ``Hypothesis`` (text, score, confidence, word timings in seconds) per input.
        ``decoder`` defaults to greedy decoding; any dslearn decoder works.
        """
        single = not isinstance(audio, list | tuple)
        waves = [self.as_audio(a) for a in ([audio] if single else audio)]
        decoder = decoder or self.greedy
        # Cut every input into pieces at its pauses (long inputs only) and every piece into
        # chunks, decode all chunks in batches, then stitch per piece and join per input.
        pieces = [_piece_spans(w, self.sample_rate, chunks) for w in waves]
        flat = [(i, s, e) for i, ps in enumerate(pieces) for spans in ps for s, e in spans]
        flat_order = sorted(range(len(flat)), key=lambda k: flat[k][2] - flat[k][1])
        decoded: dict[int, Hypothesis] = {}
        for start in range(0, len(flat_order), batch_size):
            ids = flat_order[start : start + batch_size]
            segs = [waves[flat[k][0]][flat[k][1] : flat[k][2]] for k in ids]
            lengths = torch.tensor([s.numel() for s in segs])
            batch = torch.nn.utils.rnn.pad_sequence(segs, batch_first=True)
            log_probs, out_lengths = self.log_probs(batch, lengths)
            for k, hyp in zip(ids, decoder(log_probs, out_lengths)):
                decoded[k] = hyp
        results, k = [], 0
        for ps in pieces:
            parts = []
            for spans in ps:
                hyps = [decoded[k + j] for j in range(len(spans))]
                k += len(spans)
                parts.append(_stitch(hyps, spans, self.sample_rate, chunks))
            results.append(_join(parts, [spans[-1][1] - spans[0][0] for spans in ps]))
        return results[0] if single else results

    def transcribe_files(
        self,
        paths: Sequence[str | os.PathLike],
        decoder=None,
        batch_size: int = 16,
        files_per_group: int = 64,
        chunks: ChunkOptions = ChunkOptions(),
    ) -> Iterator[FileResult]:
        """Transcribe many files, yielding a ``FileResult`` per file, in the order given.

        Unlike ``transcribe`` on a list, a file that cannot be read (missing, empty, corrupt)
        costs only its own result, whose ``error`` names it; and files are loaded and decoded
        ``files_per_group`` at a time, so results arrive while the rest are still waiting and
        memory holds one group's audio, not all of it.
        """
        for start in range(0, len(paths), files_per_group):
            group = [str(p) for p in paths[start : start + files_per_group]]
            waves: dict[int, torch.Tensor] = {}
            results = [FileResult(path) for path in group]
            for i, path in enumerate(group):
                try:
                    waves[i] = self.as_audio(path)
                except audio_io.AudioError as err:  # its message names the file
                    results[i].error = str(err)
            readable = sorted(waves)
            hyps = self.transcribe([waves[i] for i in readable], decoder, batch_size, chunks)
            for i, hyp in zip(readable, hyps):
                results[i].hypothesis = hyp
            yield from results

    def chunked_emissions(
        self,
        audio: str | os.PathLike | torch.Tensor | np.ndarray,
        chunk_seconds: float = 20.0,
        overlap_seconds: float = 2.0,
    ) -> torch.Tensor:
        """Log-probabilities ``(T, C)`` of one file or ``(samples,)`` audio, however long it is:
        ``chunked_emissions(self, audio, ...)``."""
        return chunked_emissions(self, audio, chunk_seconds, overlap_seconds)

    def align(self, audio: str | os.PathLike | torch.Tensor | np.ndarray, text: str, **options):
        """When each word of ``text`` is spoken: ``align(self, audio, text, **options)``.

        Returns an ``Alignment`` whose ``.words`` hold ``word``, ``start``, ``end`` (seconds).
        """
        return align(self, audio, text, **options)


def chunked_emissions(
    asr: Recognizer,
    audio: str | os.PathLike | torch.Tensor | np.ndarray,
    chunk_seconds: float = 20.0,
    overlap_seconds: float = 2.0,
) -> torch.Tensor:
    """Per-frame log-probabilities ``(T, C)`` (CPU, float32) of a file or ``(samples,)`` audio.

    Audio longer than ``chunk_seconds`` goes through the model in chunks that overlap by
    ``overlap_seconds``, so memory stays bounded however long the recording. Chunks start on
    whole output frames (``frame_shift * sample_rate`` samples), so local frame ``k`` of a chunk
    starting at frame ``o`` *is* frame ``o + k`` of the whole file, and ``T`` equals the frames of
    a single pass. Each chunk keeps only the frames in the middle of its overlaps (at least
    ``overlap_seconds / 2`` from any cut), where the bidirectional model saw enough context on
    both sides; the values then differ from a single pass only through per-chunk feature
    normalization and the context beyond that margin.

    ``asr`` needs only ``as_audio``, ``log_probs``, ``frame_shift`` and ``sample_rate``.
    """
    wave = asr.as_audio(audio)
    hop = round(asr.frame_shift * asr.sample_rate)  # samples per output frame
    chunk = max(1, int(chunk_seconds * asr.sample_rate) // hop)  # frames per chunk
    half = round(overlap_seconds * asr.sample_rate / hop / 2)  # frames kept out of each overlap
    step = chunk - 2 * half  # frames between chunk starts
    if step <= 0:
        raise ValueError(
            f"overlap_seconds={overlap_seconds} leaves nothing of chunk_seconds={chunk_seconds}"
        )
    n = wave.numel()
    if n == 0:
        raise ValueError("cannot compute emissions of empty audio (0 samples)")
    starts = [0]  # chunk starts in frames
    while (starts[-1] + chunk) * hop < n:
        starts.append(starts[-1] + step)

    # One chunk at a time: memory stays that of one chunk (and on a busy CPU, batches of
    # chunks were measured to be slower, not faster).
    pieces = []
    for index, start in enumerate(starts):
        chunk_audio = wave[start * hop : min(n, (start + chunk) * hop)]
        log_probs, out_lengths = asr.log_probs(
            chunk_audio[None], torch.tensor([chunk_audio.numel()])
        )
        length = int(out_lengths[0])
        keep_from = 0 if index == 0 else half
        keep_to = length if index == len(starts) - 1 else half + step
        pieces.append(log_probs[0, keep_from:keep_to].cpu())
    return torch.cat(pieces)


def align(
    asr: Recognizer,
    audio: str | os.PathLike | torch.Tensor | np.ndarray,
    text: str,
    *,
    chunk_seconds: float = 20.0,
    overlap_seconds: float = 2.0,
    boundaries: str = "space",
    onset: bool = True,
):
    """Align ``text`` to a file or ``(samples,)`` audio at ``asr.sample_rate``.

    The recognizer's side of forced alignment: emissions in chunks (``chunked_emissions``), then
    ``dslearn.align.align_log_probs``, which sees only log-probabilities. The text is normalized
    like training transcripts (``dslearn.text.normalize``: lowercase, digits as words, punctuation
    dropped) and must then fit the model's alphabet. ``boundaries`` is explained in
    ``dslearn.align.word_segments`` (``"space"``, the default, comes closest to espeak-ng's word
    times in ``benchmarks/alignment.py``); with ``onset`` the first word starts where
    ``dslearn.align.speech_onset`` finds speech in the audio. Returns a ``dslearn.align.Alignment``:
    ``.words`` in seconds, ``.chars`` in frames (as the model placed them);
    ``dslearn.align.alignment_warnings(result)`` says whether the text seems to match the audio.

    Raises ``ValueError`` when the text is empty after normalization, has characters outside the
    alphabet (``TextError``, naming the character), or needs more frames than the audio has.
    """
    from dslearn.align import align_log_probs, speech_onset, with_speech_onset
    from dslearn.text import normalize

    normalized = normalize(text)
    if not normalized:
        raise ValueError(f"nothing to align: {text!r} normalizes to an empty transcript")
    asr.alphabet.encode(normalized)  # characters outside the alphabet fail before the model runs
    wave = asr.as_audio(audio)
    log_probs = chunked_emissions(asr, wave, chunk_seconds, overlap_seconds)
    try:
        result = align_log_probs(
            log_probs, text, asr.alphabet, asr.frame_shift, boundaries=boundaries
        )
    except ValueError as err:
        if isinstance(audio, str | os.PathLike):
            raise ValueError(f"{audio}: {err}") from None
        raise
    if onset:
        result.words = with_speech_onset(result.words, speech_onset(wave, asr.sample_rate))
    return result


def _chunk_spans(n: int, sr: int, opts: ChunkOptions) -> list[tuple[int, int]]:
    """Sample ranges ``[start, end)`` covering ``n`` samples with overlapping chunks."""
    size, overlap = int(opts.chunk_seconds * sr), int(opts.overlap_seconds * sr)
    if n <= size:
        return [(0, n)]
    spans, start = [], 0
    while True:
        end = min(n, start + size)
        spans.append((start, end))
        if end == n:
            return spans
        start = end - overlap


def _piece_spans(wave: torch.Tensor, sr: int, opts: ChunkOptions) -> list[list[tuple[int, int]]]:
    """Chunk sample ranges of one input, grouped by piece: ``[[(start, end), ...], ...]``.

    Audio longer than one chunk is cut at its pauses first (``opts.cut_at_pauses``); each piece
    is then covered by overlapping chunks (one, for a piece no longer than a chunk)."""
    n = wave.numel()
    cuts = [(0, n)]
    if opts.cut_at_pauses and n > int(opts.chunk_seconds * sr):
        cuts = vad.cut_at_pauses(wave, sr, min_pause=opts.min_pause_seconds)
    return [[(a + s, a + e) for s, e in _chunk_spans(b - a, sr, opts)] for a, b in cuts]


def _join(parts: list[Hypothesis], samples: list[int]) -> Hypothesis:
    """Consecutive pieces' hypotheses (word times already in recording time) as one; each
    piece's confidence weighs by its length in ``samples``."""
    if len(parts) == 1:
        return parts[0]
    return Hypothesis(
        text=" ".join(h.text for h in parts if h.text),
        score=sum(h.score for h in parts),
        confidence=sum(h.confidence * n for h, n in zip(parts, samples)) / max(1, sum(samples)),
        words=[w for h in parts for w in h.words],
    )


def _stitch(hyps: list[Hypothesis], spans, sr: int, opts: ChunkOptions) -> Hypothesis:
    """The words of one piece's overlapping chunks, in recording time (``spans`` in samples)."""
    if len(hyps) == 1 and spans[0][0] == 0:
        return hyps[0]
    words: list[WordTiming] = []
    half = opts.overlap_seconds / 2
    for j, (hyp, (start, end)) in enumerate(zip(hyps, spans)):
        offset = start / sr
        # This chunk owns the middle of each overlap with its neighbours.
        lo = offset + (half if j > 0 else 0.0)
        hi = end / sr - (half if j < len(hyps) - 1 else 0.0)
        for w in hyp.words:
            middle = offset + (w.start + w.end) / 2
            # Two chunks may place (or split) the same speech differently, so that a word's middle
            # falls on this side of the cut in one and on that side in the other. Words of one
            # chunk never overlap, so a word that overlaps the one kept before it repeats it.
            repeat = words and offset + w.start < words[-1].end
            if lo <= middle < hi and not repeat:
                words.append(
                    WordTiming(w.word, round(offset + w.start, 3), round(offset + w.end, 3))
                )
    n_frames = sum(max(1, len(h.token_frames)) for h in hyps)
    confidence = sum(h.confidence * max(1, len(h.token_frames)) for h in hyps) / n_frames
    return Hypothesis(
        text=" ".join(w.word for w in words),
        score=sum(h.score for h in hyps),
        confidence=confidence,
        words=words,
    )


def load_model(path: str | os.PathLike | None = None, device: str = "cpu") -> Recognizer:
    """A ``Recognizer`` from a checkpoint file or run directory (default: the pretrained model).

    Loading reads safetensors only: a checkpoint from a stranger cannot run code.
    """
    path = resolve_model_path(path) if path is not None else pretrained_path()
    ck = load_checkpoint(path, with_extra=False)
    model_config = ModelConfig.from_dict(ck.model_config)
    model = build_model(model_config)
    try:
        model.load_state_dict(ck.model_state)
    except RuntimeError as err:
        raise ValueError(f"{path}: weights do not match the model config inside it: {err}") from err
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return Recognizer(
        model,
        model_config,
        Alphabet.from_dict(ck.alphabet),
        FeatureConfig.from_dict(ck.feature_config),
        device=device,
        source=str(path),
        feature_state=ck.feature_state,
    )


def evaluate(
    asr: Recognizer,
    manifest: str | os.PathLike,
    decoder=None,
    batch_size: int = 16,
    progress: bool = True,
) -> tuple[dict, list[str], list[str]]:
    """Transcribe every utterance of a manifest; returns (WER/CER summary, references, hypotheses).

    References are normalized the same way as training targets, so casing or digits in a
    manifest do not count as errors.
    """
    from tqdm.auto import tqdm

    from dslearn.data import read_manifest, require_readable_audio
    from dslearn.metrics import corpus_errors
    from dslearn.text import normalize

    utterances = read_manifest(manifest)
    require_readable_audio(utterances, what=str(manifest), progress=progress)
    refs = [normalize(u.text) for u in utterances]
    paths = [u.audio_filepath for u in utterances]
    hyps: list[str] = []
    batches = range(0, len(paths), batch_size)
    for start in tqdm(batches, desc="eval", unit="batch", disable=not progress, leave=False):
        chunk = paths[start : start + batch_size]
        hyps += [h.text for h in asr.transcribe(chunk, decoder=decoder, batch_size=batch_size)]
    return corpus_errors(refs, hyps), refs, hyps


def tune_lm_weights(
    asr: Recognizer,
    manifest: str | os.PathLike,
    lm: str | os.PathLike,
    alphas: list[float],
    betas: list[float],
    beam_size: int = 32,
    max_utterances: int | None = None,
    progress: bool = True,
    **search,
) -> dict:
    """Grid-search alpha (LM weight) and beta (word bonus) for the fast LM decoder on a manifest.

    The acoustic model runs once; each (alpha, beta) pair only re-decodes the cached posteriors.
    ``search``: further ``LMBeamSearchDecoder`` settings held fixed (``beam_size_token``), stored
    in the result so that the decoder built from it searches as tuned.
    Returns ``{"alpha", "beta", "wer", "cer", "greedy_wer", "grid": [...]}`` (best = lowest WER,
    then CER).
    """
    from tqdm.auto import tqdm

    from dslearn.data import read_manifest, require_readable_audio
    from dslearn.decoding import LMBeamSearchDecoder
    from dslearn.metrics import corpus_errors
    from dslearn.text import normalize

    utterances = read_manifest(manifest)[:max_utterances]
    require_readable_audio(utterances, what=str(manifest), progress=progress)
    if not utterances:
        raise ValueError(f"{manifest}: no utterances to tune on")
    refs = [normalize(u.text) for u in utterances]
    posteriors = asr.emissions([u.audio_filepath for u in utterances], progress=progress)
    lengths = torch.tensor([p.shape[0] for p in posteriors])
    padded = torch.nn.utils.rnn.pad_sequence(posteriors, batch_first=True)
    greedy = corpus_errors(refs, [h.text for h in asr.greedy(padded, lengths)])
    grid = []
    pairs = [(a, b) for a in alphas for b in betas]
    for alpha, beta in tqdm(pairs, desc="alpha/beta", disable=not progress):
        decoder = LMBeamSearchDecoder(
            asr.alphabet, lm=lm, alpha=alpha, beta=beta, beam_size=beam_size, **search
        )
        errors = corpus_errors(refs, [h.text for h in decoder(padded, lengths)])
        grid.append({"alpha": alpha, "beta": beta, "wer": errors["wer"], "cer": errors["cer"]})
    best = min(grid, key=lambda g: (g["wer"], g["cer"]))
    return {
        **best,
        "beam_size": beam_size,
        **search,
        "n": len(utterances),
        "manifest": str(manifest),
        "greedy_wer": greedy["wer"],
        "greedy_cer": greedy["cer"],
        "grid": grid,
    }
