"""Typical wrong answers to chapters 09 and 13's exercises: each must be rejected by its check."""

import numpy as np

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def split_by_substring(speakers, held_out):
    train = [i for i, s in enumerate(speakers) if held_out not in s]
    return train, [i for i, s in enumerate(speakers) if held_out in s]


def split_from_one(speakers, held_out):
    train = [i + 1 for i, s in enumerate(speakers) if s != held_out]
    return train, [i + 1 for i, s in enumerate(speakers) if s == held_out]


def split_swapped(speakers, held_out):
    train = [i for i, s in enumerate(speakers) if s != held_out]
    return [i for i, s in enumerate(speakers) if s == held_out], train


def confusion_transposed(references, hypotheses):
    counts = [[0] * 11 for _ in range(10)]
    for ref, hyp in zip(references, hypotheses):
        words = hyp.split()
        heard = DIGITS.index(words[0]) if len(words) == 1 and words[0] in DIGITS else 10
        said = DIGITS.index(ref)
        if heard < 10:
            counts[heard][said] += 1
        else:
            counts[said][10] += 1
    return counts


def confusion_first_word(references, hypotheses):
    """Takes the first word of any hypothesis, so 'eight eight' counts as 'eight'."""
    counts = [[0] * 11 for _ in range(10)]
    for ref, hyp in zip(references, hypotheses):
        words = hyp.split()
        heard = DIGITS.index(words[0]) if words and words[0] in DIGITS else 10
        counts[DIGITS.index(ref)][heard] += 1
    return counts


def confusion_drops_empty(references, hypotheses):
    """Forgets the empty hypotheses (the model said nothing)."""
    counts = [[0] * 11 for _ in range(10)]
    for ref, hyp in zip(references, hypotheses):
        if not hyp.strip():
            continue
        words = hyp.split()
        heard = DIGITS.index(words[0]) if len(words) == 1 and words[0] in DIGITS else 10
        counts[DIGITS.index(ref)][heard] += 1
    return counts


def resample_repeat(audio, orig_sr, new_sr):
    """Zero-order hold: repeats the nearest earlier sample instead of interpolating."""
    x = np.asarray(audio, dtype=np.float64)
    n_out = len(x) * new_sr // orig_sr
    return x[np.minimum((np.arange(n_out) * orig_sr) // new_sr, len(x) - 1)]


def resample_ratio_swapped(audio, orig_sr, new_sr):
    x = np.asarray(audio, dtype=np.float64)
    n_out = len(x) * new_sr // orig_sr
    return np.interp(np.arange(n_out) * new_sr / orig_sr, np.arange(len(x)), x)


def resample_one_too_many(audio, orig_sr, new_sr):
    x = np.asarray(audio, dtype=np.float64)
    n_out = -(-len(x) * new_sr // orig_sr) + 1
    return np.interp(np.arange(n_out) * orig_sr / new_sr, np.arange(len(x)), x)


def band_magnitude_not_power(audio, sample_rate, cutoff_hz):
    mag = np.abs(np.fft.rfft(audio))
    freqs = np.fft.rfftfreq(len(audio), 1 / sample_rate)
    return float(mag[freqs > cutoff_hz].sum() / mag.sum()) if mag.sum() > 0 else 0.0


def band_at_or_above(audio, sample_rate, cutoff_hz):
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / sample_rate)
    return float(power[freqs >= cutoff_hz].sum() / power.sum()) if power.sum() > 0 else 0.0


def band_no_silence_guard(audio, sample_rate, cutoff_hz):
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / sample_rate)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(power[freqs > cutoff_hz].sum() / power.sum())


WRONG = {
    "leave_one_speaker_out": [
        ("compares names as substrings", split_by_substring),
        ("counts indices from 1", split_from_one),
        ("returns (test, train)", split_swapped),
    ],
    "digit_confusion": [
        ("puts what was heard in the rows", confusion_transposed),
        ("reads only the first word of a hypothesis", confusion_first_word),
        ("skips empty hypotheses", confusion_drops_empty),
    ],
    "resample_linear": [
        ("repeats samples instead of interpolating", resample_repeat),
        ("uses new_sr / orig_sr for the positions", resample_ratio_swapped),
        ("makes one sample too many", resample_one_too_many),
    ],
    "band_energy_fraction": [
        ("sums magnitudes instead of energies", band_magnitude_not_power),
        ("counts the cutoff bin as above", band_at_or_above),
        ("divides 0 by 0 on silence", band_no_silence_guard),
    ],
}
