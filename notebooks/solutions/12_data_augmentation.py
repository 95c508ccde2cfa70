"""Worked solutions to chapter 12's exercises (data augmentation)."""

import math

import numpy as np
import torch


def _as_numpy(x):
    """A float64 numpy copy of an array or a tensor."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def mix_at_snr(speech, noise, snr_db):
    """``speech + g * noise``, with ``g`` chosen so that the mix has ``snr_db`` dB SNR.

    ``speech``, ``noise``: ``(samples,)`` of the same length. Powers are mean squares over the
    whole arrays. We want 10 log10(P_s / (g^2 P_n)) = snr_db, so g^2 = P_s / (P_n 10^(snr_db/10)):
    the square root, because g scales amplitudes and the SNR is a ratio of powers.
    """
    s, n = _as_numpy(speech), _as_numpy(noise)
    p_speech, p_noise = np.mean(s**2), np.mean(n**2)
    gain = math.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    return s + gain * n


def snr_db(clean, noisy):
    """The SNR of ``noisy`` against its ``clean`` source in dB: 10 log10(P_clean / P_noise).

    The noise is what the mix added, ``noisy - clean``; P is the mean of the squares.
    """
    c, y = _as_numpy(clean), _as_numpy(noisy)
    return 10 * math.log10(np.mean(c**2) / np.mean((y - c) ** 2))


def speed_perturb(audio, factor):
    """``audio`` played ``factor`` times faster (tempo and pitch together), by linear interpolation.

    Output sample m is the input at (fractional) position m * factor, for every such position
    inside the input: m = 0 .. floor((N - 1) / factor). Between two samples a and b at fraction u,
    the value is a + u (b - a).
    """
    a = _as_numpy(audio)
    n_out = math.floor((len(a) - 1) / factor + 1e-9) + 1
    out = np.empty(n_out)
    for m in range(n_out):
        position = m * factor
        left = min(int(math.floor(position)), len(a) - 1)
        right = min(left + 1, len(a) - 1)
        u = position - left
        out[m] = a[left] + u * (a[right] - a[left])
    return out
