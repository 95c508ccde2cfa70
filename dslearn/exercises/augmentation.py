"""Exercises of chapter 12 (data augmentation): noise at a given SNR, measuring an SNR, and speed
perturbation by resampling."""

from __future__ import annotations

import math

import numpy as np
import torch

from dslearn.exercises import Case, Exercise, close, register


def _numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def _power(x: np.ndarray) -> float:
    """Mean power: the average of the squared samples."""
    return float(np.mean(x**2))


# --- mix_at_snr ---------------------------------------------------------------------------------


def mix_at_snr_reference(speech, noise, snr_db: float) -> np.ndarray:
    """``speech + g * noise`` with ``g`` chosen so that 10 log10(P_speech / P(g * noise)) = snr_db.

    ``speech``, ``noise``: ``(samples,)`` of the same length; P is the mean of the squares over
    the whole array: ``g = sqrt(P_speech / (P_noise * 10 ** (snr_db / 10)))``.
    """
    s, n = _numpy(speech), _numpy(noise)
    gain = math.sqrt(_power(s) / (_power(n) * 10 ** (snr_db / 10)))
    return s + gain * n


def _signal(rng: np.random.Generator, n: int, silence: int = 0) -> np.ndarray:
    t = np.arange(n) / 16000
    s = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * rng.standard_normal(n)
    s[:silence] = 0.0
    return s


def _mix_cases() -> list[Case]:
    rng = np.random.default_rng(120)
    unit = rng.standard_normal(800)
    unit /= np.sqrt(np.mean(unit**2))
    cases = [
        Case(
            "10 dB with unit-power noise",
            (_signal(rng, 800), unit, 10.0),
            hint="SNR_dB = 10 log10(P_s / P_n) is a ratio of POWERS (mean squares): the noise's "
            "amplitude gain is sqrt(P_s / (P_n 10^(SNR/10)))",
        ),
        Case(
            "0 dB: noise as strong as the speech",
            (_signal(rng, 800), unit, 0.0),
            hint="at 0 dB the scaled noise has the same mean power as the speech",
        ),
        Case(
            "noise that is not unit power (std 5)",
            (_signal(rng, 800), 5.0 * rng.standard_normal(800), 10.0),
            hint="measure the noise's own power, np.mean(noise ** 2), and divide by it",
        ),
        Case(
            "a negative SNR: -5 dB, noise louder than speech",
            (_signal(rng, 800), rng.standard_normal(800), -5.0),
            hint="10 ** (-snr_db / 10) > 1 here: the noise is scaled up",
        ),
        Case(
            "30 dB: barely any noise",
            (_signal(rng, 800), rng.uniform(-1, 1, 800), 30.0),
        ),
        Case(
            "speech with leading silence: power over the whole array",
            (_signal(rng, 800, silence=300), rng.standard_normal(800), 20.0),
            hint="P_s is the mean of speech ** 2 over all its samples, silence included",
        ),
        Case(
            "torch tensors in",
            (torch.from_numpy(_signal(rng, 400)), torch.from_numpy(rng.standard_normal(400)), 5.0),
        ),
    ]
    for i in range(3):
        snr = float(rng.uniform(-10, 40))
        args = (_signal(rng, 500), rng.standard_normal(500) * rng.uniform(0.1, 3), snr)
        cases.append(Case(f"random {i + 1}: {snr:.1f} dB", args))
    return cases


register(
    Exercise(
        name="mix_at_snr",
        chapter="12",
        signature="mix_at_snr(speech, noise, snr_db) -> (samples,)  # speech + scaled noise",
        reference=mix_at_snr_reference,
        cases=_mix_cases,
        compare=close(rtol=1e-5, atol=1e-6),
    )
)

# --- snr_db -------------------------------------------------------------------------------------


def snr_db_reference(clean, noisy) -> float:
    """The SNR of ``noisy`` against its ``clean`` source, dB: 10 log10(P_clean / P_noise), with the
    noise ``noisy - clean`` and P the mean of the squares."""
    c, y = _numpy(clean), _numpy(noisy)
    return 10.0 * math.log10(_power(c) / _power(y - c))


def _snr_cases() -> list[Case]:
    rng = np.random.default_rng(121)
    s = _signal(rng, 600)
    unit = rng.standard_normal(600)
    cases = [
        Case(
            "noise with a tenth of the speech's power: 10 dB",
            (s, s + unit * math.sqrt(_power(s) / _power(unit) / 10)),
            hint="the noise is noisy - clean; SNR_dB = 10 log10(P_clean / P_noise), with P the "
            "mean of the squares",
        ),
        Case(
            "equal powers: 0 dB",
            (s, s + unit * math.sqrt(_power(s) / _power(unit))),
            hint="compare the clean signal with the NOISE, not with the noisy mix",
        ),
        Case(
            "power ratio 1000: 30 dB",
            (s, s + unit * math.sqrt(_power(s) / _power(unit) / 1000)),
            hint="power ratios take 10 log10; 20 log10 is for amplitude ratios",
        ),
        Case("noise louder than speech: negative dB", (s, s + 3 * unit)),
        Case(
            "torch tensors in",
            (torch.from_numpy(s), torch.from_numpy(s + 0.05 * unit)),
        ),
    ]
    for i in range(3):
        clean = _signal(rng, 400)
        cases.append(
            Case(
                f"random {i + 1}", (clean, clean + rng.uniform(0.01, 1) * rng.standard_normal(400))
            )
        )
    return cases


register(
    Exercise(
        name="snr_db",
        chapter="12",
        signature="snr_db(clean, noisy) -> float  # dB",
        reference=snr_db_reference,
        cases=_snr_cases,
        compare=close(rtol=1e-6, atol=1e-6),
    )
)

# --- speed_perturb ------------------------------------------------------------------------------


def speed_perturb_reference(audio, factor: float) -> np.ndarray:
    """Play ``audio`` ``factor`` times faster by linear interpolation (tempo and pitch together).

    Output sample ``m`` is the input at position ``m * factor`` (between samples: the straight line
    between the two neighbours), for ``m = 0 .. floor((N - 1) / factor)``: every position that
    lies inside the input, so about ``N / factor`` samples.
    """
    a = _numpy(audio)
    positions = np.arange(math.floor((len(a) - 1) / factor + 1e-9) + 1) * factor
    return np.interp(positions, np.arange(len(a)), a)


def _speed_cases() -> list[Case]:
    rng = np.random.default_rng(122)
    ramp = np.arange(9.0)
    tone = np.sin(2 * np.pi * 440 * np.arange(200) / 16000)
    cases = [
        Case("factor 1 changes nothing", (ramp, 1.0)),
        Case(
            "factor 2: every other sample, half as long",
            (ramp, 2.0),
            hint="output sample m is input position m * factor; positions go up to N - 1, so "
            "there are floor((N - 1) / factor) + 1 of them",
        ),
        Case(
            "factor 0.5: twice as long, new samples halfway between old ones",
            (np.array([0.0, 2.0, 4.0]), 0.5),
            hint="between two samples take the straight line: a + (b - a) * fraction "
            "(np.interp does it); rounding to the nearest sample is not interpolation",
        ),
        Case(
            "factor 3 with a length that does not divide: 10 samples -> 4",
            (np.arange(10.0), 3.0),
            hint="positions 0, 3, 6, 9 lie inside the input; 12 does not",
        ),
        Case(
            "factor 1.1 on a 440 Hz tone (it becomes 484 Hz)",
            (tone, 1.1),
            hint="faster playback READS the input faster: position m * factor, not m / factor",
        ),
        Case("factor 0.9 on noise", (rng.standard_normal(50), 0.9)),
        Case("torch tensor in", (torch.from_numpy(rng.standard_normal(30)), 1.1)),
    ]
    for i in range(3):
        factor = float(rng.uniform(0.8, 1.25))
        cases.append(
            Case(f"random {i + 1}: factor {factor:.3f}", (rng.standard_normal(40), factor))
        )
    return cases


register(
    Exercise(
        name="speed_perturb",
        chapter="12",
        signature="speed_perturb(audio, factor) -> (about N / factor,)  # linear interpolation",
        reference=speed_perturb_reference,
        cases=_speed_cases,
        compare=close(rtol=1e-6, atol=1e-6),
    )
)
