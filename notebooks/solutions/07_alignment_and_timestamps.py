"""Worked solutions of chapter 07 (alignment and timestamps): the Viterbi path, token segments.

Check them with ``dslearn.course.check("viterbi_align", viterbi_align)`` and so on.
"""

import math

import numpy as np


def viterbi_align(log_probs, target, blank=0):
    """The most probable CTC path that collapses to ``target``: forced alignment.

    Args:
        log_probs: ``(T, K)`` per-frame log-probabilities of one utterance.
        target: the transcript as ``U`` class indices (no blanks), ``T`` large enough for it.
        blank: index of the blank class.

    Returns:
        ``T`` labels, one per frame (the blank or a label of ``target``).

    The trellis has the states of ``l' = [blank, l1, blank, l2, ..., lU, blank]``.
    ``delta[t, s]`` is the log-probability of the best path prefix over frames ``0..t`` that is in
    state ``s`` at frame ``t``; ``back[t, s]`` the state it came from at frame ``t - 1``.
    """
    lp = np.asarray(log_probs, dtype=np.float64)
    n_frames = lp.shape[0]
    ext = [blank]
    for label in target:
        ext += [int(label), blank]
    n_states = len(ext)

    delta = np.full((n_frames, n_states), -np.inf)
    back = np.zeros((n_frames, n_states), dtype=int)
    delta[0, 0] = lp[0, ext[0]]  # start in the leading blank ...
    if n_states > 1:
        delta[0, 1] = lp[0, ext[1]]  # ... or on the first label
    for t in range(1, n_frames):
        for s in range(n_states):
            sources = [s, s - 1] if s >= 1 else [s]  # stay, or step from the state before
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                sources.append(s - 2)  # skip the blank between two different labels
            best = max(sources, key=lambda p: delta[t - 1, p])
            delta[t, s] = delta[t - 1, best] + lp[t, ext[s]]
            back[t, s] = best

    # End on the last label or on the final blank, whichever is more probable.
    finals = [n_states - 1] + ([n_states - 2] if n_states > 1 else [])
    state = max(finals, key=lambda s: delta[-1, s])
    states = [state]
    for t in range(n_frames - 1, 0, -1):  # backtrack through the notes
        state = back[t, state]
        states.append(state)
    return [ext[s] for s in reversed(states)]


def token_segments(path, scores, blank=0):
    """Runs of one non-blank label in a frame path, with their mean probability.

    Args:
        path: ``T`` labels, one per frame (e.g. from ``viterbi_align``).
        scores: ``(T,)`` log-probability of each frame's label.
        blank: index of the blank class.

    Returns:
        One ``(label, start_frame, end_frame, score)`` per run: frames ``[start, end)`` (end
        exclusive), ``score = exp(mean of the run's log-probabilities)``, in [0, 1].
    """
    scores = [float(x) for x in scores]
    segments = []
    t = 0
    while t < len(path):
        label, start = int(path[t]), t
        while t < len(path) and int(path[t]) == label:
            t += 1  # extend the run while the label repeats
        if label != blank:
            mean = sum(scores[start:t]) / (t - start)
            segments.append((label, start, t, math.exp(mean)))
    return segments
