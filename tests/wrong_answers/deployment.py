"""Typical wrong answers to chapter 15's exercises: each must be rejected by its check."""

import torch


def int8_max_not_abs(weights):
    """Scales by max(w) instead of max(|w|): a large negative weight is clipped."""
    w = weights.float()
    scale = w.max() / 127
    return torch.round(w / scale).clamp(-127, 127) * scale


def int8_truncates(weights):
    """Truncates toward zero instead of rounding."""
    w = weights.float()
    scale = w.abs().max() / 127
    return torch.trunc(w / scale) * scale


def int8_divides_by_zero(weights):
    """Forgets the all-zero tensor: 0 / 0 gives NaN."""
    w = weights.float()
    scale = w.abs().max() / 127
    return torch.round(w / scale).clamp(-127, 127) * scale


def int8_scale_256(weights):
    """Uses 256 levels over [-max, max] but forgets the codes then overflow int8 (uses 255/2)."""
    w = weights.float()
    peak = w.abs().max()
    if peak == 0:
        return torch.zeros_like(w)
    scale = peak / 127.5
    return torch.round(w / scale).clamp(-128, 127) * scale


def int8_keeps_dtype(weights):
    """Returns the input's dtype (float64 stays float64) and keeps exact values."""
    return weights.clone()


def stitch_keep_everything(chunks, overlap_seconds):
    """Concatenates every chunk's words: words in the overlaps come out twice."""
    return [
        (w, round(offset + s, 3), round(offset + e, 3))
        for offset, _, words in chunks
        for w, s, e in words
    ]


def stitch_forgets_offset(chunks, overlap_seconds):
    """Keeps the right words but leaves their times relative to their chunk."""
    out = _stitch(chunks, overlap_seconds, repeat_rule=True)
    starts = {}
    for offset, _, words in chunks:
        for w, s, e in words:
            starts[(w, round(offset + s, 3))] = (s, e)
    return [(w, *starts[(w, s)]) for w, s, _ in out]


def stitch_no_repeat_rule(chunks, overlap_seconds):
    """Keeps a word by its middle alone: a word moved across the cut comes out twice."""
    return _stitch(chunks, overlap_seconds, repeat_rule=False)


def stitch_cut_at_overlap_start(chunks, overlap_seconds):
    """Cuts at the start of each overlap instead of its middle."""
    return _stitch(chunks, 2 * overlap_seconds, repeat_rule=True)


def _stitch(chunks, overlap_seconds, repeat_rule):
    if len(chunks) == 1:
        return [tuple(w) for w in chunks[0][2]]
    half, kept = overlap_seconds / 2, []
    for j, (offset, end, words) in enumerate(chunks):
        lo = offset + half if j > 0 else 0.0
        hi = end - half if j < len(chunks) - 1 else end
        for w, s, e in words:
            middle = offset + (s + e) / 2
            repeat = repeat_rule and kept and offset + s < kept[-1][2]
            if lo <= middle < hi and not repeat:
                kept.append((w, round(offset + s, 3), round(offset + e, 3)))
    return kept


WRONG = {
    "int8_round_trip": [
        ("scales by max(w), not max(|w|)", int8_max_not_abs),
        ("truncates instead of rounding", int8_truncates),
        ("divides by zero on an all-zero tensor", int8_divides_by_zero),
        ("uses the wrong number of levels", int8_scale_256),
        ("does not quantise at all", int8_keeps_dtype),
    ],
    "stitch_chunks": [
        ("keeps every chunk's words", stitch_keep_everything),
        ("forgets the chunk offset", stitch_forgets_offset),
        ("has no repeat rule", stitch_no_repeat_rule),
        ("cuts at the start of the overlap", stitch_cut_at_overlap_start),
    ],
}
