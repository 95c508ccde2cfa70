"""Chapter 03/14 additions: the forward/backward tables, alignment counts and their figures."""

import math

import matplotlib
import pytest
import torch

from dslearn import plot
from dslearn.ctc import (
    alignments,
    count_alignments,
    ctc_alpha_beta,
    ctc_forward_reference,
    extend_with_blanks,
)
from dslearn.text import Alphabet

matplotlib.use("Agg")


@pytest.mark.parametrize("target", [[1, 2, 1], [1, 1], [], [3], [2, 2, 2]])
@pytest.mark.parametrize("seed", range(3))
def test_alpha_beta_agree_with_the_reference_and_the_occupancy_sums_to_one(target, seed):
    torch.manual_seed(seed)
    log_probs = torch.randn(9, 4, dtype=torch.float64).log_softmax(-1)
    log_alpha, log_beta = ctc_alpha_beta(log_probs, target)
    ext = extend_with_blanks(target)
    assert log_alpha.shape == log_beta.shape == (9, len(ext))
    log_p = -ctc_forward_reference(log_probs, target).item()
    # the forward end, the backward start and sum_s alpha beta / y at every frame: one number
    assert torch.logsumexp(log_alpha[-1, -2:], 0).item() == pytest.approx(log_p, abs=1e-9)
    assert torch.logsumexp(log_beta[0, :2], 0).item() == pytest.approx(log_p, abs=1e-9)
    per_frame = torch.logsumexp(log_alpha + log_beta - log_probs[:, ext], dim=1)
    assert torch.allclose(per_frame, torch.full_like(per_frame, log_p), atol=1e-9)
    gamma = (log_alpha + log_beta - log_probs[:, ext] - log_p).exp()
    assert torch.allclose(gamma.sum(1), torch.ones(9, dtype=torch.float64), atol=1e-9)


def test_alpha_beta_of_an_impossible_target_are_minus_infinity_at_the_ends():
    log_probs = torch.randn(2, 3).log_softmax(-1)
    log_alpha, log_beta = ctc_alpha_beta(log_probs, [1, 1])  # needs 3 frames
    assert torch.isinf(log_alpha[-1, -2:]).all() and torch.isinf(log_beta[0, :2]).all()


def test_the_occupancy_gradient_equals_autograd():
    torch.manual_seed(0)
    logits = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    target = [1, 2, 2, 3]
    log_probs = logits.log_softmax(-1)
    ctc_forward_reference(log_probs, target).backward()
    log_alpha, log_beta = ctc_alpha_beta(log_probs, target)
    ext = extend_with_blanks(target)
    lp = log_probs.detach()
    log_p = torch.logsumexp(log_alpha[-1, -2:], 0)
    gamma = (log_alpha + log_beta - lp[:, ext] - log_p).exp()  # (T, S)
    occupancy = torch.zeros(7, 5, dtype=torch.float64).index_add_(1, torch.tensor(ext), gamma)
    assert torch.allclose(logits.grad, lp.exp() - occupancy, atol=1e-9)


@pytest.mark.parametrize("target", [[1], [1, 2], [1, 1], [2, 1, 2], [], [1, 1, 1]])
def test_count_alignments_equals_enumeration_and_the_closed_form(target):
    repeats = sum(a == b for a, b in zip(target, target[1:]))
    for n_frames in range(1, 9):
        n = count_alignments(target, n_frames)
        assert n == len(list(alignments(target, n_frames)))
        free = n_frames - len(target) - repeats
        assert n == (math.comb(n_frames + len(target) - repeats, free) if free >= 0 else 0)


def test_the_chapter_figures_draw():
    alphabet = Alphabet()
    target = alphabet.encode("cat")
    log_alpha, _ = ctc_alpha_beta(torch.randn(6, len(alphabet)).log_softmax(-1), target)
    ax = plot.trellis_heatmap(log_alpha, target, alphabet, title="alpha")
    assert len(ax.get_yticks()) == 7
    assert plot.ctc_lattice("cat", 6, path=[0, 1, 2, 3, 4, 5]).get_title()
    assert plot.transducer_lattice("cat", 4, path="lblblb").get_title()
    assert plot.timeline([(2006, "CTC", "end-to-end"), (2012, "RNN-T", "end-to-end")])
    import matplotlib.pyplot as plt

    plt.close("all")
