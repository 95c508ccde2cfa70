"""Worked solutions to chapter 05's exercises (training)."""

import math

import torch


def warmup_cosine_lr(step, peak_lr, warmup_steps, total_steps, min_ratio):
    """Learning rate at optimizer step ``step`` (0-based): linear warm-up over ``warmup_steps``,
    then half a cosine from ``peak_lr`` down to ``min_ratio * peak_lr`` at ``total_steps``."""
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(1.0, max(0.0, progress))
    floor = peak_lr * min_ratio
    return floor + (peak_lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def clip_by_global_norm(grads, max_norm):
    """Scale a list of gradient tensors so that their joint L2 norm is at most ``max_norm``."""
    total = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))
    scale = min(1.0, max_norm / total) if total > 0 else 1.0
    return [g * scale for g in grads]
