"""Exercises of chapter 05 (training): the learning-rate schedule and gradient clipping."""

from __future__ import annotations

import torch

from dslearn.exercises import Case, Exercise, close, register, seeded
from dslearn.train import TrainConfig, lr_at


def _lr_reference(step, peak_lr, warmup_steps, total_steps, min_ratio):
    cfg = TrainConfig(train="-", out="-", lr=peak_lr, warmup_steps=warmup_steps,
                      max_steps=total_steps, min_lr_ratio=min_ratio, schedule="cosine")  # fmt: skip
    return lr_at(step, cfg)


def _lr_cases() -> list[Case]:
    cases = [
        Case(
            "the first step of the warm-up is peak/W, not 0",
            (0, 1e-3, 10, 100, 0.05),
            hint="step 0 is the first step: eta * (t + 1) / W",
        ),
        Case("the last warm-up step reaches the peak", (9, 1e-3, 10, 100, 0.05)),
        Case(
            "the first step after warm-up is the peak",
            (10, 1e-3, 10, 100, 0.05),
            hint="the cosine starts at progress 0 when t == W",
        ),
        Case(
            "halfway through the decay: the mean of peak and floor",
            (55, 1e-3, 10, 100, 0.05),
            hint="progress = (t - W) / (N - W); cos(pi/2) = 0",
        ),
        Case(
            "the last step reaches the floor min_ratio * peak",
            (100, 2e-3, 10, 100, 0.1),
            hint="the floor is min_ratio * peak_lr, not 0",
        ),
        Case(
            "past the end the rate stays at the floor",
            (150, 2e-3, 10, 100, 0.1),
            hint="clamp progress to 1",
        ),
        Case("no warm-up (W = 0)", (0, 3e-3, 0, 50, 0.05)),
    ]
    rng = seeded(5)
    for _ in range(8):
        total = int(torch.randint(20, 400, (1,), generator=rng))
        warm = int(torch.randint(0, total // 2, (1,), generator=rng))
        step = int(torch.randint(0, total + 10, (1,), generator=rng))
        cases.append(Case(f"random: step {step} of {total}, warm-up {warm}",
                          (step, 4e-3, warm, total, 0.05)))  # fmt: skip
    return cases


register(
    Exercise(
        name="warmup_cosine_lr",
        chapter="05",
        signature="warmup_cosine_lr(step, peak_lr, warmup_steps, total_steps, min_ratio) -> float",
        reference=_lr_reference,
        cases=_lr_cases,
        compare=close(rtol=1e-9, atol=1e-12),
    )
)


def _clip_reference(grads, max_norm):
    total = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
    scale = min(1.0, max_norm / float(total)) if float(total) > 0 else 1.0
    return [g * scale for g in grads]


def _clip_cases() -> list[Case]:
    rng = seeded(11)
    cases = [
        Case("one tensor of norm 5 clipped to 1", ([torch.tensor([3.0, 4.0])], 1.0)),
        Case(
            "already small enough: unchanged",
            ([torch.tensor([0.3, 0.4])], 1.0),
            hint="scale only when the norm exceeds max_norm",
        ),
        Case(
            "two tensors share ONE norm: sqrt(3^2 + 4^2) = 5",
            ([torch.tensor([3.0]), torch.tensor([[4.0]])], 2.5),
            hint="compute one norm over all tensors together, not one per tensor",
        ),
        Case("all zeros stay zeros (no division by zero)", ([torch.zeros(3)], 1.0)),
        Case("shapes are kept", ([torch.ones(2, 3), torch.ones(4)], 1.0)),
    ]
    for i in range(5):
        grads = [torch.randn(int(torch.randint(1, 5, (1,), generator=rng)), 3, generator=rng)
                 * float(torch.rand(1, generator=rng) * 10) for _ in range(3)]  # fmt: skip
        cases.append(Case(f"random gradients {i + 1}", (grads, 2.0)))
    return cases


register(
    Exercise(
        name="clip_by_global_norm",
        chapter="05",
        signature="clip_by_global_norm(grads, max_norm) -> list[Tensor]  # same shapes",
        reference=_clip_reference,
        cases=_clip_cases,
        compare=close(rtol=1e-5, atol=1e-6),
    )
)
