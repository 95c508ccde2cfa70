"""Typical wrong answers to chapter 11's exercises: each must be rejected by its check."""

import math


def spans_no_overlap(n_samples, sample_rate, chunk_seconds, overlap_seconds):
    size = int(chunk_seconds * sample_rate)
    if n_samples <= size:
        return [(0, n_samples)]
    return [(s, min(n_samples, s + size)) for s in range(0, n_samples, size)]


def spans_step_by_overlap(n_samples, sample_rate, chunk_seconds, overlap_seconds):
    size, overlap = int(chunk_seconds * sample_rate), int(overlap_seconds * sample_rate)
    spans, start = [], 0
    while True:
        end = min(n_samples, start + size)
        spans.append((start, end))
        if end >= n_samples:
            return spans
        start = start + size + overlap  # a gap instead of an overlap


def spans_round_samples(n_samples, sample_rate, chunk_seconds, overlap_seconds):
    size, overlap = round(chunk_seconds * sample_rate), round(overlap_seconds * sample_rate)
    if n_samples <= size:
        return [(0, n_samples)]
    spans, start = [], 0
    while True:
        end = min(n_samples, start + size)
        spans.append((start, end))
        if end == n_samples:
            return spans
        start = end - overlap


def spans_full_last_chunk(n_samples, sample_rate, chunk_seconds, overlap_seconds):
    size, overlap = int(chunk_seconds * sample_rate), int(overlap_seconds * sample_rate)
    if n_samples <= size:
        return [(0, n_samples)]
    spans, start = [], 0
    while start + size < n_samples:
        spans.append((start, start + size))
        start += size - overlap
    spans.append((start, start + size))  # runs past the end of the audio
    return spans


def latency_lookahead_only(kernels, strides, lookahead, hop_ms=10.0):
    return lookahead * math.prod(strides) * hop_ms


def latency_lookahead_in_input_frames(kernels, strides, lookahead, hop_ms=10.0):
    frames, jump = 0, 1
    for k, s in zip(kernels, strides):
        frames += (k // 2) * jump
        jump *= s
    return (frames + lookahead) * hop_ms


def latency_ignores_jump(kernels, strides, lookahead, hop_ms=10.0):
    frames = sum(k // 2 for k in kernels)
    return (frames + lookahead * math.prod(strides)) * hop_ms


def latency_fixed_hop(kernels, strides, lookahead, hop_ms=10.0):
    frames, jump = 0, 1
    for k, s in zip(kernels, strides):
        frames += (k // 2) * jump
        jump *= s
    return (frames + lookahead * jump) * 10.0


WRONG = {
    "chunk_spans": [
        ("cuts chunks without overlap", spans_no_overlap),
        ("leaves a gap instead of an overlap", spans_step_by_overlap),
        ("rounds seconds to samples instead of truncating", spans_round_samples),
        ("lets the last chunk run past the end", spans_full_last_chunk),
    ],
    "algorithmic_latency_ms": [
        ("counts only the lookahead", latency_lookahead_only),
        ("counts the lookahead in input frames", latency_lookahead_in_input_frames),
        ("ignores the strides below each conv layer", latency_ignores_jump),
        ("hard-codes 10 ms per frame", latency_fixed_hop),
    ],
}
