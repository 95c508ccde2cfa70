"""Worked solutions to chapter 10's exercises (scaling up)."""


def padding_fraction(batches, durations):
    """Share of the padded audio that is padding, over a whole batch plan.

    ``batches``: lists of utterance indices; ``durations``: seconds per utterance. A batch costs
    ``len(batch) x longest`` padded seconds and holds ``sum(durations)`` real ones; the fraction is
    ``1 - real / padded`` with both summed over every batch.
    """
    real = padded = 0.0
    for batch in batches:
        lengths = [durations[i] for i in batch]
        if not lengths:
            continue
        real += sum(lengths)
        padded += len(lengths) * max(lengths)
    return 0.0 if padded == 0 else 1.0 - real / padded


def scaled_lr(base_lr, base_batch, batch, step, warmup_steps):
    """The learning rate at optimizer ``step`` (from 0) under the linear scaling rule.

    A recipe tuned at ``base_lr`` for ``base_batch`` (seconds or utterances per step) gets
    ``base_lr x batch / base_batch`` for a batch of ``batch``; the first ``warmup_steps`` steps
    rise linearly to that peak, reaching it at step ``warmup_steps - 1``.
    """
    peak = base_lr * batch / base_batch
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    return peak
