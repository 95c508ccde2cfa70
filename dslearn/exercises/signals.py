"""Exercises of chapter 01 (sound and spectrograms): aliasing, the STFT and counting frames."""

from __future__ import annotations

import torch

from dslearn.exercises import Case, Exercise, close, equal, register, seeded


def alias_frequency(f: float, sample_rate: float) -> float:
    """The frequency in ``[0, sample_rate / 2]`` Hz at which a tone of ``f`` Hz appears once
    sampled at ``sample_rate`` Hz: ``|f - k * sample_rate|`` for the nearest multiple ``k``."""
    folded = abs(f) % sample_rate  # a tone repeats every sample_rate Hz: bring f into [0, f_s)
    return float(min(folded, sample_rate - folded))  # above Nyquist it mirrors: f_s - f


def _alias_cases() -> list[Case]:
    cases = [
        Case("below Nyquist a tone stays itself: 3 kHz at 16 kHz", (3000.0, 16000)),
        Case(
            "just above Nyquist it folds back: 9 kHz at 16 kHz -> 7 kHz",
            (9000.0, 16000),
            hint="above f_s / 2 the tone mirrors around Nyquist: f_s - f",
        ),
        Case("the classic: 5 kHz sampled at 8 kHz -> 3 kHz", (5000.0, 8000)),
        Case("exactly Nyquist stays: 8 kHz at 16 kHz", (8000.0, 16000)),
        Case(
            "above the sample rate: 17 kHz at 16 kHz -> 1 kHz",
            (17000.0, 16000),
            hint="first subtract whole multiples of f_s (f % f_s), then fold above f_s / 2",
        ),
        Case(
            "a multiple of the sample rate looks like 0 Hz: 32 kHz at 16 kHz",
            (32000.0, 16000),
            hint="a tone at k * f_s is sampled at the same phase every time: a constant",
        ),
        Case(
            "far above, then folded: 41 kHz at 16 kHz -> 7 kHz",
            (41000.0, 16000),
            hint="41 kHz - 2 * 16 kHz = 9 kHz, which is above Nyquist: 16 - 9 = 7 kHz",
        ),
        Case("another sample rate: 30 kHz at 44.1 kHz -> 14.1 kHz", (30000.0, 44100)),
    ]
    rng = seeded(1)
    for i in range(8):
        rate = [8000, 16000, 22050, 44100][i % 4]
        f = float(torch.rand(1, generator=rng)) * 4 * rate
        cases.append(Case(f"random tone {i + 1}: {f:.1f} Hz at {rate} Hz", (f, rate)))
    return cases


register(
    Exercise(
        name="alias_frequency",
        chapter="01",
        signature="alias_frequency(f, sample_rate) -> float  # Hz, in [0, sample_rate / 2]",
        reference=alias_frequency,
        cases=_alias_cases,
        compare=close(rtol=1e-9, atol=1e-6),
    )
)


def stft(x: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """``(samples,)`` -> complex ``(frames, n_fft // 2 + 1)``: centred frames (reflect padding of
    ``n_fft // 2`` on each side), periodic Hann window, one-sided FFT: ``torch.stft``, transposed.
    """
    window = torch.hann_window(n_fft, dtype=x.dtype)
    spec = torch.stft(
        x, n_fft, hop, window=window, center=True, pad_mode="reflect", return_complex=True
    )
    return spec.T


def _stft_cases() -> list[Case]:
    rng = seeded(2)
    t = torch.arange(1600, dtype=torch.float64) / 16000
    impulse = torch.zeros(64, dtype=torch.float64)
    impulse[0] = 1.0
    cases = [
        Case(
            "a 1 kHz tone, 25 ms windows every 10 ms (n_fft 400, hop 160)",
            (torch.sin(2 * torch.pi * 1000 * t), 400, 160),
            hint="frames (samples // hop + 1, n_fft // 2 + 1): pad n_fft // 2 on each side, "
            "window each frame, then torch.fft.rfft",
        ),
        Case(
            "centring: an impulse at sample 0 sits in the middle of frame 0",
            (impulse, 16, 8),
            hint="pad n_fft // 2 samples on each side with mode='reflect' before cutting frames",
        ),
        Case(
            "the window is Hann: a constant signal",
            (torch.ones(100, dtype=torch.float64), 32, 16),
            hint="multiply each frame by torch.hann_window(n_fft) (periodic), not by ones",
        ),
        Case(
            "one-sided spectrum: n_fft // 2 + 1 bins",
            (torch.randn(200, generator=rng, dtype=torch.float64), 64, 32),
            hint="torch.fft.rfft keeps bins 0 .. n_fft / 2; torch.fft.fft returns all n_fft",
        ),
        Case(
            "a hop that does not divide the length: 1,000 samples, n_fft 256, hop 100",
            (torch.randn(1000, generator=rng, dtype=torch.float64), 256, 100),
            hint="frame t starts at t * hop of the padded signal; there are n // hop + 1 frames",
        ),
    ]
    for i in range(5):
        n_fft = [16, 32, 64, 128, 400][i]
        hop = max(1, n_fft // [2, 4, 3, 2, 2][i])
        n = int(torch.randint(n_fft, 4 * n_fft, (1,), generator=rng))
        x = torch.randn(n, generator=rng, dtype=torch.float64)
        cases.append(
            Case(f"random signal {i + 1}: {n} samples, n_fft {n_fft}, hop {hop}", (x, n_fft, hop))
        )
    return cases


register(
    Exercise(
        name="stft",
        chapter="01",
        signature="stft(x, n_fft, hop) -> complex tensor (frames, n_fft // 2 + 1)",
        reference=stft,
        cases=_stft_cases,
        compare=close(rtol=1e-4, atol=1e-4),
    )
)


def frame_count(n_samples: int, n_fft: int, hop: int, center: bool = True) -> int:
    """Frames ``torch.stft`` (and ``dslearn.features.frame_lengths``) makes from ``n_samples``.

    Centred: ``n_fft // 2`` samples of padding on each side, then one frame every ``hop`` samples
    that fits entirely: ``(n + 2 * (n_fft // 2) - n_fft) // hop + 1``. Not centred: the frames
    that fit in the signal itself, ``(n - n_fft) // hop + 1`` (0 when ``n < n_fft``).
    """
    padded = n_samples + 2 * (n_fft // 2) if center else n_samples
    if padded < n_fft:
        return 0
    return (padded - n_fft) // hop + 1


def _frame_count_cases() -> list[Case]:
    cases = [
        Case("one second at 16 kHz, 25 ms / 10 ms: 101 frames", (16000, 400, 160)),
        Case(
            "a length that the hop does not divide: 16,100 samples",
            (16100, 400, 160),
            hint="round down: a frame counts only if the whole window fits in the padded signal",
        ),
        Case(
            "centring adds a frame at each end: 1,000 samples, n_fft 400, hop 100",
            (1000, 400, 100),
            hint="with center=True the signal is padded by n_fft // 2 on both sides first",
        ),
        Case(
            "not centred: only windows that fit inside the signal",
            (1000, 400, 100),
            {"center": False},
            hint="without padding: (n - n_fft) // hop + 1",
        ),
        Case(
            "not centred and shorter than one window: 0 frames",
            (300, 400, 160),
            {"center": False},
            hint="no window of n_fft samples fits in fewer than n_fft samples",
        ),
        Case(
            "an odd window: n_fft 255 pads 127 on each side",
            (1000, 255, 64),
            hint="the padding is n_fft // 2 per side, so 2 * (n_fft // 2) = n_fft - 1 here",
        ),
        Case("hop 1: one frame per sample, plus one", (50, 16, 1)),
    ]
    rng = seeded(4)
    for i in range(8):
        n_fft = int(torch.randint(8, 1025, (1,), generator=rng))
        hop = int(torch.randint(1, n_fft + 1, (1,), generator=rng))
        n = int(torch.randint(n_fft, 40000, (1,), generator=rng))
        center = bool(i % 2 == 0)
        cases.append(
            Case(
                f"random {i + 1}: {n} samples, n_fft {n_fft}, hop {hop}, center={center}",
                (n, n_fft, hop),
                {"center": center},
            )
        )
    return cases


register(
    Exercise(
        name="frame_count",
        chapter="01",
        signature="frame_count(n_samples, n_fft, hop, center=True) -> int",
        reference=frame_count,
        cases=_frame_count_cases,
        compare=equal,
    )
)
