"""Features: what the acoustic model sees instead of raw samples.

Audio ``(batch, samples)`` float32 at ``sample_rate`` Hz (16 kHz in dslearn) with ``(batch,)``
int64 lengths *in samples* becomes features ``(batch, frames, feats)`` with ``(batch,)`` int64
lengths *in frames*. One frame every ``hop_length`` samples (10 ms), each summarizing a
``win_length``-sample window (25 ms):

* ``spectrogram`` (:class:`Spectrogram`): ``|STFT|**power`` of each of the ``n_fft // 2 + 1``
  frequency bins, in dB by default (linear if ``log=False``);
* ``logmel`` (:class:`LogMel`): the power spectrum pooled by ``n_mels`` triangular filters spaced
  on the mel scale (fine at low frequencies, coarse at high ones, like the ear), in dB;
* ``mfcc`` (:class:`MFCC`): the orthonormal DCT-II of the dB log-mel vector, keeping the first
  ``n_mfcc`` coefficients (decorrelated and compact).

:class:`FeatureExtractor` (built from a JSON-friendly :class:`FeatureConfig` by
:func:`build_features`) chains one of those with a normalization: per-utterance CMVN
(:func:`utterance_cmvn`), dataset-wide CMVN (:class:`GlobalCMVN`, statistics in buffers so they
travel in the ``state_dict``) or none. :class:`SpecAugment` masks frequency bands and time spans
while training. Every module runs on the device of its input, vectorized over the batch.

Conventions are librosa's, so that ``librosa.feature.melspectrogram`` / ``librosa.power_to_db`` /
``librosa.feature.mfcc`` with the same parameters give the same numbers:

* centered frames with zero padding (librosa's default ``pad_mode="constant"``), so an utterance of
  ``n`` samples has ``(n + 2 * (n_fft // 2) - n_fft) // hop_length + 1`` frames, which is
  ``n // hop_length + 1`` for an even ``n_fft`` (:func:`frame_lengths`);
* periodic Hann window, zero-padded to ``n_fft`` when ``win_length < n_fft``;
* Slaney mel scale with Slaney (area) filter normalization, librosa's defaults (HTK optional);
* log compression ``10 * log10(max(power, 1e-10))`` relative to 1.0, i.e. ``power_to_db`` with
  ``ref=1.0, amin=1e-10``; the optional ``top_db`` floor at ``(utterance peak - top_db)`` dB is
  ``power_to_db``'s ``top_db`` computed over each utterance's valid frames.
  ``librosa.feature.mfcc`` uses ``top_db=80``; pass ``top_db=80.0`` to match it.

Measured parity on real speech (100 FSDD recordings resampled to 16 kHz, n_fft 400 and 512; the
tests in ``tests/test_features.py`` assert the bounds in brackets), as max abs difference:

* float32 log-mel: 0.015 dB over all bins [0.02], 0.0013 dB over bins within 80 dB of the
  utterance's peak [0.005]; MFCC (``top_db=80``): 4e-4 [0.002];
* float32 power spectrogram in dB: 0.008 dB within 80 dB of the peak [0.02], but up to ~0.5 dB in
  single bins 100+ dB below the peak;
* float64 input (the same code in float64): log-mel 4e-7 dB [1e-5], MFCC 2e-6 [1e-4].

The float32 differences are rounding, not formula: librosa computes its STFT in float64 and
rounds the result, while ours is float32 throughout, so a bin far below the utterance's peak
carries an error of ~1e-7 of the peak amplitude, a large fraction of that bin. Pooling into mel
bands averages most of it away. None of it matters to a model; the float64 path shows the
formulas agree.

Padding is exact: a padded batch gives, on each utterance's valid frames, the same features as the
utterance alone (whatever the padding samples hold), and frames past each length are zero.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import nn

from dslearn.audio import SAMPLE_RATE  # 16000 Hz: the rate of every model in dslearn

N_FFT = 400  # 25 ms window at 16 kHz
HOP_LENGTH = 160  # 10 ms hop at 16 kHz: 100 frames per second
N_MELS = 80
N_MFCC = 13
AMIN = 1e-10  # power floor before the log: -100 dB, librosa.power_to_db's default amin

FEATURE_KINDS = ("spectrogram", "logmel", "mfcc")
NORMALIZATIONS = ("utterance", "global", "none")


@dataclass(frozen=True)
class FeatureConfig:
    """Feature settings. Stored as JSON in checkpoints so inference rebuilds the same features.

    Every field is a JSON scalar, so ``from_dict(json.loads(json.dumps(c.to_dict()))) == c``.
    """

    kind: str = "logmel"  # "spectrogram" | "logmel" | "mfcc"
    sample_rate: int = SAMPLE_RATE  # Hz of the input audio
    n_fft: int = N_FFT  # FFT size in samples (n_fft // 2 + 1 frequency bins)
    win_length: int | None = None  # window in samples, <= n_fft (None: n_fft)
    hop_length: int = HOP_LENGTH  # samples between consecutive frames
    n_mels: int = N_MELS  # mel filters (logmel, mfcc)
    n_mfcc: int = N_MFCC  # cepstral coefficients kept, <= n_mels (mfcc)
    f_min: float = 0.0  # Hz, lower edge of the lowest mel filter
    f_max: float | None = None  # Hz, upper edge of the highest mel filter (None: sample_rate / 2)
    mel_scale: str = "slaney"  # "slaney" (librosa's default) | "htk"
    mel_norm: str | None = "slaney"  # "slaney": divide each filter by its width (librosa) | None
    power: float = 2.0  # exponent on |STFT|: 2.0 power, 1.0 magnitude (same dB either way)
    log: bool = True  # spectrogram only: dB (True) or linear |STFT|**power (False)
    top_db: float | None = None  # floor at (utterance peak - top_db) dB; librosa's mfcc uses 80
    normalize: str = "utterance"  # "utterance" CMVN | "global" CMVN (fitted stats) | "none"

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise ValueError(f"feature kind must be one of {FEATURE_KINDS}, got {self.kind!r}")
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {self.normalize!r}")
        if self.sample_rate <= 0 or self.n_fft <= 0 or self.hop_length <= 0:
            raise ValueError("sample_rate, n_fft and hop_length must be positive")
        if self.win_length is not None and not 0 < self.win_length <= self.n_fft:
            raise ValueError(
                f"win_length must be in [1, n_fft={self.n_fft}], got {self.win_length}"
            )
        if self.power not in (1.0, 2.0):
            raise ValueError(f"power must be 1.0 (magnitude) or 2.0 (power), got {self.power}")
        if self.mel_scale not in ("slaney", "htk"):
            raise ValueError(f"mel_scale must be 'slaney' or 'htk', got {self.mel_scale!r}")
        if self.mel_norm not in ("slaney", None):
            raise ValueError(f"mel_norm must be 'slaney' or None, got {self.mel_norm!r}")
        if self.top_db is not None and self.top_db <= 0:
            raise ValueError(f"top_db must be positive or None, got {self.top_db}")
        if self.kind != "spectrogram":
            if not 0 <= self.f_min < self.mel_f_max <= self.sample_rate / 2:
                raise ValueError(
                    f"need 0 <= f_min < f_max <= sample_rate / 2 = {self.sample_rate / 2} Hz, "
                    f"got f_min={self.f_min}, f_max={self.mel_f_max}"
                )
            if self.n_mels <= 0:
                raise ValueError(f"n_mels must be positive, got {self.n_mels}")
        if self.kind == "mfcc" and not 0 < self.n_mfcc <= self.n_mels:
            raise ValueError(f"n_mfcc must be in [1, n_mels={self.n_mels}], got {self.n_mfcc}")
        if self.kind != "spectrogram" and not self.log:
            raise ValueError(f"log=False only applies to kind='spectrogram', not {self.kind!r}")

    @property
    def n_features(self) -> int:
        """Features per frame: the model's input width."""
        return {"spectrogram": self.n_fft // 2 + 1, "logmel": self.n_mels, "mfcc": self.n_mfcc}[
            self.kind
        ]

    @property
    def mel_f_max(self) -> float:
        """Hz, the upper edge of the mel filterbank with ``None`` resolved."""
        return float(self.f_max) if self.f_max is not None else self.sample_rate / 2

    @property
    def frame_shift(self) -> float:
        """Seconds between two consecutive frames."""
        return self.hop_length / self.sample_rate

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serializable dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureConfig:
        """Inverse of :meth:`to_dict`. Missing fields take their defaults (older checkpoints);
        unknown fields are an error rather than silently ignored settings."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown FeatureConfig field(s) {unknown}; known: {sorted(known)}")
        return cls(**d)


def frame_lengths(
    sample_lengths: torch.Tensor, hop_length: int = HOP_LENGTH, n_fft: int = N_FFT
) -> torch.Tensor:
    """Frames produced from each length: ``(batch,)`` samples -> ``(batch,)`` int64 frames.

    Centered framing pads ``n_fft // 2`` samples on each side, giving
    ``(samples + 2 * (n_fft // 2) - n_fft) // hop_length + 1`` frames, i.e.
    ``samples // hop_length + 1`` for an even ``n_fft``; the same count librosa and ``torch.stft``
    produce for the utterance alone.
    """
    padded = sample_lengths.long() + 2 * (n_fft // 2) - n_fft
    return torch.div(padded, hop_length, rounding_mode="floor") + 1


def frame_mask(lengths: torch.Tensor, max_frames: int) -> torch.Tensor:
    """``(batch, max_frames)`` bool, True on each row's first ``lengths[b]`` positions (frames, or
    samples when given lengths in samples)."""
    return torch.arange(max_frames, device=lengths.device)[None, :] < lengths[:, None]


def _check_audio(audio: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    if audio.dim() != 2:
        raise ValueError(f"expected (batch, samples) audio, got shape {tuple(audio.shape)}")
    if lengths.shape != (audio.shape[0],):
        raise ValueError(
            f"expected lengths of shape ({audio.shape[0]},), got {tuple(lengths.shape)}"
        )
    # float64 stays float64 (for exact comparisons); everything else computes in float32.
    return audio if audio.dtype == torch.float64 else audio.float()


def _to_db(x: torch.Tensor, power: float, top_db: float | None, mask: torch.Tensor) -> torch.Tensor:
    """``|X|**power`` -> dB, as librosa's ``power_to_db`` (power) / ``amplitude_to_db`` (magnitude).

    ``mask`` ``(batch, frames, 1)`` marks valid frames: the ``top_db`` peak ignores padding.
    """
    # 20 / power * log10(|X|**power) is 20 * log10(|X|) either way; the floor is AMIN in power.
    db = (20.0 / power) * torch.log10(x.clamp(min=AMIN ** (power / 2)))
    if top_db is not None:
        peak = db.masked_fill(~mask, float("-inf")).amax(dim=(1, 2), keepdim=True)
        db = torch.maximum(db, peak - top_db)
    return db


def _hz_to_mel(hz: torch.Tensor, scale: str) -> torch.Tensor:
    if scale == "htk":
        return 2595.0 * torch.log10(1.0 + hz / 700.0)
    # Slaney (Auditory Toolbox): linear up to 1 kHz, 3 mels per 200 Hz; logarithmic above it,
    # 27 mels per factor 6.4 in frequency.
    log_step = math.log(6.4) / 27.0
    linear = hz * (3.0 / 200.0)
    log = 15.0 + torch.log(hz.clamp(min=1000.0) / 1000.0) / log_step
    return torch.where(hz >= 1000.0, log, linear)


def _mel_to_hz(mel: torch.Tensor, scale: str) -> torch.Tensor:
    if scale == "htk":
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    log_step = math.log(6.4) / 27.0
    linear = mel * (200.0 / 3.0)
    log = 1000.0 * torch.exp(log_step * (mel.clamp(min=15.0) - 15.0))
    return torch.where(mel >= 15.0, log, linear)


def mel_filterbank(
    sample_rate: int,
    n_fft: int,
    n_mels: int,
    f_min: float = 0.0,
    f_max: float | None = None,
    mel_scale: str = "slaney",
    norm: str | None = "slaney",
) -> torch.Tensor:
    """Triangular mel filters, float64 ``(n_fft // 2 + 1, n_mels)``: ``power @ fbank`` pools bins.

    Filter ``m`` rises linearly from center ``m - 1`` to center ``m`` and falls to center ``m + 1``,
    the ``n_mels + 2`` centers (edges included) evenly spaced in mels between ``f_min`` and
    ``f_max`` Hz (default ``sample_rate / 2``). ``norm="slaney"`` divides each filter by half its
    width in Hz so that all have the same area. With the defaults this is
    ``librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels).T``.
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    bins = torch.linspace(0.0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    mel_edges = torch.linspace(
        float(_hz_to_mel(torch.tensor(f_min, dtype=torch.float64), mel_scale)),
        float(_hz_to_mel(torch.tensor(f_max, dtype=torch.float64), mel_scale)),
        n_mels + 2,
        dtype=torch.float64,
    )
    edges = _mel_to_hz(mel_edges, mel_scale)  # (n_mels + 2,) Hz
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins[:, None] - lower) / (center - lower)
    falling = (upper - bins[:, None]) / (upper - center)
    fbank = torch.minimum(rising, falling).clamp(min=0.0)
    if norm == "slaney":
        fbank = fbank * (2.0 / (upper - lower))
    return fbank


def dct_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """Orthonormal DCT-II as a float64 ``(n_in, n_out)`` matrix keeping the first ``n_out``
    coefficients: ``x @ dct_matrix(n, k)`` is ``scipy.fft.dct(x, norm="ortho")[..., :k]``."""
    n = torch.arange(n_in, dtype=torch.float64)[:, None]
    k = torch.arange(n_out, dtype=torch.float64)[None, :]
    basis = torch.cos(math.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)
    basis[:, 0] /= math.sqrt(2.0)  # ortho: the constant term has half the energy of the others
    return basis


class Spectrogram(nn.Module):
    """Audio ``(batch, samples)`` + lengths in samples -> ``(batch, frames, n_fft // 2 + 1)``
    features + lengths in frames.

    ``|STFT|**power`` (power 2: power spectrum, 1: magnitude), in dB when ``log`` (see module
    docstring for the exact formula) or linear otherwise. Frames past each length are zero.
    """

    def __init__(
        self,
        n_fft: int = N_FFT,
        win_length: int | None = None,
        hop_length: int = HOP_LENGTH,
        power: float = 2.0,
        log: bool = True,
        top_db: float | None = None,
    ) -> None:
        super().__init__()
        self.n_fft, self.hop_length = n_fft, hop_length
        self.win_length = win_length or n_fft
        self.power, self.log, self.top_db = power, log, top_db
        # Not persistent: derived from the config, so state_dicts hold only fitted statistics.
        # float32 (not float64) so that the module moves to any device, MPS included.
        window = torch.hann_window(self.win_length, periodic=True, dtype=torch.float64)
        self.register_buffer("window", window.float(), persistent=False)

    def extra_repr(self) -> str:
        return (
            f"n_fft={self.n_fft}, win_length={self.win_length}, hop_length={self.hop_length}, "
            f"power={self.power}, log={self.log}, top_db={self.top_db}"
        )

    def frame_lengths(self, sample_lengths: torch.Tensor) -> torch.Tensor:
        """``(batch,)`` lengths in samples -> ``(batch,)`` lengths in frames."""
        return frame_lengths(sample_lengths, self.hop_length, self.n_fft)

    def _window(self, dtype: torch.dtype) -> torch.Tensor:
        if dtype != torch.float64:
            return self.window
        # A float32-rounded window alone moves bins 120 dB below the peak by ~0.05 dB.
        return torch.hann_window(
            self.win_length, periodic=True, dtype=torch.float64, device=self.window.device
        )

    def linear(
        self, audio: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(batch, samples)`` -> linear ``|STFT|**power`` ``(batch, frames, n_fft // 2 + 1)``,
        frame lengths ``(batch,)``, and the valid-frame mask ``(batch, frames, 1)``.

        Frames past each length are *not* zeroed here (callers zero after their last step).
        """
        audio = _check_audio(audio, lengths)
        lengths = lengths.to(audio.device)
        # Whatever the padding holds must not leak into the last frames of the utterance:
        # zeroed, it looks exactly like librosa's zero padding of the utterance alone.
        spec = torch.stft(
            audio * frame_mask(lengths, audio.shape[1]),
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self._window(audio.dtype),
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        # re**2 + im**2 directly: abs() would take a square root only to square it again.
        power = torch.view_as_real(spec).pow(2).sum(-1).transpose(1, 2)
        if self.power == 1.0:
            power = power.sqrt()
        frames = self.frame_lengths(lengths)
        return power, frames, frame_mask(frames, power.shape[1]).unsqueeze(-1)

    def forward(
        self, audio: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch, samples)``, ``(batch,)`` samples -> ``(batch, frames, n_fft // 2 + 1)``,
        ``(batch,)`` frames."""
        spec, frames, mask = self.linear(audio, lengths)
        if self.log:
            spec = _to_db(spec, self.power, self.top_db, mask)
        return spec * mask, frames


class LogMel(nn.Module):
    """Audio ``(batch, samples)`` + lengths in samples -> log-mel ``(batch, frames, n_mels)`` in dB
    + lengths in frames. Frames past each length are zero."""

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        n_fft: int = N_FFT,
        win_length: int | None = None,
        hop_length: int = HOP_LENGTH,
        n_mels: int = N_MELS,
        f_min: float = 0.0,
        f_max: float | None = None,
        mel_scale: str = "slaney",
        mel_norm: str | None = "slaney",
        power: float = 2.0,
        top_db: float | None = None,
    ) -> None:
        super().__init__()
        self.spectrogram = Spectrogram(n_fft, win_length, hop_length, power=power, log=False)
        self.sample_rate, self.n_mels, self.top_db, self.power = sample_rate, n_mels, top_db, power
        self._fbank_args = (sample_rate, n_fft, n_mels, f_min, f_max, mel_scale, mel_norm)
        fbank = mel_filterbank(
            sample_rate, n_fft, n_mels, f_min, f_max, mel_scale=mel_scale, norm=mel_norm
        )
        # Built in float64, rounded once: a float32 construction (as torchaudio's) is off by up to
        # 5e-4 (relative) near the filter edges, which shows as ~1e-3 dB against librosa.
        self.register_buffer("fbank", fbank.float(), persistent=False)  # (n_fft // 2 + 1, n_mels)
        if (fbank.amax(dim=0) == 0).any():
            warnings.warn(
                f"{int((fbank.amax(dim=0) == 0).sum())} of {n_mels} mel filters fall between FFT "
                f"bins and are always zero: lower n_mels or raise n_fft (now {n_fft})",
                stacklevel=2,
            )

    def extra_repr(self) -> str:
        return f"sample_rate={self.sample_rate}, n_mels={self.n_mels}, top_db={self.top_db}"

    def frame_lengths(self, sample_lengths: torch.Tensor) -> torch.Tensor:
        """``(batch,)`` lengths in samples -> ``(batch,)`` lengths in frames."""
        return self.spectrogram.frame_lengths(sample_lengths)

    def _db(
        self, audio: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        spec, frames, mask = self.spectrogram.linear(audio, lengths)
        fbank = self.fbank
        if spec.dtype == torch.float64:  # the float64 path is for exact comparisons: no rounding
            cfg = self._fbank_args
            fbank = mel_filterbank(*cfg[:5], mel_scale=cfg[5], norm=cfg[6]).to(spec.device)
        mel = spec @ fbank
        return _to_db(mel, self.power, self.top_db, mask), frames, mask

    def forward(
        self, audio: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch, samples)``, ``(batch,)`` samples -> ``(batch, frames, n_mels)`` dB,
        ``(batch,)`` frames."""
        db, frames, mask = self._db(audio, lengths)
        return db * mask, frames


class MFCC(nn.Module):
    """Audio ``(batch, samples)`` + lengths in samples -> MFCCs ``(batch, frames, n_mfcc)`` +
    lengths in frames: the orthonormal DCT-II (over mel bands) of :class:`LogMel`'s dB output.
    Frames past each length are zero."""

    def __init__(self, n_mfcc: int = N_MFCC, **logmel_kwargs: Any) -> None:
        super().__init__()
        self.logmel = LogMel(**logmel_kwargs)
        self.n_mfcc = n_mfcc
        self.register_buffer(
            "dct", dct_matrix(self.logmel.n_mels, n_mfcc).float(), persistent=False
        )

    def extra_repr(self) -> str:
        return f"n_mfcc={self.n_mfcc}"

    def frame_lengths(self, sample_lengths: torch.Tensor) -> torch.Tensor:
        """``(batch,)`` lengths in samples -> ``(batch,)`` lengths in frames."""
        return self.logmel.frame_lengths(sample_lengths)

    def forward(
        self, audio: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch, samples)``, ``(batch,)`` samples -> ``(batch, frames, n_mfcc)``,
        ``(batch,)`` frames."""
        db, frames, mask = self.logmel._db(audio, lengths)
        dct = self.dct if db.dtype != torch.float64 else dct_matrix(*self.dct.shape).to(db.device)
        return (db @ dct) * mask, frames


def utterance_cmvn(feats: torch.Tensor, lengths: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Zero mean, unit variance per feature over each utterance's valid frames.

    Removes the recording's level and channel colouring (a constant offset in the log domain).
    ``feats`` ``(batch, frames, feats)``, ``lengths`` ``(batch,)`` in frames; padded frames neither
    enter the statistics nor come back non-zero. Variance is the population one, floored by ``eps``
    so that constant features (a one-frame utterance, digital silence) map to 0 rather than NaN.
    """
    mask = frame_mask(lengths.to(feats.device), feats.shape[1]).unsqueeze(-1).to(feats.dtype)
    count = mask.sum(dim=1, keepdim=True).clamp(min=1)
    mean = (feats * mask).sum(dim=1, keepdim=True) / count
    var = ((feats - mean) ** 2 * mask).sum(dim=1, keepdim=True) / count
    return (feats - mean) / torch.sqrt(var + eps) * mask


class FeatureStats(NamedTuple):
    """Dataset-wide statistics of features: ``(feats,)`` mean and std, and the frames counted."""

    mean: torch.Tensor
    std: torch.Tensor
    frames: int


def compute_global_stats(
    features: Iterable[torch.Tensor | tuple[torch.Tensor, torch.Tensor]], eps: float = 1e-5
) -> FeatureStats:
    """Per-feature mean and standard deviation over every valid frame of a dataset.

    Each item is either a tensor ``(frames, feats)`` or ``(batch, frames, feats)`` whose frames
    are all valid, or a pair ``(feats (batch, frames, feats), lengths (batch,) in frames)``, e.g.
    the output of an un-normalized :class:`FeatureExtractor`. Batches are merged with Chan et al.'s
    parallel update in float64, so millions of frames lose no precision. ``std`` is the
    population standard deviation ``sqrt(var + eps)``; results are float32 on the CPU.
    """
    count, mean, m2 = 0, None, None
    for item in features:
        if isinstance(item, tuple | list):
            feats, lengths = item
            # On the CPU: float64 is unavailable on some devices (MPS); fitting runs once anyway.
            feats = feats.detach().to("cpu", torch.float64)
            mask = frame_mask(lengths.cpu(), feats.shape[1]).reshape(-1)
            x = feats.reshape(-1, feats.shape[-1])[mask]
        else:
            x = item.detach().to("cpu", torch.float64).reshape(-1, item.shape[-1])
        n = x.shape[0]
        if n == 0:
            continue
        batch_mean = x.mean(dim=0)
        batch_m2 = ((x - batch_mean) ** 2).sum(dim=0)
        if mean is None:
            count, mean, m2 = n, batch_mean, batch_m2
            continue
        if batch_mean.shape != mean.shape:
            raise ValueError(f"feature width changed from {mean.shape[0]} to {batch_mean.shape[0]}")
        total = count + n
        delta = batch_mean - mean
        mean = mean + delta * (n / total)
        m2 = m2 + batch_m2 + delta**2 * (count * n / total)
        count = total
    if mean is None:
        raise ValueError("compute_global_stats: no valid frames in the features given")
    std = torch.sqrt(m2 / count + eps)
    return FeatureStats(mean.float(), std.float(), count)


class GlobalCMVN(nn.Module):
    """Dataset-wide mean/variance normalization: ``(feats - mean) / std`` with fixed statistics.

    Unlike :func:`utterance_cmvn`, it keeps differences in level between utterances and works on a
    stream before the utterance ends. ``mean``, ``std`` ``(n_features,)`` and ``frames`` (how many
    frames they were computed from; 0 = not fitted) are persistent buffers, so they are saved in
    and loaded from the ``state_dict``. Using it unfitted raises rather than silently passing
    features through.
    """

    def __init__(self, n_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))
        self.register_buffer("frames", torch.zeros((), dtype=torch.int64))
        self._known_fitted = False  # caches the check so forward does not sync a GPU every batch

    def extra_repr(self) -> str:
        return f"n_features={self.mean.shape[0]}, eps={self.eps}"

    @property
    def is_fitted(self) -> bool:
        return int(self.frames) > 0

    def set_stats(self, stats: FeatureStats) -> GlobalCMVN:
        """Load statistics from :func:`compute_global_stats`. Returns ``self``."""
        if stats.mean.shape != self.mean.shape:
            raise ValueError(
                f"stats for {stats.mean.shape[0]} features, module has {self.mean.shape[0]}"
            )
        self.mean.copy_(stats.mean)
        self.std.copy_(stats.std)
        self.frames.fill_(stats.frames)
        self._known_fitted = stats.frames > 0
        return self

    @torch.no_grad()
    def fit(
        self, features: Iterable[torch.Tensor | tuple[torch.Tensor, torch.Tensor]]
    ) -> GlobalCMVN:
        """Compute and store statistics from un-normalized features (see
        :func:`compute_global_stats` for the accepted items). Returns ``self``."""
        return self.set_stats(compute_global_stats(features, self.eps))

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._known_fitted = False

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``(batch, frames, feats)``, ``(batch,)`` frames -> normalized, padded frames zero."""
        if not self._known_fitted:
            if not self.is_fitted:
                raise RuntimeError(
                    "GlobalCMVN has no statistics: call fit(...) on un-normalized features or "
                    "load a state_dict that holds them"
                )
            self._known_fitted = True
        mask = frame_mask(lengths.to(feats.device), feats.shape[1]).unsqueeze(-1)
        return (feats - self.mean.to(feats.dtype)) / self.std.to(feats.dtype) * mask


class FeatureExtractor(nn.Module):
    """Audio ``(batch, samples)`` + lengths in samples -> normalized features
    ``(batch, frames, config.n_features)`` + lengths in frames, as ``config`` describes.

    ``self.transform`` is the :class:`Spectrogram`, :class:`LogMel` or :class:`MFCC`;
    ``self.cmvn`` the :class:`GlobalCMVN` when ``config.normalize == "global"`` (fit it with
    :meth:`fit_global_cmvn`; its statistics are this module's only ``state_dict`` entries).
    """

    def __init__(self, config: FeatureConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or FeatureConfig()
        common = dict(
            n_fft=config.n_fft, win_length=config.win_length, hop_length=config.hop_length
        )
        mel = dict(
            sample_rate=config.sample_rate,
            n_mels=config.n_mels,
            f_min=config.f_min,
            f_max=config.f_max,
            mel_scale=config.mel_scale,
            mel_norm=config.mel_norm,
            power=config.power,
            top_db=config.top_db,
        )
        if config.kind == "spectrogram":
            self.transform: nn.Module = Spectrogram(
                **common, power=config.power, log=config.log, top_db=config.top_db
            )
        elif config.kind == "logmel":
            self.transform = LogMel(**common, **mel)
        else:
            self.transform = MFCC(config.n_mfcc, **common, **mel)
        self.cmvn = GlobalCMVN(config.n_features) if config.normalize == "global" else None

    def frame_lengths(self, sample_lengths: torch.Tensor) -> torch.Tensor:
        """``(batch,)`` lengths in samples -> ``(batch,)`` lengths in frames."""
        return frame_lengths(sample_lengths, self.config.hop_length, self.config.n_fft)

    def unnormalized(
        self, audio: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Features before normalization: what :meth:`fit_global_cmvn` gathers statistics of."""
        return self.transform(audio, lengths)

    @torch.no_grad()
    def fit_global_cmvn(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> FeatureStats:
        """Fit ``self.cmvn`` on ``(audio (batch, samples), lengths (batch,) samples)`` batches,
        e.g. from the training set. Returns the statistics."""
        if self.cmvn is None:
            raise RuntimeError(
                f"normalize={self.config.normalize!r}: there is no GlobalCMVN to fit"
            )
        stats = compute_global_stats(self.unnormalized(a, n) for a, n in batches)
        self.cmvn.set_stats(stats)
        return stats

    def forward(
        self, audio: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch, samples)`` audio, ``(batch,)`` samples -> ``(batch, frames, n_features)``,
        ``(batch,)`` int64 frames. Padded frames are zero."""
        feats, frames = self.transform(audio, lengths)
        if self.config.normalize == "utterance":
            feats = utterance_cmvn(feats, frames)
        elif self.cmvn is not None:
            feats = self.cmvn(feats, frames)
        return feats, frames


def build_features(config: FeatureConfig | None = None) -> FeatureExtractor:
    """The feature extractor a config describes (defaults: 80-band log-mel, utterance CMVN)."""
    return FeatureExtractor(config)


class SpecAugment(nn.Module):
    """SpecAugment (Park et al., 2019): mask random frequency bands and time spans in training.

    Input and output ``(batch, frames, feats)`` with ``(batch,)`` lengths in frames. Each utterance
    independently gets ``freq_masks`` bands of ``U[0, freq_width]`` features and ``time_masks``
    spans of ``U[0, w]`` frames, ``w = min(time_width, floor(max_time_fraction * length))``, so
    short utterances keep most of their frames. Masks may overlap. Masked values become
    ``mask_value`` (0: the mean after CMVN, so a masked region carries no information). Padded
    frames are never touched. Identity in eval mode (``self.training`` False).

    Random numbers come from ``generator`` when given (drawn on the generator's device, so a CPU
    generator gives the same masks whether ``feats`` is on the CPU or a GPU), else from torch's
    global RNG on ``feats``' device.
    """

    def __init__(
        self,
        freq_masks: int = 2,
        freq_width: int = 15,
        time_masks: int = 2,
        time_width: int = 40,
        max_time_fraction: float = 0.1,
        mask_value: float = 0.0,
    ) -> None:
        super().__init__()
        if min(freq_masks, freq_width, time_masks, time_width) < 0:
            raise ValueError("SpecAugment counts and widths must be >= 0")
        if not 0.0 <= max_time_fraction <= 1.0:
            raise ValueError(f"max_time_fraction must be in [0, 1], got {max_time_fraction}")
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.time_masks, self.time_width = time_masks, time_width
        self.max_time_fraction = max_time_fraction
        self.mask_value = mask_value

    def extra_repr(self) -> str:
        return (
            f"freq_masks={self.freq_masks}, freq_width={self.freq_width}, "
            f"time_masks={self.time_masks}, time_width={self.time_width}, "
            f"max_time_fraction={self.max_time_fraction}"
        )

    @staticmethod
    def _bands(
        size: torch.Tensor, max_width: torch.Tensor, u: torch.Tensor, n_positions: int
    ) -> torch.Tensor:
        """``(batch, n_positions)`` bool: the union of bands placed by uniforms ``u``.

        ``size``, ``max_width`` ``(batch,)`` int64; ``u`` ``(2, batch, count)`` in [0, 1) sets each
        band's width in ``[0, max_width]`` and start in ``[0, size - width]``.
        """
        max_width = torch.minimum(max_width, size)[:, None]
        width = torch.minimum((u[0] * (max_width + 1)).long(), max_width)
        room = size[:, None] - width
        start = torch.minimum((u[1] * (room + 1)).long(), room)
        pos = torch.arange(n_positions, device=size.device)[None, None, :]
        inside = (pos >= start[..., None]) & (pos < (start + width)[..., None])
        return inside.any(dim=1)

    def forward(
        self,
        feats: torch.Tensor,
        lengths: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``(batch, frames, feats)``, ``(batch,)`` frames -> same shape, masked (new tensor)."""
        if not self.training or (self.freq_masks == 0 and self.time_masks == 0):
            return feats
        batch, n_frames, n_feats = feats.shape
        device = feats.device
        lengths = lengths.to(device).long().clamp(max=n_frames)
        rng_device = generator.device if generator is not None else device
        # One draw for everything, in a fixed order, so a seeded generator is reproducible.
        u = torch.rand(
            2, batch, self.freq_masks + self.time_masks, generator=generator, device=rng_device
        ).to(device)
        u = u.to(feats.dtype if feats.dtype == torch.float64 else torch.float32)
        freq = self._bands(
            torch.full((batch,), n_feats, device=device),
            torch.full((batch,), self.freq_width, device=device),
            u[:, :, : self.freq_masks],
            n_feats,
        )
        max_time = torch.clamp(
            (lengths * self.max_time_fraction).floor().long(), max=self.time_width
        )
        time = self._bands(lengths, max_time, u[:, :, self.freq_masks :], n_frames)
        valid = frame_mask(lengths, n_frames)
        masked = (time[:, :, None] | freq[:, None, :]) & valid[:, :, None]
        return feats.masked_fill(masked, self.mask_value)
