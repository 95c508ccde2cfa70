"""WER/CER against hand-computed cases, and against jiwer where it is installed."""

import pytest

from dslearn.metrics import cer, char_errors, corpus_errors, wer, word_errors


def test_hand_computed_word_edits():
    e = word_errors("the cat sat on the mat", "the cat sit on mat")
    # sat->sit (S), the second "the" deleted (D): 2 errors over 6 words, no cheaper alignment.
    assert (e.substitutions, e.deletions, e.insertions, e.hits) == (1, 1, 0, 4)
    assert e.rate == pytest.approx(2 / 6)
    assert ("sat", "sit") in e.alignment and ("the", None) in e.alignment
    e = word_errors("turn the lights off", "turn on the lights off")
    assert (e.substitutions, e.deletions, e.insertions) == (0, 0, 1)
    assert (None, "on") in e.alignment


def test_identical_and_empty():
    assert wer("a b c", "a b c") == 0.0
    assert wer("a b c", "") == 1.0
    assert wer("", "") == 0.0
    assert wer("", "x") == float("inf")
    assert wer("a", "a b c d") == 3.0  # insertions can push WER past 1


def test_cer_ignores_extra_spaces_and_counts_characters():
    assert cer("hello world", "hello   world") == 0.0
    e = char_errors("kitten", "sitting")
    assert e.errors == 3 and e.reference_length == 6


def test_corpus_rate_is_total_edits_over_total_words():
    refs, hyps = ["a b c d", "e"], ["a b c d", "x"]
    assert wer(refs, hyps) == pytest.approx(1 / 5)  # not the mean of 0 and 1
    summary = corpus_errors(refs, hyps)
    assert summary["n"] == 2 and summary["words"] == 5 and summary["word_substitutions"] == 1
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        wer(refs, hyps[:1])


def test_against_jiwer_when_installed():
    jiwer = pytest.importorskip("jiwer")
    refs = ["set a timer for five minutes", "what is the weather in paris", "call mom"]
    hyps = ["set the timer for minutes", "what is weather in in paris today", "call tom now"]
    assert wer(refs, hyps) == pytest.approx(jiwer.wer(refs, hyps))
    assert cer(refs, hyps) == pytest.approx(jiwer.cer(refs, hyps))
