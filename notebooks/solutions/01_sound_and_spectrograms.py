"""Worked solutions to the exercises of chapter 01 (sound and spectrograms)."""

import math

import torch


def alias_frequency(f, sample_rate):
    """The frequency (Hz, in [0, sample_rate / 2]) at which a tone of ``f`` Hz is heard once
    sampled at ``sample_rate`` Hz.

    Sampling cannot tell f from f + k * f_s (their samples are identical), nor f from -f (a cosine
    is even), so the apparent frequency is the distance from f to the nearest multiple of f_s.
    """
    f = abs(f)
    k = round(f / sample_rate)  # the nearest multiple of the sample rate
    return float(abs(f - k * sample_rate))


def stft(x, n_fft, hop):
    """Short-time Fourier transform, by hand.

    x: (samples,) float tensor. Returns a complex tensor (frames, n_fft // 2 + 1) whose row t is
    the one-sided DFT of frame t: S_t[k] = sum_n w[n] s[tH + n] e^{-2 pi i k n / L}, with the
    signal reflect-padded by n_fft // 2 on each side so that frame t is centred on sample t * hop.
    """
    pad = n_fft // 2
    padded = torch.nn.functional.pad(x[None, None], (pad, pad), mode="reflect")[0, 0]
    frames = padded.unfold(0, n_fft, hop)  # (frames, n_fft): frame t = padded[t*hop : t*hop+n_fft]
    n = torch.arange(n_fft, dtype=x.dtype)
    window = 0.5 - 0.5 * torch.cos(2 * math.pi * n / n_fft)  # periodic Hann
    return torch.fft.rfft(frames * window, dim=-1)  # (frames, n_fft // 2 + 1)


def frame_count(n_samples, n_fft, hop, center=True):
    """How many frames the STFT makes from ``n_samples`` samples (an int).

    A frame exists for every start t * hop at which a whole window of n_fft samples fits in the
    (padded) signal. Centring pads n_fft // 2 samples on each side first.
    """
    length = n_samples + 2 * (n_fft // 2) if center else n_samples
    if length < n_fft:
        return 0
    return (length - n_fft) // hop + 1
