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


def _ext(target, blank):
    ext = [blank]
    for label in target:
        ext += [label, blank]
    return ext


def _backward(log_probs, target, blank=0, repeat_rule=True, emit=True, ends=2):
    ext = _ext(target, blank)
    n_frames, n_states = log_probs.shape[0], len(ext)
    lp = log_probs.double()
    beta = torch.full((n_frames, n_states), -math.inf, dtype=torch.float64)
    for s in range(max(0, n_states - ends), n_states):
        beta[-1, s] = lp[-1, ext[s]] if emit else 0.0
    for t in range(n_frames - 2, -1, -1):
        for s in range(n_states):
            terms = [beta[t + 1, s]] + ([beta[t + 1, s + 1]] if s + 1 < n_states else [])
            if (
                s + 2 < n_states
                and ext[s + 2] != blank
                and (ext[s + 2] != ext[s] or not repeat_rule)
            ):
                terms.append(beta[t + 1, s + 2])
            beta[t, s] = torch.logsumexp(torch.stack(terms), 0) + (lp[t, ext[s]] if emit else 0.0)
    return beta


def backward_no_repeat_rule(log_probs, target, blank=0):
    """Skips between two equal labels."""
    return _backward(log_probs, target, blank, repeat_rule=False)


def backward_without_own_emission(log_probs, target, blank=0):
    """Leaves out y^t of the state's own label (the other common convention)."""
    return _backward(log_probs, target, blank, emit=False)


def backward_ends_on_last_state_only(log_probs, target, blank=0):
    return _backward(log_probs, target, blank, ends=1)


def count_without_repeat_rule(target, n_frames):
    """Counts skips between equal labels too."""
    ext = _ext(target, 0)
    count = [1 if s < 2 else 0 for s in range(len(ext))]
    for _ in range(n_frames - 1):
        count = [
            count[s] + (count[s - 1] if s else 0) + (count[s - 2] if s >= 2 and ext[s] != 0 else 0)
            for s in range(len(ext))
        ]
    return sum(count[-2:])


def count_starts_on_blank_only(target, n_frames):
    """Forgets that a path may start directly with the first label."""
    ext = _ext(target, 0)
    count = [1] + [0] * (len(ext) - 1)
    for _ in range(n_frames - 1):
        count = [
            count[s]
            + (count[s - 1] if s else 0)
            + (count[s - 2] if s >= 2 and ext[s] != 0 and ext[s] != ext[s - 2] else 0)
            for s in range(len(ext))
        ]
    return sum(count[-2:])


def count_by_binomial_ignoring_repeats(target, n_frames):
    """C(T + U, T - U): right only when no two neighbouring labels are equal."""
    u = len(target)
    return math.comb(n_frames + u, n_frames - u) if n_frames >= u else 0


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
    "ctc_backward": [
        ("skips between two equal labels (forgotten repeat rule)", backward_no_repeat_rule),
        ("leaves out the state's own emission y^t", backward_without_own_emission),
        ("starts only from the final blank", backward_ends_on_last_state_only),
    ],
    "count_alignments": [
        ("allows the skip between equal labels", count_without_repeat_rule),
        ("starts only on the blank", count_starts_on_blank_only),
        ("uses the binomial that ignores repeats", count_by_binomial_ignoring_repeats),
    ],
}
