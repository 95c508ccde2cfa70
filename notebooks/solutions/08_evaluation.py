"""Worked solutions to the exercises of chapter 08 (evaluation).

Each function is written as the chapter explains it: the edit-distance table filled row by row,
the walk back from the bottom-right corner, and the corpus rate as total edits over total words.
"""


def edit_distance(ref, hyp):
    """Fewest word substitutions, deletions and insertions turning ``ref`` into ``hyp``.

    ``ref``, ``hyp``: lists of words (N and M of them). Fills the (N+1) x (M+1) table
    D[i][j] = edits between ref[:i] and hyp[:j] and returns D[N][M], an int.
    """
    n, m = len(ref), len(hyp)
    D = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        D[i][0] = i  # delete all i reference words
    for j in range(m + 1):
        D[0][j] = j  # insert all j hypothesis words
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            mismatch = 1 if ref[i - 1] != hyp[j - 1] else 0
            D[i][j] = min(
                D[i - 1][j] + 1,  # deletion: ref[i-1] has no partner
                D[i][j - 1] + 1,  # insertion: hyp[j-1] has no partner
                D[i - 1][j - 1] + mismatch,  # hit (0) or substitution (1)
            )
    return D[n][m]


def error_counts(ref, hyp):
    """(S, D, I) of one alignment with the fewest edits between word lists ``ref`` and ``hyp``.

    Fills the same table as ``edit_distance``, then walks back from the corner (N, M) to (0, 0),
    taking at each cell a step that explains its value: diagonal (hit or substitution), up
    (deletion) or left (insertion). Ties are broken in that order.
    """
    n, m = len(ref), len(hyp)
    D = [[i + j if i == 0 or j == 0 else 0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            mismatch = 1 if ref[i - 1] != hyp[j - 1] else 0
            D[i][j] = min(D[i - 1][j] + 1, D[i][j - 1] + 1, D[i - 1][j - 1] + mismatch)
    S = Del = Ins = 0
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and D[i][j] == D[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            S += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and D[i][j] == D[i - 1][j] + 1:
            Del += 1
            i -= 1
        else:
            Ins += 1
            j -= 1
    return (int(S), Del, Ins)


def corpus_wer(refs, hyps):
    """Corpus word error rate: total edits over total reference words, a float.

    ``refs``, ``hyps``: lists of sentences (strings), one pair per utterance. Summing first lets
    a 20-word utterance weigh 20 times a 1-word one; averaging per-utterance rates would not.
    """
    errors = words = 0
    for ref, hyp in zip(refs, hyps):
        r, h = ref.split(), hyp.split()
        errors += edit_distance(r, h)
        words += len(r)
    return errors / words
