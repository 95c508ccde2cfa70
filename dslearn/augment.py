"""Augmentation: the rooms, channels, noises and speakers a recording can pass through.

Two uses. The corpus maker (``dslearn.synth``) and chapter 12 apply the effects once, to files:
``add_noise``, ``add_reverb``, ``add_noise_to_manifest``. The trainer applies ``Augmenter`` on
the fly, to every training utterance each time it is read, so that every epoch hears each
sentence in a different room, through a different microphone and from a different speaker:

    speaker   vocal-tract length (formant shift) and pitch changed with Praat's "Change gender"
              (praat-parselmouth): one voice becomes many speakers
    room      an image-source room from pyroomacoustics (size, absorption, source and microphone
              placed at random): real early reflections and reverberation
    channel   a telephone or cheap-microphone band limit (8 kHz recordings such as FSDD's), with
              a random low cut and high cut
    noise     white, pink or brown noise, or another utterance's babble, at a random SNR
    gain      level change in dB, and sometimes hard clipping as an overdriven microphone makes

Every effect has its own probability (``AugmentConfig``); 0 switches it off.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000  # Hz

NOISE_COLORS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power spectrum ~ 1 / f**exponent


def colored_noise(
    n_samples: int, color: str = "white", rng: np.random.Generator | int = 0
) -> np.ndarray:
    """Gaussian noise with power spectrum ~ 1/f**k (white k=0, pink 1, brown 2), unit power.

    Frequencies below 1/200 of the band (40 Hz at 16 kHz) are removed so brown noise stays a
    rumble rather than a drifting offset.
    """
    if color not in NOISE_COLORS:
        raise ValueError(f"noise color {color!r}: choose one of {', '.join(NOISE_COLORS)}")
    rng = np.random.default_rng(rng)
    white = rng.standard_normal(1 << max(1, (n_samples - 1).bit_length()))  # fast FFT length
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(len(white))  # cycles per sample, 0 .. 0.5
    low = freqs < 0.0025
    gain = np.ones_like(freqs)
    gain[~low] = freqs[~low] ** (-NOISE_COLORS[color] / 2)
    gain[low] = 0.0
    noise = np.fft.irfft(spectrum * gain, n=len(white))[:n_samples]
    return (noise / np.sqrt(np.mean(noise**2) + 1e-20)).astype(np.float32)


def add_noise(
    audio: np.ndarray,
    snr_db: float,
    color: str = "white",
    rng: np.random.Generator | int = 0,
    span: tuple[int, int] | None = None,
) -> np.ndarray:
    """``audio`` plus colored noise at ``snr_db`` decibels signal-to-noise ratio.

    SNR = 10·log10(P_signal / P_noise), with P_signal the mean power of ``audio`` over ``span``
    (``(start, end)`` in samples; the speech, not the silent padding around it; default: all of it)
    and P_noise the mean power of the noise over the whole file.
    """
    audio = np.asarray(audio, dtype=np.float32)
    start, end = span if span is not None else (0, len(audio))
    signal_power = float(np.mean(audio[start:end].astype(np.float64) ** 2)) if end > start else 0.0
    if signal_power == 0.0:
        raise ValueError("cannot set an SNR relative to silence (the signal span has no energy)")
    noise = colored_noise(len(audio), color, rng)
    return audio + noise * np.float32(math.sqrt(signal_power / 10 ** (snr_db / 10)))


def room_impulse_response(
    rt60: float,
    sample_rate: int = SAMPLE_RATE,
    drr_db: float = 3.0,
    rng: np.random.Generator | int = 0,
) -> np.ndarray:
    """A synthetic room: a direct-path impulse followed by exponentially decaying noise.

    ``rt60`` is the time in seconds the tail takes to decay by 60 dB; ``drr_db`` the ratio of
    direct to reverberant energy. The direct path sits at sample 0, so convolving delays nothing.
    """
    if rt60 <= 0:
        raise ValueError(f"rt60 must be positive seconds, got {rt60}")
    rng = np.random.default_rng(rng)
    n = max(2, int(rt60 * sample_rate))
    t = np.arange(n) / sample_rate
    tail = rng.standard_normal(n) * np.exp(-math.log(1000.0) * t / rt60)  # amplitude 1e-3 at rt60
    tail[: int(0.002 * sample_rate) + 1] = 0.0  # first reflections arrive a couple of ms late
    tail *= math.sqrt(10 ** (-drr_db / 10) / np.sum(tail**2))
    tail[0] = 1.0
    return tail.astype(np.float32)


def add_reverb(
    audio: np.ndarray,
    rt60: float,
    sample_rate: int = SAMPLE_RATE,
    drr_db: float = 3.0,
    rng: np.random.Generator | int = 0,
) -> np.ndarray:
    """``audio`` convolved with ``room_impulse_response``, same length and same RMS level.

    The tail that would run past the end of ``audio`` is cut, so leave some padding after speech.
    """
    audio = np.asarray(audio, dtype=np.float32)
    ir = room_impulse_response(rt60, sample_rate, drr_db, rng)
    n_fft = 1 << (len(audio) + len(ir) - 1).bit_length()
    wet = np.fft.irfft(np.fft.rfft(audio, n_fft) * np.fft.rfft(ir, n_fft), n_fft)[: len(audio)]
    rms_dry, rms_wet = np.sqrt(np.mean(audio**2)), np.sqrt(np.mean(wet**2))
    return (wet * (rms_dry / rms_wet if rms_wet > 0 else 1.0)).astype(np.float32)


def add_noise_to_manifest(
    manifest: str | os.PathLike,
    out_dir: str | os.PathLike,
    snr_db: float,
    color: str = "white",
    seed: int = 0,
) -> Path:
    """A noisy copy of a manifest: each utterance plus noise at ``snr_db`` dB SNR (``add_noise``).

    The SNR is measured over the words' span when the manifest has word times (as the synthetic
    corpus does), else over the whole file. Utterance ``i`` gets noise seeded by ``(seed, i)``.
    Audio goes to ``out_dir/audio/``, the manifest to ``out_dir/<manifest name>``, which is
    returned; an existing copy is reused.
    """
    from dslearn.audio import load, save
    from dslearn.data import read_manifest, write_manifest

    out_dir = Path(out_dir)
    target = out_dir / Path(manifest).name
    if target.exists():
        return target
    noisy = []
    for i, utt in enumerate(read_manifest(manifest)):
        audio = load(utt.audio_filepath).numpy()
        span = None
        if utt.words:
            span = (
                round(utt.words[0]["start"] * SAMPLE_RATE),
                round(utt.words[-1]["end"] * SAMPLE_RATE),
            )
        mixed = add_noise(audio, snr_db, color, np.random.default_rng([seed, i]), span)
        peak = float(np.abs(mixed).max())
        if peak > 0.99:
            mixed = mixed * np.float32(0.99 / peak)  # scale rather than clip; keeps the SNR
        path = save(out_dir / "audio" / f"{i:06d}.wav", mixed)
        noisy.append(dataclasses.replace(utt, audio_filepath=path.resolve()))
    return write_manifest(target, noisy)


# --- on the fly, during training -----------------------------------------------------------------


@dataclass(frozen=True)
class AugmentConfig:
    """What ``Augmenter`` does to each training utterance. A probability of 0 turns an effect off.

    The defaults were chosen to cover real recordings the synthetic corpus lacks: FSDD's 8 kHz
    microphones, the Asterisk prompts' telephone band, LibriSpeech's home-recorded rooms.
    """

    speaker: float = 0.6  # probability of a new vocal-tract length and pitch
    formant_shift: tuple[float, float] = (0.85, 1.2)  # formant ratio (>1: shorter vocal tract)
    pitch_median: tuple[float, float] = (80.0, 260.0)  # new median pitch, Hz
    room: float = 0.3  # probability of an image-source room (pyroomacoustics)
    rt60: tuple[float, float] = (0.15, 0.7)  # its reverberation time, seconds
    channel: float = 0.4  # probability of a band limit (telephone, cheap microphone, 8 kHz)
    low_cut: tuple[float, float] = (50.0, 400.0)  # Hz
    high_cut: tuple[float, float] = (3000.0, 7500.0)  # Hz
    noise: float = 0.4  # probability of added noise
    snr_db: tuple[float, float] = (5.0, 30.0)  # over the whole utterance, dB
    noise_types: tuple[str, ...] = ("white", "pink", "brown", "hum")
    gain_db: tuple[float, float] = (-15.0, 6.0)  # level change, always applied
    clip: float = 0.05  # probability of hard clipping
    clip_level: tuple[float, float] = (0.2, 0.6)  # of the utterance's peak

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not 0.0 <= value <= 1.0:
                raise ValueError(f"augment.{f.name} is a probability in 0..1, got {value}")
            if isinstance(value, tuple) and len(value) == 2 and not isinstance(value[0], str):
                if value[0] > value[1]:
                    raise ValueError(f"augment.{f.name}: range {value[0]}..{value[1]} is reversed")
        unknown = set(self.noise_types) - {*NOISE_COLORS, "hum"}
        if unknown:
            raise ValueError(f"augment.noise_types: unknown {sorted(unknown)}")

    @classmethod
    def from_dict(cls, values: dict) -> AugmentConfig:
        """From JSON-like values (lists become tuples); unknown keys are named in the error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown augment setting(s) {unknown}; known: {sorted(known)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def change_speaker(
    audio: np.ndarray, formant_shift: float, pitch_median: float, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Another speaker saying the same thing: Praat's "Change gender" (PSOLA), same duration.

    ``formant_shift`` scales every formant (1.15: a vocal tract 15% shorter, as from a man's
    towards a woman's); ``pitch_median`` (Hz) becomes the new median pitch, the intonation kept.
    Audio in which Praat finds no voiced frame comes back unchanged.
    """
    import parselmouth

    sound = parselmouth.Sound(np.asarray(audio, np.float64), sample_rate)
    try:
        with warnings.catch_warnings():  # unvoiced audio is expected (a hiss, an 's'): no news
            warnings.simplefilter("ignore", parselmouth.PraatWarning)
            changed = parselmouth.praat.call(
                sound, "Change gender", 75, 600, formant_shift, pitch_median, 1.0, 1.0
            )
    except parselmouth.PraatError:
        return np.asarray(audio, np.float32)
    out = changed.values[0].astype(np.float32)
    if len(out) != len(audio) or not np.all(np.isfinite(out)):
        out = np.resize(np.nan_to_num(out), len(audio))
    return out


def simulated_room(
    rt60: float, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """The impulse response from a talker to a microphone in a random shoebox room.

    pyroomacoustics' image-source method: walls' absorption set by Sabine's formula for ``rt60``
    seconds, the room 3-10 m by 2.5-8 m by 2.4-4 m, talker and microphone at random places at
    least 0.5 m apart (a room too large to die away within ``rt60`` is shrunk until it can). The
    response is shifted so the direct path arrives at sample 0.
    """
    import pyroomacoustics as pra

    size = np.array([rng.uniform(3, 10), rng.uniform(2.5, 8), rng.uniform(2.4, 4)])
    while True:
        try:
            absorption, max_order = pra.inverse_sabine(rt60, size)
            break
        except ValueError:  # a big room cannot ring this briefly even with perfect absorbers
            if np.all(size <= 1.0):
                raise ValueError(
                    f"rt60={rt60} s is too short for any room of 1 m or more"
                ) from None
            size = np.maximum(size * 0.85, 1.0)
    room = pra.ShoeBox(size, fs=sample_rate, materials=pra.Material(absorption),
                       max_order=min(max_order, 12))  # fmt: skip
    while True:
        talker, microphone = (rng.uniform(0.3, size - 0.3) for _ in range(2))
        if np.linalg.norm(talker - microphone) >= 0.5:
            break
    room.add_source(talker)
    room.add_microphone(microphone)
    room.compute_rir()
    ir = np.asarray(room.rir[0][0], np.float32)
    return ir[int(np.argmax(np.abs(ir))) :]


def band_limit(
    audio: np.ndarray, low_hz: float, high_hz: float, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Keep ``low_hz``..``high_hz`` with raised-cosine edges 20% wide, as a cheap channel does."""
    spectrum = np.fft.rfft(audio)
    freqs = np.fft.rfftfreq(len(audio), 1 / sample_rate)
    rise = np.clip((freqs - 0.8 * low_hz) / (0.4 * low_hz), 0, 1)
    fall = np.clip((1.2 * high_hz - freqs) / (0.4 * high_hz), 0, 1)
    gain = (0.5 - 0.5 * np.cos(np.pi * rise)) * (0.5 - 0.5 * np.cos(np.pi * fall))
    return np.fft.irfft(spectrum * gain, len(audio)).astype(np.float32)


def hum(n_samples: int, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mains hum: 50 or 60 Hz and its harmonics with random levels, unit power."""
    t = np.arange(n_samples) / sample_rate
    base = rng.choice([50.0, 60.0])
    wave = sum(rng.uniform(0.1, 1) / k * np.sin(2 * np.pi * base * k * t + rng.uniform(0, 6.3))
               for k in range(1, 8))  # fmt: skip
    return (wave / np.sqrt(np.mean(wave**2) + 1e-20)).astype(np.float32)


class Augmenter:
    """A ``SpeechDataset`` transform: ``(samples,)`` float tensor in, a changed one out.

    Order: speaker, room, channel, noise, gain and clipping, as sound travels. Each call draws
    fresh choices, so the same utterance sounds different every epoch. Each DataLoader worker
    seeds its own generator from ``seed`` and its worker id.
    """

    def __init__(self, config: AugmentConfig | None = None, seed: int = 0,
                 sample_rate: int = SAMPLE_RATE) -> None:  # fmt: skip
        self.config = config or AugmentConfig()
        self.seed = seed
        self.sample_rate = sample_rate
        self._rng: np.random.Generator | None = None
        self._worker: int | None = None

    @property
    def rng(self) -> np.random.Generator:
        import torch.utils.data

        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else -1
        if self._rng is None or worker != self._worker:
            self._rng = np.random.default_rng([self.seed, worker + 1])
            self._worker = worker
        return self._rng

    def __call__(self, audio):  # torch.Tensor (samples,) -> torch.Tensor (samples,)
        import torch

        out = self.apply(audio.numpy() if isinstance(audio, torch.Tensor) else audio, self.rng)
        return torch.from_numpy(out)

    def apply(self, audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The effects on numpy audio, with choices drawn from ``rng``."""
        c, sr = self.config, self.sample_rate
        x = np.asarray(audio, np.float32)
        if x.size < sr // 20 or not np.any(x):
            return x.copy()
        if rng.random() < c.speaker:
            x = change_speaker(x, rng.uniform(*c.formant_shift), rng.uniform(*c.pitch_median), sr)
        if rng.random() < c.room:
            ir = simulated_room(rng.uniform(*c.rt60), rng, sr)
            wet = np.convolve(x, ir)[: len(x)] if len(ir) < 64 else _fft_convolve(x, ir)
            x = wet * np.float32(np.sqrt(np.mean(x**2) / (np.mean(wet**2) + 1e-20)))
        if rng.random() < c.channel:
            x = band_limit(x, rng.uniform(*c.low_cut), rng.uniform(*c.high_cut), sr)
        if rng.random() < c.noise and c.noise_types:
            kind = c.noise_types[rng.integers(len(c.noise_types))]
            noise = hum(len(x), rng, sr) if kind == "hum" else colored_noise(len(x), kind, rng)
            power = float(np.mean(x.astype(np.float64) ** 2))
            x = x + noise * np.float32(math.sqrt(power / 10 ** (rng.uniform(*c.snr_db) / 10)))
        x = x * np.float32(10 ** (rng.uniform(*c.gain_db) / 20))
        if rng.random() < c.clip:
            level = rng.uniform(*c.clip_level) * float(np.abs(x).max())
            x = np.clip(x, -level, level)
        return np.clip(x, -1.0, 1.0).astype(np.float32)


def _fft_convolve(x: np.ndarray, ir: np.ndarray) -> np.ndarray:
    n = 1 << (len(x) + len(ir) - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, n) * np.fft.rfft(ir, n), n)[: len(x)].astype(np.float32)
