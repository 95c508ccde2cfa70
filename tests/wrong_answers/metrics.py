"""Typical wrong answers to chapter 08's exercises: each must be rejected by its check."""


def _table(ref, hyp, boundary=True, sub_cost=1):
    n, m = len(ref), len(hyp)
    D = [[0] * (m + 1) for _ in range(n + 1)]
    if boundary:
        for i in range(n + 1):
            D[i][0] = i
        for j in range(m + 1):
            D[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = sub_cost if ref[i - 1] != hyp[j - 1] else 0
            D[i][j] = min(D[i - 1][j] + 1, D[i][j - 1] + 1, D[i - 1][j - 1] + cost)
    return D


def distance_zero_boundary(ref, hyp):
    """Leaves the first row and column at 0 (the off-by-one boundary)."""
    return _table(ref, hyp, boundary=False)[-1][-1]


def distance_substitution_costs_two(ref, hyp):
    """Only deletions and insertions: a substitution costs 2."""
    return _table(ref, hyp, sub_cost=2)[-1][-1]


def distance_position_by_position(ref, hyp):
    """Compares words at the same position (no alignment) plus the length difference."""
    return sum(r != h for r, h in zip(ref, hyp)) + abs(len(ref) - len(hyp))


def distance_on_characters(ref, hyp):
    """Edit distance between the joined strings, letter by letter."""
    return _table(list(" ".join(ref)), list(" ".join(hyp)))[-1][-1]


def counts_swapped_deletions_insertions(ref, hyp):
    """Calls a step up an insertion and a step left a deletion."""
    D = _table(ref, hyp)
    s = d = ins = 0
    i, j = len(ref), len(hyp)
    while i > 0 or j > 0:
        if i and j and D[i][j] == D[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            s += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i and D[i][j] == D[i - 1][j] + 1:
            ins += 1
            i -= 1
        else:
            d += 1
            j -= 1
    return (s, d, ins)


def counts_from_lengths(ref, hyp):
    """Guesses from lengths: the difference is deletions or insertions, the rest substitutions."""
    extra = len(hyp) - len(ref)
    s = sum(r != h for r, h in zip(ref, hyp))
    return (s, max(0, -extra), max(0, extra))


def counts_stops_at_the_edge(ref, hyp):
    """Walks back only while both i and j are positive: forgets the words left at the edge."""
    D = _table(ref, hyp)
    s = d = ins = 0
    i, j = len(ref), len(hyp)
    while i > 0 and j > 0:
        if D[i][j] == D[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            s += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif D[i][j] == D[i - 1][j] + 1:
            d += 1
            i -= 1
        else:
            ins += 1
            j -= 1
    return (s, d, ins)


def _words_distance(r, h):
    return _table(r, h)[-1][-1]


def wer_mean_of_utterance_rates(refs, hyps):
    """Averages per-utterance rates: a one-word utterance weighs as much as a long one."""
    rates = [
        _words_distance(r.split(), h.split()) / max(1, len(r.split())) for r, h in zip(refs, hyps)
    ]
    return sum(rates) / len(rates)


def wer_on_characters(refs, hyps):
    """Counts character edits over characters (that is the CER)."""
    errors = sum(_words_distance(list(r), list(h)) for r, h in zip(refs, hyps))
    return errors / sum(len(r) for r in refs)


def wer_split_on_single_spaces(refs, hyps):
    """Splits with split(' '): doubled spaces make empty 'words'."""
    errors = sum(_words_distance(r.split(" "), h.split(" ")) for r, h in zip(refs, hyps))
    return errors / sum(len(r.split(" ")) for r in refs)


def wer_ignores_insertions(refs, hyps):
    """Counts substitutions and deletions only, so the rate never exceeds 1."""
    total = words = 0
    for r, h in zip(refs, hyps):
        r, h = r.split(), h.split()
        total += min(_words_distance(r, h), len(r))
        words += len(r)
    return total / words


WRONG = {
    "edit_distance": [
        ("leaves the boundary row and column at 0", distance_zero_boundary),
        ("makes a substitution cost 2", distance_substitution_costs_two),
        ("compares words position by position", distance_position_by_position),
        ("works on characters", distance_on_characters),
    ],
    "error_counts": [
        ("swaps deletions and insertions", counts_swapped_deletions_insertions),
        ("guesses from the lengths", counts_from_lengths),
        ("stops walking back at the table's edge", counts_stops_at_the_edge),
    ],
    "corpus_wer": [
        ("averages per-utterance rates", wer_mean_of_utterance_rates),
        ("counts characters instead of words", wer_on_characters),
        ("splits on single spaces", wer_split_on_single_spaces),
        ("ignores insertions", wer_ignores_insertions),
    ],
}
