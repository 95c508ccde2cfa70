"""Worked solutions to chapter 03's exercises (CTC from scratch)."""

import math

import torch


def collapse(path, blank=0):
    """Merge repeated labels, then drop blanks: ``[1, 1, 0, 1] -> [1, 1]``."""
    out, previous = [], None
    for label in path:
        if label != previous and label != blank:
            out.append(label)
        previous = label
    return out


def ctc_forward(log_probs, target, blank=0):
    """log P(target | x) by the forward recursion over the extended sequence (log space).

    ``log_probs``: ``(T, K)`` log-posteriors of one utterance; ``target``: label ids (no blanks).
    """
    ext = [blank]
    for label in target:
        ext += [int(label), blank]
    n_frames, n_states = log_probs.shape[0], len(ext)
    alpha = torch.full((n_states,), -math.inf, dtype=torch.float64)
    alpha[0] = log_probs[0, ext[0]]
    if n_states > 1:
        alpha[1] = log_probs[0, ext[1]]
    for t in range(1, n_frames):
        previous = alpha.clone()
        for s in range(n_states):
            terms = [previous[s]]
            if s >= 1:
                terms.append(previous[s - 1])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(previous[s - 2])
            alpha[s] = torch.logsumexp(torch.stack(terms), 0) + log_probs[t, ext[s]]
    return float(torch.logsumexp(alpha[-2:], 0)) if n_states > 1 else float(alpha[0])


def ctc_backward(log_probs, target, blank=0):
    """The backward table: ``beta[t, s] = log`` of the total probability of every alignment
    suffix ``pi_t .. pi_T`` that starts in state ``s`` of ``l'`` and ends a valid path.

    ``log_probs``: ``(T, K)`` log-posteriors of one utterance; ``target``: ``U`` label ids.
    Returns a ``(T, 2U + 1)`` float64 tensor, ``-inf`` where no suffix fits. Like Graves et al.
    (2006), beta includes frame t's own emission ``y^t_{l'_s}``, so
    ``p(l | X) = sum_s alpha_t(s) beta_t(s) / y^t_{l'_s}`` at every frame t.
    """
    ext = [blank]
    for label in target:
        ext += [int(label), blank]
    n_frames, n_states = log_probs.shape[0], len(ext)
    lp = log_probs.double()
    beta = torch.full((n_frames, n_states), -math.inf, dtype=torch.float64)
    # A path ends in the last label or in the blank after it.
    beta[n_frames - 1, n_states - 1] = lp[n_frames - 1, ext[n_states - 1]]
    if n_states > 1:
        beta[n_frames - 1, n_states - 2] = lp[n_frames - 1, ext[n_states - 2]]
    for t in range(n_frames - 2, -1, -1):
        for s in range(n_states):
            terms = [beta[t + 1, s]]  # stay
            if s + 1 < n_states:
                terms.append(beta[t + 1, s + 1])  # step
            if s + 2 < n_states and ext[s + 2] != blank and ext[s + 2] != ext[s]:
                terms.append(beta[t + 1, s + 2])  # skip the blank between different labels
            beta[t, s] = torch.logsumexp(torch.stack(terms), 0) + lp[t, ext[s]]
    return beta


def count_alignments(target, n_frames):
    """How many length-``n_frames`` label paths collapse to ``target`` (a list of label ids).

    The forward recursion with counts instead of probabilities: ``count[s]`` is the number of
    path prefixes that end in state ``s`` of ``l' = _ l1 _ l2 ... _``. Python integers never
    overflow, so this is exact for any length (the numbers grow like a binomial coefficient).
    """
    ext = [0]
    for label in target:
        ext += [label, 0]
    if n_frames <= 0:
        return 0
    count = [1 if s < 2 else 0 for s in range(len(ext))]  # frame 1: start in _ or in l1
    for _ in range(n_frames - 1):
        new = []
        for s in range(len(ext)):
            n = count[s]
            if s >= 1:
                n += count[s - 1]
            if s >= 2 and ext[s] != 0 and ext[s] != ext[s - 2]:
                n += count[s - 2]
            new.append(n)
        count = new
    return sum(count[-2:])  # end in the last label or the final blank
