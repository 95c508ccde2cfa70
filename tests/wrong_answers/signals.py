"""Typical wrong answers to chapter 01's exercises: each must be rejected by its check."""

import torch


def alias_never_folds(f, sample_rate):
    """Subtracts multiples of f_s but forgets the mirror above Nyquist."""
    return float(f % sample_rate)


def alias_only_mirrors(f, sample_rate):
    """Mirrors around Nyquist once but forgets tones above the sample rate."""
    return float(sample_rate - f if f > sample_rate / 2 else f)


def alias_mirrors_nyquist_not_fs(f, sample_rate):
    """Folds around f_s / 2 by subtraction: f - f_s / 2 instead of f_s - f."""
    f = f % sample_rate
    return float(f - sample_rate / 2 if f > sample_rate / 2 else f)


def stft_not_centred(x, n_fft, hop):
    frames = x.unfold(0, n_fft, hop)
    return torch.fft.rfft(frames * torch.hann_window(n_fft, dtype=x.dtype), dim=-1)


def stft_rectangular_window(x, n_fft, hop):
    pad = n_fft // 2
    padded = torch.nn.functional.pad(x[None, None], (pad, pad), mode="reflect")[0, 0]
    return torch.fft.rfft(padded.unfold(0, n_fft, hop), dim=-1)


def stft_zero_padding(x, n_fft, hop):
    """Centres with zeros instead of reflecting the signal."""
    pad = n_fft // 2
    padded = torch.nn.functional.pad(x, (pad, pad))
    return torch.fft.rfft(padded.unfold(0, n_fft, hop) * torch.hann_window(n_fft, dtype=x.dtype))


def stft_two_sided(x, n_fft, hop):
    pad = n_fft // 2
    padded = torch.nn.functional.pad(x[None, None], (pad, pad), mode="reflect")[0, 0]
    return torch.fft.fft(padded.unfold(0, n_fft, hop) * torch.hann_window(n_fft, dtype=x.dtype))


def frames_without_the_plus_one(n_samples, n_fft, hop, center=True):
    return n_samples // hop


def frames_ignoring_center(n_samples, n_fft, hop, center=True):
    return max(0, (n_samples - n_fft) // hop + 1)


def frames_rounding_up(n_samples, n_fft, hop, center=True):
    length = n_samples + 2 * (n_fft // 2) if center else n_samples
    return max(0, -(-(length - n_fft) // hop) + 1)


def frames_always_centred(n_samples, n_fft, hop, center=True):
    return n_samples // hop + 1


WRONG = {
    "alias_frequency": [
        ("forgets to fold above Nyquist", alias_never_folds),
        ("forgets tones above the sample rate", alias_only_mirrors),
        ("subtracts Nyquist instead of mirroring", alias_mirrors_nyquist_not_fs),
    ],
    "stft": [
        ("does not centre the frames", stft_not_centred),
        ("uses a rectangular window", stft_rectangular_window),
        ("pads with zeros instead of reflecting", stft_zero_padding),
        ("returns the two-sided spectrum", stft_two_sided),
    ],
    "frame_count": [
        ("forgets the + 1 (off by one)", frames_without_the_plus_one),
        ("ignores centring", frames_ignoring_center),
        ("rounds up instead of down", frames_rounding_up),
        ("ignores center=False", frames_always_centred),
    ],
}
