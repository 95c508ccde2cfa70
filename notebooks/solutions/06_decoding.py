"""Worked solutions of chapter 06 (decoding): greedy decoding, prefix beam search, perplexity.

Check them with ``dslearn.course.check("greedy_decode", greedy_decode)`` and so on.
"""

import math

import numpy as np


def greedy_decode(log_probs, blank=0):
    """Best path decoding: the most probable class at every frame, then the CTC collapse.

    Args:
        log_probs: ``(T, K)`` per-frame log-probabilities (a tensor or an array), one utterance.
        blank: index of the blank class.

    Returns:
        The labelling as a list of class indices (no blanks): repeats merged, then blanks dropped.
    """
    best = np.asarray(log_probs).argmax(axis=-1)  # (T,) the best path, one class per frame
    labels, previous = [], None
    for k in best.tolist():
        if k != previous and k != blank:  # a new class that is not the blank starts a label
            labels.append(k)
        previous = k
    return labels


def _logaddexp(a, b):
    """ln(e^a + e^b) without overflow; either may be -inf."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    hi, lo = max(a, b), min(a, b)
    return hi + math.log1p(math.exp(lo - hi))


def prefix_beam_search(log_probs, beam_width, blank=0):
    """CTC prefix beam search without a language model: the most probable labelling it finds.

    Args:
        log_probs: ``(T, K)`` per-frame log-probabilities, one utterance.
        beam_width: how many prefixes survive each frame.
        blank: index of the blank class.

    Every prefix ``l`` (a tuple of labels) carries two log-probabilities: ``p_b``, the total of
    the paths over the frames so far that collapse to ``l`` and end in a blank, and ``p_nb``,
    those that end in ``l``'s last label. After every frame only the ``beam_width`` prefixes with
    the largest ``p_b + p_nb`` are kept.
    """
    lp = np.asarray(log_probs, dtype=np.float64)
    n_classes = lp.shape[1]
    beams = {(): (0.0, -math.inf)}  # the empty prefix, "ending in a blank" with probability 1
    for frame in lp:
        nxt = {}

        def add(prefix, p_b=-math.inf, p_nb=-math.inf):
            old_b, old_nb = nxt.get(prefix, (-math.inf, -math.inf))
            nxt[prefix] = (_logaddexp(old_b, p_b), _logaddexp(old_nb, p_nb))

        for prefix, (p_b, p_nb) in beams.items():
            p = _logaddexp(p_b, p_nb)
            add(prefix, p_b=p + frame[blank])  # 1. a blank: the prefix stays, now ends in blank
            last = prefix[-1] if prefix else None
            for c in range(n_classes):
                if c == blank:
                    continue
                if c == last:
                    add(prefix, p_nb=p_nb + frame[c])  # 2. the same label again: merged
                    add(prefix + (c,), p_nb=p_b + frame[c])  # after a blank: a new letter
                else:
                    add(prefix + (c,), p_nb=p + frame[c])  # 3. a new label
        ranked = sorted(nxt.items(), key=lambda item: _logaddexp(*item[1]), reverse=True)
        beams = dict(ranked[:beam_width])
    best = max(beams, key=lambda prefix: _logaddexp(*beams[prefix]))
    return list(best)


def perplexity(log10_probs):
    """Perplexity of a text from the log10 probability of each predicted token.

    Args:
        log10_probs: ``log10 p(w_i | history)`` for every predicted token (the words and ``</s>``),
            as an ARPA language model reports them (``NGramLM.log10_prob``).

    Returns:
        ``10 ** (-mean)``: the geometric mean of ``1 / p``, the number of equally likely words the
        model is as unsure as; ``inf`` when a token has probability 0.
    """
    if any(x == -math.inf for x in log10_probs):
        return math.inf
    mean = sum(log10_probs) / len(log10_probs)
    return 10.0 ** (-mean)
