"""Worked solutions to chapter 14's exercises (CTC in context: subwords and frame budgets)."""

from collections import Counter


def bpe_merges(words, n_merges):
    """Learn byte-pair-encoding merges from ``words`` (a list of strings, repeats count).

    Returns the merged pairs in the order they were learned, each a ``(left, right)`` tuple of
    strings. Rules: every word starts as single characters; each step counts adjacent pairs
    (overlapping ones too) weighted by word frequency, merges the most frequent one (ties: the
    pair that sorts first), replacing its occurrences left to right; stop after ``n_merges`` or
    when no pair is left.
    """
    vocab = Counter(tuple(word) for word in words)  # a word as a tuple of symbols -> its count
    merges = []
    for _ in range(n_merges):
        pairs = Counter()
        for symbols, count in vocab.items():
            for left, right in zip(symbols, symbols[1:]):
                pairs[left, right] += count
        if not pairs:
            break  # every word is a single symbol
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        new_vocab = Counter()
        for symbols, count in vocab.items():
            merged, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    merged.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            new_vocab[tuple(merged)] += count
        vocab = new_vocab
    return merges


def min_ctc_frames(target):
    """The fewest output frames ``T'`` in which CTC can emit ``target`` (a list of label ids).

    One frame per label, plus one blank frame between two equal neighbours, since ``a a``
    without a blank collapses to a single ``a``: ``T' >= U + (number of adjacent repeats)``.
    """
    repeats = sum(1 for a, b in zip(target, target[1:]) if a == b)
    return len(target) + repeats
