"""Connectionist Temporal Classification: the loss that lets a model learn without alignments.

A CTC model emits one distribution per frame over the alphabet plus a *blank*. An *alignment* is
one label per frame; it *collapses* to a transcript by merging repeats and then dropping blanks
(``"hh_e_ll_lo"`` -> ``"hello"``). The probability of a transcript is the sum over every alignment
that collapses to it, and the loss is its negative log. ``ctc_forward_reference`` computes that sum
with the forward algorithm in a form you can step through; ``ctc_loss`` is the fast path
(``torch.nn.functional.ctc_loss``) wrapped for dslearn's batch-first tensors, and tests prove the
two equal.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F

NEG_INF = float("-inf")


class NonFiniteLossError(ValueError):
    """A CTC loss that is infinite or NaN; the message names the utterances."""


def collapse(path: Sequence[int], blank: int = 0) -> list[int]:
    """The labels an alignment stands for: merge repeats, then drop blanks."""
    out, previous = [], None
    for label in path:
        if label != previous and label != blank:
            out.append(label)
        previous = label
    return out


def alignments(target: Sequence[int], n_frames: int, blank: int = 0) -> Iterator[tuple[int, ...]]:
    """Every length-``n_frames`` alignment that collapses to ``target`` (small cases only).

    Walks the same extended label sequence as the forward algorithm: from each position you may
    stay, advance by one, or skip a blank between two different labels.
    """
    ext = extend_with_blanks(target, blank)

    def walk(t: int, s: int, path: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        if t == n_frames:
            if s >= len(ext) - 2:  # ended on the last label or the trailing blank
                yield path
            return
        for nxt in (s, s + 1, s + 2):
            if nxt >= len(ext):
                continue
            if nxt == s + 2 and (ext[nxt] == blank or ext[nxt] == ext[s]):
                continue  # a skip may only jump over a blank between two different labels
            yield from walk(t + 1, nxt, path + (ext[nxt],))

    yield from walk(1, 0, (ext[0],))
    if len(ext) > 1:
        yield from walk(1, 1, (ext[1],))


def extend_with_blanks(target: Sequence[int], blank: int = 0) -> list[int]:
    """``[a, b]`` -> ``[blank, a, blank, b, blank]``: the states of the CTC trellis."""
    ext = [blank]
    for label in target:
        ext += [int(label), blank]
    return ext


def ctc_forward_reference(
    log_probs: torch.Tensor, target: Sequence[int], blank: int = 0
) -> torch.Tensor:
    """Negative log-likelihood of ``target`` under one utterance's ``(T, C)`` log-probs.

    ``alpha[t, s]`` is the log-probability of all alignment prefixes of length ``t + 1`` that end
    in state ``s`` of the extended sequence ``[blank, y1, blank, y2, ..., blank]``. A state is
    reached from itself, from the state before, or (for a label that differs from the label two
    states back) by skipping the blank in between. Written for reading, not speed: O(T * S) Python
    steps. Differentiable through autograd.
    """
    ext = extend_with_blanks(target, blank)
    n_frames, n_states = log_probs.shape[0], len(ext)
    neg_inf = log_probs.new_tensor(NEG_INF)
    alpha = [[neg_inf] * n_states for _ in range(n_frames)]
    alpha[0][0] = log_probs[0, ext[0]]
    if n_states > 1:
        alpha[0][1] = log_probs[0, ext[1]]
    for t in range(1, n_frames):
        for s in range(n_states):
            incoming = [alpha[t - 1][s]]
            if s >= 1:
                incoming.append(alpha[t - 1][s - 1])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                incoming.append(alpha[t - 1][s - 2])
            # States no prefix can reach yet stay at -inf (and logsumexp of only -inf has a NaN
            # gradient, so we leave them out rather than add log(0)).
            incoming = [a for a in incoming if a.item() != NEG_INF]
            if incoming:
                alpha[t][s] = torch.logsumexp(torch.stack(incoming), dim=0) + log_probs[t, ext[s]]
    # A complete alignment ends on the last label or on the blank after it.
    final = [alpha[-1][-1]] + ([alpha[-1][-2]] if n_states > 1 else [])
    return -torch.logsumexp(torch.stack(final), dim=0)


def ctc_alpha_beta(
    log_probs: torch.Tensor, target: Sequence[int], blank: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole forward and backward tables of one utterance, in log space.

    Args:
        log_probs: ``(T, C)`` log-probabilities of one utterance:
            ``y^t_k = exp(log_probs[t, k])``.
        target: the transcript as class indices without blanks, length ``U``.

    Returns:
        ``(log_alpha, log_beta)``, each ``(T, S)`` float64 with ``S = 2U + 1`` states of the
        extended sequence ``l' = [blank, l1, blank, ..., lU, blank]``. ``alpha_t(s)`` is the total
        probability of alignment prefixes ``pi_1..pi_t`` that end in state ``s``; ``beta_t(s)`` of
        suffixes ``pi_t..pi_T`` that start in state ``s``. Both include the emission ``y^t_{l'_s}``
        of frame ``t`` (Graves et al. 2006), so for every frame ``t``
        ``p(l | X) = sum_s alpha_t(s) beta_t(s) / y^t_{l'_s}``. Unreachable cells hold ``-inf``.

    One frame at a time, all states at once: ``stay`` from ``s``, ``step`` from ``s - 1``, and the
    ``skip`` from ``s - 2`` only onto (or, backwards, from) a label that differs from the label two
    states away. No gradient (use ``ctc_forward_reference`` or ``ctc_loss`` to train).
    """
    ext = extend_with_blanks(target, blank)
    lp = log_probs.detach().double().cpu()[:, ext]  # (T, S): log y^t_{l'_s}
    n_frames, n_states = lp.shape
    # skip_ok[s]: the s-2 -> s transition is allowed (s is a label unlike the label at s-2)
    skip_ok = torch.tensor(
        [s >= 2 and ext[s] != blank and ext[s] != ext[s - 2] for s in range(n_states)]
    )
    minus_inf = torch.full((n_frames, n_states), NEG_INF, dtype=torch.float64)
    log_alpha, log_beta = minus_inf.clone(), minus_inf.clone()

    def shifted(v: torch.Tensor, k: int) -> torch.Tensor:
        """``v`` moved ``k`` states down (k > 0) or up (k < 0), filled with -inf."""
        out = torch.full_like(v, NEG_INF)
        if k > 0:
            out[k:] = v[:-k]
        else:
            out[:k] = v[-k:]
        return out

    log_alpha[0, : min(2, n_states)] = lp[0, : min(2, n_states)]  # start in _ or in l1
    for t in range(1, n_frames):
        prev = log_alpha[t - 1]
        skip = torch.where(skip_ok, shifted(prev, 2), torch.tensor(NEG_INF, dtype=torch.float64))
        log_alpha[t] = torch.logsumexp(torch.stack([prev, shifted(prev, 1), skip]), 0) + lp[t]

    log_beta[-1, -min(2, n_states) :] = lp[-1, -min(2, n_states) :]  # end in lU or the last _
    skip_from = shifted(skip_ok, -2) if n_states > 2 else torch.zeros(n_states, dtype=torch.bool)
    for t in range(n_frames - 2, -1, -1):
        nxt = log_beta[t + 1]
        skip = torch.where(skip_from, shifted(nxt, -2), torch.tensor(NEG_INF, dtype=torch.float64))
        log_beta[t] = torch.logsumexp(torch.stack([nxt, shifted(nxt, -1), skip]), 0) + lp[t]
    return log_alpha, log_beta


def count_alignments(target: Sequence[int], n_frames: int, blank: int = 0) -> int:
    """How many length-``n_frames`` alignments collapse to ``target``: the forward recursion with
    counts in place of probabilities (exact Python integers, however large)."""
    ext = extend_with_blanks(target, blank)
    if n_frames <= 0:
        return 0
    count = [1 if s < 2 else 0 for s in range(len(ext))]
    for _ in range(1, n_frames):
        count = [
            count[s]
            + (count[s - 1] if s >= 1 else 0)
            + (count[s - 2] if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2] else 0)
            for s in range(len(ext))
        ]
    return sum(count[-2:])


def ctc_brute_force(log_probs: torch.Tensor, target: Sequence[int], blank: int = 0) -> float:
    """The same quantity by enumerating all ``C ** T`` label paths (tiny inputs only)."""
    n_frames, n_classes = log_probs.shape
    target = [int(x) for x in target]
    total = NEG_INF
    for path in itertools.product(range(n_classes), repeat=n_frames):
        if collapse(path, blank) == target:
            score = sum(float(log_probs[t, k]) for t, k in enumerate(path))
            total = max(total, score) + math.log1p(math.exp(-abs(total - score)))
    return -total


def ctc_loss(
    log_probs: torch.Tensor,
    output_lengths: torch.Tensor,
    targets: torch.Tensor,
    target_lengths: torch.Tensor,
    *,
    reduction: str = "mean",
    blank: int = 0,
    names: Sequence[str] | None = None,
    on_nonfinite: str = "raise",
) -> torch.Tensor:
    """CTC loss for batch-first model outputs.

    Args:
        log_probs: ``(B, T, C)`` log-softmax outputs (any float dtype; computed in float32, since
            half precision underflows in the forward algorithm's sums).
        output_lengths: ``(B,)`` valid frames per utterance.
        targets: ``(B, S)`` label indices padded with anything; ``target_lengths``: ``(B,)``.
        reduction: ``"mean"`` (per-utterance loss divided by its target length, then averaged
            over the batch: torch's convention, and stable across transcript lengths),
            ``"mean_utterance"`` (average per-utterance loss), ``"sum"``, or ``"none"`` (``(B,)``).
        names: one label per utterance (e.g. file paths) for error messages.
        on_nonfinite: ``"raise"`` a ``NonFiniteLossError`` naming the utterances whose loss is
            infinite (no alignment fits) or NaN, or ``"skip"`` them with a warning that names them
            (they get zero gradient and are left out of the mean).
    """
    if on_nonfinite not in ("raise", "skip"):
        raise ValueError(f"on_nonfinite must be 'raise' or 'skip', got {on_nonfinite!r}")

    def torch_ctc(zero_infinity: bool) -> torch.Tensor:
        return F.ctc_loss(
            log_probs.float().transpose(0, 1),  # torch wants (T, B, C)
            targets,
            output_lengths,
            target_lengths,
            blank=blank,
            reduction="none",
            zero_infinity=zero_infinity,
        )

    per_utt = torch_ctc(zero_infinity=False)
    finite = torch.isfinite(per_utt)
    if not bool(finite.all()):
        bad = (~finite).nonzero().flatten().tolist()
        described = ", ".join(
            f"{names[i] if names else f'batch item {i}'} (loss {per_utt[i].item()}, "
            f"{int(output_lengths[i])} frames for {int(target_lengths[i])} labels)"
            for i in bad
        )
        message = f"non-finite CTC loss for {len(bad)} utterance(s): {described}"
        if on_nonfinite == "raise":
            raise NonFiniteLossError(message)
        warnings.warn(message + "; skipped", stacklevel=2)
        # Recompute with torch's zero_infinity, whose backward gives impossible utterances a zero
        # gradient; masking the infinite values afterwards would still backpropagate inf * 0 = NaN.
        per_utt = torch_ctc(zero_infinity=True)
        per_utt = torch.where(finite, per_utt, per_utt.new_zeros(()))
    n_ok = finite.sum().clamp(min=1)
    if reduction == "none":
        return per_utt
    if reduction == "sum":
        return per_utt.sum()
    if reduction == "mean_utterance":
        return per_utt.sum() / n_ok
    if reduction == "mean":
        return (per_utt / target_lengths.clamp(min=1).to(per_utt.dtype)).sum() / n_ok
    raise ValueError(f"unknown reduction {reduction!r}")
