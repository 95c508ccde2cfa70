"""Exercises of chapter 14 (CTC in context): byte-pair encoding and the frames CTC needs.

``bpe_merges`` is the reference for learning byte-pair-encoding merges (Sennrich et al. 2016),
with its rules spelled out so that every learner's answer can be checked exactly:

1. Each word of ``words`` (a list of strings; a word that occurs n times counts n times) starts
   as a sequence of one-character symbols.
2. At each step count every adjacent pair of symbols in every word, weighted by the word's
   count; overlapping pairs count too (``"aaa"`` holds the pair ``("a", "a")`` twice).
3. Merge the most frequent pair. Ties go to the pair that sorts first as a tuple of strings
   (``("a", "b")`` before ``("a", "c")`` before ``("b", "a")``).
4. Merging replaces, in every word and scanning left to right, each occurrence of the pair by
   one symbol (their concatenation), never reusing a symbol: ``"aaa"`` becomes ``"aa" "a"``.
5. Stop after ``n_merges`` merges, or earlier when no word has two symbols left.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from dslearn.align import frames_needed
from dslearn.exercises import Case, Exercise, equal, register


def _merge_word(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def bpe_merges(words: Sequence[str], n_merges: int) -> list[tuple[str, str]]:
    """The first ``n_merges`` byte-pair-encoding merges learned from ``words``, in order, as
    ``(left, right)`` pairs of strings; rules (ties included) in the module docstring.

    Pair counts are updated only for the words a merge changes, so a few hundred merges over a
    corpus of thousands of distinct words take about a second.
    """
    vocab = Counter(tuple(word) for word in words)  # symbols of each distinct word -> count
    pairs: Counter = Counter()
    for symbols, count in vocab.items():
        for pair in zip(symbols[:-1], symbols[1:]):
            pairs[pair] += count
    merges: list[tuple[str, str]] = []
    while len(merges) < n_merges and pairs:
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        for symbols in [w for w in vocab if best[0] in w and best[1] in w]:
            new = _merge_word(symbols, best)
            if new == symbols:
                continue
            count = vocab.pop(symbols)
            vocab[new] += count
            for pair in zip(symbols[:-1], symbols[1:]):
                pairs[pair] -= count
            for pair in zip(new[:-1], new[1:]):
                pairs[pair] += count
        pairs = +pairs  # drop pairs whose count fell to zero
    return merges


def bpe_segment(word: str, merges: Sequence[tuple[str, str]]) -> list[str]:
    """``word`` cut into subword units by applying ``merges`` in the order they were learned."""
    rank = {pair: i for i, pair in enumerate(merges)}
    symbols = tuple(word)
    while len(symbols) > 1:
        ranked = [rank.get(pair, len(rank)) for pair in zip(symbols[:-1], symbols[1:])]
        best = min(ranked)
        if best == len(rank):
            break
        symbols = _merge_word(symbols, merges[best])
    return list(symbols)


def min_ctc_frames(target: Sequence) -> int:
    """The fewest output frames a CTC alignment of ``target`` can have (``dslearn.align``)."""
    return frames_needed(list(target))


def _bpe_cases() -> list[Case]:
    cases = [
        Case(
            "the most frequent pair first: ('c', 'd') is in three words",
            (["cd", "cd", "cd", "ab", "abc"], 1),
            hint="count pairs over all words, each word weighted by how often it occurs",
        ),
        Case(
            "merges build on merges: low lower lowest",
            (["low", "low", "lower", "lowest", "newest", "widest"], 4),
            hint="the most frequent pair (ties: the one that sorts first); afterwards the merged "
            "pair is one symbol, so ('lo', 'w') can follow ('l', 'o')",
        ),
        Case(
            "ties go to the pair that sorts first",
            (["ba", "ab"], 1),
            hint="('a', 'b') and ('b', 'a') both occur once: choose min over (-count, pair)",
        ),
        Case(
            "overlapping pairs count twice, but merge left to right: 'aaa'",
            (["aaa", "aaa"], 2),
            hint="'aaa' holds ('a','a') at positions 0 and 1; merging gives 'aa' 'a', not 'a' 'aa'",
        ),
        Case(
            "stop when nothing is left to merge",
            (["ab", "c"], 5),
            hint="once every word is a single symbol there is no pair: return the merges so far",
        ),
        Case("zero merges", (["hello", "world"], 0)),
        Case(
            "CTC's case: word-start marker and doubled letters",
            (["▁hello", "▁all", "▁ball", "▁hello", "▁tell"], 6),
        ),
    ]
    rng = random.Random(14)
    for i in range(6):
        words = ["".join(rng.choice("abcd") for _ in range(rng.randint(1, 6))) for _ in range(12)]
        cases.append(Case(f"random words {i + 1}", (words, rng.randint(1, 8))))
    return cases


register(
    Exercise(
        name="bpe_merges",
        chapter="14",
        signature="bpe_merges(words, n_merges) -> list[tuple[str, str]]  # merged pairs in order",
        reference=bpe_merges,
        cases=_bpe_cases,
        compare=lambda expected, got: equal(
            [list(p) for p in expected], [list(p) for p in got] if _is_pairs(got) else got
        ),
    )
)


def _is_pairs(value) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(p, list | tuple) for p in value)


def _frames_cases() -> list[Case]:
    cases = [
        Case("no labels: no frames", ([],)),
        Case("one label, one frame", ([5],)),
        Case(
            "different labels may touch: c a t needs 3",
            ([3, 1, 20],),
            hint="a path can go straight from one label to a different one",
        ),
        Case(
            "a doubled label needs a blank between: l l needs 3",
            ([12, 12],),
            hint="'l l' collapses to one 'l': the path must be l _ l",
        ),
        Case(
            "a triple needs two blanks: 5",
            ([1, 1, 1],),
            hint="count every adjacent equal pair, not every distinct repeated label",
        ),
        Case(
            "equal labels apart need nothing: a b a needs 3",
            ([1, 2, 1],),
            hint="only neighbours must be separated: a blank is needed between equal neighbours",
        ),
        Case("'hello': 5 letters + 1 for the double l", ([8, 5, 12, 12, 15],)),
        Case(
            "subword ids work the same way",
            ([301, 301, 7, 301],),
            hint="any ids: compare neighbours, whatever their values",
        ),
    ]
    rng = random.Random(3)
    for i in range(6):
        target = [rng.randint(1, 3) for _ in range(rng.randint(1, 12))]
        cases.append(Case(f"random {i + 1}", (target,)))
    return cases


register(
    Exercise(
        name="min_ctc_frames",
        chapter="14",
        signature="min_ctc_frames(target) -> int  # U plus one per adjacent repeat",
        reference=min_ctc_frames,
        cases=_frames_cases,
        compare=equal,
    )
)
