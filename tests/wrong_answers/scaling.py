"""Typical wrong answers to chapter 10's exercises: each must be rejected by its check."""


def padding_mean_of_batches(batches, durations):
    fractions = []
    for batch in batches:
        d = [durations[i] for i in batch]
        fractions.append(1 - sum(d) / (len(d) * max(d)))
    return sum(fractions) / len(fractions) if fractions else 0.0


def padding_over_real(batches, durations):
    real = padded = 0.0
    for batch in batches:
        d = [durations[i] for i in batch]
        real += sum(d)
        padded += len(d) * max(d)
    return 0.0 if real == 0 else (padded - real) / real


def padding_global_longest(batches, durations):
    longest = max(durations)
    real = sum(durations[i] for b in batches for i in b)
    padded = sum(len(b) for b in batches) * longest
    return 0.0 if padded == 0 else 1 - real / padded


def padding_positions_not_indices(batches, durations):
    real = padded = 0.0
    k = 0
    for batch in batches:
        d = durations[k : k + len(batch)]
        k += len(batch)
        real += sum(d)
        padded += len(d) * max(d)
    return 0.0 if padded == 0 else 1.0 - real / padded


def lr_no_scaling(base_lr, base_batch, batch, step, warmup_steps):
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    return base_lr


def lr_sqrt_scaling(base_lr, base_batch, batch, step, warmup_steps):
    peak = base_lr * (batch / base_batch) ** 0.5
    return peak * (step + 1) / warmup_steps if step < warmup_steps else peak


def lr_warmup_off_by_one(base_lr, base_batch, batch, step, warmup_steps):
    peak = base_lr * batch / base_batch
    return peak * step / warmup_steps if step < warmup_steps else peak


def lr_warmup_to_base(base_lr, base_batch, batch, step, warmup_steps):
    peak = base_lr * batch / base_batch
    return base_lr * (step + 1) / warmup_steps if step < warmup_steps else peak


WRONG = {
    "padding_fraction": [
        ("averages per-batch fractions", padding_mean_of_batches),
        ("divides the padding by the real audio", padding_over_real),
        ("pads every batch to the longest utterance of all", padding_global_longest),
        ("reads durations by position, not by index", padding_positions_not_indices),
    ],
    "scaled_lr": [
        ("does not scale the rate", lr_no_scaling),
        ("scales by the square root", lr_sqrt_scaling),
        ("warms up from step / warmup_steps (off by one)", lr_warmup_off_by_one),
        ("warms up towards the unscaled rate", lr_warmup_to_base),
    ],
}
