"""Typical wrong answers to chapter 05's exercises: each must be rejected by its check."""

import math


def lr_warmup_from_zero(step, peak_lr, warmup_steps, total_steps, min_ratio):
    if step < warmup_steps:
        return peak_lr * step / warmup_steps  # off by one: step 0 gets lr 0
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    floor = peak_lr * min_ratio
    return floor + (peak_lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def lr_decays_to_zero(step, peak_lr, warmup_steps, total_steps, min_ratio):
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return peak_lr * 0.5 * (1 + math.cos(math.pi * progress))  # forgets the floor


def lr_no_clamp(step, peak_lr, warmup_steps, total_steps, min_ratio):
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)  # rises again after N
    floor = peak_lr * min_ratio
    return floor + (peak_lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def clip_each_tensor(grads, max_norm):
    out = []
    for g in grads:
        norm = float(g.norm())
        out.append(g * min(1.0, max_norm / norm) if norm > 0 else g)
    return out


def clip_always_rescales(grads, max_norm):
    total = math.sqrt(sum(float((g**2).sum()) for g in grads))
    return [g * (max_norm / total) if total > 0 else g for g in grads]


def clip_without_square_root(grads, max_norm):
    total = float(sum((g**2).sum() for g in grads))  # the squared norm, not the norm
    return [g * min(1.0, max_norm / total) if total > 0 else g for g in grads]


WRONG = {
    "warmup_cosine_lr": [
        ("starts its warm-up at 0 (off by one)", lr_warmup_from_zero),
        ("decays to zero instead of the floor", lr_decays_to_zero),
        ("does not clamp past the last step", lr_no_clamp),
    ],
    "clip_by_global_norm": [
        ("clips each tensor on its own", clip_each_tensor),
        ("rescales even small gradients up", clip_always_rescales),
        ("forgets the square root of the norm", clip_without_square_root),
    ],
}
