"""Worked solutions to chapter 02's exercises (features: mel scale, filterbank, MFCC, CMVN)."""

import math

import numpy as np
import torch


def hz_to_mel(f):
    """Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above it.

    ``f``: frequencies in Hz, a numpy array or a torch tensor of any shape; returns mels of the
    same kind and shape. 1000 Hz is 15 mels; above it each factor 6.4 in frequency adds 27 mels.
    """
    lib = torch if isinstance(f, torch.Tensor) else np
    linear = 3.0 * f / 200.0
    above = lib.maximum(f, lib.ones_like(f) * 1000.0)  # keeps log() away from 0 Hz
    log = 15.0 + 27.0 * lib.log(above / 1000.0) / math.log(6.4)
    return lib.where(f >= 1000.0, log, linear)


def _mel_to_hz(mel):
    """The inverse of ``hz_to_mel`` (numpy)."""
    linear = 200.0 * mel / 3.0
    log = 1000.0 * np.exp(math.log(6.4) / 27.0 * (np.maximum(mel, 15.0) - 15.0))
    return np.where(mel >= 15.0, log, linear)


def mel_filterbank(sample_rate, n_fft, n_mels):
    """Triangular filters evenly spaced in mels, Slaney-normalised: ``(n_fft // 2 + 1, n_mels)``.

    Column ``m`` weights the FFT bins (Hz ``k * sample_rate / n_fft``) by a triangle that rises
    from edge ``m`` to edge ``m + 1`` and falls to edge ``m + 2``, the ``n_mels + 2`` edges evenly
    spaced on the mel scale between 0 Hz and the Nyquist frequency; then each triangle is scaled
    by ``2 / (upper - lower)`` (its width in Hz) so that all of them have the same area.
    """
    bins = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)  # Hz of each FFT bin
    top = hz_to_mel(np.array(sample_rate / 2))
    edges = _mel_to_hz(np.linspace(0.0, top, n_mels + 2))  # Hz, n_mels + 2 of them
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins[:, None] - lower) / (center - lower)
    falling = (upper - bins[:, None]) / (upper - center)
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    return torch.from_numpy(triangles * (2.0 / (upper - lower)))


def mfcc_from_logmel(logmel, n_mfcc):
    """The first ``n_mfcc`` coefficients of the orthonormal DCT-II of each log-mel frame.

    ``logmel``: ``(T, F)`` in dB (tensor or array); returns ``(T, n_mfcc)``:
    ``c_k = a_k * sum_n x_n cos(pi k (n + 1/2) / F)`` with ``a_0 = sqrt(1/F)``, ``a_k = sqrt(2/F)``.
    """
    x = torch.as_tensor(logmel, dtype=torch.float64)
    n_bands = x.shape[-1]
    n = torch.arange(n_bands, dtype=torch.float64)[:, None]  # band index
    k = torch.arange(n_mfcc, dtype=torch.float64)[None, :]  # coefficient index
    basis = torch.cos(math.pi * k * (n + 0.5) / n_bands)  # (F, n_mfcc)
    scale = torch.full((n_mfcc,), math.sqrt(2.0 / n_bands), dtype=torch.float64)
    scale[0] = math.sqrt(1.0 / n_bands)
    return x @ (basis * scale)


def cmvn(feats, lengths):
    """Per-utterance CMVN of a padded batch: ``(B, T, F)`` features, ``(B,)`` lengths in frames.

    For each utterance and feature, ``mu`` and ``sigma^2`` (population variance) are taken over
    its first ``lengths[b]`` frames only; out = ``(x - mu) / sqrt(sigma^2 + 1e-5)`` there and 0 in
    the padding.
    """
    out = torch.zeros_like(feats)
    for b, n in enumerate(lengths.tolist()):
        valid = feats[b, :n]  # (n, F)
        mu = valid.mean(dim=0)
        var = ((valid - mu) ** 2).mean(dim=0)
        out[b, :n] = (valid - mu) / torch.sqrt(var + 1e-5)
    return out
