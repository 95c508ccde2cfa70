"""Exercises of chapter 08 (evaluation): edit distance, the S/D/I counts behind it, corpus WER.

Several alignments can share the smallest number of edits ("a b" -> "b a" is two substitutions,
or one deletion and one insertion), so ``error_counts`` accepts any (S, D, I) that some optimal
alignment gives; ``dslearn.metrics.align_tokens`` picks one of them by its tie-breaking rule.
"""

from __future__ import annotations

import random

from dslearn import metrics
from dslearn.exercises import Case, Exercise, close, describe, equal, register

WORDS = ("a", "the", "cat", "sat", "on", "mat", "set", "timer", "ten", "minutes")


def _random_pair(rng: random.Random, max_len: int = 9) -> tuple[list[str], list[str]]:
    vocab = WORDS[: rng.randint(2, len(WORDS))]
    ref = [rng.choice(vocab) for _ in range(rng.randint(0, max_len))]
    hyp = [rng.choice(vocab) for _ in range(rng.randint(0, max_len))]
    return ref, hyp


def _pair_cases() -> list[Case]:
    return [
        Case("identical: no edits", ("set a timer".split(), "set a timer".split())),
        Case("one substitution", ("the cat sat".split(), "the cat sit".split())),
        Case(
            "empty hypothesis: every reference word is deleted",
            ("set a timer for ten minutes".split(), []),
            hint="the first column is D[i][0] = i: i deletions, not 0",
        ),
        Case(
            "empty reference: every hypothesis word is inserted",
            ([], "yes please".split()),
            hint="the first row is D[0][j] = j: j insertions",
        ),
        Case("both empty", ([], [])),
        Case(
            "an inserted word in the middle",
            ("turn the lights off".split(), "turn on the lights off".split()),
            hint="an insertion moves right in the table: D[i][j-1] + 1",
        ),
        Case(
            "a deletion and a substitution",
            ("the cat sat on the mat".split(), "the cat sit on mat".split()),
            hint="a substitution costs 1, not 2 (it is not a deletion plus an insertion)",
        ),
        Case(
            "swapped words: two edits",
            ("a b".split(), "b a".split()),
            hint="no alignment does better than 2 edits here",
        ),
        Case(
            "the hypothesis is much longer (WER above 1)",
            (["yes"], "no no no yes no".split()),
        ),
    ]


def _distance_cases() -> list[Case]:
    cases = _pair_cases()
    cases.append(
        Case(
            "tokens are whole words, not characters",
            (["seven"], ["eleven"]),
            hint="compare list items with ==; 'seven' vs 'eleven' is one substitution",
        )
    )
    rng = random.Random(8)
    for i in range(10):
        cases.append(Case(f"random pair {i + 1}", _random_pair(rng)))
    return cases


register(
    Exercise(
        name="edit_distance",
        chapter="08",
        signature="edit_distance(ref, hyp) -> int  # ref, hyp: lists of words",
        reference=lambda ref, hyp: metrics.align_tokens(ref, hyp).errors,
        cases=_distance_cases,
        compare=equal,
    )
)


def optimal_counts(ref: list[str], hyp: list[str]) -> frozenset[tuple[int, int, int]]:
    """Every (S, D, I) that an alignment with the fewest edits can have (for fair checking)."""
    table = metrics.edit_table(ref, hyp)
    n, m = len(ref), len(hyp)
    # best[i][j]: the (S, D, I) of optimal alignments of ref[:i] with hyp[:j]
    best: list[list[set]] = [[set() for _ in range(m + 1)] for _ in range(n + 1)]
    best[0][0] = {(0, 0, 0)}
    for i in range(n + 1):
        for j in range(m + 1):
            here = best[i][j]
            if i and j and table[i][j] == table[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
                sub = int(ref[i - 1] != hyp[j - 1])
                here |= {(s + sub, d, ins) for s, d, ins in best[i - 1][j - 1]}
            if i and table[i][j] == table[i - 1][j] + 1:
                here |= {(s, d + 1, ins) for s, d, ins in best[i - 1][j]}
            if j and table[i][j] == table[i][j - 1] + 1:
                here |= {(s, d, ins + 1) for s, d, ins in best[i][j - 1]}
    return frozenset(best[n][m])


def _counts_reference(ref, hyp):
    return optimal_counts(ref, hyp)


def _compare_counts(expected: frozenset, got) -> str | None:
    try:
        triple = tuple(int(x) for x in got)
    except (TypeError, ValueError):
        return f"expected a tuple (S, D, I) of ints, got {describe(got)}"
    if len(triple) != 3:
        return f"expected a tuple (S, D, I) of three ints, got {describe(got)}"
    if triple in expected:
        return None
    options = " or ".join(str(t) for t in sorted(expected))
    total = sum(next(iter(expected)))
    if sum(triple) != total:
        return (
            f"got (S, D, I) = {triple}: {sum(triple)} edits, but the fewest is {total} ({options})"
        )
    return f"got (S, D, I) = {triple}, expected {options}"


def _counts_cases() -> list[Case]:
    cases = _pair_cases()
    cases[7].hint = "(2, 0, 0) and (0, 1, 1) both have 2 edits: either is accepted"
    cases.append(
        Case(
            "a deletion, not a substitution plus an insertion",
            ("set a timer for ten minutes".split(), "set timer for ten minutes".split()),
            hint="walk back from the corner: a step up (i-1) is a deletion",
        )
    )
    rng = random.Random(9)
    for i in range(10):
        cases.append(Case(f"random pair {i + 1}", _random_pair(rng)))
    return cases


register(
    Exercise(
        name="error_counts",
        chapter="08",
        signature="error_counts(ref, hyp) -> (S, D, I)  # lists of words; any optimal alignment",
        reference=_counts_reference,
        cases=_counts_cases,
        compare=_compare_counts,
    )
)


def _corpus_cases() -> list[Case]:
    cases = [
        Case("one perfect utterance", (["set a timer"], ["set a timer"])),
        Case(
            "a long and a short utterance: total edits / total words",
            (
                ["set a timer for ten minutes please", "yes"],
                ["set a timer for ten minutes please", "no"],
            ),
            hint="1 edit over 8 words = 0.125; the mean of per-utterance rates (0 and 1) is 0.5",
        ),  # fmt: skip
        Case(
            "words, not characters",
            (["the cat sat"], ["the cat sit"]),
            hint="split each sentence into words; compare words, not letters",
        ),
        Case(
            "insertions count: the rate can exceed 1",
            (["yes"], ["no no no"]),
            hint="S + D + I over N: one substitution and two insertions over one word = 3",
        ),
        Case(
            "an utterance with an empty hypothesis",
            (["turn the lights off", "call mom"], ["turn the lights off", ""]),
            hint="an empty hypothesis deletes every reference word",
        ),
        Case(
            "extra spaces are not words",
            (["set  a timer "], ["set a  timer"]),
            hint="str.split() with no argument splits on runs of whitespace; split(' ') makes "
            "empty 'words'",
        ),
        Case(
            "an empty reference among others adds insertions but no words",
            (["", "a b c d"], ["uh", "a b c d"]),
        ),
    ]
    rng = random.Random(10)
    for i in range(6):
        pairs = [_random_pair(rng, 7) for _ in range(rng.randint(1, 6))]
        pairs.append((["w"], ["w"]))  # at least one reference word
        refs = [" ".join(r) for r, _ in pairs]
        hyps = [" ".join(h) for _, h in pairs]
        cases.append(Case(f"random corpus {i + 1} ({len(pairs)} utterances)", (refs, hyps)))
    return cases


register(
    Exercise(
        name="corpus_wer",
        chapter="08",
        signature="corpus_wer(refs, hyps) -> float  # lists of sentences",
        reference=metrics.wer,
        cases=_corpus_cases,
        compare=close(rtol=1e-9, atol=1e-9),
    )
)
