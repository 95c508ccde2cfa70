"""Typical wrong answers to chapter 06's exercises: each must be rejected by its check."""

import math

import numpy as np


def greedy_keeps_repeats(log_probs, blank=0):
    """Drops blanks but never merges repeated labels."""
    return [k for k in np.asarray(log_probs).argmax(-1).tolist() if k != blank]


def greedy_drops_blanks_first(log_probs, blank=0):
    """Drops blanks, then merges: 'a _ a' becomes one a."""
    out = []
    for k in np.asarray(log_probs).argmax(-1).tolist():
        if k != blank and (not out or out[-1] != k):
            out.append(k)
    return out


def greedy_blank_always_zero(log_probs, blank=0):
    out, previous = [], None
    for k in np.asarray(log_probs).argmax(-1).tolist():
        if k != previous and k != 0:
            out.append(k)
        previous = k
    return out


def _lae(a, b):
    return float(np.logaddexp(a, b))


def beam_without_blank_split(log_probs, beam_width, blank=0):
    """One probability per prefix (no p_b / p_nb): a repeated label always merges."""
    lp = np.asarray(log_probs, dtype=np.float64)
    beams = {(): 0.0}
    for frame in lp:
        nxt = {}
        for prefix, p in beams.items():
            nxt[prefix] = _lae(nxt.get(prefix, -math.inf), p + frame[blank])
            for c in range(lp.shape[1]):
                if c == blank:
                    continue
                new = prefix if prefix and prefix[-1] == c else prefix + (c,)
                nxt[new] = _lae(nxt.get(new, -math.inf), p + frame[c])
        beams = dict(sorted(nxt.items(), key=lambda kv: kv[1], reverse=True)[:beam_width])
    return list(max(beams, key=beams.get))


def beam_best_path_only(log_probs, beam_width, blank=0):
    """Keeps the best single path per prefix (max) instead of summing the paths that merge."""
    lp = np.asarray(log_probs, dtype=np.float64)
    beams = {(): (0.0, -math.inf)}
    for frame in lp:
        nxt = {}

        def add(prefix, p_b=-math.inf, p_nb=-math.inf, nxt=nxt):
            b, nb = nxt.get(prefix, (-math.inf, -math.inf))
            nxt[prefix] = (max(b, p_b), max(nb, p_nb))

        for prefix, (p_b, p_nb) in beams.items():
            p = max(p_b, p_nb)
            add(prefix, p_b=p + frame[blank])
            last = prefix[-1] if prefix else None
            for c in range(lp.shape[1]):
                if c == blank:
                    continue
                if c == last:
                    add(prefix, p_nb=p_nb + frame[c])
                    add(prefix + (c,), p_nb=p_b + frame[c])
                else:
                    add(prefix + (c,), p_nb=p + frame[c])
        beams = dict(sorted(nxt.items(), key=lambda kv: max(kv[1]), reverse=True)[:beam_width])
    return list(max(beams, key=lambda k: max(beams[k])))


def beam_never_prunes(log_probs, beam_width, blank=0):
    """Ignores beam_width: an exhaustive search, which finds better labellings than the beam."""
    from dslearn.exercises.decoding import _beam_reference

    return _beam_reference(log_probs, 10_000, blank)


def perplexity_natural_log(log10_probs):
    """Treats log10 values as natural logs: exp instead of 10 **."""
    if any(x == -math.inf for x in log10_probs):
        return math.inf
    return math.exp(-sum(log10_probs) / len(log10_probs))


def perplexity_of_the_sum(log10_probs):
    """Forgets to divide by the number of tokens: 1 / p(text), not per token."""
    if any(x == -math.inf for x in log10_probs):
        return math.inf
    return 10 ** (-sum(log10_probs))


def perplexity_without_minus(log10_probs):
    if any(x == -math.inf for x in log10_probs):
        return math.inf
    return 10 ** (sum(log10_probs) / len(log10_probs))


WRONG = {
    "greedy_decode": [
        ("never merges repeats", greedy_keeps_repeats),
        ("drops blanks before merging repeats", greedy_drops_blanks_first),
        ("ignores the blank argument", greedy_blank_always_zero),
    ],
    "prefix_beam_search": [
        ("forgets the p_b / p_nb split", beam_without_blank_split),
        ("keeps the best path per prefix instead of the sum", beam_best_path_only),
        ("never prunes to beam_width", beam_never_prunes),
    ],
    "perplexity": [
        ("uses ln instead of log10", perplexity_natural_log),
        ("exponentiates the sum instead of the mean", perplexity_of_the_sum),
        ("forgets the minus sign", perplexity_without_minus),
    ],
}
