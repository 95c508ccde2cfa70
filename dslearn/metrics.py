"""Word and character error rates, with the substitutions, deletions and insertions behind them.

``WER = (S + D + I) / N``: the fewest word edits that turn the reference (N words) into the
hypothesis, divided by N. It can exceed 1 when the hypothesis inserts many words. Corpus-level
rates sum edits and reference lengths over all utterances (not an average of per-utterance rates,
which would let a one-word utterance weigh as much as a long one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class ErrorCounts:
    """Edit counts between reference and hypothesis token sequences."""

    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    hits: int = 0
    # The aligned pairs, for error analysis: (ref_token | None, hyp_token | None); None = gap.
    alignment: list[tuple[str | None, str | None]] = field(default_factory=list, repr=False)

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def reference_length(self) -> int:
        return self.substitutions + self.deletions + self.hits

    @property
    def rate(self) -> float:
        """Errors per reference token (0 for an empty reference and an empty hypothesis)."""
        n = self.reference_length
        if n == 0:
            return 0.0 if self.insertions == 0 else float("inf")
        return self.errors / n

    def __add__(self, other: ErrorCounts) -> ErrorCounts:
        return ErrorCounts(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.hits + other.hits,
        )


def align_tokens(ref: Sequence[str], hyp: Sequence[str]) -> ErrorCounts:
    """Levenshtein alignment of two token sequences, counting each kind of edit.

    Dynamic programming over a (len(ref)+1) x (len(hyp)+1) table of edit costs, then a walk back
    from the corner that prefers hits/substitutions, then deletions, then insertions, so equal-cost
    alignments are reported the same way every time.
    """
    n, m = len(ref), len(hyp)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = i
    for j in range(1, m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            diagonal = cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1])
            cost[i][j] = min(diagonal, cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    counts = ErrorCounts()
    i, j = n, m
    pairs = []
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            if ref[i - 1] == hyp[j - 1]:
                counts.hits += 1
            else:
                counts.substitutions += 1
            pairs.append((ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i > 0 and cost[i][j] == cost[i - 1][j] + 1:
            counts.deletions += 1
            pairs.append((ref[i - 1], None))
            i -= 1
        else:
            counts.insertions += 1
            pairs.append((None, hyp[j - 1]))
            j -= 1
    counts.alignment = pairs[::-1]
    return counts


def word_errors(reference: str, hypothesis: str) -> ErrorCounts:
    return align_tokens(reference.split(), hypothesis.split())


def char_errors(reference: str, hypothesis: str) -> ErrorCounts:
    """Character edits; runs of spaces count as one space, so formatting is not an error."""
    return align_tokens(list(" ".join(reference.split())), list(" ".join(hypothesis.split())))


def _corpus(fn, references: Sequence[str] | str, hypotheses: Sequence[str] | str) -> ErrorCounts:
    if isinstance(references, str):
        references, hypotheses = [references], [hypotheses]
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    total = ErrorCounts()
    for ref, hyp in zip(references, hypotheses):
        total = total + fn(ref, hyp)
    return total


def wer(references: Sequence[str] | str, hypotheses: Sequence[str] | str) -> float:
    """Corpus word error rate: total word edits / total reference words."""
    return _corpus(word_errors, references, hypotheses).rate


def cer(references: Sequence[str] | str, hypotheses: Sequence[str] | str) -> float:
    """Corpus character error rate: total character edits / total reference characters."""
    return _corpus(char_errors, references, hypotheses).rate


def corpus_errors(references: Sequence[str], hypotheses: Sequence[str]) -> dict:
    """WER and CER with their S/D/I counts, as a JSON-ready dict."""
    w = _corpus(word_errors, references, hypotheses)
    c = _corpus(char_errors, references, hypotheses)
    return {
        "wer": w.rate,
        "cer": c.rate,
        "n": len(references),
        "words": w.reference_length,
        "word_substitutions": w.substitutions,
        "word_deletions": w.deletions,
        "word_insertions": w.insertions,
        "chars": c.reference_length,
    }


def edit_table(ref: Sequence[str], hyp: Sequence[str]) -> list[list[int]]:
    """The Levenshtein table ``D`` behind ``align_tokens``: ``(len(ref)+1) x (len(hyp)+1)`` ints.

    ``D[i][j]`` is the fewest edits turning the first ``i`` reference tokens into the first ``j``
    hypothesis tokens: ``D[i][0] = i`` (delete them all), ``D[0][j] = j`` (insert them all) and
    ``D[i][j] = min(D[i-1][j] + 1, D[i][j-1] + 1, D[i-1][j-1] + [ref[i-1] != hyp[j-1]])``.
    ``D[-1][-1]`` is the edit distance. For figures and teaching; ``align_tokens`` also walks back.
    """
    n, m = len(ref), len(hyp)
    table = [[i + j if i == 0 or j == 0 else 0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            diagonal = table[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1])
            table[i][j] = min(diagonal, table[i - 1][j] + 1, table[i][j - 1] + 1)
    return table


def alignment_path(counts: ErrorCounts) -> list[tuple[int, int]]:
    """The cells ``(i, j)`` of ``edit_table`` that ``align_tokens``' walk back visits, from
    ``(0, 0)`` to ``(len(ref), len(hyp))``: a diagonal step is a hit or substitution, a step down
    (``i`` only) a deletion, a step right (``j`` only) an insertion."""
    i = j = 0
    path = [(0, 0)]
    for r, h in counts.alignment:
        i, j = i + (r is not None), j + (h is not None)
        path.append((i, j))
    return path


def utterance_errors(references: Sequence[str], hypotheses: Sequence[str]):
    """Per-utterance word edits and reference lengths: two ``(n,)`` int numpy arrays."""
    import numpy as np

    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    counts = [word_errors(r, h) for r, h in zip(references, hypotheses)]
    errors = np.array([c.errors for c in counts], dtype=np.int64)
    words = np.array([c.reference_length for c in counts], dtype=np.int64)
    return errors, words


def bootstrap_wer_samples(
    references: Sequence[str], hypotheses: Sequence[str], n: int = 1000, seed: int = 0
):
    """``n`` bootstrap replicates of the corpus WER, resampling whole utterances: ``(n,)`` array.

    Each replicate draws as many utterances as there are, with replacement, and computes
    ``sum(errors) / sum(words)`` over the draw. Utterances (not words) are resampled because
    errors within one utterance are not independent: a hard recording spoils several words.
    """
    import numpy as np

    errors, words = utterance_errors(references, hypotheses)
    if len(errors) == 0:
        raise ValueError("no utterances to resample")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(errors), size=(n, len(errors)))
    total_words = words[draws].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = errors[draws].sum(axis=1) / total_words
    return np.where(total_words == 0, np.nan, rates)


@dataclass(frozen=True)
class WERInterval:
    """A corpus WER with a bootstrap confidence interval (``level``, e.g. 0.95)."""

    wer: float  # on all utterances: total edits / total reference words
    low: float  # lower percentile of the bootstrap replicates
    high: float  # upper percentile
    utterances: int  # how many utterances it rests on
    words: int  # how many reference words
    level: float = 0.95

    def __str__(self) -> str:
        pct = round(100 * self.level)
        return (f"WER {self.wer:.3f} [{pct}% CI {self.low:.3f}-{self.high:.3f}] "
                f"on {self.utterances} utterances, {self.words} words")  # fmt: skip


def bootstrap_wer(
    references: Sequence[str],
    hypotheses: Sequence[str],
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> WERInterval:
    """Corpus WER with a percentile bootstrap interval over utterances (see
    ``bootstrap_wer_samples``): the central ``level`` fraction of ``n`` replicates.

    >>> bootstrap_wer(["a b c", "d e"], ["a b c", "d x"]).wer
    0.2
    """
    import numpy as np

    samples = bootstrap_wer_samples(references, hypotheses, n=n, seed=seed)
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(samples, [tail, 100 - tail])
    errors, words = utterance_errors(references, hypotheses)
    total = int(words.sum())
    rate = float(errors.sum() / total) if total else float("nan")
    return WERInterval(rate, float(low), float(high), len(errors), total, level)
