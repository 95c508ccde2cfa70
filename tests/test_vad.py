"""The pause detector: it finds the silences between sounds, and only those long enough."""

from __future__ import annotations

import math

import pytest
import torch

from dslearn import synth, vad

SR = 16000


def tone(seconds: float, hz: float = 220.0) -> torch.Tensor:
    t = torch.arange(int(seconds * SR)) / SR
    return 0.3 * torch.sin(2 * math.pi * hz * t)


def silence(seconds: float) -> torch.Tensor:
    return torch.zeros(int(seconds * SR))


def test_pauses_between_sounds_are_found_where_they_are():
    x = torch.cat([silence(0.5), tone(1.0), silence(0.4), tone(0.8), silence(0.1), tone(0.5),
                   silence(0.3), tone(1.0), silence(1.0)])  # fmt: skip
    # The 0.1 s gap is shorter than a pause; the silences before the first and after the last
    # sound separate nothing.
    assert vad.pauses(x, SR) == [(1.5, 1.9), (3.3, 3.6)]
    assert vad.pauses(x, SR, min_pause=0.35) == [(1.5, 1.9)]
    assert vad.pauses(x, SR, min_pause=0.05) == [(1.5, 1.9), (2.7, 2.8), (3.3, 3.6)]


def test_pauses_are_found_over_a_noise_floor():
    x = torch.cat([tone(1.0), silence(0.5), tone(1.0)])
    noisy = x + 0.003 * torch.randn(x.numel(), generator=torch.Generator().manual_seed(0))
    [(start, end)] = vad.pauses(noisy, SR)
    assert start == pytest.approx(1.0, abs=0.011) and end == pytest.approx(1.5, abs=0.011)
    # Noise as loud as the sounds leaves no quiet frame, hence no pause.
    loud = x + 0.3 * torch.randn(x.numel(), generator=torch.Generator().manual_seed(0))
    assert vad.pauses(loud, SR) == []


def test_cuts_fall_mid_pause_and_cover_the_recording():
    x = torch.cat([tone(1.0), silence(0.6), tone(1.0), silence(0.4), tone(0.5)])
    pieces = vad.cut_at_pauses(x, SR)
    cuts = [int(1.3 * SR), int(2.8 * SR)]  # the middles of the two pauses
    assert pieces == [(0, cuts[0]), (cuts[0], cuts[1]), (cuts[1], x.numel())]
    assert vad.cut_at_pauses(tone(2.0), SR) == [(0, 2 * SR)]
    assert vad.cut_at_pauses(torch.zeros(0), SR) == []
    assert vad.pauses(torch.zeros(50), SR) == []  # shorter than one frame


def test_synthetic_sentences_are_cut_between_them_not_inside():
    sentences = ["turn on the kitchen lights", "what is the weather like", "play some music"]
    waves = [torch.from_numpy(synth.synthesize(s, voice="en-us+m3")[0]) for s in sentences]
    x = torch.cat([w for wave in waves for w in (wave, silence(0.4))])
    pieces = vad.cut_at_pauses(x, SR)
    assert len(pieces) == 3
    ends = torch.tensor([w.numel() + int(0.4 * SR) for w in waves]).cumsum(0)
    for (_, end), sentence_end in zip(pieces[:-1], ends[:-1]):
        # each cut lies in the 0.4 s pause after a sentence (plus espeak-ng's own trailing quiet)
        assert sentence_end - int(0.6 * SR) < end < sentence_end
