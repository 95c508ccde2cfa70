"""Exercises of chapters 09 (real speech, a speaker held out) and 13 (domain shift and
fine-tuning): speaker-held-out splits, a digit confusion matrix, linear-interpolation resampling
and the share of a signal's energy above a frequency."""

from __future__ import annotations

import numpy as np

from dslearn.corpora import DIGIT_WORDS
from dslearn.exercises import Case, Exercise, close, equal, register

# --- 09: leave_one_speaker_out -------------------------------------------------------------------


def leave_one_speaker_out(speakers: list[str], held_out: str) -> tuple[list[int], list[int]]:
    """Indices of the utterances to train on (every other speaker) and to test on (``held_out``).

    ``speakers[i]`` is the speaker of utterance ``i``; both lists keep the corpus order.
    """
    train = [i for i, s in enumerate(speakers) if s != held_out]
    test = [i for i, s in enumerate(speakers) if s == held_out]
    return train, test


def _split_cases() -> list[Case]:
    cases = [
        Case("two speakers, alternating", (["ann", "bob", "ann", "bob"], "bob")),
        Case(
            "the held-out speaker first",
            (["bob", "ann", "ann"], "bob"),
            hint="index 0 is an utterance too: start counting at 0",
        ),
        Case(
            "a speaker name inside another: 'jo' is not 'jon'",
            (["jon", "jo", "jon", "jo"], "jo"),
            hint="compare whole names (==), not substrings (in, startswith)",
        ),
        Case(
            "a held-out speaker with no utterance: nothing to test",
            (["ann", "bob"], "eve"),
            hint="return an empty test list, and every index for training",
        ),
        Case("one utterance only", (["ann"], "ann")),
        Case(
            "order kept: indices ascending in both lists",
            (["c", "a", "b", "a", "c", "b"], "a"),
            hint="walk the corpus in order; do not sort or group by speaker",
        ),
    ]
    rng = np.random.default_rng(9)
    names = ["george", "jackson", "lucas", "nicolas", "yweweler"]
    for i in range(6):
        speakers = [names[j] for j in rng.integers(0, 5, int(rng.integers(1, 30)))]
        cases.append(Case(f"random corpus {i + 1}", (speakers, names[int(rng.integers(0, 5))])))
    return cases


def _compare_split(expected, got) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "expected a pair (train indices, test indices)"
    for what, e, g in zip(("train", "test"), expected, got):
        problem = equal(list(e), list(g) if not isinstance(g, (str, bytes)) else g)
        if problem:
            return f"{what} indices: {problem}"
    return None


register(
    Exercise(
        name="leave_one_speaker_out",
        chapter="09",
        signature="leave_one_speaker_out(speakers, held_out) -> (train_indices, test_indices)",
        reference=leave_one_speaker_out,
        cases=_split_cases,
        compare=_compare_split,
    )
)


# --- 09: digit_confusion -------------------------------------------------------------------------

OTHER = len(DIGIT_WORDS)  # column of the confusion matrix for anything that is not one digit word


def digit_confusion(references: list[str], hypotheses: list[str]) -> list[list[int]]:
    """A (10, 11) count matrix: row = the digit said, column = the digit recognized.

    Column 10 counts every hypothesis that is not exactly one digit word (empty, two words, a
    misspelling). Words are separated by whitespace; references are single digit words.
    """
    counts = [[0] * (OTHER + 1) for _ in DIGIT_WORDS]
    for ref, hyp in zip(references, hypotheses):
        words = hyp.split()
        one_digit = len(words) == 1 and words[0] in DIGIT_WORDS
        column = DIGIT_WORDS.index(words[0]) if one_digit else OTHER
        counts[DIGIT_WORDS.index(ref.strip())][column] += 1
    return counts


def _confusion_cases() -> list[Case]:
    cases = [
        Case("all right: one of each", (list(DIGIT_WORDS), list(DIGIT_WORDS))),
        Case(
            "a confusion: two heard as four lands in row 2, column 4",
            (["two", "two", "four"], ["four", "two", "four"]),
            hint="rows are what was said (the reference), columns what was recognized",
        ),
        Case(
            "an empty hypothesis goes to column 10",
            (["seven", "one"], ["", "one"]),
            hint="the model said nothing: count it in the last column, 'other'",
        ),
        Case(
            "two words are not one digit: column 10",
            (["eight"], ["eight eight"]),
            hint="only a hypothesis of exactly one digit word names a column",
        ),
        Case(
            "a near miss is not a digit: 'fiv' goes to column 10",
            (["five", "nine"], ["fiv", "nin e"]),
            hint="compare whole words with the ten digit words",
        ),
        Case(
            "spaces around a word do not matter",
            (["three"], ["  three "]),
            hint="split on whitespace (str.split()) before comparing",
        ),
        Case("no utterances: all zeros", ([], [])),
    ]
    rng = np.random.default_rng(13)
    pool = [*DIGIT_WORDS, "", "oh", "one two", "tree"]
    for _ in range(5):
        n = int(rng.integers(5, 40))
        refs = [DIGIT_WORDS[j] for j in rng.integers(0, 10, n)]
        hyps = [r if rng.random() < 0.6 else pool[int(rng.integers(0, len(pool)))] for r in refs]
        cases.append(Case(f"random: {n} utterances", (refs, hyps)))
    return cases


def _compare_matrix(expected, got) -> str | None:
    try:
        got_arr = np.asarray(got, dtype=np.int64)
    except (TypeError, ValueError):
        return "expected a (10, 11) matrix of counts"
    exp_arr = np.asarray(expected)
    if got_arr.shape != exp_arr.shape:
        return f"shape {got_arr.shape}, expected {exp_arr.shape} (10 digits said, 10 + other heard)"
    wrong = np.argwhere(got_arr != exp_arr)
    if wrong.size:
        r, c = (int(i) for i in wrong[0])
        heard = DIGIT_WORDS[c] if c < OTHER else "other"
        return (f"at [said {DIGIT_WORDS[r]!r}, heard {heard!r}] = [{r}, {c}] expected "
                f"{exp_arr[r, c]}, got {got_arr[r, c]}")  # fmt: skip
    return None


register(
    Exercise(
        name="digit_confusion",
        chapter="09",
        signature="digit_confusion(references, hypotheses) -> (10, 11) counts",
        reference=digit_confusion,
        cases=_confusion_cases,
        compare=_compare_matrix,
    )
)


# --- 13: resample_linear -------------------------------------------------------------------------


def resample_linear(audio: np.ndarray, orig_sr: int, new_sr: int) -> np.ndarray:
    """Resample ``(N,)`` audio by linear interpolation: ``N * new_sr // orig_sr`` samples.

    Output sample ``m`` lies at time ``m / new_sr`` seconds, which is input position
    ``m * orig_sr / new_sr``; between two input samples the value is interpolated on the straight
    line, and past the last input sample it stays at the last value.
    """
    audio = np.asarray(audio, dtype=np.float64)
    n_out = len(audio) * new_sr // orig_sr
    positions = np.arange(n_out) * orig_sr / new_sr
    return np.interp(positions, np.arange(len(audio)), audio)


def _resample_cases() -> list[Case]:
    cases = [
        Case(
            "8 kHz to 16 kHz: a new sample halfway between each pair",
            (np.array([0.0, 1.0, 0.0, -1.0]), 8000, 16000),
            hint="output sample m sits at input position m * orig_sr / new_sr = m / 2",
        ),
        Case(
            "past the last input sample, hold its value",
            (np.array([1.0, 3.0]), 8000, 16000),
            hint="the last output (position 1.5) has no right neighbour: keep x[N-1]",
        ),
        Case("the same rate changes nothing", (np.array([0.5, -0.25, 1.0]), 16000, 16000)),
        Case(
            "16 kHz to 8 kHz keeps every other sample",
            (np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 16000, 8000),
            hint="N * new_sr // orig_sr samples: 5 * 8000 // 16000 = 2, at positions 0 and 2",
        ),
        Case(
            "a ratio that is not whole: 3 to 2",
            (np.arange(6, dtype=float), 3, 2),
            hint="positions m * 3 / 2 = 0, 1.5, 3, 4.5",
        ),
        Case(
            "a ramp stays a ramp",
            (np.linspace(-1, 1, 9), 8000, 16000),
            hint="interpolate on the straight line between neighbours, not by repeating samples",
        ),
    ]
    gen = np.random.default_rng(21)
    for i, (a, b) in enumerate([(8000, 16000), (16000, 8000), (22050, 16000), (8000, 11025)]):
        n = int(gen.integers(5, 60))
        x = gen.standard_normal(n)
        cases.append(Case(f"random {i + 1}: {n} samples, {a} -> {b} Hz", (x, a, b)))
    return cases


register(
    Exercise(
        name="resample_linear",
        chapter="13",
        signature="resample_linear(audio, orig_sr, new_sr) -> (N * new_sr // orig_sr,) array",
        reference=resample_linear,
        cases=_resample_cases,
        compare=close(rtol=1e-7, atol=1e-9),
    )
)


# --- 13: band_energy_fraction --------------------------------------------------------------------


def band_energy_fraction(audio: np.ndarray, sample_rate: int, cutoff_hz: float) -> float:
    """Share of the signal's energy at frequencies strictly above ``cutoff_hz``, in [0, 1].

    Energy per frequency is the power spectrum of the whole signal, ``|rfft(audio)|**2`` at
    ``k * sample_rate / N`` Hz; a silent signal has no energy anywhere: 0.0.
    """
    power = np.abs(np.fft.rfft(np.asarray(audio, dtype=np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(audio), d=1.0 / sample_rate)
    total = power.sum()
    return float(power[freqs > cutoff_hz].sum() / total) if total > 0 else 0.0


def _band_cases() -> list[Case]:
    t = np.arange(1600) / 16000
    gen = np.random.default_rng(5)
    cases = [
        Case(
            "a 440 Hz tone has nothing above 4 kHz",
            (np.sin(2 * np.pi * 440 * t), 16000, 4000.0),
        ),
        Case(
            "a 6 kHz tone is all above 4 kHz",
            (np.sin(2 * np.pi * 6000 * t), 16000, 4000.0),
            hint="compare frequencies in Hz: bin k is at k * sample_rate / N",
        ),
        Case(
            "two tones of equal amplitude: half the energy each",
            (np.sin(2 * np.pi * 1000 * t) + np.sin(2 * np.pi * 6000 * t), 16000, 4000.0),
            hint="energy is the squared magnitude |X[k]|^2, not |X[k]|",
        ),
        Case(
            "a tone exactly on the cutoff is not above it",
            (np.sin(2 * np.pi * 4000 * t), 16000, 4000.0),
            hint="strictly above: use >, not >=",
        ),
        Case(
            "silence: no energy, answer 0.0",
            (np.zeros(400), 16000, 4000.0),
            hint="0 / 0 is not a number: return 0.0 when the total energy is 0",
        ),
        Case(
            "a tone of amplitude 3 and one of 1: 9 to 1 in energy",
            (3 * np.sin(2 * np.pi * 500 * t) + np.sin(2 * np.pi * 5000 * t), 16000, 4000.0),
            hint="energy is the squared magnitude |X[k]|^2, not |X[k]|",
        ),
        Case("an odd length (no bin at Nyquist)", (gen.standard_normal(401), 8000, 1000.0)),
    ]
    for i in range(4):
        n = int(gen.integers(50, 800))
        sr = int(gen.choice([8000, 16000]))
        cutoff = float(gen.integers(100, sr // 2))
        cases.append(Case(f"random noise {i + 1}: {n} samples at {sr} Hz",
                          (gen.standard_normal(n), sr, cutoff)))  # fmt: skip
    return cases


register(
    Exercise(
        name="band_energy_fraction",
        chapter="13",
        signature="band_energy_fraction(audio, sample_rate, cutoff_hz) -> float",
        reference=band_energy_fraction,
        cases=_band_cases,
        compare=close(rtol=1e-6, atol=1e-8),
    )
)
