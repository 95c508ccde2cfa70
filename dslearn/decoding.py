"""Decoders: from per-frame log-probabilities to text, with times and a confidence.

Every decoder is called the same way, ``decoder(log_probs, lengths) -> list[Hypothesis]``, with
``log_probs`` ``(B, T, C)`` and ``lengths`` ``(B,)`` in output frames. Times are in seconds, using
``frame_shift``: the seconds between two output frames (20 ms for the DS2 presets: a 10 ms hop
times a time stride of 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from dslearn.text import Alphabet


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
