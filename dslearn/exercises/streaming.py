"""Exercises of chapter 11 (streaming): cutting audio into chunks, a model's algorithmic latency."""

from __future__ import annotations

import torch

from dslearn import model
from dslearn.exercises import Case, Exercise, close, equal, register, seeded
from dslearn.inference import ChunkOptions, _chunk_spans


def _chunk_spans_reference(n_samples, sample_rate, chunk_seconds, overlap_seconds):
    return _chunk_spans(n_samples, sample_rate, ChunkOptions(chunk_seconds, overlap_seconds))


def _chunk_cases() -> list[Case]:
    cases = [
        Case("shorter than a chunk: one span", (16000, 16000, 2.0, 0.5)),
        Case(
            "exactly one chunk long: one span",
            (32000, 16000, 2.0, 0.5),
            hint="a file of exactly chunk_seconds needs no second chunk",
        ),
        Case(
            "two chunks that overlap",
            (40000, 16000, 2.0, 0.5),
            hint="the next chunk starts overlap before the previous one ends: "
            "start = end - overlap",
        ),
        Case(
            "the last chunk is shorter, and ends at the last sample",
            (100000, 16000, 2.0, 0.5),
            hint="clip the last end to n_samples; stop once a chunk reaches the end",
        ),
        Case(
            "no overlap: chunks tile the audio",
            (50000, 16000, 1.0, 0.0),
        ),
        Case(
            "seconds to samples: int(seconds x sample_rate), truncated",
            (10000, 8000, 0.33333, 0.1),
            hint="a chunk is int(chunk_seconds * sample_rate) samples, the overlap "
            "int(overlap_seconds * sample_rate)",
        ),
        Case("empty audio: one empty span", (0, 16000, 2.0, 0.5)),
    ]
    rng = seeded(110)
    for i in range(8):
        chunk = float(torch.randint(2, 40, (1,), generator=rng)) / 4
        overlap = chunk * float(torch.rand(1, generator=rng)) * 0.5
        n = int(torch.randint(1, 400_000, (1,), generator=rng))
        cases.append(Case(f"random {i + 1}", (n, 16000, chunk, round(overlap, 3))))
    return cases


register(
    Exercise(
        name="chunk_spans",
        chapter="11",
        signature="chunk_spans(n_samples, sample_rate, chunk_seconds, overlap_seconds) "
        "-> [(start, end), ...]",
        reference=_chunk_spans_reference,
        cases=_chunk_cases,
        compare=equal,
    )
)


def _latency_reference(kernels, strides, lookahead, hop_ms=10.0) -> float:
    n = len(kernels)
    cfg = model.ModelConfig(
        conv_channels=(1,) * n,
        conv_kernels=tuple((1, int(k)) for k in kernels),
        conv_strides=tuple((1, int(s)) for s in strides),
        bidirectional=False,
        lookahead=lookahead,
    )
    return model.future_frames(cfg) * hop_ms


def _latency_cases() -> list[Case]:
    cases = [
        Case(
            "no conv, no lookahead: nothing to wait for",
            ([], [], 0),
        ),
        Case(
            "one conv of 11 frames: it looks 5 frames ahead",
            ([11], [1], 0),
            hint="a centred kernel of k frames (padding k // 2) reads k // 2 frames of the future",
        ),
        Case(
            "lookahead alone, no stride: tau frames of 10 ms",
            ([1], [1], 20),
        ),
        Case(
            "the lookahead counts OUTPUT frames: with stride 2 each is 20 ms",
            ([1], [2], 20),
            hint="tau output frames are tau x (product of the strides) input frames",
        ),
        Case(
            "small-streaming: convs 11, 11 (strides 2, 1) plus a lookahead of 20",
            ([11, 11], [2, 1], 20),
            hint="the front end looks ahead too: each layer adds (k // 2) x jump input frames, "
            "jump = the product of the strides below it",
        ),
        Case(
            "another hop: 20 ms frames",
            ([11, 11], [2, 1], 20),
            {"hop_ms": 20.0},
            hint="multiply the frames by hop_ms, not by a hard-coded 10",
        ),
        Case("three conv layers, strides 2, 1, 1, no lookahead", ([11, 11, 11], [2, 1, 1], 0)),
    ]
    rng = seeded(111)
    for i in range(6):
        n = int(torch.randint(1, 4, (1,), generator=rng))
        kernels = torch.randint(1, 12, (n,), generator=rng).tolist()
        strides = torch.randint(1, 4, (n,), generator=rng).tolist()
        tau = int(torch.randint(0, 30, (1,), generator=rng))
        cases.append(Case(f"random {i + 1}", (kernels, strides, tau)))
    return cases


register(
    Exercise(
        name="algorithmic_latency_ms",
        chapter="11",
        signature="algorithmic_latency_ms(kernels, strides, lookahead, hop_ms=10.0) -> float",
        reference=_latency_reference,
        cases=_latency_cases,
        compare=close(rtol=1e-9, atol=1e-9),
    )
)
