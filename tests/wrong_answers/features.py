"""Typical wrong answers to chapter 02's exercises: each must be rejected by its check."""

import math

import numpy as np
import torch

from dslearn.features import _hz_to_mel, _mel_to_hz, dct_matrix


def hz_to_mel_htk(f):
    """HTK's formula instead of Slaney's."""
    lib = torch if isinstance(f, torch.Tensor) else np
    return 2595.0 * lib.log10(1.0 + f / 700.0)


def hz_to_mel_log_everywhere(f):
    """Forgets the linear piece below 1 kHz."""
    lib = torch if isinstance(f, torch.Tensor) else np
    return 15.0 + 27.0 * lib.log(lib.maximum(f, lib.ones_like(f)) / 1000.0) / math.log(6.4)


def hz_to_mel_log10_step(f):
    """Uses log10 where the 27-mels-per-factor-6.4 step needs a consistent base."""
    lib = torch if isinstance(f, torch.Tensor) else np
    above = 15.0 + 27.0 * lib.log10(lib.maximum(f, lib.ones_like(f) * 1000.0) / 1000.0)
    return lib.where(f >= 1000.0, above, 3.0 * f / 200.0)


def _triangles(sample_rate, n_fft, n_mels, scale="slaney"):
    bins = torch.linspace(0.0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    top = float(_hz_to_mel(torch.tensor(sample_rate / 2, dtype=torch.float64), scale))
    edges = _mel_to_hz(torch.linspace(0.0, top, n_mels + 2, dtype=torch.float64), scale)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins[:, None] - lower) / (center - lower)
    falling = (upper - bins[:, None]) / (upper - center)
    return torch.minimum(rising, falling).clamp(min=0.0), lower, upper


def filterbank_without_normalisation(sample_rate, n_fft, n_mels):
    """Triangles of peak 1: forgets the Slaney area normalisation."""
    return _triangles(sample_rate, n_fft, n_mels)[0]


def filterbank_htk(sample_rate, n_fft, n_mels):
    """Edges spaced on the HTK mel scale."""
    tri, lower, upper = _triangles(sample_rate, n_fft, n_mels, scale="htk")
    return tri * (2.0 / (upper - lower))


def filterbank_sum_normalised(sample_rate, n_fft, n_mels):
    """Divides each filter by the sum of its weights instead of its width in Hz."""
    tri = _triangles(sample_rate, n_fft, n_mels)[0]
    return tri / tri.sum(dim=0).clamp(min=1e-12)


def filterbank_transposed(sample_rate, n_fft, n_mels):
    """(n_mels, n_bins): the transpose of what ``power @ fbank`` needs."""
    tri, lower, upper = _triangles(sample_rate, n_fft, n_mels)
    return (tri * (2.0 / (upper - lower))).T


def mfcc_unnormalised(logmel, n_mfcc):
    """scipy's default DCT-II scale (2 * sum), not the orthonormal one."""
    x = torch.as_tensor(logmel, dtype=torch.float64)
    n_bands = x.shape[-1]
    n = torch.arange(n_bands, dtype=torch.float64)[:, None]
    k = torch.arange(n_mfcc, dtype=torch.float64)[None, :]
    return 2.0 * x @ torch.cos(math.pi * k * (n + 0.5) / n_bands)


def mfcc_same_scale_for_c0(logmel, n_mfcc):
    """sqrt(2/F) for every coefficient: forgets that c0 gets sqrt(1/F)."""
    x = torch.as_tensor(logmel, dtype=torch.float64)
    n_bands = x.shape[-1]
    n = torch.arange(n_bands, dtype=torch.float64)[:, None]
    k = torch.arange(n_mfcc, dtype=torch.float64)[None, :]
    return x @ (torch.cos(math.pi * k * (n + 0.5) / n_bands) * math.sqrt(2.0 / n_bands))


def mfcc_without_half_sample(logmel, n_mfcc):
    """cos(pi k n / F): forgets the + 1/2 of DCT-II."""
    x = torch.as_tensor(logmel, dtype=torch.float64)
    n_bands = x.shape[-1]
    n = torch.arange(n_bands, dtype=torch.float64)[:, None]
    k = torch.arange(n_mfcc, dtype=torch.float64)[None, :]
    basis = torch.cos(math.pi * k * n / n_bands) * math.sqrt(2.0 / n_bands)
    basis[:, 0] /= math.sqrt(2.0)
    return x @ basis


def mfcc_over_time(logmel, n_mfcc):
    """Transforms along time instead of along the mel bands."""
    x = torch.as_tensor(logmel, dtype=torch.float64)
    return (x.T @ dct_matrix(x.shape[0], min(n_mfcc, x.shape[0]))).T


def cmvn_stats_over_padding(feats, lengths):
    """Mean and variance over all T frames, padding included."""
    mask = (torch.arange(feats.shape[1])[None, :] < lengths[:, None])[..., None]
    mu = feats.mean(dim=1, keepdim=True)
    var = feats.var(dim=1, unbiased=False, keepdim=True)
    return (feats - mu) / torch.sqrt(var + 1e-5) * mask


def cmvn_unbiased_variance(feats, lengths):
    """Divides the variance by T - 1 (torch.std's default) instead of T."""
    out = torch.zeros_like(feats)
    for b, n in enumerate(lengths.tolist()):
        valid = feats[b, :n]
        std = valid.std(dim=0) if n > 1 else torch.zeros(feats.shape[-1], dtype=feats.dtype)
        out[b, :n] = (valid - valid.mean(dim=0)) / torch.sqrt(std**2 + 1e-5)
    return out


def cmvn_padding_not_zeroed(feats, lengths):
    """Right statistics, but the padded frames are normalised too instead of zeroed."""
    out = feats.clone()
    for b, n in enumerate(lengths.tolist()):
        valid = feats[b, :n]
        mu, var = valid.mean(dim=0), valid.var(dim=0, unbiased=False)
        out[b] = (feats[b] - mu) / torch.sqrt(var + 1e-5)
    return out


def cmvn_divides_by_sigma(feats, lengths):
    """(x - mu) / sigma without the epsilon: NaN for a constant feature."""
    out = torch.zeros_like(feats)
    for b, n in enumerate(lengths.tolist()):
        valid = feats[b, :n]
        mu, sigma = valid.mean(dim=0), valid.var(dim=0, unbiased=False).sqrt()
        out[b, :n] = (valid - mu) / sigma
    return out


WRONG = {
    "hz_to_mel": [
        ("uses HTK's 2595 log10(1 + f/700) instead of Slaney's scale", hz_to_mel_htk),
        ("is logarithmic below 1 kHz too", hz_to_mel_log_everywhere),
        ("takes log10 in the log piece", hz_to_mel_log10_step),
    ],
    "mel_filterbank": [
        ("forgets the Slaney normalisation", filterbank_without_normalisation),
        ("spaces the edges on the HTK scale", filterbank_htk),
        ("normalises by the sum of weights instead of the width", filterbank_sum_normalised),
        ("returns (n_mels, n_bins)", filterbank_transposed),
    ],
    "mfcc_from_logmel": [
        ("uses the unnormalised DCT (no ortho scaling)", mfcc_unnormalised),
        ("scales c0 like the others", mfcc_same_scale_for_c0),
        ("forgets the half sample of DCT-II", mfcc_without_half_sample),
        ("transforms over time", mfcc_over_time),
    ],
    "cmvn": [
        ("takes the statistics over the padding", cmvn_stats_over_padding),
        ("uses the unbiased (T - 1) variance", cmvn_unbiased_variance),
        ("does not zero the padding", cmvn_padding_not_zeroed),
        ("divides by sigma without epsilon", cmvn_divides_by_sigma),
    ],
}
