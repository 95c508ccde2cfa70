"""The readable CTC forward algorithm equals torch's ctc_loss and brute-force enumeration."""

import itertools
import warnings

import pytest
import torch
import torch.nn.functional as F

from dslearn.ctc import (
    NonFiniteLossError,
    alignments,
    collapse,
    ctc_brute_force,
    ctc_forward_reference,
    ctc_loss,
    extend_with_blanks,
)


def test_collapse_merges_repeats_then_drops_blanks():
    assert collapse([0, 1, 1, 0, 1, 2, 2, 0]) == [1, 1, 2]
    assert collapse([3, 3, 3]) == [3]
    assert collapse([0, 0]) == []
    assert extend_with_blanks([5, 6]) == [0, 5, 0, 6, 0]


@pytest.mark.parametrize("target", [[1], [1, 2], [1, 1], [2, 1, 2], []])
def test_alignment_enumeration_matches_brute_force(target):
    n_frames, n_classes = 5, 3
    brute = {
        p for p in itertools.product(range(n_classes), repeat=n_frames) if collapse(p) == target
    }
    walked = list(alignments(target, n_frames))
    assert len(walked) == len(set(walked))  # each alignment exactly once
    assert set(walked) == brute


@pytest.mark.parametrize("seed", range(6))
def test_reference_equals_brute_force_on_tiny_cases(seed):
    g = torch.Generator().manual_seed(seed)
    n_frames = 4 + seed % 3
    log_probs = torch.randn(n_frames, 3, generator=g).log_softmax(-1)
    target = torch.randint(1, 3, (1 + seed % 3,), generator=g).tolist()
    ref = ctc_forward_reference(log_probs, target).item()
    assert ref == pytest.approx(ctc_brute_force(log_probs, target), rel=1e-5)


@pytest.mark.parametrize("seed", range(5))
def test_reference_equals_torch_value_and_gradient(seed):
    g = torch.Generator().manual_seed(100 + seed)
    n_frames, n_classes = 12, 6
    logits = torch.randn(n_frames, n_classes, generator=g, dtype=torch.float64)
    target = torch.randint(1, n_classes, (5,), generator=g)
    target[2] = target[1]  # a repeat forces the blank between them

    logits_ref = logits.clone().requires_grad_(True)
    ours = ctc_forward_reference(logits_ref.log_softmax(-1), target.tolist())
    ours.backward()

    logits_torch = logits.clone().requires_grad_(True)
    theirs = F.ctc_loss(
        logits_torch.log_softmax(-1)[:, None], target[None], [n_frames], [5], reduction="sum"
    )
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-9)
    assert torch.allclose(logits_ref.grad, logits_torch.grad, atol=1e-9)


def test_wrapper_is_batch_first_and_matches_torch():
    g = torch.Generator().manual_seed(7)
    log_probs = torch.randn(3, 20, 8, generator=g).log_softmax(-1)
    lengths = torch.tensor([20, 15, 9])
    targets = torch.randint(1, 8, (3, 6), generator=g)
    target_lengths = torch.tensor([6, 4, 2])
    per_utt = ctc_loss(log_probs, lengths, targets, target_lengths, reduction="none")
    for b in range(3):
        ref = ctc_forward_reference(log_probs[b, : lengths[b]], targets[b, : target_lengths[b]])
        assert per_utt[b].item() == pytest.approx(ref.item(), rel=1e-5)
    mean = ctc_loss(log_probs, lengths, targets, target_lengths)
    expected = F.ctc_loss(log_probs.transpose(0, 1), targets, lengths, target_lengths)
    assert mean.item() == pytest.approx(expected.item(), rel=1e-6)


def test_half_precision_inputs_are_computed_in_float32():
    g = torch.Generator().manual_seed(3)
    log_probs = torch.randn(2, 30, 5, generator=g).log_softmax(-1)
    args = (torch.tensor([30, 30]), torch.tensor([[1, 2, 3], [4, 1, 0]]), torch.tensor([3, 2]))
    full = ctc_loss(log_probs, *args)
    half = ctc_loss(log_probs.to(torch.bfloat16), *args)
    assert half.dtype == torch.float32
    assert half.item() == pytest.approx(full.item(), rel=2e-2)


def test_infinite_loss_is_reported_with_utterance_names():
    log_probs = torch.randn(2, 4, 5).log_softmax(-1)
    targets = torch.tensor([[1, 2, 3, 4, 1, 2], [1, 2, 0, 0, 0, 0]])
    args = (log_probs, torch.tensor([4, 4]), targets, torch.tensor([6, 2]))
    with pytest.raises(NonFiniteLossError, match=r"long\.wav \(loss inf, 4 frames for 6 labels\)"):
        ctc_loss(*args, names=["long.wav", "ok.wav"])


def test_skip_mode_warns_and_keeps_gradients_finite():
    logits = torch.randn(2, 4, 5, requires_grad=True)
    targets = torch.tensor([[1, 2, 3, 4, 1, 2], [1, 2, 0, 0, 0, 0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = ctc_loss(
            logits.log_softmax(-1),
            torch.tensor([4, 4]),
            targets,
            torch.tensor([6, 2]),
            names=["long.wav", "ok.wav"],
            on_nonfinite="skip",
        )
    assert "long.wav" in str(caught[0].message)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert logits.grad[0].abs().sum() == 0 and logits.grad[1].abs().sum() > 0
