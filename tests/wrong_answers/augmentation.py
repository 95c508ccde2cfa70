"""Typical wrong answers to chapter 12's exercises: each must be rejected by its check."""

import math

import numpy as np
import torch


def _np(x):
    return x.double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)


def mix_amplitude_db(speech, noise, snr_db):
    """Scales the noise by 10^(-SNR/10) of the amplitude ratio: treats a power dB as amplitude."""
    s, n = _np(speech), _np(noise)
    return s + math.sqrt(np.mean(s**2) / np.mean(n**2)) * 10 ** (-snr_db / 10) * n


def mix_assumes_unit_noise(speech, noise, snr_db):
    """Never measures the noise's power (right only for unit-power noise)."""
    s, n = _np(speech), _np(noise)
    return s + math.sqrt(np.mean(s**2) / 10 ** (snr_db / 10)) * n


def mix_mean_abs_as_power(speech, noise, snr_db):
    """Measures power as the mean absolute value instead of the mean square."""
    s, n = _np(speech), _np(noise)
    return s + math.sqrt(np.mean(np.abs(s)) / (np.mean(np.abs(n)) * 10 ** (snr_db / 10))) * n


def mix_snr_sign_flipped(speech, noise, snr_db):
    """Multiplies by 10^(+SNR/10): a higher SNR gives MORE noise."""
    s, n = _np(speech), _np(noise)
    return s + math.sqrt(np.mean(s**2) * 10 ** (snr_db / 10) / np.mean(n**2)) * n


def snr_twenty_log(clean, noisy):
    """20 log10 of a power ratio."""
    c, y = _np(clean), _np(noisy)
    return 20 * math.log10(np.mean(c**2) / np.mean((y - c) ** 2))


def snr_against_the_mix(clean, noisy):
    """Uses the noisy mix as the noise."""
    c, y = _np(clean), _np(noisy)
    return 10 * math.log10(np.mean(c**2) / np.mean(y**2))


def snr_noisy_as_signal(clean, noisy):
    """Takes the noisy mix as the signal."""
    c, y = _np(clean), _np(noisy)
    return 10 * math.log10(np.mean(y**2) / np.mean((y - c) ** 2))


def speed_divides_by_factor(audio, factor):
    """Reads position m / factor: slows down where it should speed up."""
    a = _np(audio)
    n_out = math.floor((len(a) - 1) * factor + 1e-9) + 1
    return np.interp(np.arange(n_out) / factor, np.arange(len(a)), a)


def speed_nearest_sample(audio, factor):
    """Rounds each position to the nearest sample instead of interpolating."""
    a = _np(audio)
    n_out = math.floor((len(a) - 1) / factor + 1e-9) + 1
    return a[np.minimum(np.round(np.arange(n_out) * factor).astype(int), len(a) - 1)]


def speed_keeps_length(audio, factor):
    """Keeps N samples, repeating the last one past the end."""
    a = _np(audio)
    return np.interp(np.arange(len(a)) * factor, np.arange(len(a)), a)


WRONG = {
    "mix_at_snr": [
        ("uses 10^(SNR/10) on amplitudes (no square root)", mix_amplitude_db),
        ("ignores the noise's own power", mix_assumes_unit_noise),
        ("measures power as mean |x|", mix_mean_abs_as_power),
        ("flips the sign of the SNR", mix_snr_sign_flipped),
    ],
    "snr_db": [
        ("takes 20 log10 of a power ratio", snr_twenty_log),
        ("divides by the power of the mix", snr_against_the_mix),
        ("uses the mix as the signal", snr_noisy_as_signal),
    ],
    "speed_perturb": [
        ("reads position m / factor", speed_divides_by_factor),
        ("rounds to the nearest sample", speed_nearest_sample),
        ("keeps the input's length", speed_keeps_length),
    ],
}
