"""Exercises of chapter 02 (features): the mel scale, the mel filterbank, MFCCs and CMVN."""

from __future__ import annotations

import numpy as np
import torch

from dslearn import features
from dslearn.exercises import Case, Exercise, close, register, seeded

# --- hz_to_mel ----------------------------------------------------------------------------------


def _hz_to_mel_reference(f):
    """Slaney's mel scale (dslearn's and librosa's default), numpy or torch in, the same out."""
    mel = features._hz_to_mel(torch.as_tensor(f, dtype=torch.float64), "slaney")
    return mel.numpy() if isinstance(f, np.ndarray) else mel


def _hz_to_mel_cases() -> list[Case]:
    rng = seeded(20)
    cases = [
        Case(
            "below 1 kHz the scale is linear: 0, 200, 500 Hz",
            (torch.tensor([0.0, 200.0, 500.0], dtype=torch.float64),),
            hint="below 1 kHz Slaney's scale is mel = 3 f / 200 (200 Hz is 3 mels); "
            "HTK's 2595 log10(1 + f/700) is another scale",
        ),
        Case(
            "1 kHz is exactly 15 mels, where the two pieces meet",
            (torch.tensor([1000.0], dtype=torch.float64),),
            hint="the logarithmic piece starts at (1000 Hz, 15 mels)",
        ),
        Case(
            "above 1 kHz the scale is logarithmic: 2, 4, 8 kHz",
            (torch.tensor([2000.0, 4000.0, 8000.0], dtype=torch.float64),),
            hint="above 1 kHz: mel = 15 + 27 ln(f / 1000) / ln(6.4), i.e. 27 mels per factor 6.4",
        ),
        Case(
            "just below and above the break: 999 and 1001 Hz",
            (torch.tensor([999.0, 1001.0], dtype=torch.float64),),
            hint="the linear piece holds for f < 1000 Hz, the log piece for f >= 1000 Hz",
        ),
        Case(
            "numpy in, numpy out: [100, 1500, 6000] Hz",
            (np.array([100.0, 1500.0, 6000.0]),),
            hint="use np.where / np.log on arrays (or convert and convert back)",
        ),
        Case(
            "a (2, 3) tensor keeps its shape",
            (torch.tensor([[50.0, 700.0, 1200.0], [3000.0, 5000.0, 7999.0]], dtype=torch.float64),),
            hint="work element-wise: torch.where(f >= 1000, log_piece, linear_piece)",
        ),
    ]
    for i in range(4):
        f = torch.rand(6, generator=rng, dtype=torch.float64) * 11025.0
        cases.append(Case(f"random frequencies {i + 1}", (f,)))
    return cases


register(
    Exercise(
        name="hz_to_mel",
        chapter="02",
        signature="hz_to_mel(f) -> mel  # Slaney's scale; numpy or torch in, the same out",
        reference=_hz_to_mel_reference,
        cases=_hz_to_mel_cases,
        compare=close(rtol=1e-6, atol=1e-6),
    )
)

# --- mel_filterbank -----------------------------------------------------------------------------


def _mel_filterbank_reference(sample_rate: int, n_fft: int, n_mels: int) -> torch.Tensor:
    return features.mel_filterbank(sample_rate, n_fft, n_mels)


def _mel_filterbank_cases() -> list[Case]:
    return [
        Case(
            "dslearn's analysis with 40 filters: 16 kHz, n_fft 400",
            (16000, 400, 40),
            hint="shape (n_fft // 2 + 1, n_mels); bin k is at k * sample_rate / n_fft Hz; "
            "n_mels + 2 edges evenly spaced in mels from 0 Hz to sample_rate / 2",
        ),
        Case(
            "the Slaney normalisation: every filter has the same area",
            (16000, 400, 10),
            hint="after the triangle (peak 1), multiply filter m by 2 / (upper_m - lower_m), "
            "its edges in Hz: wide filters get lower peaks",
        ),
        Case(
            "dslearn's default: 80 filters",
            (16000, 400, 80),
            hint="the triangle is min(rising, falling) clipped at 0, rising = (f - lower) / "
            "(center - lower), falling = (upper - f) / (upper - center)",
        ),
        Case("one filter spans the whole band", (16000, 400, 1)),
        Case(
            "another FFT size: n_fft 512",
            (16000, 512, 40),
            hint="the bins are np.linspace(0, sample_rate / 2, n_fft // 2 + 1)",
        ),
        Case(
            "another sample rate: 8 kHz, n_fft 256, 20 filters",
            (8000, 256, 20),
            hint="the top edge is sample_rate / 2, the Nyquist frequency of this sample rate",
        ),
        Case("22.05 kHz, n_fft 1024, 64 filters", (22050, 1024, 64)),
    ]


register(
    Exercise(
        name="mel_filterbank",
        chapter="02",
        signature="mel_filterbank(sample_rate, n_fft, n_mels) -> (n_fft // 2 + 1, n_mels)",
        reference=_mel_filterbank_reference,
        cases=_mel_filterbank_cases,
        compare=close(rtol=1e-4, atol=1e-7),
    )
)

# --- mfcc_from_logmel ---------------------------------------------------------------------------


def _mfcc_reference(logmel, n_mfcc: int):
    x = torch.as_tensor(logmel, dtype=torch.float64)
    return x @ features.dct_matrix(x.shape[-1], n_mfcc)


def _mfcc_cases() -> list[Case]:
    rng = seeded(21)
    flat = torch.full((2, 8), -30.0, dtype=torch.float64)
    ramp = torch.linspace(-60.0, -10.0, 8, dtype=torch.float64)[None, :]
    cases = [
        Case(
            "a flat frame has only c0: 8 bands at -30 dB",
            (flat, 4),
            hint="orthonormal DCT-II: c0 = sqrt(1/F) * sum_n x_n, so c0 = sqrt(8) * -30 here "
            "and every other coefficient is 0",
        ),
        Case(
            "a tilted frame (a ramp over 8 bands), all 8 coefficients",
            (ramp, 8),
            hint="c_k = sqrt(2/F) * sum_n x_n cos(pi k (n + 1/2) / F) for k >= 1: the half "
            "in (n + 1/2) is what makes it DCT-II",
        ),
        Case(
            "keep only the first coefficients: 40 bands -> 13",
            (torch.randn(5, 40, generator=rng, dtype=torch.float64) * 10 - 40, 13),
            hint="the output is (T, n_mfcc): transform each frame over its F mel bands, then "
            "keep coefficients 0 .. n_mfcc - 1",
        ),
        Case(
            "orthonormal scaling: the full transform keeps the energy (16 bands)",
            (torch.randn(3, 16, generator=rng, dtype=torch.float64), 16),
            hint="scipy.fft.dct(x, norm='ortho'): sqrt(2/F) for k >= 1 and sqrt(1/F) for c0; "
            "without norm='ortho' scipy returns 2 * sum(...), a different scale",
        ),
        Case("one coefficient: the frame's mean level", (ramp.repeat(3, 1), 1)),
        Case(
            "dslearn's size: 80 bands -> 13 coefficients, 20 frames",
            (torch.randn(20, 80, generator=rng, dtype=torch.float64) * 15 - 50, 13),
        ),
    ]
    for _ in range(4):
        frames = int(torch.randint(1, 12, (1,), generator=rng))
        bands = int(torch.randint(4, 41, (1,), generator=rng))
        n = int(torch.randint(1, bands + 1, (1,), generator=rng))
        x = torch.randn(frames, bands, generator=rng, dtype=torch.float64) * 10
        cases.append(Case(f"random: {frames} frames of {bands} bands -> {n}", (x, n)))
    return cases


register(
    Exercise(
        name="mfcc_from_logmel",
        chapter="02",
        signature="mfcc_from_logmel(logmel, n_mfcc) -> (T, n_mfcc)  # logmel (T, F) in dB",
        reference=_mfcc_reference,
        cases=_mfcc_cases,
        compare=close(rtol=1e-5, atol=1e-6),
    )
)

# --- cmvn ---------------------------------------------------------------------------------------


def _cmvn_reference(feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    return features.utterance_cmvn(feats, lengths)


def _cmvn_cases() -> list[Case]:
    rng = seeded(22)

    def batch(b, t, f):
        return torch.randn(b, t, f, generator=rng, dtype=torch.float64) * 8 - 40

    padded = batch(2, 6, 3)
    padded[1, 3:] = 500.0  # what padding may hold: anything, never part of the statistics
    constant = batch(1, 5, 3)
    constant[0, :, 1] = -100.0  # a band at the floor all along: zero variance
    cases = [
        Case(
            "one utterance, no padding: 6 frames of 4 features",
            (batch(1, 6, 4), torch.tensor([6])),
            hint="per feature: mu = mean over frames, sigma^2 = mean of (x - mu)^2 (the "
            "population variance, divide by T not T - 1), out = (x - mu) / sqrt(sigma^2 + 1e-5)",
        ),
        Case(
            "a padded batch: statistics over the valid frames only",
            (padded, torch.tensor([6, 3])),
            hint="utterance b has lengths[b] valid frames: frames past it must not enter mu or "
            "sigma (here they hold 500 dB)",
        ),
        Case(
            "padded frames come back as zeros",
            (batch(3, 5, 2), torch.tensor([5, 2, 4])),
            hint="multiply the result by the valid-frame mask",
        ),
        Case(
            "a constant feature (zero variance) becomes 0, not NaN",
            (constant, torch.tensor([5])),
            hint="divide by sqrt(sigma^2 + 1e-5), not by sigma",
        ),
        Case(
            "a one-frame utterance beside a longer one",
            (batch(2, 4, 3), torch.tensor([4, 1])),
            hint="one frame: mu is that frame and sigma is 0, so the output is 0",
        ),
    ]
    for i in range(4):
        b = int(torch.randint(1, 5, (1,), generator=rng))
        t = int(torch.randint(2, 15, (1,), generator=rng))
        lengths = torch.randint(1, t + 1, (b,), generator=rng)
        lengths[0] = t
        cases.append(Case(f"random batch {i + 1}", (batch(b, t, 5), lengths)))
    return cases


register(
    Exercise(
        name="cmvn",
        chapter="02",
        signature="cmvn(feats, lengths) -> (B, T, F)  # feats (B, T, F), lengths (B,) frames",
        reference=_cmvn_reference,
        cases=_cmvn_cases,
        compare=close(rtol=1e-4, atol=1e-5),
    )
)
