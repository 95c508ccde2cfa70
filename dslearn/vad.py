"""Where people pause: an energy detector that cuts long recordings between sentences.

A model trained on single utterances, fed a chunk that holds several sentences, tends to run the
last word of one sentence into the first of the next ("kingdomlentour"): it rarely heard a pause
inside an utterance. Cutting a long recording at its pauses gives the model sentence-like pieces
again. This is the simplest voice activity detector there is, and a readable one:

1. energy in 10 ms frames, in dB: ``10 log10(mean(x^2))``;
2. a frame is quiet when it is less than ``above_floor_db`` over the noise floor (the 5th
   percentile of the frames' energies) *or* more than ``below_loud_db`` under the loud frames
   (the 95th percentile): the first rule for recordings with a noise floor, the second for
   recordings whose silences are digital zeros, whose floor says nothing about speech;
3. a pause is a run of quiet frames at least ``min_pause`` seconds long with speech on both
   sides (silence before the first word or after the last is not a pause between two things);
4. the recording is cut in the middle of every pause, so that each piece keeps half a pause of
   silence on either side, as training utterances do.

Learned detectors (Silero, WebRTC's GMM) handle music and babble; this one expects speech over a
steady background, which is what read and dictated recordings are.
"""

from __future__ import annotations

import torch

FRAME_SECONDS = 0.01
ABOVE_FLOOR_DB = 10.0  # energy over the noise floor that counts as speech
BELOW_LOUD_DB = 40.0  # energy this far under the loud frames is quiet, whatever the floor
MIN_PAUSE_SECONDS = 0.25


def frame_energy_db(audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """Energy of ``(samples,)`` audio in 10 ms frames, ``(frames,)`` in dB (a trailing partial
    frame is dropped; silence is -100 dB rather than -inf)."""
    hop = max(1, round(sample_rate * FRAME_SECONDS))
    n = audio.numel() // hop
    frames = audio[: n * hop].double().reshape(n, hop)
    return 10 * torch.log10(frames.pow(2).mean(dim=1) + 1e-10)


def quiet_frames(
    audio: torch.Tensor,
    sample_rate: int,
    above_floor_db: float = ABOVE_FLOOR_DB,
    below_loud_db: float = BELOW_LOUD_DB,
) -> torch.Tensor:
    """``(frames,)`` booleans, True where a 10 ms frame holds no speech (module docstring)."""
    db = frame_energy_db(audio, sample_rate)
    if db.numel() == 0:
        return torch.zeros(0, dtype=torch.bool)
    floor, loud = torch.quantile(db, 0.05), torch.quantile(db, 0.95)
    return db < torch.maximum(floor + above_floor_db, loud - below_loud_db)


def pauses(
    audio: torch.Tensor, sample_rate: int, min_pause: float = MIN_PAUSE_SECONDS
) -> list[tuple[float, float]]:
    """Pauses between speech in ``(samples,)`` audio: ``[(start, end), ...]`` in seconds, each at
    least ``min_pause`` long, none before the first speech or after the last."""
    quiet = quiet_frames(audio, sample_rate).tolist()
    found, run_start = [], None
    spoken = False  # has speech been heard before the current quiet run?
    for i, q in enumerate(quiet):
        if q and run_start is None:
            run_start = i
        elif not q:
            if run_start is not None and spoken and (i - run_start) * FRAME_SECONDS >= min_pause:
                found.append((run_start * FRAME_SECONDS, i * FRAME_SECONDS))
            run_start, spoken = None, True
    return [(round(s, 3), round(e, 3)) for s, e in found]


def cut_at_pauses(
    audio: torch.Tensor, sample_rate: int, min_pause: float = MIN_PAUSE_SECONDS
) -> list[tuple[int, int]]:
    """Sample ranges ``[start, end)`` that cover ``(samples,)`` audio end to end, cut in the
    middle of every pause; ``[(0, n)]`` when there is none."""
    n = audio.numel()
    cuts = [round((s + e) / 2 * sample_rate) for s, e in pauses(audio, sample_rate, min_pause)]
    edges = [0, *cuts, n]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]
