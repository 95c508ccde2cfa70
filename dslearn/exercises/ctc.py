"""Exercises of chapter 03 (CTC from scratch): the collapse map and the forward recursion."""

from __future__ import annotations

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
