"""Worked solutions to the exercises of chapter 13 (domain shift and fine-tuning)."""

import numpy as np


def resample_linear(audio, orig_sr, new_sr):
    """Change the sample rate by drawing straight lines between neighbouring samples.

    Args:
        audio: (N,) samples at ``orig_sr`` Hz.
        orig_sr, new_sr: sample rates in Hz.

    Returns:
        (N * new_sr // orig_sr,) float64 samples at ``new_sr`` Hz. Output sample m is at time
        m / new_sr s, i.e. at (fractional) input position p = m * orig_sr / new_sr; its value is
        x[i] + (p - i) * (x[i+1] - x[i]) with i = floor(p), and x[N-1] past the last sample.
    """
    x = np.asarray(audio, dtype=np.float64)
    n_out = len(x) * new_sr // orig_sr
    out = np.empty(n_out)
    for m in range(n_out):
        p = m * orig_sr / new_sr
        i = int(np.floor(p))
        if i >= len(x) - 1:
            out[m] = x[-1]  # no right neighbour: hold the last sample
        else:
            out[m] = x[i] + (p - i) * (x[i + 1] - x[i])
    return out


def band_energy_fraction(audio, sample_rate, cutoff_hz):
    """Share of a signal's energy strictly above ``cutoff_hz``.

    Args:
        audio: (N,) samples; sample_rate in Hz; cutoff_hz in Hz.

    Returns:
        A float in [0, 1]: sum of |X[k]|^2 over the bins whose frequency k * sample_rate / N
        exceeds the cutoff, divided by the sum over all bins k = 0 .. N // 2 (0.0 for silence).
    """
    x = np.asarray(audio, dtype=np.float64)
    power = np.abs(np.fft.rfft(x)) ** 2  # (N // 2 + 1,) energy per frequency bin
    freqs = np.arange(len(power)) * sample_rate / len(x)  # Hz of each bin
    total = power.sum()
    if total == 0:
        return 0.0
    return float(power[freqs > cutoff_hz].sum() / total)
