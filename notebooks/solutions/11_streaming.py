"""Worked solutions to chapter 11's exercises (streaming)."""


def chunk_spans(n_samples, sample_rate, chunk_seconds, overlap_seconds):
    """Sample ranges ``[(start, end), ...]`` that cover ``n_samples`` with overlapping chunks.

    A chunk is ``int(chunk_seconds x sample_rate)`` samples; the next one starts
    ``int(overlap_seconds x sample_rate)`` samples before the previous one ended; the last one
    ends at ``n_samples``. Audio no longer than one chunk is one span.
    """
    size = int(chunk_seconds * sample_rate)
    overlap = int(overlap_seconds * sample_rate)
    if n_samples <= size:
        return [(0, n_samples)]
    spans, start = [], 0
    while True:
        end = min(n_samples, start + size)
        spans.append((start, end))
        if end == n_samples:
            return spans
        start = end - overlap


def algorithmic_latency_ms(kernels, strides, lookahead, hop_ms=10.0):
    """Milliseconds of future audio a streaming DS2 needs before it can emit an output frame.

    ``kernels``, ``strides``: the conv front end's time kernels and strides (first layer first);
    each centred kernel reads ``k // 2`` of its input frames ahead, which are ``jump`` input
    frames apart (the product of the strides below). ``lookahead``: the lookahead convolution's
    future OUTPUT frames, each ``prod(strides)`` input frames. ``hop_ms``: ms per input frame.
    """
    frames, jump = 0, 1
    for k, s in zip(kernels, strides):
        frames += (k // 2) * jump
        jump *= s
    frames += lookahead * jump
    return frames * hop_ms
