"""Exercises of chapter 16 (beyond DeepSpeech): attention with padding, sinusoidal positions."""

from __future__ import annotations

import math

import torch

from dslearn import model
from dslearn.exercises import Case, Exercise, close, register, seeded


def _attention_reference(q, k, v, key_padding_mask=None):
    """Scaled dot-product attention of one head: q (T, d), k (S, d), v (S, d_v) -> (T, d_v)."""
    scores = q @ k.transpose(0, 1) / math.sqrt(q.shape[-1])  # (T, S)
    if key_padding_mask is not None:
        scores = scores.masked_fill(key_padding_mask[None, :], float("-inf"))
    return scores.softmax(dim=-1) @ v


def _attention_cases() -> list[Case]:
    rng = seeded(160)

    def rand(*shape):
        return torch.randn(*shape, generator=rng, dtype=torch.float64)

    one_hot = torch.eye(3, dtype=torch.float64)
    cases = [
        Case(
            "a query equal to one key, scaled up: attends (almost) only to that key",
            (10 * one_hot[:1], 10 * one_hot, torch.tensor([[1.0], [2.0], [3.0]]).double()),
            hint="weights = softmax over the KEYS of q . k / sqrt(d); output = weights @ v",
        ),
        Case(
            "the scores are divided by sqrt(d), not by d",
            (rand(4, 16), rand(5, 16), rand(5, 3)),
            hint="divide q @ k.T by math.sqrt(d), with d = q.shape[-1]",
        ),
        Case(
            "each query's weights sum to 1 over the keys (softmax along the last axis)",
            (rand(6, 4), rand(2, 4), rand(2, 5)),
            hint="scores are (T, S): softmax(dim=-1), one distribution per query",
        ),
        Case(
            "padded keys get no weight at all",
            (rand(3, 8), rand(6, 8), rand(6, 2), torch.tensor([False] * 4 + [True] * 2)),
            hint="set the scores of padded keys to -inf before the softmax (multiplying the "
            "scores by 0 would still give them weight exp(0) = 1)",
        ),
        Case(
            "padding does not change the answer: padded keys may hold anything",
            (
                rand(3, 8),
                torch.cat([rand(4, 8), 1e3 * rand(2, 8)]),
                rand(6, 2),
                torch.tensor([False] * 4 + [True] * 2),
            ),
        ),  # fmt: skip
        Case("no mask given: every key counts", (rand(2, 4), rand(7, 4), rand(7, 4), None)),
    ]
    for i in range(6):
        t, s, d, dv = (int(x) for x in torch.randint(1, 9, (4,), generator=rng))
        mask = torch.rand(s, generator=rng) < 0.3
        mask[0] = False  # at least one real key
        cases.append(Case(f"random {i + 1}", (rand(t, d), rand(s, d), rand(s, dv), mask)))
    return cases


register(
    Exercise(
        name="masked_attention",
        chapter="16",
        signature="masked_attention(q, k, v, key_padding_mask=None) -> (T, d_v) tensor",
        reference=_attention_reference,
        cases=_attention_cases,
        compare=close(rtol=1e-6, atol=1e-8),
    )
)


def _positions_cases() -> list[Case]:
    cases = [
        Case(
            "position 0: sin 0 = 0 in even columns, cos 0 = 1 in odd ones",
            (1, 4),
            hint="column 2i holds sin(p * w_i), column 2i + 1 cos(p * w_i)",
        ),
        Case(
            "the first pair turns one radian per frame: w_0 = 1",
            (5, 2),
        ),
        Case(
            "wavelengths grow geometrically: w_i = 10000 ** (-2i / dim)",
            (6, 8),
            hint="the exponent is 2i / dim for the pair i (columns 2i and 2i + 1), not i / dim",
        ),
        Case("one long table", (400, 16)),
        Case("a wide one", (10, 144)),
    ]
    rng = seeded(161)
    for i in range(5):
        length = int(torch.randint(1, 200, (1,), generator=rng))
        dim = 2 * int(torch.randint(1, 40, (1,), generator=rng))
        cases.append(Case(f"random {i + 1}", (length, dim)))
    return cases


register(
    Exercise(
        name="sinusoidal_positions",
        chapter="16",
        signature="sinusoidal_positions(length, dim) -> (length, dim) tensor",
        reference=lambda length, dim: model.sinusoidal_positions(length, dim),
        cases=_positions_cases,
        compare=close(rtol=1e-4, atol=1e-4),
    )
)
