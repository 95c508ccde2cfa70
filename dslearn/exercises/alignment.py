"""Exercises of chapter 07 (alignment): the Viterbi path and its character segments."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dslearn import align, ctc
from dslearn.exercises import Case, Exercise, close, describe, random_log_probs, register, seeded

# --- the Viterbi path -----------------------------------------------------------------------------


@dataclass
class BestPath:
    """The reference's answer: one best path, with what is needed to judge another one."""

    path: list[int]
    log_probs: torch.Tensor
    target: list[int]
    blank: int

    def score(self, path: list[int]) -> float:
        return float(sum(self.log_probs[t, k] for t, k in enumerate(path)))


def _viterbi_reference(log_probs: torch.Tensor, target: list[int], blank: int = 0) -> BestPath:
    """``dslearn.align.viterbi_align_reference``'s path, kept with its inputs for the comparison."""
    path, _ = align.viterbi_align_reference(log_probs, target, blank)
    return BestPath(path, log_probs, list(target), blank)


def _compare_paths(expected: BestPath, got) -> str | None:
    """Any path of maximal probability that collapses to the target is right: where two paths
    tie, the reference's choice (the first source listed) is one of several correct answers."""
    if isinstance(got, torch.Tensor):
        got = got.tolist()
    if not isinstance(got, (list, tuple)):
        return f"expected a list of one label per frame, got {describe(got)}"
    n_frames, n_classes = expected.log_probs.shape
    if len(got) != n_frames:
        return f"got {len(got)} labels, expected one per frame ({n_frames})"
    if any(not 0 <= int(k) < n_classes for k in got):
        return f"got {describe(got)}: labels must be class indices 0..{n_classes - 1}"
    got = [int(k) for k in got]
    collapsed = ctc.collapse(got, expected.blank)
    if collapsed != expected.target:
        return (
            f"the path {describe(got)} collapses to {collapsed}, not to the target "
            f"{expected.target} (a best path, e.g.: {expected.path})"
        )
    best, score = expected.score(expected.path), expected.score(got)
    if score < best - 1e-9 * max(1.0, abs(best)):
        return (
            f"the path {describe(got)} has log-probability {score:.6g}, but {expected.path} "
            f"has {best:.6g}: it is not the most probable path"
        )
    return None


def _viterbi_cases() -> list[Case]:
    rng = seeded(7)
    cases = [
        Case("one label in one frame", (random_log_probs(rng, 1, 3), [1])),
        Case(
            "a 3-letter word in 8 frames",
            (random_log_probs(rng, 8, 5), [1, 2, 3]),
            hint="delta[t][s] takes the max of three ways in (stay, from s-1, skip from s-2) "
            "and notes which one won, for the backtracking",
        ),
        Case(
            "a doubled label needs the blank between: [1, 1] in 5 frames",
            (random_log_probs(rng, 5, 3) * 3, [1, 1]),
            hint="the skip from s-2 is allowed only when ext[s] is not the blank and differs "
            "from ext[s-2]",
        ),
        Case(
            "the tightest fit: [1, 2, 1] in 3 frames (no blank fits)",
            (random_log_probs(rng, 3, 4), [1, 2, 1]),
            hint="a path may start in state 0 (blank) or state 1 (the first label), and end in "
            "the last label or the final blank",
        ),
        Case(
            "the best path ends on the last label, not the final blank",
            (
                torch.tensor([[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.1, 0.1, 0.8]]).log().double(),
                [1, 2],
            ),
            hint="the final state is the better of the last two states of the trellis",
        ),
        Case(
            "empty target: all blanks",
            (random_log_probs(rng, 4, 3), []),
            hint="with no labels the only path is blank, blank, ...",
        ),
        Case(
            "peaky posteriors of 30 frames that disagree with the transcript",
            (random_log_probs(rng, 30, 6) * 6, [5, 1, 4, 1, 2]),
            hint="the path must collapse to the target even where another label is likelier: "
            "forced alignment never leaves the trellis of the transcript",
        ),
    ]
    for i in range(8):
        frames = int(torch.randint(3, 20, (1,), generator=rng))
        length = int(torch.randint(1, max(2, frames // 2), (1,), generator=rng))
        target = torch.randint(1, 4, (length,), generator=rng).tolist()
        lp = random_log_probs(rng, frames, 4) * 2
        cases.append(Case(f"random: {length} labels in {frames} frames ({i + 1})", (lp, target)))
    return cases


register(
    Exercise(
        name="viterbi_align",
        chapter="07",
        signature="viterbi_align(log_probs, target, blank=0) -> list[int]  # one label per frame",
        reference=_viterbi_reference,
        cases=_viterbi_cases,
        compare=_compare_paths,
    )
)


# --- character segments ---------------------------------------------------------------------------


def _segments_reference(path: list[int], scores: torch.Tensor, blank: int = 0) -> list[tuple]:
    """``dslearn.align.token_segments`` as plain tuples ``(label, start, end, score)``."""
    return [
        (s.token_id, s.start_frame, s.end_frame, s.score)
        for s in align.token_segments(path, scores, blank)
    ]


def _segments_cases() -> list[Case]:
    def lp(values):
        return torch.tensor(values, dtype=torch.float64).log()

    cases = [
        Case(
            "one label held for two frames: [_, a, a, _]",
            ([0, 1, 1, 0], lp([0.9, 0.5, 0.8, 0.9])),
            hint="a segment is a run of one non-blank label: [start, end) in frames, end exclusive",
        ),
        Case(
            "a blank splits a doubled letter: h e l _ l o -> two l segments",
            ([8, 5, 12, 0, 12, 15], lp([0.9, 0.8, 0.7, 0.6, 0.9, 0.5])),
            hint="only equal labels on neighbouring frames merge; a blank ends a run",
        ),
        Case(
            "the score is exp(mean log-prob) of the run's frames: (0.9, 0.1) -> 0.3",
            ([0, 3, 3], lp([0.5, 0.9, 0.1])),
            hint="average the log-probabilities, then exponentiate: sqrt(0.9 * 0.1) = 0.3, not "
            "the mean probability 0.5",
        ),
        Case(
            "a run at the very end of the path",
            ([0, 0, 2, 2, 2], lp([0.9, 0.9, 0.4, 0.5, 0.6])),
            hint="close the last run when the path ends",
        ),
        Case("no labels at all", ([0, 0, 0], lp([0.9, 0.8, 0.7]))),
        Case(
            "another blank index: blank=3",
            ([3, 1, 1, 3, 2], lp([0.9, 0.8, 0.7, 0.6, 0.5])),
            {"blank": 3},
            hint="use the blank argument, not a hard-coded 0",
        ),
    ]
    rng = seeded(17)
    for i in range(8):
        frames = int(torch.randint(1, 25, (1,), generator=rng))
        path = torch.randint(0, 4, (frames,), generator=rng).tolist()
        scores = -torch.rand(frames, generator=rng, dtype=torch.float64) * 3
        cases.append(Case(f"random path of {frames} frames ({i + 1})", (path, scores)))
    return cases


register(
    Exercise(
        name="token_segments",
        chapter="07",
        signature="token_segments(path, scores, blank=0) -> list[(label, start, end, score)]",
        reference=_segments_reference,
        cases=_segments_cases,
        compare=close(rtol=1e-6, atol=1e-9),
    )
)
