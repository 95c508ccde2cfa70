"""Decoders: from per-frame log-probabilities to text, with times and a confidence.

Every decoder is called the same way, ``decoder(log_probs, lengths) -> list[Hypothesis]``, with
``log_probs`` ``(B, T, C)`` and ``lengths`` ``(B,)`` in output frames. Times are in seconds, using
``frame_shift``: the seconds between two output frames (20 ms for the DS2 presets: a 10 ms hop
times a time stride of 2).
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch

from dslearn.text import Alphabet

NEG_INF = float("-inf")


@dataclass
class WordTiming:
    word: str
    start: float  # seconds
    end: float  # seconds


@dataclass
class Hypothesis:
    text: str
    score: float  # log-probability of the decoded path (plus LM terms for LM decoders)
    confidence: float  # in [0, 1]: geometric mean of the chosen frames' probabilities
    tokens: list[int] = field(default_factory=list)  # emitted class indices
    token_frames: list[int] = field(default_factory=list)  # output frame where each token starts
    words: list[WordTiming] = field(default_factory=list)


def words_from_tokens(
    tokens: list[int], frames: list[int], alphabet: Alphabet, frame_shift: float
) -> list[WordTiming]:
    """Group emitted characters into words; a word spans its first to its last character's frame."""
    words, chars, first, last = [], [], None, None
    for token, frame in zip([*tokens, alphabet.space_id], [*frames, None]):
        if token == alphabet.space_id:
            if chars:
                start, end = first * frame_shift, (last + 1) * frame_shift
                words.append(WordTiming("".join(chars), round(start, 3), round(end, 3)))
            chars, first = [], None
            continue
        chars.append(alphabet.tokens[token])
        first = frame if first is None else first
        last = frame
    return words


class GreedyDecoder:
    """Best label per frame, then merge repeats and drop blanks (the CTC collapse)."""

    def __init__(self, alphabet: Alphabet, frame_shift: float = 0.02) -> None:
        self.alphabet = alphabet
        self.frame_shift = frame_shift

    def __call__(self, log_probs: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        best_lp, best = log_probs.detach().float().max(dim=-1)  # (B, T) each
        best_lp, best = best_lp.cpu(), best.cpu()
        out = []
        for b, n in enumerate(lengths.tolist()):
            path, path_lp = best[b, :n].tolist(), best_lp[b, :n]
            tokens, frames, previous = [], [], None
            for t, label in enumerate(path):
                if label != previous and label != self.alphabet.blank_id:
                    tokens.append(label)
                    frames.append(t)
                previous = label
            score = float(path_lp.sum())
            confidence = float(path_lp.mean().exp()) if n else 0.0
            text = " ".join(self.alphabet.decode(tokens).split())
            words = words_from_tokens(tokens, frames, self.alphabet, self.frame_shift)
            out.append(Hypothesis(text, score, confidence, tokens, frames, words))
        return out


def _logaddexp(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    hi, lo = (a, b) if a > b else (b, a)
    return hi + math.log1p(math.exp(lo - hi))


def _accumulate(
    beams: dict[tuple[int, ...], list[float]], prefix: tuple[int, ...], slot: int, value: float
) -> None:
    """Add probability ``value`` to ``beams[prefix][slot]`` (slot 0: ends in blank, 1: not)."""
    beams.setdefault(prefix, [NEG_INF, NEG_INF])
    beams[prefix][slot] = _logaddexp(beams[prefix][slot], value)


def labeling_log_prob(log_probs: torch.Tensor, tokens: list[int], blank: int = 0) -> float:
    """ln P(tokens | log_probs) summed over every CTC alignment; ``log_probs`` is ``(T, C)``."""
    if not tokens:
        return float(log_probs[:, blank].sum())
    loss = torch.nn.functional.ctc_loss(
        log_probs.float().unsqueeze(1),
        torch.tensor([tokens]),
        torch.tensor([log_probs.shape[0]]),
        torch.tensor([len(tokens)]),
        blank=blank,
        reduction="sum",
        zero_infinity=False,
    )
    return -float(loss)


class PrefixBeamSearchDecoder:
    """CTC prefix beam search, written to be read next to the decoding notebook.

    A *prefix* is a label sequence after the CTC collapse. For each prefix we keep two numbers,
    in log space: ``p_b``, the probability of all alignments of the frames so far that produce
    the prefix and end in a blank, and ``p_nb``, those that end in its last label. Keeping them
    apart is what lets the search tell "a a" (blank between: two letters) from "aa" (one).

    At each frame every prefix can stay the same (a blank, or a repeat of its last label) or grow
    by one label; the ``beam_size`` most probable prefixes survive. With a word language model,
    each word gets ``alpha * log10 P_LM(word | previous words) + beta`` when it is completed (by a
    space, or by the end of the utterance): ``alpha`` weighs the LM against the acoustics,
    ``beta`` rewards each word so the LM does not favour dropping them. The LM term is in log10,
    as KenLM reports it and flashlight adds it, so one tuned alpha serves both beam decoders.
    """

    def __init__(
        self,
        alphabet: Alphabet,
        beam_size: int = 16,
        lm=None,
        alpha: float = 0.5,
        beta: float = 1.0,
        token_min_logp: float | None = math.log(1e-4),
        frame_shift: float = 0.02,
        lexicon: bool | Iterable[str] = True,
    ) -> None:
        """``lm``: anything with ``log10_prob(word, context)`` (``dslearn.lm.NGramLM``).
        ``token_min_logp``: labels below this log-probability at a frame are not tried
        (``None`` tries every label: exact, slow). ``lexicon``: with an LM, only spell words
        of the LM's vocabulary (``True``, as the fast decoder does), of a given word list, or
        any word (``False``; unknown words get the LM's ``<unk>`` probability)."""
        if beam_size < 1:
            raise ValueError(f"beam_size must be at least 1, got {beam_size}")
        if alphabet.space_id is None and lm is not None:
            raise ValueError("a word language model needs an alphabet with a space")
        self.alphabet = alphabet
        self.beam_size = beam_size
        self.lm, self.alpha, self.beta = lm, alpha, beta
        self.token_min_logp = token_min_logp
        self.frame_shift = frame_shift
        self.vocabulary: set[str] | None = None
        if lm is not None and lexicon is not False:
            self.vocabulary = set(lm.vocab if lexicon is True else lexicon)
        self.word_prefixes = None
        if self.vocabulary is not None:
            self.word_prefixes = {w[:k] for w in self.vocabulary for k in range(1, len(w) + 1)}

    # -- language model ---------------------------------------------------------------------------
    def _word_score(self, words: tuple[str, ...], last: bool) -> float:
        """LM bonus for completing ``words[-1]`` after ``words[:-1]`` (and ``</s>`` if ``last``)."""
        if self.lm is None or not words:
            return 0.0
        context = ("<s>", *words[:-1])
        log10 = self.lm.log10_prob(words[-1], context)
        if last:
            log10 += self.lm.log10_prob("</s>", ("<s>", *words))
        return self.alpha * log10 + self.beta

    def _extend_lm(self, lm_score: float, prefix: tuple[int, ...], label: int) -> float:
        """The LM score of ``prefix + (label,)`` from the score of ``prefix``; ``-inf`` when a
        vocabulary is set and the new prefix cannot be spelled with its words."""
        if self.lm is None:
            return lm_score
        text = self.alphabet.decode((*prefix, label))
        partial = text.split(" ")[-1]
        if label != self.alphabet.space_id:
            if self.word_prefixes is not None and partial not in self.word_prefixes:
                return NEG_INF  # no word of the vocabulary starts like this
            return lm_score
        words = tuple(text.split())
        if not prefix or prefix[-1] == self.alphabet.space_id or not words:
            return lm_score  # a second space completes no word
        if self.vocabulary is not None and words[-1] not in self.vocabulary:
            return NEG_INF  # a vocabulary word's beginning, but no word
        return lm_score + self._word_score(words, last=False)

    def _final_lm(self, lm_score: float, prefix: tuple[int, ...]) -> float:
        if self.lm is None:
            return lm_score
        words = tuple(self.alphabet.decode(prefix).split())
        if prefix and prefix[-1] != self.alphabet.space_id and words:
            if self.vocabulary is not None and words[-1] not in self.vocabulary:
                return NEG_INF  # the last word stops half-way through a vocabulary word
            return lm_score + self._word_score(words, last=True)  # the unfinished last word
        return lm_score + self.alpha * self.lm.log10_prob("</s>", ("<s>", *words))

    # -- search -----------------------------------------------------------------------------------
    def search(self, log_probs: torch.Tensor) -> list[Hypothesis]:
        """All surviving prefixes of one utterance, best first; ``log_probs`` is ``(T, C)``."""
        lp = log_probs.detach().float().cpu().tolist()
        blank = self.alphabet.blank_id
        # prefix -> [p_b, p_nb]; lm[prefix] -> LM score; frames[prefix] -> where each label began
        beams: dict[tuple[int, ...], list[float]] = {(): [0.0, NEG_INF]}
        lm_scores: dict[tuple[int, ...], float] = {(): 0.0}
        frames: dict[tuple[int, ...], tuple[int, ...]] = {(): ()}

        def total(prefix: tuple[int, ...]) -> float:
            p_b, p_nb = beams[prefix]
            return _logaddexp(p_b, p_nb) + lm_scores[prefix]

        for t, frame in enumerate(lp):
            labels = [
                c
                for c in range(len(frame))
                if c != blank and (self.token_min_logp is None or frame[c] >= self.token_min_logp)
            ]
            nxt: dict[tuple[int, ...], list[float]] = {}
            add = partial(_accumulate, nxt)
            for prefix, (p_b, p_nb) in beams.items():
                p = _logaddexp(p_b, p_nb)
                add(prefix, 0, p + frame[blank])  # a blank keeps the prefix
                last = prefix[-1] if prefix else None
                for c in labels:
                    grown = (*prefix, c)
                    if c == last:
                        add(prefix, 1, p_nb + frame[c])  # a repeat merges into the last label
                        new = p_b + frame[c]  # after a blank the same label is a new one
                    else:
                        new = p + frame[c]
                    if grown not in nxt or new > _logaddexp(*nxt[grown]):
                        frames[grown] = (*frames[prefix], t)  # the likelier path's timing
                    add(grown, 1, new)
                    if grown not in lm_scores:
                        lm_scores[grown] = self._extend_lm(lm_scores[prefix], prefix, c)
            beams = {prefix: v for prefix, v in nxt.items() if lm_scores[prefix] > NEG_INF}
            best = sorted(beams, key=total, reverse=True)[: self.beam_size]
            beams = {prefix: beams[prefix] for prefix in best}

        n = max(1, len(lp))
        hyps = []
        for prefix, (p_b, p_nb) in beams.items():
            acoustic = _logaddexp(p_b, p_nb)
            score = acoustic + self._final_lm(lm_scores[prefix], prefix)
            tokens = list(prefix)
            text = " ".join(self.alphabet.decode(tokens).split())
            token_frames = list(frames[prefix])
            words = words_from_tokens(tokens, token_frames, self.alphabet, self.frame_shift)
            confidence = math.exp(acoustic / n)
            hyps.append(Hypothesis(text, score, confidence, tokens, token_frames, words))
        return sorted(hyps, key=lambda h: h.score, reverse=True)

    def __call__(self, log_probs: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        """``(B, T, C)`` log-probs, ``(B,)`` frame lengths -> the best hypothesis of each."""
        return [self.search(log_probs[b, :n])[0] for b, n in enumerate(lengths.tolist())]

    def nbest(
        self, log_probs: torch.Tensor, lengths: torch.Tensor, n: int
    ) -> list[list[Hypothesis]]:
        """The ``n`` best hypotheses of each utterance."""
        return [self.search(log_probs[b, :k])[:n] for b, k in enumerate(lengths.tolist())]


def arpa_vocabulary(path: str | os.PathLike) -> list[str]:
    """The words of an ARPA file's unigram section (no ``<s>``, ``</s>``, ``<unk>``)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    words, inside = [], False
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line == "\\1-grams:":
                inside = True
            elif inside and line.startswith("\\"):
                break
            elif inside and line:
                parts = line.split()
                if len(parts) < 2:
                    raise ValueError(f"{path}: malformed unigram line {line!r}")
                if parts[1] not in ("<s>", "</s>", "<unk>"):
                    words.append(parts[1])
    if not words:
        raise ValueError(f"{path}: no unigrams found; is this an ARPA language model?")
    return words


# What KenLM prints on every ARPA load: a hint, the file name and a progress bar.
_KENLM_CHATTER = re.compile(
    r"^(Loading the LM will be faster if you build a binary file\.|Reading .*|[-0-9]+|\**)$"
)


@contextlib.contextmanager
def _kenlm_progress_silenced():
    """Drop KenLM's load chatter from stderr (fd 2); pass on anything else written meanwhile.

    KenLM prints a hint and a 100-character progress bar to stderr every time it reads an ARPA
    file, which lands in every notebook cell and command that loads the LM. Python's
    ``sys.stderr`` cannot catch it: the C++ side writes to the file descriptor, so fd 2 points at
    a temporary file meanwhile. Lines other than the chatter (warnings, errors) are written back.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (some embedded interpreters): leave stderr alone
        yield
        return
    with tempfile.TemporaryFile() as held:
        sys.stderr.flush()
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines = held.read().decode(errors="replace").splitlines()
            rest = [line for line in lines if not _KENLM_CHATTER.match(line.strip())]
            if rest:
                sys.stderr.write("\n".join(rest) + "\n")


class LMBeamSearchDecoder:
    """The fast path: flashlight-text's beam search (through torchaudio) with a KenLM n-gram LM.

    With a lexicon (the default when an LM is given: every word of the LM, spelled with the
    alphabet), the search only builds words the LM knows and scores each completed word with
    ``alpha * log10 P_LM + beta``. ``lexicon=False`` searches freely over characters; the LM is then
    queried per character, so it must be a character LM: an ARPA file whose "words" are the
    alphabet's characters and ``|`` for the space (``dslearn lm build`` on text written that way,
    e.g. ``h e l l o | w o r l d``).

    ``beam_size`` hypotheses survive each frame; ``beam_threshold`` drops those scoring more than
    that below the best; ``beam_size_token`` tries only the most probable tokens at each frame
    (``None``: all). CTC posteriors are peaky, so the defaults (15, 6) cost almost no accuracy on
    the GPU-trained `small` (its first stage: dev WER 0.0512 vs 0.0508 with (25, all)) at 2.7x the
    speed; 4 tokens were enough for the CPU-trained model shipped before it but cost the
    GPU-trained `small` 8% more errors (docs/benchmarks.md, decoders). A small lexicon is the
    exception: on a voice the model hears poorly, a word whose letters are not among each frame's
    6 likeliest may be unreachable, and an isolated-digit recognizer then says nothing (FSDD's
    held-out speaker, alpha 0.1 and beta 10: 78 of 500 recordings empty with 6 tokens, 4 with
    all; `lm tune --beam-tokens all`).
    """

    _BLANK, _SPACE = "<blank>", "|"

    def __init__(
        self,
        alphabet: Alphabet,
        lm: str | os.PathLike | None = None,
        alpha: float = 0.5,
        beta: float = 1.0,
        beam_size: int = 32,
        beam_threshold: float = 15.0,
        beam_size_token: int | None = 6,
        lexicon: bool | str | os.PathLike = True,
        nbest: int = 1,
        frame_shift: float = 0.02,
    ) -> None:
        try:
            from torchaudio.models.decoder import ctc_decoder
        except ImportError as err:  # pragma: no cover - depends on the install
            raise ImportError(
                "LMBeamSearchDecoder needs flashlight-text: pip install flashlight-text"
            ) from err
        if alphabet.space_id is None:
            raise ValueError("LMBeamSearchDecoder needs an alphabet with a space (word separator)")
        if lm is not None and not Path(lm).exists():
            raise FileNotFoundError(f"{lm}: language model not found")
        self.alphabet, self.frame_shift, self.n = alphabet, frame_shift, nbest
        self.search = {  # how the beam is pruned, for whoever reads a decoder's settings
            "beam_size": beam_size,
            "beam_threshold": beam_threshold,
            "beam_size_token": beam_size_token,
        }
        tokens = [
            self._BLANK if i == alphabet.blank_id else self._SPACE if i == alphabet.space_id else s
            for i, s in enumerate(alphabet.tokens)
        ]
        self._tmp = None
        lexicon_path = None
        if lexicon is True and lm is not None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dslearn-lexicon-")
            lexicon_path = Path(self._tmp.name) / "lexicon.txt"
            spellable = [w for w in arpa_vocabulary(lm) if all(ch in alphabet for ch in w)]
            lexicon_path.write_text(
                "".join(f"{w}\t{' '.join(w)} {self._SPACE}\n" for w in spellable), encoding="utf-8"
            )
        elif lexicon not in (True, False, None):
            lexicon_path = Path(lexicon)
        with _kenlm_progress_silenced():
            self._decoder = ctc_decoder(
                lexicon=str(lexicon_path) if lexicon_path else None,
                tokens=tokens,
                lm=str(lm) if lm is not None else None,
                nbest=nbest,
                beam_size=beam_size,
                beam_threshold=beam_threshold,
                beam_size_token=beam_size_token,
                lm_weight=alpha,
                word_score=beta,
                blank_token=self._BLANK,
                sil_token=self._SPACE,
            )

    def _hypotheses(self, log_probs: torch.Tensor, results) -> list[Hypothesis]:
        hyps = []
        n = max(1, log_probs.shape[0])
        for r in results:
            # flashlight's path has one extra step before frame 0, hence the -1
            tokens, token_frames = r.tokens.tolist(), [max(0, t - 1) for t in r.timesteps.tolist()]
            # flashlight reports word boundaries as tokens too; trim the ones at the edges
            while tokens and tokens[0] == self.alphabet.space_id:
                tokens, token_frames = tokens[1:], token_frames[1:]
            while tokens and tokens[-1] == self.alphabet.space_id:
                tokens, token_frames = tokens[:-1], token_frames[:-1]
            text = " ".join(self.alphabet.decode(tokens).split())
            acoustic = labeling_log_prob(log_probs, tokens, self.alphabet.blank_id)
            confidence = math.exp(acoustic / n) if acoustic > NEG_INF else 0.0
            words = words_from_tokens(tokens, token_frames, self.alphabet, self.frame_shift)
            hyps.append(Hypothesis(text, float(r.score), confidence, tokens, token_frames, words))
        return hyps

    def nbest(self, log_probs: torch.Tensor, lengths: torch.Tensor, n: int | None = None):
        emissions = log_probs.detach().float().cpu().contiguous()
        results = self._decoder(emissions, lengths.cpu().to(torch.int32))
        return [
            self._hypotheses(emissions[b, : int(lengths[b])], r)[: n or self.n]
            for b, r in enumerate(results)
        ]

    def __call__(self, log_probs: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        return [hyps[0] for hyps in self.nbest(log_probs, lengths, 1)]
