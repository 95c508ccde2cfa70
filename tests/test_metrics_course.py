"""Chapter 08's additions to dslearn.metrics: the edit table, the walk-back path, the bootstrap."""

import numpy as np
import pytest

from dslearn.metrics import (
    align_tokens,
    alignment_path,
    bootstrap_wer,
    bootstrap_wer_samples,
    edit_table,
    utterance_errors,
    wer,
)


def test_edit_table_boundaries_and_corner_match_align_tokens():
    ref, hyp = "the cat sat on the mat".split(), "the cat sit on mat".split()
    table = edit_table(ref, hyp)
    assert [row[0] for row in table] == list(range(len(ref) + 1))  # delete everything
    assert table[0] == list(range(len(hyp) + 1))  # insert everything
    assert table[-1][-1] == align_tokens(ref, hyp).errors == 2
    assert edit_table([], []) == [[0]]


def test_alignment_path_steps_follow_the_alignment():
    counts = align_tokens("a b c".split(), "a x c d".split())
    path = alignment_path(counts)
    assert path[0] == (0, 0) and path[-1] == (3, 4)
    steps = [(i1 - i0, j1 - j0) for (i0, j0), (i1, j1) in zip(path, path[1:])]
    assert steps == [(1, 1), (1, 1), (1, 1), (0, 1)]  # a=a, b->x, c=c, +d
    assert all(s in {(1, 1), (1, 0), (0, 1)} for s in steps)


def test_utterance_errors_sum_to_the_corpus_wer():
    refs, hyps = ["a b c d", "e", ""], ["a b c d", "x", ""]
    errors, words = utterance_errors(refs, hyps)
    assert errors.tolist() == [0, 1, 0] and words.tolist() == [4, 1, 0]
    assert errors.sum() / words.sum() == pytest.approx(wer(refs, hyps))
    with pytest.raises(ValueError, match="2 references but 1"):
        utterance_errors(["a", "b"], ["a"])


def test_bootstrap_interval_contains_the_wer_is_seeded_and_narrows_with_more_data():
    rng = np.random.default_rng(1)
    refs = [" ".join(["w"] * int(rng.integers(3, 9))) for _ in range(400)]
    hyps = [" ".join("w" if rng.random() > 0.2 else "x" for _ in r.split()) for r in refs]
    small = bootstrap_wer(refs[:25], hyps[:25], n=500, seed=0)
    large = bootstrap_wer(refs, hyps, n=500, seed=0)
    for iv in (small, large):
        assert iv.low <= iv.wer <= iv.high
    assert large.wer == pytest.approx(wer(refs, hyps))
    assert (large.high - large.low) < (small.high - small.low)
    assert abs(large.wer - 0.2) < 0.05 and large.low < 0.2 < large.high
    assert bootstrap_wer(refs, hyps, seed=3) == bootstrap_wer(refs, hyps, seed=3)
    assert large.utterances == 400 and "95% CI" in str(large)


def test_bootstrap_of_a_perfect_transcript_is_zero_and_samples_have_the_asked_shape():
    iv = bootstrap_wer(["a b", "c"], ["a b", "c"], n=50)
    assert (iv.wer, iv.low, iv.high) == (0.0, 0.0, 0.0)
    assert bootstrap_wer_samples(["a b", "c"], ["a", "c"], n=64).shape == (64,)
    with pytest.raises(ValueError, match="no utterances"):
        bootstrap_wer_samples([], [])
