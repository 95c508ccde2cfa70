"""Exercises of chapter 06 (decoding): greedy decoding, prefix beam search, perplexity."""

from __future__ import annotations

import math

import torch

from dslearn import ctc
from dslearn.decoding import PrefixBeamSearchDecoder
from dslearn.exercises import Case, Exercise, close, equal, random_log_probs, register, seeded
from dslearn.text import Alphabet


def _log(rows: list[list[float]]) -> torch.Tensor:
    """Probabilities, one row per frame -> ``(T, C)`` float64 log-probabilities."""
    return torch.tensor(rows, dtype=torch.float64).log()


# --- greedy ---------------------------------------------------------------------------------------


def _greedy_reference(log_probs: torch.Tensor, blank: int = 0) -> list[int]:
    """``dslearn.decoding.GreedyDecoder`` for one utterance: argmax per frame, then collapse."""
    return ctc.collapse(log_probs.argmax(dim=-1).tolist(), blank)


def _greedy_cases() -> list[Case]:
    cases = [
        Case("one frame, one label", (_log([[0.2, 0.7, 0.1]]),)),
        Case(
            "repeats merge: a a b -> a b",
            (_log([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]),),
            hint="consecutive frames with the same best label are one label: merge repeats",
        ),
        Case(
            "a blank between repeats keeps both: a _ a -> a a",
            (_log([[0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1]]),),
            hint="merge repeats first, then drop blanks: the blank separates the two a's",
        ),
        Case(
            "all blanks -> nothing",
            (_log([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1]]),),
            hint="blank frames emit nothing",
        ),
        Case(
            "the blank is not always index 0: blank=2",
            (_log([[0.1, 0.2, 0.7], [0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.1, 0.7, 0.2]]),),
            {"blank": 2},
            hint="use the blank argument, not a hard-coded 0",
        ),
    ]
    rng = seeded(6)
    for i in range(8):
        frames = int(torch.randint(1, 25, (1,), generator=rng))
        cases.append(
            Case(
                f"random {frames} frames x 4 classes ({i + 1})",
                (random_log_probs(rng, frames, 4) * 2,),
            )
        )
    return cases


register(
    Exercise(
        name="greedy_decode",
        chapter="06",
        signature="greedy_decode(log_probs, blank=0) -> list[int]  # (T, K) log-probs in",
        reference=_greedy_reference,
        cases=_greedy_cases,
        compare=equal,
    )
)


# --- prefix beam search ---------------------------------------------------------------------------


def _beam_reference(log_probs: torch.Tensor, beam_width: int, blank: int = 0) -> list[int]:
    """The best labelling of ``dslearn.decoding.PrefixBeamSearchDecoder`` (no LM, every label
    tried at every frame: ``token_min_logp=None``). The library's decoder takes the blank at
    index 0, so another blank is moved there first and the labels are mapped back after."""
    n_classes = log_probs.shape[-1]
    order = [blank] + [c for c in range(n_classes) if c != blank]  # new index -> old index
    decoder = PrefixBeamSearchDecoder(Alphabet(), beam_size=beam_width, token_min_logp=None)
    best = decoder.search(log_probs[:, order])[0]
    return [order[token] for token in best.tokens]


def _beam_cases() -> list[Case]:
    cases = [
        Case(
            "two frames of (blank 0.6, a 0.4), beam 2: 'a' (0.64) beats '' (0.36)",
            (_log([[0.6, 0.4], [0.6, 0.4]]), 2),
            hint="a prefix's probability is the sum over all its paths: a_, _a and aa all "
            "give 'a'. Keep p_b + p_nb for each prefix, not the best single path",
        ),
        Case(
            "beam 1 merges paths that greedy keeps apart: a then (blank .3, a .3, b .4) -> 'a'",
            (_log([[0.2, 0.6, 0.2], [0.3, 0.3, 0.4]]), 1),
            hint="extending 'a' with a blank or with another a both keep the prefix 'a': "
            "their probabilities add up (0.6 x 0.6) and beat 'ab' (0.6 x 0.4)",
        ),
        Case(
            "a repeat after a blank is a new letter: a _ a -> 'aa'",
            (_log([[0.05, 0.9, 0.05], [0.9, 0.05, 0.05], [0.05, 0.9, 0.05]]), 4),
            hint="keep p_b and p_nb apart: after a blank (p_b) the same label starts a new "
            "character; after itself (p_nb) it merges into the last one",
        ),
        Case(
            "a repeat without a blank merges: a a -> 'a'",
            (_log([[0.05, 0.9, 0.05], [0.05, 0.9, 0.05]]), 4),
            hint="a label equal to the prefix's last one, straight after it (p_nb), keeps the "
            "prefix unchanged",
        ),
        Case(
            "nothing but blanks -> empty labelling",
            (_log([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1]]), 3),
        ),
        Case(
            "the blank is not always index 0: blank=2",
            (_log([[0.1, 0.2, 0.7], [0.6, 0.2, 0.2], [0.2, 0.2, 0.6], [0.3, 0.6, 0.1]]), 3),
            {"blank": 2},
            hint="use the blank argument, not a hard-coded 0",
        ),
        Case(
            "uncertain frames: beam 3 over 6 frames and 3 classes",
            (_log([[0.4, 0.35, 0.25], [0.45, 0.3, 0.25], [0.3, 0.4, 0.3]] * 2), 3),
            hint="prune to the beam_width most probable prefixes (by p_b + p_nb) after every "
            "frame, and return the most probable prefix at the end",
        ),
    ]
    rng = seeded(16)
    for i in range(10):
        frames = int(torch.randint(2, 12, (1,), generator=rng))
        width = int(torch.randint(1, 6, (1,), generator=rng))
        lp = random_log_probs(rng, frames, 4)
        cases.append(Case(f"random: {frames} frames, beam {width} ({i + 1})", (lp, width)))
    return cases


register(
    Exercise(
        name="prefix_beam_search",
        chapter="06",
        signature="prefix_beam_search(log_probs, beam_width, blank=0) -> list[int]",
        reference=_beam_reference,
        cases=_beam_cases,
        compare=equal,
    )
)


# --- perplexity -----------------------------------------------------------------------------------


def _perplexity_reference(log10_probs: list[float]) -> float:
    """``10 ** (-mean log10 p)`` over the predicted tokens (words and ``</s>``), as in
    ``10 ** (-NGramLM.score_sentence(s) / (len(s.split()) + 1))`` for one sentence ``s``."""
    if any(lp == -math.inf for lp in log10_probs):
        return math.inf
    return 10 ** (-sum(log10_probs) / len(log10_probs))


def _perplexity_cases() -> list[Case]:
    cases = [
        Case(
            "one token of probability 0.1 -> perplexity 10",
            ([-1.0],),
            hint="perplexity = 10 ** (-(mean of the log10 probabilities))",
        ),
        Case(
            "four tokens of probability 1/2 each -> 2 (the mean, not the sum)",
            ([math.log10(0.5)] * 4,),
            hint="divide the total log-probability by the number of tokens before exponentiating",
        ),
        Case(
            "log10, not ln: probabilities 0.01 and 0.1",
            ([-2.0, -1.0],),
            hint="an ARPA LM (lm.log10_prob, score_sentence) gives log10 values: undo them with "
            "10 ** x, not exp(x)",
        ),
        Case(
            "a certain token (log10 p = 0) -> 1",
            ([0.0, 0.0, 0.0],),
            hint="a model that is never surprised has perplexity 1",
        ),
        Case(
            "a zero-probability token -> infinite perplexity",
            ([-0.5, -math.inf, -1.0],),
            hint="log10 0 = -inf: one impossible word makes the perplexity infinite",
        ),
    ]
    rng = seeded(26)
    for i in range(6):
        n = int(torch.randint(1, 20, (1,), generator=rng))
        values = (-3 * torch.rand(n, generator=rng, dtype=torch.float64)).tolist()
        cases.append(Case(f"random: {n} tokens ({i + 1})", (values,)))
    return cases


register(
    Exercise(
        name="perplexity",
        chapter="06",
        signature="perplexity(log10_probs) -> float  # log10 p of each predicted token in",
        reference=_perplexity_reference,
        cases=_perplexity_cases,
        compare=close(rtol=1e-6, atol=1e-9),
    )
)
