"""Exercises of chapter 10 (scaling up): the padding of a batch plan, the scaled learning rate."""

from __future__ import annotations

import torch

from dslearn import data, train
from dslearn.exercises import Case, Exercise, close, register, seeded


def _padding_cases() -> list[Case]:
    cases = [
        Case("one batch of equal lengths: no padding", ([[0, 1, 2]], [2.0, 2.0, 2.0])),
        Case(
            "one batch of 1 s and 3 s: 2 of the 6 padded seconds are padding",
            ([[0, 1]], [1.0, 3.0]),
            hint="divide the padding by the PADDED seconds (batch size x longest), not the real "
            "ones",
        ),
        Case(
            "each batch pads to its own longest utterance",
            ([[0, 1], [2, 3]], [1.0, 1.0, 4.0, 2.0]),
            hint="the longest utterance of each batch, not of the whole data set",
        ),
        Case(
            "a total over the plan, not a mean of per-batch fractions",
            ([[0, 1], [2, 3, 4, 5, 6, 7]], [1.0, 9.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]),
            hint="sum the real and the padded seconds over all batches, then divide once: "
            "big batches weigh more",
        ),
        Case("a batch of one has no padding", ([[0], [1]], [3.0, 5.0])),
        Case(
            "indices pick the durations (batches need not be in order)",
            ([[3, 0], [2, 1]], [1.0, 2.0, 2.0, 4.0]),
            hint="look durations up by index: durations[i] for each i in the batch",
        ),
        Case("no batches at all: 0", ([], [1.0, 2.0])),
    ]
    rng = seeded(100)
    for i in range(6):
        n = int(torch.randint(4, 60, (1,), generator=rng))
        durations = (torch.rand(n, generator=rng, dtype=torch.float64) * 14 + 1).tolist()
        order = torch.randperm(n, generator=rng).tolist()
        size = int(torch.randint(1, 9, (1,), generator=rng))
        batches = [order[j : j + size] for j in range(0, n, size)]
        cases.append(
            Case(f"random {i + 1}: {n} utterances in batches of {size}", (batches, durations))
        )
    return cases


register(
    Exercise(
        name="padding_fraction",
        chapter="10",
        signature="padding_fraction(batches, durations) -> float  # share of padded audio",
        reference=data.padding_fraction,
        cases=_padding_cases,
        compare=close(rtol=1e-9, atol=1e-12),
    )
)


def _scaled_lr(base_lr: float, base_batch: float, batch: float, step: int, warmup_steps: int):
    """The linear scaling rule with a linear warm-up, as dslearn's trainer warms up."""
    peak = base_lr * batch / base_batch
    cfg = train.TrainConfig(
        train="", out="", lr=peak, warmup_steps=warmup_steps, schedule="constant"
    )
    return train.lr_at(step, cfg)


def _scaled_lr_cases() -> list[Case]:
    cases = [
        Case(
            "after the warm-up, 8x the batch: 8x the rate",
            (1e-3, 100.0, 800.0, 5000, 1000),
            hint="linear scaling: lr = base_lr x batch / base_batch",
        ),
        Case(
            "a smaller batch scales the rate down",
            (2e-3, 200.0, 50.0, 500, 100),
            hint="the same ratio works both ways: a quarter of the batch, a quarter of the rate",
        ),
        Case(
            "first step of the warm-up: (0 + 1) / warmup_steps of the peak",
            (1e-3, 100.0, 400.0, 0, 1000),
            hint="steps count from 0, and step 0 already takes a small step: "
            "lr x (step + 1) / warmup_steps",
        ),
        Case(
            "half-way through the warm-up",
            (1e-3, 100.0, 400.0, 499, 1000),
            hint="during the warm-up the rate rises linearly from 0 to the SCALED peak",
        ),
        Case(
            "the last warm-up step reaches the peak",
            (1e-3, 100.0, 200.0, 99, 100),
        ),
        Case("no warm-up: the peak from step 0", (3e-3, 100.0, 100.0, 0, 0)),
    ]
    rng = seeded(101)
    for i in range(6):
        base_batch = float(torch.randint(50, 400, (1,), generator=rng))
        batch = base_batch * float(torch.randint(1, 65, (1,), generator=rng)) / 8
        warmup = int(torch.randint(0, 3000, (1,), generator=rng))
        step = int(torch.randint(0, 6000, (1,), generator=rng))
        cases.append(Case(f"random {i + 1}", (1e-3, base_batch, batch, step, warmup)))
    return cases


register(
    Exercise(
        name="scaled_lr",
        chapter="10",
        signature="scaled_lr(base_lr, base_batch, batch, step, warmup_steps) -> float",
        reference=_scaled_lr,
        cases=_scaled_lr_cases,
        compare=close(rtol=1e-9, atol=1e-15),
    )
)
