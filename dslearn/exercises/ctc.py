"""Exercises of chapter 03 (CTC from scratch): collapse, the forward and backward recursions,
counting alignments."""

from __future__ import annotations

import numpy as np
import torch

from dslearn import ctc
from dslearn.exercises import Case, Exercise, close, equal, random_log_probs, register, seeded


def _collapse_cases() -> list[Case]:
    fixed = [
        Case("repeats merge: a a b -> a b", ([1, 1, 2],)),
        Case("blanks drop: _ a _ b _ -> a b", ([0, 1, 0, 2, 0],)),
        Case(
            "a blank between repeats keeps both: l _ l -> l l",
            ([12, 0, 12],),
            hint="merge repeats first, then drop blanks: the blank separates the two l's",
        ),
        Case(
            "merge before dropping: l l _ l l -> l l",
            ([12, 12, 0, 12, 12],),
            hint="dropping blanks first would merge all four l's into one",
        ),
        Case("all blanks -> nothing", ([0, 0, 0],)),
        Case("empty path -> nothing", ([],)),
        Case(
            "another blank index: blank=3",
            ([3, 1, 1, 3, 1],),
            {"blank": 3},
            hint="use the blank argument, not a hard-coded 0",
        ),
    ]
    rng = seeded(3)
    for i in range(8):
        path = torch.randint(0, 4, (int(torch.randint(1, 15, (1,), generator=rng)),), generator=rng)
        fixed.append(Case(f"random path {i + 1}", (path.tolist(),)))
    return fixed


register(
    Exercise(
        name="collapse",
        chapter="03",
        signature="collapse(path, blank=0) -> list[int]",
        reference=ctc.collapse,
        cases=_collapse_cases,
        compare=equal,
    )
)


def _forward_reference(log_probs: torch.Tensor, target: list[int], blank: int = 0) -> float:
    return -float(ctc.ctc_forward_reference(log_probs, target, blank))


def _forward_cases() -> list[Case]:
    rng = seeded(0)
    cases = [
        Case("one label in one frame", (random_log_probs(rng, 1, 3), [1])),
        Case(
            "a 3-letter word in 5 frames",
            (random_log_probs(rng, 5, 5), [1, 2, 3]),
            hint="alpha[t][s] sums three ways in: stay, step from s-1, skip from s-2",
        ),
        Case(
            "a doubled label needs the blank between: [1, 1] in 4 frames",
            (random_log_probs(rng, 4, 3), [1, 1]),
            hint="the skip from s-2 is allowed only when ext[s] differs from ext[s-2]",
        ),
        Case(
            "the tightest fit: [1, 2, 1] in 3 frames",
            (random_log_probs(rng, 3, 4), [1, 2, 1]),
            hint="a path may start in state 0 (blank) or state 1 (first label), and end in "
            "the last label or the final blank",
        ),
        Case(
            "empty target: all blanks",
            (random_log_probs(rng, 4, 3), []),
            hint="with no labels the only path is blank, blank, ...",
        ),
        Case(
            "impossible: [1, 1] in 2 frames has no path (-inf)",
            (random_log_probs(rng, 2, 3), [1, 1]),
            hint="no alignment fits: the answer is log 0 = -inf",
        ),
        Case(
            "long input: 60 frames (products underflow; sum in log space)",
            (random_log_probs(rng, 60, 6) * 8, [1, 2, 3, 4, 5, 4]),
            hint="multiplying 60 probabilities underflows to 0: add log-probabilities and use "
            "logsumexp (torch.logsumexp or numpy.logaddexp) for the sums",
        ),
    ]
    for _i in range(6):
        frames = int(torch.randint(3, 16, (1,), generator=rng))
        length = int(torch.randint(1, max(2, frames // 2), (1,), generator=rng))
        target = torch.randint(1, 5, (length,), generator=rng).tolist()
        cases.append(
            Case(
                f"random: {length} labels in {frames} frames",
                (random_log_probs(rng, frames, 5), target),
            )
        )
    return cases


register(
    Exercise(
        name="ctc_forward",
        chapter="03",
        signature="ctc_forward(log_probs, target, blank=0) -> float  # log p(l | X); (T, K) in",
        reference=_forward_reference,
        cases=_forward_cases,
        compare=close(rtol=1e-6, atol=1e-6),
    )
)


def _backward_reference(log_probs: torch.Tensor, target: list[int], blank: int = 0) -> torch.Tensor:
    return ctc.ctc_alpha_beta(log_probs, target, blank)[1]


def _backward_cases() -> list[Case]:
    rng = seeded(5)
    cases = [
        Case(
            "one label in one frame",
            (random_log_probs(rng, 1, 3), [1]),
            hint="at the last frame only the last label and the final blank can end a path: "
            "beta[T-1][S-1] and beta[T-1][S-2] are y of their labels, the rest -inf",
        ),
        Case(
            "a 3-letter word in 5 frames",
            (random_log_probs(rng, 5, 5), [1, 2, 3]),
            hint="beta[t][s] sums three ways out: stay in s, step to s+1, skip to s+2; "
            "then adds log y^t of state s's own label (beta includes frame t's emission)",
        ),
        Case(
            "a doubled label: [1, 1] in 4 frames",
            (random_log_probs(rng, 4, 3), [1, 1]),
            hint="the skip s -> s+2 is allowed only when ext[s+2] is a label different from "
            "ext[s]: the mirror image of the forward repeat rule",
        ),
        Case(
            "empty target: one state, all blanks",
            (random_log_probs(rng, 4, 3), []),
            hint="with no labels the table has a single column (the blank)",
        ),
        Case(
            "impossible: [1, 1] in 2 frames (the start cells are -inf)",
            (random_log_probs(rng, 2, 3), [1, 1]),
            hint="cells no suffix can leave from hold -inf (log 0), not 0 and not NaN",
        ),
        Case(
            "long input: 60 frames (sum in log space)",
            (random_log_probs(rng, 60, 6) * 8, [1, 2, 3, 4, 5, 4]),
            hint="products of 60 probabilities underflow: add logs and use logsumexp",
        ),
        Case(
            "another blank index: blank=2",
            (random_log_probs(rng, 5, 4), [1, 3]),
            {"blank": 2},
            hint="build l' with the blank argument, not a hard-coded 0",
        ),
    ]
    for _i in range(5):
        frames = int(torch.randint(3, 14, (1,), generator=rng))
        length = int(torch.randint(1, max(2, frames // 2), (1,), generator=rng))
        target = torch.randint(1, 5, (length,), generator=rng).tolist()
        cases.append(
            Case(
                f"random: {length} labels in {frames} frames",
                (random_log_probs(rng, frames, 5), target),
            )
        )
    return cases


def _compare_log_table(expected, got) -> str | None:
    """Where -inf (log 0: no suffix fits) must be, then the finite values within tolerance."""
    exp = expected.numpy()
    got_arr = got.detach().double().cpu().numpy() if isinstance(got, torch.Tensor) else None
    if got_arr is None:
        try:
            got_arr = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return f"expected a (T, 2U+1) table, got {got!r:.60}"
    if got_arr.shape != exp.shape:
        return f"shape {got_arr.shape}, expected {exp.shape} (T frames, 2U+1 states of l')"
    unreachable = np.isneginf(exp)
    wrong = np.argwhere(unreachable != np.isneginf(got_arr))
    if wrong.size:
        t, s = (int(i) for i in wrong[0])
        return f"at [t={t}, s={s}] expected {exp[t, s]:.6g}, got {got_arr[t, s]:.6g}"
    return close(rtol=1e-6, atol=1e-6)(np.where(unreachable, 0.0, exp),
                                        np.where(unreachable, 0.0, got_arr))  # fmt: skip


register(
    Exercise(
        name="ctc_backward",
        chapter="03",
        signature="ctc_backward(log_probs, target, blank=0) -> (T, 2U+1) log beta table",
        reference=_backward_reference,
        cases=_backward_cases,
        compare=_compare_log_table,
    )
)


def _count_reference(target: list[int], n_frames: int) -> int:
    return len(list(ctc.alignments(target, n_frames)))


def _count_cases() -> list[Case]:
    cases = [
        Case("one label in one frame: just 'a'", ([1], 1)),
        Case(
            "one label in three frames: a a a, _ a a, a a _, _ _ a, a _ _, _ a _",
            ([1], 3),
            hint="a path may start with the blank or the label, and end with the label or a blank",
        ),
        Case(
            "no labels: the all-blank path is the only one",
            ([], 4),
            hint="an empty target still has one alignment: blank in every frame",
        ),
        Case(
            "too few frames for a doubled label: [1, 1] in 2 frames -> 0",
            ([1, 1], 2),
            hint="a a collapses to one a: a doubled label needs a blank between, so 3 frames",
        ),
        Case(
            "the tightest fit: [1, 1] in 3 frames -> only a _ a",
            ([1, 1], 3),
            hint="between equal labels the skip over the blank is not allowed",
        ),
        Case(
            "different labels may touch: [1, 2] in 4 frames",
            ([1, 2], 4),
            hint="between different labels the blank may be skipped (the s-2 move)",
        ),
        Case(
            "a repeat costs alignments: [2, 2] in 4 frames",
            ([2, 2], 4),
            hint="the same length as [1, 2] in 4 frames but fewer paths: no skip between 2 and 2",
        ),
        Case("'hello' in 8 frames", ([8, 5, 12, 12, 15], 8)),
    ]
    rng = seeded(11)
    for i in range(6):
        length = int(torch.randint(0, 4, (1,), generator=rng))
        target = torch.randint(1, 4, (length,), generator=rng).tolist()
        frames = int(torch.randint(max(1, length), length + 6, (1,), generator=rng))
        cases.append(Case(f"random {i + 1}: {length} labels in {frames} frames", (target, frames)))
    return cases


register(
    Exercise(
        name="count_alignments",
        chapter="03",
        signature="count_alignments(target, n_frames) -> int  # how many paths collapse to target",
        reference=_count_reference,
        cases=_count_cases,
        compare=equal,
    )
)
