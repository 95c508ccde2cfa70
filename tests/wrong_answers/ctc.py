"""Typical wrong answers to chapter 03's exercises: each must be rejected by its check."""

import math

import torch


def collapse_drops_blanks_first(path, blank=0):
    out = []
    for label in [p for p in path if p != blank]:
        if not out or out[-1] != label:
            out.append(label)
    return out


def collapse_keeps_repeats(path, blank=0):
    return [p for p in path if p != blank]


def collapse_blank_always_zero(path, blank=0):
    out, prev = [], None
    for p in path:
        if p != prev and p != 0:
            out.append(p)
        prev = p
    return out


def forward_no_repeat_rule(log_probs, target, blank=0):
    """Allows the s-2 skip between two equal labels (the forgotten repeat rule)."""
    ext = [blank]
    for label in target:
        ext += [label, blank]
    alpha = torch.full((len(ext),), -math.inf, dtype=log_probs.dtype)
    alpha[0] = log_probs[0, ext[0]]
    if len(ext) > 1:
        alpha[1] = log_probs[0, ext[1]]
    for t in range(1, log_probs.shape[0]):
        new = torch.full_like(alpha, -math.inf)
        for s in range(len(ext)):
            terms = (
                [alpha[s]]
                + ([alpha[s - 1]] if s else [])
                + ([alpha[s - 2]] if s >= 2 and ext[s] != blank else [])
            )
            new[s] = torch.logsumexp(torch.stack(terms), 0) + log_probs[t, ext[s]]
        alpha = new
    return float(torch.logsumexp(alpha[-2:], 0))


def forward_in_probabilities(log_probs, target, blank=0):
    """Multiplies plain probabilities (underflows on long inputs: the missing log-sum-exp)."""
    probs = log_probs.exp().double()
    ext = [blank]
    for label in target:
        ext += [label, blank]
    alpha = torch.zeros(len(ext), dtype=torch.float64)
    alpha[0] = probs[0, ext[0]]
    if len(ext) > 1:
        alpha[1] = probs[0, ext[1]]
    for t in range(1, probs.shape[0]):
        new = torch.zeros_like(alpha)
        for s in range(len(ext)):
            total = alpha[s] + (alpha[s - 1] if s else 0)
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                total = total + alpha[s - 2]
            new[s] = total * probs[t, ext[s]]
        alpha = new
    total = float(alpha[-1] + (alpha[-2] if len(ext) > 1 else 0))
    return math.log(total) if total > 0 else -math.inf


def forward_ends_on_last_state_only(log_probs, target, blank=0):
    from dslearn.ctc import extend_with_blanks

    ext = extend_with_blanks(target, blank)
    alpha = torch.full((len(ext),), -math.inf, dtype=log_probs.dtype)
    alpha[0] = log_probs[0, ext[0]]
    if len(ext) > 1:
        alpha[1] = log_probs[0, ext[1]]
    for t in range(1, log_probs.shape[0]):
        new = torch.full_like(alpha, -math.inf)
        for s in range(len(ext)):
            terms = [alpha[s]] + ([alpha[s - 1]] if s else [])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = torch.logsumexp(torch.stack(terms), 0) + log_probs[t, ext[s]]
        alpha = new
    return float(alpha[-1])


WRONG = {
    "collapse": [
        ("drops blanks before merging repeats", collapse_drops_blanks_first),
        ("never merges repeats", collapse_keeps_repeats),
        ("ignores the blank argument", collapse_blank_always_zero),
    ],
    "ctc_forward": [
        ("skips between two equal labels (forgotten repeat rule)", forward_no_repeat_rule),
        ("multiplies probabilities instead of adding logs", forward_in_probabilities),
        ("ends only on the final blank", forward_ends_on_last_state_only),
    ],
}
