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
