"""Worked solutions to the exercises of chapter 15 (from notebook to program).

``int8_round_trip`` shows what 8-bit weights keep of a float tensor; ``stitch_chunks`` joins the
words of a long recording's overlapping chunks into one transcript.
"""

import torch


def int8_round_trip(weights):
    """Quantise a float tensor to 8-bit integers and back, as an int8 model sees its weights.

    One scale for the whole tensor (symmetric, per tensor): the largest magnitude maps to 127,
    ``scale = max|w| / 127``. Each weight becomes the integer ``q = round(w / scale)`` in
    [-127, 127], which is what would be stored; the function returns ``q * scale`` as float32,
    the same shape as ``weights``, so you can measure what the rounding changed.
    """
    w = weights.float()
    peak = float(w.abs().max()) if w.numel() else 0.0
    if peak == 0.0:
        return torch.zeros_like(w)  # nothing to scale (and no division by zero)
    scale = peak / 127
    q = torch.round(w / scale).clamp(-127, 127)  # the int8 codes
    return q * scale


def stitch_chunks(chunks, overlap_seconds):
    """One transcript from overlapping chunks' words.

    ``chunks``: ``[(start, end, words), ...]`` in recording order, ``start``/``end`` the chunk's
    span in seconds, ``words`` a list of ``(word, start, end)`` in seconds from the chunk's start.
    Each chunk owns its span up to the middle of each overlap with a neighbour (the first chunk
    from 0, the last to its end); a word is kept from the chunk that owns its middle, unless it
    starts before the previously kept word ends (two chunks placed the same word on both sides
    of the cut). Returns ``[(word, start, end), ...]`` in recording seconds, rounded to ms.
    """
    if len(chunks) == 1:
        return [(w, s, e) for w, s, e in chunks[0][2]]
    half = overlap_seconds / 2
    kept = []
    for j, (offset, end, words) in enumerate(chunks):
        lo = offset + half if j > 0 else 0.0  # owned part of this chunk: [lo, hi)
        hi = end - half if j < len(chunks) - 1 else end
        for word, start, stop in words:
            middle = offset + (start + stop) / 2
            repeats = bool(kept) and offset + start < kept[-1][2]
            if lo <= middle < hi and not repeats:
                kept.append((word, round(offset + start, 3), round(offset + stop, 3)))
    return kept
