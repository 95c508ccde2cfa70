"""Typical wrong answers to chapter 14's exercises: each must be rejected by its check."""

from collections import Counter


def _learn(words, n_merges, weighted=True, tie_last=False, overlap_merge=False):
    vocab = Counter(tuple(w) for w in words)
    merges = []
    for _ in range(n_merges):
        pairs = Counter()
        for symbols, count in vocab.items():
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += count if weighted else 1
        if not pairs:
            break
        if tie_last:
            best = max(pairs, key=lambda p: (pairs[p], p))
        else:
            best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        new = Counter()
        for symbols, count in vocab.items():
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 1 if overlap_merge else 2
                else:
                    out.append(symbols[i])
                    i += 1
            new[tuple(out)] += count
        vocab = new
    return merges


def bpe_ignores_word_counts(words, n_merges):
    """Counts each distinct word once."""
    return _learn(set(words), n_merges, weighted=True)


def bpe_breaks_ties_the_other_way(words, n_merges):
    return _learn(words, n_merges, tie_last=True)


def bpe_merges_overlapping(words, n_merges):
    """Merges every occurrence, reusing symbols: 'aaa' becomes 'aa' 'aa'."""
    return _learn(words, n_merges, overlap_merge=True)


def bpe_always_n_merges(words, n_merges):
    """Pads with empty pairs instead of stopping when nothing is left."""
    merges = _learn(words, n_merges)
    return merges + [("", "")] * (n_merges - len(merges))


def frames_is_length(target):
    return len(target)


def frames_counts_repeated_labels(target):
    """Counts labels that occur more than once anywhere, not adjacent repeats."""
    return len(target) + sum(1 for _, n in Counter(target).items() if n > 1)


def frames_counts_runs(target):
    """One extra frame per run of equal labels, however long the run."""
    runs = sum(1 for i in range(1, len(target)) if target[i] == target[i - 1] and
               (i < 2 or target[i - 2] != target[i]))  # fmt: skip
    return len(target) + runs


WRONG = {
    "bpe_merges": [
        ("counts each distinct word once", bpe_ignores_word_counts),
        ("breaks ties towards the pair that sorts last", bpe_breaks_ties_the_other_way),
        ("merges overlapping occurrences", bpe_merges_overlapping),
        ("pads instead of stopping", bpe_always_n_merges),
    ],
    "min_ctc_frames": [
        ("forgets the blanks between repeats", frames_is_length),
        ("counts repeated labels instead of adjacent repeats", frames_counts_repeated_labels),
        ("counts runs instead of adjacent pairs", frames_counts_runs),
    ],
}
