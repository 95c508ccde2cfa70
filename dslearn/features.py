"""Features: what the acoustic model sees instead of raw samples.

``(batch, samples)`` audio at 16 kHz with ``(batch,)`` lengths in samples becomes ``(batch, frames,
feats)`` with ``(batch,)`` lengths in frames. One frame every ``hop_length`` samples (10 ms), each
summarizing a ``win_length`` window (25 ms):

* ``spectrogram``: power of each STFT bin, ``n_fft // 2 + 1`` features, in dB;
* ``logmel``: the power spectrum pooled by ``n_mels`` triangular filters spaced on the mel scale
  (fine at low frequencies, coarse at high ones, like the ear), in dB;
* ``mfcc``: the DCT of the log-mel vector, keeping ``n_mfcc`` coefficients (decorrelated, compact).

Everything is a ``torch.nn.Module`` that runs on the device of its input. Conventions follow
librosa (centered frames with zero padding, periodic Hann window, Slaney mel scale and filter
normalization, ``10 * log10(max(power, 1e-10))``), and tests check that ``logmel`` and ``mfcc``
match ``librosa.feature.melspectrogram`` / ``librosa.feature.mfcc`` within 0.02 dB (float32
rounding near the -100 dB floor; 0.005 dB with ``top_db=80``).

Padding is exact: a padded batch gives, on each utterance's valid frames, the same features as the
utterance alone, and frames past each length are zero.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torchaudio
from torch import nn

SAMPLE_RATE = 16000  # Hz, as in dslearn.audio
N_FFT = 400  # 25 ms window at 16 kHz
HOP_LENGTH = 160  # 10 ms between frames: 100 frames per second
N_MELS = 80
AMIN = 1e-10  # power floor before the log: -100 dB, as librosa's power_to_db


@dataclass(frozen=True)
class FeatureConfig:
    """Feature settings, stored as JSON in checkpoints so inference rebuilds the same features."""

    kind: str = "logmel"  # "spectrogram" | "logmel" | "mfcc"
    sample_rate: int = SAMPLE_RATE  # Hz of the input audio
    n_fft: int = N_FFT  # FFT size in samples
    win_length: int | None = None  # window in samples (None: n_fft)
    hop_length: int = HOP_LENGTH  # samples between frames
    n_mels: int = N_MELS  # mel filters (logmel, mfcc)
    n_mfcc: int = 13  # cepstral coefficients kept (mfcc)
    f_min: float = 0.0  # Hz, lowest mel filter edge
    f_max: float | None = None  # Hz, highest mel filter edge (None: sample_rate / 2)
    top_db: float | None = None  # per-utterance floor at (max - top_db) dB; librosa's mfcc uses 80
    normalize: str = "utterance"  # "utterance" (CMVN over each utterance's frames) | "none"

    def __post_init__(self) -> None:
        if self.kind not in ("spectrogram", "logmel", "mfcc"):
            raise ValueError(f"feature kind must be spectrogram, logmel or mfcc, got {self.kind!r}")
        if self.normalize not in ("utterance", "none"):
            raise ValueError(f"normalize must be 'utterance' or 'none', got {self.normalize!r}")
        if self.hop_length <= 0 or self.n_fft <= 0:
            raise ValueError("n_fft and hop_length must be positive")

    @property
    def n_features(self) -> int:
        """Features per frame: the model's input width."""
        return {"spectrogram": self.n_fft // 2 + 1, "logmel": self.n_mels, "mfcc": self.n_mfcc}[
            self.kind
        ]

    @property
    def frame_shift(self) -> float:
        """Seconds between two frames."""
        return self.hop_length / self.sample_rate

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FeatureConfig:
        return cls(**d)


def frame_lengths(sample_lengths: torch.Tensor, hop_length: int = HOP_LENGTH) -> torch.Tensor:
    """Frames for each length in samples: centered framing gives ``samples // hop + 1``."""
    return torch.div(sample_lengths, hop_length, rounding_mode="floor") + 1


def frame_mask(lengths: torch.Tensor, max_frames: int) -> torch.Tensor:
    """``(batch, frames)`` bool, True on valid frames."""
    return torch.arange(max_frames, device=lengths.device)[None, :] < lengths[:, None]


def utterance_cmvn(feats: torch.Tensor, lengths: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Zero mean, unit variance per feature over each utterance's valid frames.

    Removes the recording's level and channel colouring (a constant offset in the log domain).
    ``feats`` ``(batch, frames, feats)``; padded frames come back as zeros.
    """
    mask = frame_mask(lengths, feats.shape[1]).unsqueeze(-1).to(feats.dtype)
    count = mask.sum(dim=1, keepdim=True).clamp(min=1)
    mean = (feats * mask).sum(dim=1, keepdim=True) / count
    var = ((feats - mean) ** 2 * mask).sum(dim=1, keepdim=True) / count
    return (feats - mean) / torch.sqrt(var + eps) * mask


class FeatureExtractor(nn.Module):
    """Audio ``(batch, samples)`` + lengths -> features ``(batch, frames, feats)`` + lengths."""

    def __init__(self, config: FeatureConfig = FeatureConfig()) -> None:
        super().__init__()
        self.config = config
        win = config.win_length or config.n_fft
        self.register_buffer("window", torch.hann_window(win, periodic=True), persistent=False)
        if config.kind in ("logmel", "mfcc"):
            fbank = torchaudio.functional.melscale_fbanks(
                n_freqs=config.n_fft // 2 + 1,
                f_min=config.f_min,
                f_max=config.f_max if config.f_max is not None else config.sample_rate / 2,
                n_mels=config.n_mels,
                sample_rate=config.sample_rate,
                norm="slaney",
                mel_scale="slaney",
            )
            self.register_buffer("fbank", fbank, persistent=False)  # (freqs, n_mels)
        if config.kind == "mfcc":
            dct = torchaudio.functional.create_dct(config.n_mfcc, config.n_mels, norm="ortho")
            self.register_buffer("dct", dct, persistent=False)  # (n_mels, n_mfcc)

    def power_spectrogram(self, audio: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` -> ``(batch, frames, n_fft // 2 + 1)`` power |STFT|^2."""
        cfg = self.config
        spec = torch.stft(
            audio.float(),
            n_fft=cfg.n_fft,
            hop_length=cfg.hop_length,
            win_length=cfg.win_length or cfg.n_fft,
            window=self.window,
            center=True,
            pad_mode="constant",  # zeros past the ends, so padding a batch changes nothing
            return_complex=True,
        )
        return spec.abs().pow(2).transpose(1, 2)

    @torch.no_grad()
    def forward(
        self, audio: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        if audio.dim() != 2:
            raise ValueError(f"expected (batch, samples) audio, got shape {tuple(audio.shape)}")
        lengths = lengths.to(audio.device)
        # Whatever the padding holds, it must not reach the frames of the utterance.
        samples = torch.arange(audio.shape[1], device=audio.device)[None, :] < lengths[:, None]
        power = self.power_spectrogram(audio * samples)
        frames = frame_lengths(lengths, cfg.hop_length)
        if cfg.kind != "spectrogram":
            power = power @ self.fbank
        feats = 10.0 * torch.log10(power.clamp(min=AMIN))
        mask = frame_mask(frames, feats.shape[1]).unsqueeze(-1)
        if cfg.top_db is not None:
            peak = feats.masked_fill(~mask, float("-inf")).amax(dim=(1, 2), keepdim=True)
            feats = torch.maximum(feats, peak - cfg.top_db)
        if cfg.kind == "mfcc":
            feats = feats @ self.dct
        if cfg.normalize == "utterance":
            feats = utterance_cmvn(feats, frames)
        return feats * mask, frames


def build_features(config: FeatureConfig = FeatureConfig()) -> FeatureExtractor:
    """The feature extractor a config describes."""
    return FeatureExtractor(config)


class SpecAugment(nn.Module):
    """SpecAugment (Park et al. 2019): zero random frequency bands and time spans while training.

    Each utterance gets ``freq_masks`` bands of up to ``freq_width`` features and ``time_masks``
    spans of up to ``time_width`` frames, the latter also capped at ``max_time_fraction`` of that
    utterance's length so short utterances keep most of their frames. Zero is the mean after CMVN,
    so masked regions carry no information. Identity in eval mode.
    """

    def __init__(
        self,
        freq_masks: int = 2,
        freq_width: int = 15,
        time_masks: int = 2,
        time_width: int = 40,
        max_time_fraction: float = 0.1,
    ) -> None:
        super().__init__()
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.time_masks, self.time_width = time_masks, time_width
        self.max_time_fraction = max_time_fraction

    def _bands(self, n: int, size: torch.Tensor, max_width: torch.Tensor, count: int, generator):
        """``(batch, size_max)`` bool: ``count`` random bands per row, each within ``size``."""
        batch = size.shape[0]
        positions = torch.arange(int(size.max()))[None, :]
        masked = torch.zeros(batch, positions.shape[1], dtype=torch.bool)
        for _ in range(count):
            width = (torch.rand(batch, generator=generator) * (max_width + 1)).long()
            start = (torch.rand(batch, generator=generator) * (size - width + 1)).long()
            masked |= (positions >= start[:, None]) & (positions < (start + width)[:, None])
        return masked

    def forward(
        self,
        feats: torch.Tensor,
        lengths: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``(batch, frames, feats)`` -> same shape with masked bands set to 0."""
        if not self.training:
            return feats
        batch, n_frames, n_feats = feats.shape
        lengths_cpu = lengths.cpu()
        freq = self._bands(
            batch,
            torch.full((batch,), n_feats),
            torch.full((batch,), min(self.freq_width, n_feats)),
            self.freq_masks,
            generator,
        )
        max_time = torch.minimum(
            torch.full((batch,), self.time_width),
            (lengths_cpu * self.max_time_fraction).long(),
        )
        time = self._bands(batch, lengths_cpu.clamp(min=1), max_time, self.time_masks, generator)
        time = nn.functional.pad(time, (0, n_frames - time.shape[1]))
        keep = ~(time[:, :, None] | freq[:, None, :])
        return feats * keep.to(feats.device, feats.dtype)
