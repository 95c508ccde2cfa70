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
