"""Decoders: greedy, the readable prefix beam search and the fast flashlight beam search agree
where they must, and the prefix search is exact when its beam holds every prefix."""

from __future__ import annotations

import itertools
import math
import os

import pytest
import torch

from dslearn.decoding import (
    GreedyDecoder,
    LMBeamSearchDecoder,
    PrefixBeamSearchDecoder,
    labeling_log_prob,
)
from dslearn.text import Alphabet

ALPHABET = Alphabet()


def peaky(T: int, C: int, seed: int, peak: float = 6.0) -> torch.Tensor:
    """Random ``(T, C)`` log-probs whose best class per frame has probability above 0.5."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(T, C, generator=g)
    best = torch.randint(0, C, (T,), generator=g)
    # blanks dominate real CTC output; make half the frames blank-peaked
    best[torch.rand(T, generator=g) < 0.5] = 0
    logits[torch.arange(T), best] += peak + 2.0
    return logits.log_softmax(-1)


def test_beam_one_equals_greedy_on_peaky_posteriors():
    greedy = GreedyDecoder(ALPHABET)
    beam = PrefixBeamSearchDecoder(ALPHABET, beam_size=1, token_min_logp=None)
    for seed in range(20):
        lp = peaky(60, len(ALPHABET), seed)
        assert lp.exp().max(-1).values.min() > 0.5
        lengths = torch.tensor([60])
        g, b = greedy(lp[None], lengths)[0], beam(lp[None], lengths)[0]
        assert b.text == g.text
        assert b.tokens == g.tokens and b.token_frames == g.token_frames


def brute_force_best(log_probs: torch.Tensor, n_labels: int) -> tuple[tuple[int, ...], float]:
    """Every label sequence that fits in T frames, scored by the CTC forward algorithm."""
    T = log_probs.shape[0]
    best, best_score = (), -math.inf
    for length in range(T + 1):
        for seq in itertools.product(range(1, n_labels), repeat=length):
            repeats = sum(a == b for a, b in zip(seq, seq[1:]))
            if length + repeats > T:
                continue  # needs more frames than there are
            score = labeling_log_prob(log_probs, list(seq))
            if score > best_score:
                best, best_score = seq, score
    return best, best_score


@pytest.mark.parametrize("seed", range(8))
def test_full_beam_equals_brute_force(seed):
    alphabet = Alphabet(" ab")  # blank, space, a, b
    g = torch.Generator().manual_seed(seed)
    lp = (torch.randn(5, len(alphabet), generator=g) * 1.5).log_softmax(-1)
    decoder = PrefixBeamSearchDecoder(alphabet, beam_size=10_000, token_min_logp=None)
    hyp = decoder.search(lp)[0]
    best, best_score = brute_force_best(lp, len(alphabet))
    assert tuple(hyp.tokens) == best
    assert hyp.score == pytest.approx(best_score, abs=1e-4)


def test_prefix_probabilities_are_exact():
    """Every surviving prefix's score is its total CTC probability (no LM, no pruning)."""
    alphabet = Alphabet(" ab")
    lp = (torch.randn(6, len(alphabet), generator=torch.Generator().manual_seed(3))).log_softmax(-1)
    for hyp in PrefixBeamSearchDecoder(alphabet, beam_size=10_000, token_min_logp=None).search(lp):
        assert hyp.score == pytest.approx(labeling_log_prob(lp, hyp.tokens), abs=1e-4)


def test_fast_decoder_agrees_with_readable_without_lm():
    fast = LMBeamSearchDecoder(ALPHABET, lm=None, beam_size=16, lexicon=False)
    readable = PrefixBeamSearchDecoder(ALPHABET, beam_size=16)
    for seed in range(8):
        lp = peaky(80, len(ALPHABET), seed)
        lengths = torch.tensor([80])
        assert fast(lp[None], lengths)[0].text == readable(lp[None], lengths)[0].text


def test_batched_lengths_are_respected():
    lp = torch.stack([peaky(50, len(ALPHABET), 1), peaky(50, len(ALPHABET), 2)])
    lengths = torch.tensor([50, 20])
    for decoder in (
        GreedyDecoder(ALPHABET),
        PrefixBeamSearchDecoder(ALPHABET, beam_size=4),
        LMBeamSearchDecoder(ALPHABET, beam_size=4, lexicon=False),
    ):
        hyps = decoder(lp, lengths)
        alone = decoder(lp[1:, :20], torch.tensor([20]))[0]
        assert hyps[1].text == alone.text
        assert all(f < 20 for f in hyps[1].token_frames)


def test_word_timestamps_in_seconds():
    # "ab a" spoken at frames 2, 5 (space at 7), 9 with 20 ms frames
    a, b, space = ALPHABET.encode("ab ")
    path = [0, 0, a, 0, 0, b, 0, space, 0, a, 0]
    lp = torch.full((len(path), len(ALPHABET)), -20.0)
    lp[torch.arange(len(path)), torch.tensor(path)] = 0.0
    lp = lp.log_softmax(-1)
    for decoder in (GreedyDecoder(ALPHABET), PrefixBeamSearchDecoder(ALPHABET, beam_size=4)):
        hyp = decoder(lp[None], torch.tensor([len(path)]))[0]
        assert hyp.text == "ab a"
        assert [(w.word, w.start, w.end) for w in hyp.words] == [
            ("ab", 0.04, 0.12),
            ("a", 0.18, 0.2),
        ]
        assert 0.9 < hyp.confidence <= 1.0


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="beam_size"):
        PrefixBeamSearchDecoder(ALPHABET, beam_size=0)
    with pytest.raises(FileNotFoundError, match="nope.arpa"):
        LMBeamSearchDecoder(ALPHABET, lm="nope.arpa")


SENTENCES = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat ate the rat",
    "the rat sat on a log",
    "a dog ate the cat",
]


@pytest.fixture(scope="module")
def small_lm(tmp_path_factory):
    from dslearn.lm import build_lm

    lm = build_lm(SENTENCES * 3, order=3, discounts={n: (0.5, 1.0, 1.5) for n in (1, 2, 3)})
    path = tmp_path_factory.mktemp("lm") / "small.arpa"
    lm.write_arpa(path)
    return lm, path


def spoken(text: str, confusions: dict[int, str] | None = None, seed: int = 0) -> torch.Tensor:
    """``(T, C)`` posteriors that spell ``text`` (two frames a character, a blank after each);
    at character ``i`` of ``confusions`` the acoustics prefer another letter."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    for i, c in enumerate(ALPHABET.encode(text)):
        for _ in range(2):
            row = torch.randn(len(ALPHABET), generator=g) - 6.0
            row[c] = 0.0
            if confusions and i in confusions:
                row[ALPHABET.encode(confusions[i])[0]] = 0.7  # wrong letter, a bit likelier
            rows.append(row)
        blank = torch.randn(len(ALPHABET), generator=g) - 6.0
        blank[ALPHABET.blank_id] = 0.0
        rows.append(blank)
    return torch.stack(rows).log_softmax(-1)


def test_lm_repairs_a_misheard_word(small_lm):
    lm, path = small_lm
    lp = spoken("the cat sat on the mat", confusions={4: "k"})[None]
    lengths = torch.tensor([lp.shape[1]])
    assert GreedyDecoder(ALPHABET)(lp, lengths)[0].text == "the kat sat on the mat"
    readable = PrefixBeamSearchDecoder(ALPHABET, beam_size=16, lm=lm, alpha=1.0, beta=1.0)
    fast = LMBeamSearchDecoder(ALPHABET, lm=path, alpha=1.0, beta=1.0, beam_size=16)
    assert readable(lp, lengths)[0].text == "the cat sat on the mat"
    assert fast(lp, lengths)[0].text == "the cat sat on the mat"
    # without the LM the readable search hears what the acoustics say
    assert PrefixBeamSearchDecoder(ALPHABET)(lp, lengths)[0].text == "the kat sat on the mat"


def test_small_lexicon_needs_every_token_per_frame(tmp_path):
    """A voice the model hears poorly: each letter of 'two' is only the 7th likeliest token of its
    frames, behind six letters that spell no digit. Trying 6 tokens per frame (the default) the
    search cannot spell any word of a digits lexicon and says nothing; trying all, it says 'two'."""
    from dslearn.lm import build_arpa

    digits = "zero one two three four five six seven eight nine".split()
    (tmp_path / "digits.txt").write_text("\n".join(digits) + "\n")
    with pytest.warns(UserWarning, match="Kneser-Ney"):  # ten one-word lines: fallback discounts
        build_arpa(tmp_path / "digits.txt", tmp_path / "digits.arpa", order=2, progress=False)
    decoys = ALPHABET.encode("qjxkbm")  # letters of no digit word
    rows = []
    for c in ALPHABET.encode("two"):
        for _ in range(3):
            row = torch.full((len(ALPHABET),), -8.0)
            row[decoys] = torch.linspace(0.0, -0.5, len(decoys))
            row[c] = -1.0  # the right letter, seventh
            rows.append(row)
        blank = torch.full((len(ALPHABET),), -8.0)
        blank[ALPHABET.blank_id] = 0.0
        rows.append(blank)
    lp = torch.stack(rows).log_softmax(-1)[None]
    lengths = torch.tensor([lp.shape[1]])
    settings = dict(lm=tmp_path / "digits.arpa", alpha=0.5, beta=2.0, beam_size=32)
    assert LMBeamSearchDecoder(ALPHABET, **settings)(lp, lengths)[0].text == ""
    every = LMBeamSearchDecoder(ALPHABET, **settings, beam_size_token=None)
    assert every(lp, lengths)[0].text == "two"


@pytest.mark.parametrize("alpha,beta", [(0.5, 0.0), (1.0, 1.0), (2.0, 2.0)])
def test_fast_and_readable_agree_with_the_same_lm(small_lm, alpha, beta):
    lm, path = small_lm
    readable = PrefixBeamSearchDecoder(ALPHABET, beam_size=32, lm=lm, alpha=alpha, beta=beta)
    fast = LMBeamSearchDecoder(ALPHABET, lm=path, alpha=alpha, beta=beta, beam_size=32)
    rng = torch.Generator().manual_seed(0)
    for k, sentence in enumerate(SENTENCES):
        n_chars = len(sentence)
        wrong = torch.randint(0, n_chars, (2,), generator=rng).tolist()
        confusions = {i: "o" for i in wrong if sentence[i] != " "}
        lp = spoken(sentence, confusions, seed=k)[None]
        lengths = torch.tensor([lp.shape[1]])
        assert fast(lp, lengths)[0].text == readable(lp, lengths)[0].text


def test_lm_scores_use_log10_like_kenlm(small_lm):
    lm, _ = small_lm
    lp = spoken("the cat sat")
    # a beam wide enough to keep every path of the answer: its acoustic score is then exact
    decoder = PrefixBeamSearchDecoder(
        ALPHABET, lm=lm, alpha=2.0, beta=0.5, beam_size=256, token_min_logp=-12.0
    )
    hyp = decoder.search(lp)[0]
    assert hyp.text == "the cat sat"
    acoustic = labeling_log_prob(lp, ALPHABET.encode("the cat sat"))
    expected = acoustic + 2.0 * lm.score_sentence("the cat sat") + 0.5 * 3
    assert hyp.score == pytest.approx(expected, abs=1e-4)


def test_loading_the_lm_keeps_kenlms_progress_bar_out_of_stderr(small_lm, capfd):
    _, path = small_lm
    LMBeamSearchDecoder(ALPHABET, lm=path, alpha=1.0, beta=1.0, beam_size=4)
    err = capfd.readouterr().err
    assert "Loading the LM" not in err and "*****" not in err and str(path) not in err, err


def test_other_stderr_output_while_loading_still_gets_through(capfd):
    from dslearn.decoding import _kenlm_progress_silenced

    with _kenlm_progress_silenced():
        os.write(2, b"Reading /tmp/x.arpa\n" + b"*" * 100 + b"\nWarning: unusual n-gram\n")
    assert capfd.readouterr().err == "Warning: unusual n-gram\n"
