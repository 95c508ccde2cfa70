"""Exercises of chapter 15 (from notebook to program): int8 weights, and stitching the word
timings of a long recording's overlapping chunks back into one transcript.

``stitch_chunks``' reference is the library's own ``dslearn.inference._stitch``, which
``Recognizer.transcribe`` uses on every long file; ``int8_round_trip``'s is written here.
"""

from __future__ import annotations

import random

import torch

from dslearn.decoding import Hypothesis, WordTiming
from dslearn.exercises import Case, Exercise, close, register, seeded
from dslearn.inference import ChunkOptions, _chunk_spans, _stitch


def int8_reference(weights: torch.Tensor) -> torch.Tensor:
    """Symmetric per-tensor int8 quantisation and back: what an int8 model computes with.

    ``scale = max|w| / 127``; ``q = round(w / scale)`` is an integer in [-127, 127] (stored in
    8 bits); ``q * scale`` is returned, float32, same shape. An all-zero tensor stays zero.
    """
    w = weights.float()
    peak = w.abs().max()
    if peak == 0:
        return torch.zeros_like(w)
    scale = peak / 127
    return torch.round(w / scale).clamp(-127, 127) * scale


def _int8_cases() -> list[Case]:
    rng = seeded(15)
    cases = [
        Case("a few values; the largest maps to 127", (torch.tensor([0.5, -0.25, 1.0, 0.1]),)),
        Case(
            "the largest magnitude is negative",
            (torch.tensor([0.2, -2.0, 0.7, 1.3]),),
            hint="scale by max(|w|), not max(w): -2.0 must map to -127, not be clipped",
        ),
        Case(
            "rounding, not truncation",
            (torch.tensor([1.0, 0.9921, -0.6, 0.3]),),
            hint="0.9921 * 127 = 126.0 and 0.6 * 127 = 76.2: use round(), not int() or floor()",
        ),
        Case(
            "an all-zero tensor stays zero (no division by zero)",
            (torch.zeros(3, 2),),
            hint="when max|w| = 0 there is nothing to scale: return zeros, not NaN",
        ),
        Case(
            "a matrix keeps its shape",
            (torch.randn(4, 3, generator=rng),),
        ),
        Case(
            "one outlier makes the step coarse for all the others",
            (torch.cat([torch.randn(20, generator=rng) * 0.01, torch.tensor([5.0])]),),
            hint="one scale for the whole tensor: the small values land on a few levels",
        ),
        Case(
            "float64 input: return float32",
            (torch.randn(5, dtype=torch.float64, generator=rng),),
        ),
    ]
    for i in range(6):
        shape = tuple(int(x) for x in torch.randint(1, 9, (2,), generator=rng))
        cases.append(Case(f"random weights {i + 1}", (torch.randn(shape, generator=rng) * 0.2,)))
    return cases


register(
    Exercise(
        name="int8_round_trip",
        chapter="15",
        signature="int8_round_trip(weights) -> tensor  # quantise to int8 and back, same shape",
        reference=int8_reference,
        cases=_int8_cases,
        compare=close(rtol=1e-5, atol=1e-6),
    )
)

SR = 16_000  # the chunk starts and ends in the cases are whole milliseconds


def _stitch_reference(chunks, overlap_seconds):
    hyps, spans = [], []
    for start, end, words in chunks:
        timings = [WordTiming(w, s, e) for w, s, e in words]
        hyps.append(Hypothesis(" ".join(w for w, _, _ in words), 0.0, 1.0, words=timings))
        spans.append((round(start * SR), round(end * SR)))
    opts = ChunkOptions(
        chunk_seconds=max(e - s for s, e, _ in chunks), overlap_seconds=overlap_seconds
    )
    stitched = _stitch(hyps, spans, SR, opts)
    return [(w.word, round(w.start, 3), round(w.end, 3)) for w in stitched.words]


def _stitch_cases() -> list[Case]:
    one = [(0.0, 6.0, [("turn", 0.2, 0.5), ("it", 0.55, 0.7), ("off", 0.75, 1.1)])]
    duplicated = [
        (0.0, 10.0, [("call", 7.1, 7.5), ("mom", 8.2, 8.6)]),
        (8.0, 14.0, [("mom", 0.2, 0.6), ("now", 1.4, 1.8)]),
    ]
    straddling = [
        (0.0, 10.0, [("set", 7.0, 7.3), ("timer", 8.8, 9.4)]),
        (8.0, 14.0, [("timer", 0.8, 1.4), ("please", 2.0, 2.5)]),
    ]
    moved = [  # chunk 0 puts "ten" before the cut at 9 s, chunk 1 just after it
        (0.0, 10.0, [("for", 8.1, 8.5), ("ten", 8.6, 9.05)]),
        (8.0, 14.0, [("for", 0.1, 0.5), ("ten", 0.9, 1.3), ("minutes", 1.4, 2.0)]),
    ]
    three = [
        (0.0, 4.0, [("a", 0.5, 0.7), ("b", 2.9, 3.3), ("c", 3.6, 3.95)]),
        (3.0, 7.0, [("b", 0.0, 0.3), ("c", 0.55, 0.95), ("d", 2.0, 2.4), ("e", 3.55, 3.9)]),
        (6.0, 8.5, [("e", 0.6, 0.9), ("f", 1.5, 1.9)]),
    ]
    empty_middle = [
        (0.0, 4.0, [("hello", 0.5, 1.0)]),
        (3.0, 7.0, []),
        (6.0, 9.0, [("again", 1.5, 2.0)]),
    ]
    cases = [
        Case("a single chunk is the transcript", (one, 2.0)),
        Case(
            "chunk times are relative: add the chunk's start",
            ([(0.0, 10.0, [("hi", 1.0, 1.4)]), (8.0, 14.0, [("there", 3.0, 3.5)])], 2.0),
            hint="a word at 3.0 s in a chunk that starts at 8.0 s is at 11.0 s in the recording",
        ),
        Case(
            "a word inside the overlap is heard twice: keep it once",
            (duplicated, 2.0),
            hint="each chunk owns its span up to the middle of each overlap (here 9 s): keep a "
            "word only from the chunk whose owned part holds the word's middle",
        ),
        Case(
            "a word across the cut belongs to the chunk holding its middle",
            (straddling, 2.0),
            hint="'timer' spans 8.8-9.4 s: its middle 9.1 s lies past the cut at 9 s",
        ),
        Case(
            "the same word placed on both sides of the cut",
            (moved, 2.0),
            hint="words of one chunk never overlap, so a word that starts before the last kept "
            "word ends repeats it: skip it",
        ),
        Case("three chunks, 1 s overlaps", (three, 1.0)),
        Case("a chunk that heard nothing", (empty_middle, 1.0)),
    ]
    rng = random.Random(16)
    for i in range(6):
        cases.append(Case(f"random recording {i + 1}", _random_chunks(rng)))
    return cases


def _random_chunks(rng: random.Random):
    chunk, overlap = rng.choice([(4.0, 1.0), (5.0, 2.0), (6.0, 1.0)])
    total = rng.uniform(chunk + 1, 4 * chunk)
    words, t = [], 0.2
    while t < total - 0.6:
        length = rng.uniform(0.15, 0.6)
        words.append((f"w{len(words)}", round(t, 3), round(t + length, 3)))
        t += length + rng.uniform(0.02, 0.4)
    spans = _chunk_spans(int(total * 1000) * 16, SR, ChunkOptions(chunk, overlap))
    chunks = []
    for start, end in spans:
        s, e = start / SR, end / SR
        seen = []
        for word, ws, we in words:
            if we > s and ws < e:  # the chunk hears the part of the word inside it
                jitter = rng.choice([0.0, 0.0, 0.02, -0.02])
                a = max(0.0, ws - s + jitter)
                b = min(e - s, we - s + jitter)
                if b > a and (not seen or a >= seen[-1][2]):
                    seen.append((word, round(a, 3), round(b, 3)))
        chunks.append((round(s, 3), round(e, 3), seen))
    return (chunks, overlap)


register(
    Exercise(
        name="stitch_chunks",
        chapter="15",
        signature="stitch_chunks(chunks, overlap_seconds) -> list[(word, start, end)]  # chunks: "
        "[(start_s, end_s, [(word, start, end), ...]), ...], word times relative to the chunk",
        reference=_stitch_reference,
        cases=_stitch_cases,
        compare=close(rtol=0.0, atol=2e-3),
    )
)
