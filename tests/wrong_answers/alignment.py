"""Typical wrong answers to chapter 07's exercises: each must be rejected by its check."""

import math

import numpy as np


def _viterbi(
    log_probs, target, blank=0, *, repeat_rule=True, start_on_label=True, end_on_label=True
):
    lp = np.asarray(log_probs, dtype=np.float64)
    ext = [blank]
    for label in target:
        ext += [int(label), blank]
    n_frames, n_states = lp.shape[0], len(ext)
    delta = np.full((n_frames, n_states), -np.inf)
    back = np.zeros((n_frames, n_states), dtype=int)
    delta[0, 0] = lp[0, ext[0]]
    if n_states > 1 and start_on_label:
        delta[0, 1] = lp[0, ext[1]]
    for t in range(1, n_frames):
        for s in range(n_states):
            sources = [s] + ([s - 1] if s else [])
            if s >= 2 and ext[s] != blank and (ext[s] != ext[s - 2] or not repeat_rule):
                sources.append(s - 2)
            best = max(sources, key=lambda p: delta[t - 1, p])
            delta[t, s] = delta[t - 1, best] + lp[t, ext[s]]
            back[t, s] = best
    finals = [n_states - 1] + ([n_states - 2] if n_states > 1 and end_on_label else [])
    state = max(finals, key=lambda s: delta[-1, s])
    states = [state]
    for t in range(n_frames - 1, 0, -1):
        state = back[t, state]
        states.append(state)
    return [ext[s] for s in reversed(states)]


def viterbi_no_repeat_rule(log_probs, target, blank=0):
    """Allows the skip between two equal labels: 'l l' collapses to one l."""
    return _viterbi(log_probs, target, blank, repeat_rule=False)


def viterbi_must_start_with_blank(log_probs, target, blank=0):
    return _viterbi(log_probs, target, blank, start_on_label=False)


def viterbi_ends_on_final_blank(log_probs, target, blank=0):
    return _viterbi(log_probs, target, blank, end_on_label=False)


def viterbi_without_backtracking(log_probs, target, blank=0):
    """Takes the best state at each frame on its own (no back-pointers): often not a path."""
    lp = np.asarray(log_probs, dtype=np.float64)
    ext = [blank]
    for label in target:
        ext += [int(label), blank]
    return [ext[int(np.argmax(lp[t, ext]))] for t in range(lp.shape[0])]


def segments_merge_across_blanks(path, scores, blank=0):
    """Drops blanks before finding runs: the two l's of 'l _ l' become one segment."""
    kept = [(t, int(k)) for t, k in enumerate(path) if k != blank]
    out = []
    for t, k in kept:
        if out and out[-1][0] == k:
            label, start, _, total = out[-1]
            out[-1] = (label, start, t + 1, total + [float(x) for x in scores][t])
        else:
            out.append((k, t, t + 1, [float(x) for x in scores][t]))
    return [(k, s, e, math.exp(total / (e - s))) for k, s, e, total in out]


def segments_mean_probability(path, scores, blank=0):
    """Averages probabilities instead of log-probabilities (the arithmetic mean)."""
    probs = [math.exp(float(x)) for x in scores]
    out, t = [], 0
    while t < len(path):
        label, start = int(path[t]), t
        while t < len(path) and int(path[t]) == label:
            t += 1
        if label != blank:
            out.append((label, start, t, sum(probs[start:t]) / (t - start)))
    return out


def segments_inclusive_end(path, scores, blank=0):
    """Reports the last frame of a run as its end (off by one: ends are exclusive)."""
    scores = [float(x) for x in scores]
    out, t = [], 0
    while t < len(path):
        label, start = int(path[t]), t
        while t < len(path) and int(path[t]) == label:
            t += 1
        if label != blank:
            out.append((label, start, t - 1, math.exp(sum(scores[start:t]) / (t - start))))
    return out


WRONG = {
    "viterbi_align": [
        ("skips the blank between equal labels", viterbi_no_repeat_rule),
        ("always starts on the blank", viterbi_must_start_with_blank),
        ("always ends on the final blank", viterbi_ends_on_final_blank),
        ("picks the best state per frame without backtracking", viterbi_without_backtracking),
    ],
    "token_segments": [
        ("merges runs across blanks", segments_merge_across_blanks),
        ("averages probabilities, not log-probabilities", segments_mean_probability),
        ("reports inclusive ends", segments_inclusive_end),
    ],
}
