"""The embedded default corpus: English speech synthesized offline by espeak-ng.

Nothing is downloaded. ``pip install dslearn`` brings ``espeakng-loader``, a wheel that ships the
espeak-ng library and its voice data; this module drives it through ``ctypes`` and turns
procedurally generated English into a multi-speaker corpus:

    generate_sentences  text, normalized: "set a timer for twenty five minutes"
    synthesize          espeak-ng (22050 Hz + WORD events) ─► 16 kHz ─► pad ─► reverb ─► noise
    generate_corpus     OUT/audio/<split>/*.wav, OUT/<split>.jsonl, OUT/text/train.txt

Variation comes from espeak-ng's voice *variants* (``espeak-ng-data/voices/!v``: m1–m8, f1–f5,
klatt, …) combined with its English accents (en-us, en-gb-scotland, …), and per utterance from
speaking rate, pitch, pitch range, volume, background noise at a chosen SNR and a synthetic
room reverberation. The ``test-unseen-voices`` split is spoken only by variants that never occur
in ``train``/``dev``/``test``; no sentence text occurs in two splits.

Word timings. espeak-ng reports a WORD event when it starts synthesizing each word, with the
position of that moment in its output (in samples at 22050 Hz). Only starts are reported, so:

* a word's *start* is its event time; when silence follows the event (the silence espeak-ng puts
  before the first word, or the silent closure of a stop such as the "t" of "timer") the start
  moves to where that silence ends: the first sound of the word;
* a word's *end* is the next word's event time (the end of espeak-ng's audio for the last word);
  when silence comes before that point, the end moves back to where the silence begins.

"Silence" is any run of samples whose 5 ms neighbourhood holds less than 1/100000 (-50 dB) of the
energy of the utterance's loudest 5 ms; a run counts for a boundary if it begins at most 15 ms
after it or ends at most 5 ms before it. espeak-ng's pauses and closures are digital zeros, so the
threshold barely matters; the 5 ms window makes each boundary up to 2.5 ms generous. Times are in
seconds from the start of the file, so they include the padding added before the speech, and
they describe the clean speech: reverberation and noise are added afterwards.

Two espeak-ng habits are worked around. With plain spaces its English dictionary reads pairs such
as "of the" or "from the" as one unit with a single WORD event, so words are joined with no-break
spaces, which it pronounces the same way but does not merge. A rare unit is still merged (the
New York accent joins "the huge"); it is split at the PHONEME event where the later word begins.

Reproducibility. espeak-ng keeps state between utterances (its pitch-flutter phase and automatic
gain control live in C static variables that no API resets), so the same ``synthesize`` call can
differ slightly depending on what the process spoke before. ``generate_corpus`` therefore cuts the
utterance list into fixed shards and speaks each shard in a fresh process: the same seed and
config give the same bytes for any number of workers. espeak-ng also crashes, rarely, on some
combinations of voice, pitch and word; such an utterance is left out of the corpus and named in a
warning and in ``corpus.json`` (one utterance of the 42,278 in ``--hours 30 --seed 3``; none
in ``--hours 30 --seed 2`` or ``--hours 10 --seed 0``).
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from dslearn.text import normalize, number_to_words, ordinal_to_words, year_to_words

SAMPLE_RATE = 16000  # Hz: what dslearn's models hear (same as dslearn.audio.SAMPLE_RATE)
ESPEAK_RATE = 22050  # Hz: espeak-ng synthesizes every built-in voice at this rate
SPLITS = ("train", "dev", "test", "test-unseen-voices")
ASSETS = Path(__file__).with_name("assets")  # word lists the sentence generator draws from

# English voices of espeak-ng; each utterance combines one with a variant: "en-gb-scotland+f3".
ACCENTS = (
    "en-us",
    "en-us-nyc",
    "en",  # British English
    "en-gb-x-rp",
    "en-gb-scotland",
    "en-gb-x-gbclan",  # Lancaster
    "en-gb-x-gbcwmd",  # West Midlands
    "en-029",  # Caribbean
)
# Variants heard in train/dev/test. Left out of both lists: whispered ones (whisper, whisperf,
# caleb), ones built on a loud short echo that makes a robotic comb filter (robosoft*, RicishayMax*,
# anikaRobot, UniRobot, Demonic), "fast" (marked unstable by its authors) and "Mr serious" (a space
# in its name).
TRAIN_VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m8", "f1", "f2", "f3", "f5",
    "klatt", "klatt2", "klatt4", "klatt5", "klatt6",
    "Alex", "Alicia", "Andrea", "AnxiousAndy", "Denis", "Diogo", "Gene", "Gene2", "Henrique",
    "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen", "Reed", "Storm",
    "Tweaky", "adam", "anika", "announcer", "antonio", "aunty", "benjamin", "boris", "croak",
    "david", "ed", "edward2", "grandma", "gustave", "ian", "iven", "iven2", "iven4", "john",
    "kaukovalta", "linda", "max", "michel", "miguel", "mike2", "norbert", "pablo", "paul", "pedro",
    "quincy", "rob", "robert", "sandro", "shelby", "steph", "steph3", "victor",
)  # fmt: skip
# Variants kept for test-unseen-voices: male, female, klatt and "character" voices alike.
UNSEEN_VARIANTS = (
    "m7", "f4", "klatt3", "Andy", "Annie", "belinda", "edward", "grandpa", "iven3", "marcelo",
    "steph2", "travis", "zac",
)  # fmt: skip

NOISE_COLORS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power spectrum ~ 1 / f**exponent


class SynthError(ValueError):
    """Text or settings espeak-ng cannot speak. The message names the text, voice or value."""


# --- espeak-ng through ctypes ----------------------------------------------------------------


class _Event(ctypes.Structure):
    """``espeak_EVENT`` from speak_lib.h (the 8-byte union ``id`` is kept as raw bytes)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character index of the word in the text
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds
        ("sample", ctypes.c_int),  # index into the output at ESPEAK_RATE
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_OUTPUT_SYNCHRONOUS = 0x02  # AUDIO_OUTPUT_SYNCHRONOUS: samples come to our callback, no sound card
_BUFFER_MS = 200  # audio per callback; larger means fewer Python calls
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_END_OF_LIST = 0
_EVENT_WORD = 1
_EVENT_PHONEME = 7
_INITIALIZE_PHONEME_EVENTS = 0x0001  # also report each phoneme (used to split merged words)
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4  # espeak_PARAMETER


class _Engine:
    """One espeak-ng instance. The library keeps global state, so one per process, one thread."""

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_ng_SetRandSeed.restype = None
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
        ]  # fmt: skip
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self.data_path = espeakng_loader.get_data_path()
        rate = lib.espeak_Initialize(
            _OUTPUT_SYNCHRONOUS, _BUFFER_MS, self.data_path.encode(), _INITIALIZE_PHONEME_EVENTS
        )
        if rate != ESPEAK_RATE:
            raise SynthError(
                f"espeak-ng failed to start (returned {rate}, data in {self.data_path})"
            )
        self.lib = lib
        self.version = lib.espeak_Info(None).decode()
        self._chunks: list[np.ndarray] = []
        self._words: list[tuple[int, int]] = []  # (text_position, sample) per WORD event
        self._phonemes: list[tuple[int, str]] = []  # (sample, name) per PHONEME event
        self._callback = _SynthCallback(self._on_audio)  # keep a reference: C holds only a pointer
        lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav, n_samples, events) -> int:
        if n_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        i = 0
        while events[i].type != _EVENT_END_OF_LIST:
            if events[i].type == _EVENT_WORD:
                self._words.append((events[i].text_position, events[i].sample))
            elif events[i].type == _EVENT_PHONEME:
                name = events[i].id.decode("ascii", "replace")
                self._phonemes.append((events[i].sample, name))
            i += 1
        return 0  # 0 = carry on synthesizing

    def speak(
        self, text: str, voice: str, rate: int, pitch: int, pitch_range: int, volume: int, seed: int
    ) -> tuple[np.ndarray, list[tuple[int, int]], list[tuple[int, str]]]:
        """int16 samples at ESPEAK_RATE, (1-based character position, sample) per WORD event,
        and (sample, name) per PHONEME event."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise SynthError(f"espeak-ng has no voice {voice!r} (accents: {', '.join(ACCENTS)})")
        for param, value in (
            (_PARAM_RATE, rate), (_PARAM_PITCH, pitch), (_PARAM_RANGE, pitch_range),
            (_PARAM_VOLUME, volume),
        ):  # fmt: skip
            self.lib.espeak_SetParameter(param, int(value), 0)
        self.lib.espeak_ng_SetRandSeed(seed)  # breathy voices draw noise from espeak's own PRNG
        self._chunks, self._words, self._phonemes = [], [], []
        data = text.encode("utf-8")
        status = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8,
                                       None, None)  # fmt: skip
        self.lib.espeak_Synchronize()
        if status != 0:
            raise SynthError(f"espeak-ng failed (status {status}) on {text!r} with {voice!r}")
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return audio, self._words, self._phonemes

    def phoneme_count(self, word: str) -> int:
        """Number of phonemes in ``word`` alone, in the current voice."""
        text = ctypes.c_char_p(word.encode("utf-8"))
        phonemes = self.lib.espeak_TextToPhonemes(ctypes.byref(text), _CHARS_UTF8, ord("_") << 8)
        return len([p for p in (phonemes or b"").decode("ascii", "replace").split("_") if p])


_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


def espeak_version() -> str:
    """Version of the espeak-ng library in use, e.g. "1.52.0"."""
    return _engine().version


@functools.lru_cache(maxsize=1)
def list_voices() -> tuple[str, ...]:
    """Names of espeak-ng's voice variants (``m3``, ``f2``, ``klatt``, …), sorted."""
    import espeakng_loader

    folder = Path(espeakng_loader.get_data_path()) / "voices" / "!v"
    return tuple(sorted(p.name for p in folder.iterdir() if p.is_file()))


def _check_voice(voice: str) -> None:
    # espeak-ng silently falls back to the default for an unknown variant; we would rather say so.
    accent, _, variant = voice.partition("+")
    if not accent:
        raise SynthError(f"voice {voice!r} has no language part; expected e.g. 'en-us+m3'")
    if variant and variant not in list_voices():
        raise SynthError(
            f"voice {voice!r}: espeak-ng has no variant {variant!r}; "
            f"available: {', '.join(list_voices())}"
        )


# --- signal processing ---------------------------------------------------------------------------


def _fft_length(n: int) -> int:
    """Smallest length >= n whose only prime factors are 2, 3, 5 and 7 (fast FFT sizes)."""
    while True:
        m = n
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def resample(audio: np.ndarray, orig_sr: int, new_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling of ``(samples,)`` audio in the frequency domain, without delay.

    The spectrum is kept up to 90% of the lower of the two Nyquist frequencies, rolled off to zero
    at 100% with a raised cosine, and transformed back at the new length. Output sample ``m`` is
    the signal at ``m / new_sr`` seconds, so event times in seconds stay valid; the output has
    ``ceil(samples * new_sr / orig_sr)`` samples. (An FFT and not a polyphase filter product,
    because numpy's FFT is single-threaded: with one process per core, a multi-threaded BLAS
    product slows everything down.)
    """
    audio = np.asarray(audio, dtype=np.float32)
    if orig_sr == new_sr:
        return audio.copy()
    g = math.gcd(orig_sr, new_sr)
    up, down = new_sr // g, orig_sr // g
    # Whole blocks of `down` input samples map to whole blocks of `up` output samples, so both
    # grids line up exactly. At least 20 ms of zeros at the end keep the FFT's wrap-around (the
    # filter's reach past the end lands on the start) out of the signal.
    blocks = _fft_length(-(-(len(audio) + int(0.02 * orig_sr)) // down))
    n_in, n_out = blocks * down, blocks * up
    spectrum = np.fft.rfft(audio, n_in)
    keep = min(n_in, n_out) // 2 + 1
    freqs = np.arange(keep) * (orig_sr / n_in)  # Hz
    nyquist = min(orig_sr, new_sr) / 2
    ramp = np.clip((nyquist - freqs) / (0.1 * nyquist), 0.0, 1.0)  # 1 below 90%, 0 at Nyquist
    out = np.zeros(n_out // 2 + 1, dtype=np.complex128)
    out[:keep] = spectrum[:keep] * (0.5 - 0.5 * np.cos(np.pi * ramp))
    resampled = np.fft.irfft(out, n_out) * (n_out / n_in)
    return resampled[: -(-len(audio) * up // down)].astype(np.float32)


def _activity(audio: np.ndarray, sample_rate: int, floor_db: float = -50.0) -> np.ndarray:
    """Boolean mask: samples whose surrounding 5 ms hold energy within ``floor_db`` of the peak."""
    width = max(1, int(0.005 * sample_rate))
    csum = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    lo = np.clip(np.arange(len(audio)) - width // 2, 0, len(audio))
    hi = np.clip(lo + width, 0, len(audio))
    power = (csum[hi] - csum[lo]) / width
    peak = power.max(initial=0.0)
    if peak <= 0:
        return np.zeros(len(audio), dtype=bool)
    return power > peak * 10 ** (floor_db / 10)


def _word_start_samples(
    words: list[str],
    word_events: list[tuple[int, int]],
    phonemes: list[tuple[int, str]],
    phoneme_count: Callable[[str], int],
    end_sample: int,
) -> list[int]:
    """Start sample (at ESPEAK_RATE) of each word.

    ``word_events`` are espeak-ng's WORD events as ``(1-based character position, sample)``; a word
    gets the event at its position. Now and then espeak-ng speaks two words as one unit with one
    event (en-us-nyc drops the "h" of "huge" and joins it to the word before). Such a unit is
    split at the PHONEME event where the later word's phonemes begin, counting each word's
    phonemes as espeak-ng transcribes it alone (proportionally, should the counts disagree).
    """
    positions = np.cumsum([0] + [len(w) + 1 for w in words[:-1]]) + 1
    index_of = {int(p): i for i, p in enumerate(positions)}
    starts: dict[int, int] = {}
    for position, sample in word_events:
        if position in index_of:
            starts.setdefault(index_of[position], sample)
    sounds = [sample for sample, name in phonemes if not name.startswith("_")]  # not pauses
    if 0 not in starts:
        # Some accents merge a first word's sounds into the next unit and report no event for
        # it (en-us-nyc says "hugo" as "yugo", with its first event at "said"): the first word
        # then starts with the first sound.
        first_event = min(starts.values(), default=end_sample)
        if not sounds or sounds[0] >= first_event:
            raise SynthError(f"espeak-ng reported no start for {words[0]!r} in {' '.join(words)!r}")
        starts[0] = sounds[0]
    i = 0
    while i < len(words):
        j = i + 1
        while j < len(words) and j not in starts:
            j += 1
        if j > i + 1:  # words i+1 .. j-1 have no event of their own: split the unit i .. j-1
            unit_end = starts.get(j, end_sample)
            inside = [s for s in sounds if starts[i] <= s < unit_end]
            counts = [max(1, phoneme_count(w)) for w in words[i:j]]
            for k in range(i + 1, j):
                at = round(len(inside) * sum(counts[: k - i]) / sum(counts))
                starts[k] = inside[at] if at < len(inside) else unit_end
        i = j
    return [starts[i] for i in range(len(words))]


def _word_spans(
    boundaries: list[int], active: np.ndarray, sample_rate: int
) -> list[tuple[int, int]]:
    """``(start, end)`` samples per word from espeak-ng's word starts and an activity mask.

    ``boundaries`` holds each word's start event and, last, the end of the speech. A silent run
    that touches a boundary (begins at most 15 ms after it, ends at most 5 ms before it) is taken
    out of both neighbours: the word before ends where the silence begins and the word after starts
    where it ends. This handles the silence before the first word, stop closures at word edges and
    the silence after the last word. Any silence left at a word's edges is then trimmed too.
    """
    silent = np.concatenate([[False], ~active, [False]]).astype(np.int8)
    change = np.flatnonzero(np.diff(silent))
    gap_starts, gap_ends = change[0::2], change[1::2]  # silent runs [start, end)
    before, after = int(0.005 * sample_rate), int(0.015 * sample_rate)
    ends_at, starts_at = [], []  # per boundary: where the sound before it ends / after it starts
    for b in boundaries:
        k = np.searchsorted(gap_ends, b - before)  # first run not ending long before b
        if k < len(gap_ends) and gap_starts[k] <= b + after:
            ends_at.append(int(gap_starts[k]))
            starts_at.append(int(gap_ends[k]))
        else:
            ends_at.append(b)
            starts_at.append(b)
    spans = []
    for i in range(len(boundaries) - 1):
        start, end = starts_at[i], ends_at[i + 1]
        if end <= start:  # the word fell into one silent run: keep espeak-ng's own interval
            start, end = boundaries[i], max(boundaries[i + 1], boundaries[i] + 1)
        audible = np.flatnonzero(active[start:end])
        if audible.size:
            start, end = start + int(audible[0]), start + int(audible[-1]) + 1
        if spans and start < spans[-1][1]:  # never overlap the word before
            start = spans[-1][1]
            end = max(end, start + 1)
        spans.append((start, end))
    return spans


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


# --- one utterance -------------------------------------------------------------------------------


def synthesize(
    text: str,
    voice: str = "en-us+m3",
    rate: int = 175,
    pitch: int = 50,
    pitch_range: int = 50,
    volume: int = 100,
    *,
    pad: tuple[float, float] = (0.1, 0.1),
    noise_snr_db: float | None = None,
    noise_color: str = "white",
    reverb_rt60: float | None = None,
    reverb_drr_db: float = 3.0,
    seed: int = 0,
    sample_rate: int = SAMPLE_RATE,
) -> tuple[np.ndarray, list[dict]]:
    """Speak ``text`` with espeak-ng; return the audio and where each word is.

    Args:
        text: any English text; it is normalized first (``dslearn.text.normalize``: lowercase,
            digits as words), and exactly those words are spoken.
        voice: espeak-ng accent, optionally ``+variant``: "en-us+m3", "en-gb-scotland+f2".
        rate: speaking rate in words per minute (espeak-ng accepts 80–450; 175 is its default).
        pitch: 0–100, base pitch (50 is the variant's own).
        pitch_range: 0–100, intonation (0 is monotone).
        volume: 0–200 amplitude (100 is espeak-ng's default; louder variants clip above ~100).
        pad: seconds of silence added before and after the speech.
        noise_snr_db: add colored noise at this SNR over the speech span (see ``add_noise``).
        noise_color: "white", "pink" or "brown".
        reverb_rt60: add synthetic room reverberation decaying 60 dB in this many seconds.
        reverb_drr_db: direct-to-reverberant energy ratio of that room, in dB.
        seed: seeds the noise, the room and espeak-ng's breath noise.
        sample_rate: rate of the returned audio in Hz.

    Returns:
        ``(audio, words)``: float32 ``(samples,)`` audio in [-1, 1] at ``sample_rate``, and one
        ``{"word", "start", "end"}`` dict per word with times in seconds from the start of the
        audio (padding included; see the module docstring for how ends are derived).

    Raises ``SynthError`` naming the text when nothing speakable is left after normalization, and
    naming the voice when espeak-ng does not have it. espeak-ng keeps some state between calls, so
    repeating a call can give slightly different audio (see the module docstring).
    """
    words_text = normalize(text)
    if not words_text:
        raise SynthError(f"nothing to say: {text!r} normalizes to an empty transcript")
    unknown = sorted(set(re.sub(r"[a-z' ]", "", words_text)))
    if unknown:
        raise SynthError(
            f"cannot speak {text!r}: characters {''.join(unknown)!r} are outside a-z and apostrophe"
        )
    _check_voice(voice)
    # Words are joined by no-break spaces: espeak-ng reads them exactly like spaces, but its
    # dictionary then cannot merge pairs such as "from the" or "of the" into one unit that
    # gets a single WORD event (it does with plain spaces).
    words = words_text.split(" ")
    engine = _engine()
    raw, word_events, phonemes = engine.speak(
        "\u00a0".join(words), voice, rate, pitch, pitch_range, volume, seed
    )
    if raw.size == 0:
        raise SynthError(f"espeak-ng produced no audio for {words_text!r} with voice {voice!r}")
    word_samples = _word_start_samples(
        words, word_events, phonemes, engine.phoneme_count, end_sample=len(raw)
    )

    speech = resample(raw.astype(np.float32) / 32768.0, ESPEAK_RATE, sample_rate)
    lead, trail = (int(round(p * sample_rate)) for p in pad)
    audio = np.concatenate([np.zeros(lead, np.float32), speech, np.zeros(trail, np.float32)])

    # Event samples at ESPEAK_RATE -> samples at sample_rate in the padded audio.
    boundaries = [lead + round(sample * sample_rate / ESPEAK_RATE) for sample in word_samples]
    boundaries.append(lead + len(speech))  # where the last word's sound can end at the latest
    spans = _word_spans(boundaries, _activity(audio, sample_rate), sample_rate)
    timed = [
        {"word": word, "start": start / sample_rate, "end": end / sample_rate}
        for word, (start, end) in zip(words, spans, strict=True)
    ]

    rng = np.random.default_rng(seed)
    if reverb_rt60 is not None:
        audio = add_reverb(audio, reverb_rt60, sample_rate, reverb_drr_db, rng)
    if noise_snr_db is not None:
        span = (round(timed[0]["start"] * sample_rate), round(timed[-1]["end"] * sample_rate))
        audio = add_noise(audio, noise_snr_db, noise_color, rng, span)
    peak = float(np.abs(audio).max())
    if peak > 0.99:
        audio = audio * np.float32(0.99 / peak)  # scale rather than clip; keeps the SNR
    return audio, timed


# --- text ----------------------------------------------------------------------------------------


@functools.cache
def word_list(name: str) -> tuple[str, ...]:
    """Entries of ``dslearn/assets/<name>.txt``: one per line (some lines carry two forms)."""
    path = ASSETS / f"{name}.txt"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such word list in dslearn/assets")
    return tuple(
        line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    )


def vocabulary() -> list[str]:
    """Every distinct word in the asset word lists (lowercase a–z and apostrophe), sorted."""
    names = ("nouns", "adjectives", "verbs", "adverbs", "names", "places", "items")
    return sorted({w for name in names for entry in word_list(name) for w in entry.split()})


@functools.lru_cache(maxsize=1)
def _nouns() -> tuple[tuple[str, ...], dict[str, str]]:
    """Singular nouns, and their plurals (listed in nouns.txt when irregular, else by rule)."""
    singular, plural = [], {}
    for entry in word_list("nouns"):
        noun, *given = entry.split()
        singular.append(noun)
        if given:
            plural[noun] = given[0]
        elif re.search(r"(s|x|z|ch|sh)$", noun):
            plural[noun] = noun + "es"
        elif re.search(r"[^aeiou]y$", noun):
            plural[noun] = noun[:-1] + "ies"
        else:
            plural[noun] = noun + "s"
    return tuple(singular), plural


@functools.lru_cache(maxsize=1)
def _verbs() -> tuple[tuple[str, ...], dict[str, str]]:
    """Base forms and past tenses from verbs.txt ("base past" per line)."""
    past = dict(entry.split() for entry in word_list("verbs"))
    return tuple(past), past


_MONTHS = ("january february march april may june july august september october november "
           "december").split()  # fmt: skip
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_DIGITS = "zero one two three four five six seven eight nine".split()


def _pick(options: Sequence[str]) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(options)


def _clock_time(rng: random.Random) -> str:
    hour, minute = rng.randint(1, 12), rng.choice([0, 0, 5, 10, 15, 20, 30, 30, 40, 45, 50])
    if rng.random() < 0.3:
        minute = rng.randint(0, 59)
    if rng.random() < 0.15:
        spoken = rng.choice(["noon", "midnight", f"half past {number_to_words(hour)}",
                             f"quarter past {number_to_words(hour)}",
                             f"quarter to {number_to_words(hour % 12 + 1)}"])  # fmt: skip
    elif minute == 0:
        spoken = number_to_words(hour) + rng.choice([" o'clock", ""])
    elif minute < 10:
        spoken = f"{number_to_words(hour)} oh {number_to_words(minute)}"
    else:
        spoken = f"{number_to_words(hour)} {number_to_words(minute)}"
    if rng.random() < 0.3 and spoken not in ("noon", "midnight"):
        spoken += rng.choice(
            [" in the morning", " in the afternoon", " in the evening", " tonight"]
        )
    return spoken


def _duration(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        n = rng.choice([1, 2, 3, 5, 10, 15, 20, 25, 30, 45, rng.randint(2, 90)])
        return "one minute" if n == 1 else f"{number_to_words(n)} minutes"
    if kind < 0.7:
        return f"{number_to_words(rng.choice([10, 15, 20, 30, 45, 90]))} seconds"
    if kind < 0.85:
        return rng.choice(["an hour", "half an hour", "an hour and a half", "two hours"])
    hours, minutes = rng.randint(1, 3), rng.choice([5, 10, 15, 20, 30, 40, 45])
    unit = "hour" if hours == 1 else "hours"
    return f"{number_to_words(hours)} {unit} and {number_to_words(minutes)} minutes"


def _date(rng: random.Random) -> str:
    month, day = rng.choice(_MONTHS), ordinal_to_words(rng.randint(1, 28))
    spoken = rng.choice([f"{month} {day}", f"the {day} of {month}"])
    if rng.random() < 0.35:
        spoken += " " + year_to_words(rng.randint(1950, 2035))
    return spoken


def _day(rng: random.Random) -> str:
    fixed = ["today", "tomorrow", "tonight", "this weekend", "this afternoon"]
    weekday = rng.choice(_WEEKDAYS)
    return rng.choice([*fixed, f"on {weekday}", f"next {weekday}", f"on {_date(rng)}"])


def _money(rng: random.Random) -> str:
    whole = rng.choice([1, 2, 5, 10, 20, 50, 100, rng.randint(2, 999)])
    unit = rng.choice(["dollar", "euro", "pound"])
    spoken = f"{number_to_words(whole)} {unit}{'' if whole == 1 else 's'}"
    if rng.random() < 0.3:
        cents = rng.randint(1, 99)
        sub = "cent" if unit != "pound" else "penny"
        sub = sub if cents == 1 else ("pence" if unit == "pound" else "cents")
        spoken += f" and {number_to_words(cents)} {sub}"
    return spoken


def _digits(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_DIGITS + ["oh"] if i else _DIGITS[1:]) for i in range(n))


def _number(rng: random.Random) -> str:
    magnitude = rng.choice([10, 20, 100, 1000, 10000, 1000000])
    return number_to_words(rng.randint(2, magnitude))


def _percent(rng: random.Random) -> str:
    return number_to_words(rng.choice([5, 10, 20, 25, 50, 75, rng.randint(1, 100)])) + " percent"


def _plural_noun(rng: random.Random) -> str:
    singular, plural = _nouns()
    return plural[rng.choice(singular)]


def _count_of_nouns(rng: random.Random) -> str:
    n = rng.choice([2, 3, 4, 5, 6, 10, 12, 20, rng.randint(2, 500)])
    return f"{number_to_words(n)} {_plural_noun(rng)}"


_ROOMS = ("kitchen", "living room", "bedroom", "bathroom", "hallway", "office", "garage", "garden")
_GENRES = ("jazz", "rock", "classical", "country", "pop", "reggae", "piano", "relaxing", "dance")
_DETERMINERS = ("the", "the", "the", "a", "my", "your", "his", "her", "our", "their", "this",
                "that")  # fmt: skip
_PREPOSITIONS = ("in", "on", "under", "behind", "near", "next to", "inside", "above", "beside")
_PRONOUNS = ("i", "you", "we", "they", "he", "she")
_WHEN = ("yesterday", "today", "last night", "this morning", "last week", "on monday",
         "after lunch", "before dinner", "an hour ago", "every day")  # fmt: skip

# Slot fillers for the templates below: "{name}" in a template is replaced by SLOTS["name"](rng).
SLOTS: dict[str, Callable[[random.Random], str]] = {
    "noun": lambda rng: rng.choice(_nouns()[0]),
    "nouns": _plural_noun,
    "adj": lambda rng: rng.choice(word_list("adjectives")),
    "verb": lambda rng: rng.choice(_verbs()[0]),
    "verbed": lambda rng: _verbs()[1][rng.choice(_verbs()[0])],
    "adverb": lambda rng: rng.choice(word_list("adverbs")),
    "name": lambda rng: rng.choice(word_list("names")),
    "place": lambda rng: rng.choice(word_list("places")),
    "item": lambda rng: rng.choice(word_list("items")),
    "det": _pick(_DETERMINERS),
    "prep": _pick(_PREPOSITIONS),
    "pronoun": _pick(_PRONOUNS),
    "when": _pick(_WHEN),
    "room": _pick(_ROOMS),
    "genre": _pick(_GENRES),
    "weekday": _pick(_WEEKDAYS),
    "time": _clock_time,
    "duration": _duration,
    "date": _date,
    "day": _day,
    "money": _money,
    "year": lambda rng: year_to_words(rng.randint(1900, 2035)),
    "small": lambda rng: number_to_words(rng.randint(2, 12)),
    "number": _number,
    "ordinal": lambda rng: ordinal_to_words(rng.randint(1, 40)),
    "percent": _percent,
    "degrees": lambda rng: f"{number_to_words(rng.randint(15, 30))} degrees",
    "phone": lambda rng: f"{_digits(rng, 3)} {_digits(rng, 3)} {_digits(rng, 4)}",
    "code": lambda rng: _digits(rng, rng.randint(4, 6)),
    "digit_string": lambda rng: _digits(rng, rng.randint(2, 6)),
    "count": _count_of_nouns,
}

COMMANDS = (
    "set a timer for {duration}",
    "set an alarm for {time}",
    "wake me up at {time} {day}",
    "remind me to {verb} the {noun} {day}",
    "remind me to call {name} in {duration}",
    "call {name}",
    "call {name} on speaker",
    "send a message to {name} saying i will be there at {time}",
    "text {name} that the {noun} is {adj}",
    "what's the weather in {place} {day}",
    "will it rain in {place} {day}",
    "what's the weather like {day}",
    "play some {genre} music",
    "play the next song",
    "turn on the {room} lights",
    "turn off the {room} lights",
    "dim the {room} lights to {percent}",
    "set the thermostat to {degrees}",
    "set the volume to {small}",
    "add {item} to my shopping list",
    "remove {item} from the shopping list",
    "do we still have {item}",
    "how long does it take to drive to {place}",
    "navigate to {place}",
    "book a table for {small} at {time} {day}",
    "what time is it in {place}",
    "schedule a meeting with {name} on {weekday} at {time}",
    "cancel my meeting with {name}",
    "how many days until {date}",
    "what's on my calendar {day}",
    "read my messages from {name}",
    "find a {adj} restaurant near {place}",
    "show me photos of {name} from {year}",
    "send {money} to {name}",
    "how much is {money} in dollars",
    "convert {number} miles to kilometers",
    "what is {number} plus {number}",
    "what is {small} times {small}",
    "start a workout for {duration}",
    "turn off the oven in {duration}",
    "lock the front door",
    "open the garage door",
    "is {name} home yet",
    "tell {name} dinner is ready",
    "how far is {place} from {place}",
)

NUMBER_SENTENCES = (
    "my birthday is on {date}",
    "the meeting is on {weekday} the {ordinal}",
    "the train leaves at {time}",
    "the package should arrive on {date}",
    "it costs {money}",
    "the total comes to {money}",
    "the code is {code}",
    "my phone number is {phone}",
    "there are {count} in the {noun}",
    "we counted {count} {when}",
    "she was born in {year}",
    "they moved to {place} in {year}",
    "the temperature will reach {degrees} {day}",
    "please turn to page {number}",
    "the population is about {number}",
    "the score was {small} to {small}",
    "room {number} is on the {ordinal} floor",
    "it is {time} in {place}",
    "about {percent} of the {nouns} are {adj}",
    "the battery is at {percent}",
    "the flight takes {duration}",
    "i paid {money} for the {noun}",
    "the bus comes every {duration}",
    "{number} people visited {place} in {year}",
    "the {ordinal} {noun} on the list is {adj}",
)

FREE_SENTENCES = (
    "the {adj} {noun} {verbed} {det} {noun} {adverb}",
    "{name} {verbed} the {adj} {noun} {prep} the {noun}",
    "i {verbed} {det} {noun} {when}",
    "{pronoun} will {verb} the {noun} {adverb}",
    "can you {verb} the {adj} {noun} for me",
    "do you want to {verb} the {noun} {adverb}",
    "my {noun} is very {adj}",
    "the {nouns} are {adj} and {adj}",
    "{name} and {name} {verbed} {det} {adj} {noun}",
    "we should {verb} the {noun} before the {noun}",
    "where did you {verb} the {noun}",
    "i think the {noun} was {adj} {when}",
    "please {verb} the {noun} and {verb} the {noun}",
    "there is a {adj} {noun} {prep} the {noun}",
    "{name} never {verbed} the {noun}",
    "it's a {adj} {noun}",
    "why did {name} {verb} my {noun}",
    "the {noun} {prep} the {noun} looks {adj}",
    "you can't {verb} a {noun} with a {noun}",
    "don't {verb} the {noun} {adverb}",
    "i'm {adj} because the {noun} is {adj}",
    "{pronoun} {verbed} {det} {adj} {noun} in {place}",
    "have you ever {verbed} a {noun}",
    "the {noun} and the {noun} were {adj}",
    "{name} said the {noun} was too {adj}",
    "let's {verb} the {noun} {adverb}",
    "{det} {noun} {verbed} {det} {noun}",
    "a {adj} {noun} {verbed} the {adj} {noun} {when}",
    "{name} wants to {verb} {det} {adj} {noun}",
    "if the {noun} is {adj} we will {verb} it",
)

# Strings of spoken digits, the classic first task of speech recognition (TIDIGITS, 1984): eleven
# words, so a small model learns to read them in minutes. Off by default (digits_weight=0).
DIGIT_SENTENCES = ("{digit_string}",)

SENTENCE_KINDS = {
    "command": COMMANDS,
    "number": NUMBER_SENTENCES,
    "free": FREE_SENTENCES,
    "digits": DIGIT_SENTENCES,
}

_SLOT = re.compile(r"\{(\w+)\}")
# "a" becomes "an" before a vowel sound; these spellings break the vowel-letter rule.
_AN_EXCEPTIONS = re.compile(r"^(uni|use|usu|eu|one|once)")
_AN_H_WORDS = {"hour", "hours", "honest", "honor", "heir"}


def _articles(words: list[str]) -> list[str]:
    out = list(words)
    for i in range(len(out) - 1):
        if out[i] in ("a", "an"):
            nxt = out[i + 1]
            vowel = (nxt[0] in "aeiou" and not _AN_EXCEPTIONS.match(nxt)) or nxt in _AN_H_WORDS
            out[i] = "an" if vowel else "a"
    return out


def fill_template(template: str, rng: random.Random) -> str:
    """Replace each ``{slot}`` of ``template`` with a random filler; returns normalized text."""

    def fill(match: re.Match) -> str:
        slot = match.group(1)
        if slot not in SLOTS:
            raise KeyError(f"template {template!r} uses unknown slot {{{slot}}}")
        return SLOTS[slot](rng)

    return normalize(" ".join(_articles(_SLOT.sub(fill, template).split())))


def generate_sentence(rng: random.Random, kinds: dict[str, float] | None = None) -> str:
    """One random sentence in normalized form; ``kinds`` weights "command", "number", "free"."""
    kinds = kinds or {"command": 0.4, "number": 0.2, "free": 0.4}
    kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
    return fill_template(rng.choice(SENTENCE_KINDS[kind]), rng)


def generate_sentences(
    n: int, seed: int = 0, kinds: dict[str, float] | None = None, exclude: Iterable[str] = ()
) -> list[str]:
    """``n`` distinct random sentences (normalized), none of them in ``exclude``."""
    rng = random.Random(seed)
    seen = set(exclude)
    out: list[str] = []
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 100 * n + 1000:
            raise SynthError(f"could not find {n} distinct sentences (found {len(out)})")
        sentence = generate_sentence(rng, kinds)
        if sentence not in seen:
            seen.add(sentence)
            out.append(sentence)
    return out


# --- the corpus ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthConfig:
    """Everything that decides the corpus. Same config, same bytes (for any number of workers)."""

    hours: float = 1.0  # audio in all four splits together, hours (estimated while planning)
    seed: int = 0  # seeds sentences, voices, prosody, noise and rooms
    sample_rate: int = SAMPLE_RATE  # Hz of the written WAV files (16-bit PCM, mono)
    dev_fraction: float = 0.05  # share of `hours` for dev
    test_fraction: float = 0.05  # share of `hours` for test
    unseen_fraction: float = 0.05  # share of `hours` for test-unseen-voices; train gets the rest
    min_utterances: int = 2  # per split, so that even a tiny corpus has every split
    voices: tuple[str, ...] = TRAIN_VARIANTS  # espeak-ng variants heard in train/dev/test
    unseen_voices: tuple[str, ...] = UNSEEN_VARIANTS  # variants heard only in test-unseen-voices
    accents: tuple[str, ...] = ACCENTS  # espeak-ng English voices combined with the variants
    rate_wpm: tuple[int, int] = (130, 220)  # speaking rate range, words per minute
    pitch: tuple[int, int] = (25, 75)  # espeak-ng pitch range, 0–100 (50: the variant's own)
    pitch_range: tuple[int, int] = (20, 90)  # intonation range, 0 (monotone) – 100
    volume: tuple[int, int] = (50, 100)  # espeak-ng amplitude; some variants clip above 100
    pad_seconds: tuple[float, float] = (0.05, 0.35)  # silence before and after speech, seconds
    noise_probability: float = 0.3  # share of utterances with background noise
    snr_db: tuple[float, float] = (5.0, 30.0)  # SNR range of that noise, dB
    noise_colors: tuple[str, ...] = ("white", "pink", "brown")  # noise spectra to choose from
    reverb_probability: float = 0.2  # share of utterances in a synthetic room
    rt60: tuple[float, float] = (0.2, 0.8)  # reverberation time range, seconds to decay 60 dB
    drr_db: tuple[float, float] = (0.0, 10.0)  # direct-to-reverberant ratio range, dB
    command_weight: float = 0.4  # share of voice-assistant commands with slots
    number_weight: float = 0.2  # share of sentences about numbers, dates, times and money
    free_weight: float = 0.4  # share of free sentences from the vocabulary
    digits_weight: float = 0.0  # share of digit strings ("four one seven"): the course's easy task
    text_sentences: int = 20000  # generated sentences added to the train text in text/train.txt
    utterances_per_process: int = 16  # shard size: each shard is spoken by a fresh process

    def __post_init__(self) -> None:
        if not self.hours > 0:
            raise ValueError(f"hours must be positive, got {self.hours}")
        if self.dev_fraction + self.test_fraction + self.unseen_fraction >= 1:
            raise ValueError("dev, test and unseen fractions must leave something for train")
        overlap = set(self.voices) & set(self.unseen_voices)
        if overlap:
            raise ValueError(f"voices in both train and unseen lists: {sorted(overlap)}")
        if not self.voices or not self.unseen_voices or not self.accents:
            raise ValueError("voices, unseen_voices and accents must not be empty")
        for name in ("rate_wpm", "pitch", "pitch_range", "volume", "pad_seconds", "snr_db", "rt60",
                     "drr_db"):  # fmt: skip
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name}: range {low}..{high} is reversed")
        for color in self.noise_colors:
            if color not in NOISE_COLORS:
                raise ValueError(f"noise color {color!r}: choose from {', '.join(NOISE_COLORS)}")
        if self.utterances_per_process < 1 or self.min_utterances < 1:
            raise ValueError("utterances_per_process and min_utterances must be at least 1")

    def split_fractions(self) -> dict[str, float]:
        rest = self.dev_fraction + self.test_fraction + self.unseen_fraction
        return {"train": 1 - rest, "dev": self.dev_fraction, "test": self.test_fraction,
                "test-unseen-voices": self.unseen_fraction}  # fmt: skip


def _estimated_seconds(text: str, rate_wpm: int, pad: tuple[float, float]) -> float:
    # Least-squares fit on 500 utterances of espeak-ng 1.52 (about 11% error per utterance).
    return (8.8 * len(text) + 23.0) / rate_wpm + sum(pad)


def _plan(config: SynthConfig) -> tuple[list[dict], list[str]]:
    """Every utterance with all its random choices, in a fixed order; and the LM text lines."""
    kinds = {"command": config.command_weight, "number": config.number_weight,
             "free": config.free_weight, "digits": config.digits_weight}  # fmt: skip
    kinds = {kind: weight for kind, weight in kinds.items() if weight > 0}
    used: set[str] = set()
    tasks: list[dict] = []
    for split, fraction in config.split_fractions().items():
        rng = random.Random(f"dslearn.synth/{config.seed}/{split}")  # str seeds are stable
        variants = config.unseen_voices if split == "test-unseen-voices" else config.voices
        target, planned, count = config.hours * 3600 * fraction, 0.0, 0
        while planned < target or count < config.min_utterances:
            for _ in range(1000):
                text = generate_sentence(rng, kinds)
                if text not in used:  # no sentence in two splits
                    break
            else:
                raise SynthError(f"ran out of distinct sentences while planning {split}")
            used.add(text)
            pad = tuple(round(rng.uniform(*config.pad_seconds), 3) for _ in range(2))
            task = {
                "split": split,
                "path": f"audio/{split}/{split}-{count:06d}.wav",
                "text": text,
                "voice": f"{rng.choice(config.accents)}+{rng.choice(variants)}",
                "rate": rng.randint(*config.rate_wpm),
                "pitch": rng.randint(*config.pitch),
                "pitch_range": rng.randint(*config.pitch_range),
                "volume": rng.randint(*config.volume),
                "pad": pad,
                "noise_snr_db": None,
                "noise_color": "white",
                "reverb_rt60": None,
                "reverb_drr_db": 0.0,
                "seed": rng.getrandbits(31),
            }
            if rng.random() < config.noise_probability:
                task["noise_snr_db"] = round(rng.uniform(*config.snr_db), 1)
                task["noise_color"] = rng.choice(config.noise_colors)
            if rng.random() < config.reverb_probability:
                task["reverb_rt60"] = round(rng.uniform(*config.rt60), 2)
                task["reverb_drr_db"] = round(rng.uniform(*config.drr_db), 1)
            tasks.append(task)
            planned += _estimated_seconds(text, task["rate"], pad)
            count += 1
    held_out = {t["text"] for t in tasks if t["split"] != "train"}
    lines = [t["text"] for t in tasks if t["split"] == "train"]
    rng = random.Random(f"dslearn.synth/{config.seed}/text")
    extra = 0
    while extra < config.text_sentences:
        sentence = generate_sentence(rng, kinds)
        if sentence not in held_out:  # the LM must not have seen dev/test sentences
            lines.append(sentence)
            extra += 1
    return tasks, lines


def _speak_shard(
    job: tuple[int, str, int, list[dict]], skip: frozenset[int], conn
) -> tuple[int, str, list[dict | None]]:
    """Worker: synthesize and write one shard; returns its index, espeak-ng's version, its lines.

    ``skip``: positions in the shard not to speak (their line is None). ``conn``: a pipe end on
    which the position about to be spoken is sent first, so that the parent can tell which
    utterance a crash inside espeak-ng interrupted.
    """
    index, out_dir, sample_rate, tasks = job
    rows: list[dict | None] = []
    for position, task in enumerate(tasks):
        if position in skip:
            rows.append(None)
            continue
        conn.send(("speaking", position))
        audio, words = synthesize(
            task["text"], task["voice"], task["rate"], task["pitch"], task["pitch_range"],
            task["volume"], pad=task["pad"], noise_snr_db=task["noise_snr_db"],
            noise_color=task["noise_color"], reverb_rt60=task["reverb_rt60"],
            reverb_drr_db=task["reverb_drr_db"], seed=task["seed"], sample_rate=sample_rate,
        )  # fmt: skip
        pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)
        path = Path(out_dir) / task["path"]
        sf.write(str(path), pcm, sample_rate, subtype="PCM_16")
        rows.append({
            "audio_filepath": task["path"],
            "duration": len(pcm) / sample_rate,
            "text": task["text"],
            "speaker": task["voice"],
            "words": [{"word": w["word"], "start": round(w["start"], 3), "end": round(w["end"], 3)}
                      for w in words],
        })  # fmt: skip
    return index, espeak_version(), rows


def _shard_process(job: tuple, skip: frozenset[int], conn) -> None:
    """Body of a shard's process: its lines, or its Python exception, go back through ``conn``."""
    try:
        conn.send(("done", _speak_shard(job, skip, conn)))
    except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises it
        import traceback

        where = "".join(traceback.format_exception(error))
        try:
            conn.send(("error", (error, where)))
        except Exception:  # an exception that cannot be pickled: its text, then
            conn.send(("error", (RuntimeError(f"{type(error).__name__}: {error}"), where)))
    finally:
        conn.close()


def _speak_shards(jobs: list, workers: int, crashed: list[dict]) -> Iterable:
    """``_speak_shard(job)`` for every job, each in a new process; yields results as they finish.

    A fresh process per shard starts espeak-ng from a clean state (see the module docstring); the
    forkserver keeps that cheap: it imports this module once, then forks a process per shard.

    espeak-ng itself can crash on rare inputs: version 1.52's "rob" variant at a low pitch with a
    wide pitch range dies with a segmentation fault on the word "immediately", which no Python
    code can catch. When a shard's process dies that way, the utterance it was speaking is
    appended to ``crashed`` (its task and the exit code) and the shard is spoken again, from its
    start in a fresh process, without it. The outcome depends only on the shard, so the corpus
    stays the same for any number of workers. A process that dies before speaking anything, or a
    Python exception in a worker, stops the whole run.
    """
    from collections import deque
    from multiprocessing.connection import wait

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["dslearn.synth"])
    pending = deque((job, frozenset()) for job in jobs)
    running: dict = {}  # receiving pipe end -> [process, job, skip, position being spoken]
    try:
        while pending or running:
            while pending and len(running) < workers:
                job, skip = pending.popleft()
                receiver, sender = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_shard_process, args=(job, skip, sender), daemon=True)
                process.start()
                sender.close()  # the child holds the only sending end: its death means EOF here
                running[receiver] = [process, job, skip, None]
            for receiver in wait(list(running)):
                state = running[receiver]
                process, job, skip, position = state
                try:
                    kind, value = receiver.recv()
                except EOFError:  # the process died without a word: a crash inside espeak-ng
                    process.join()
                    del running[receiver]
                    receiver.close()
                    if position is None:
                        raise RuntimeError(
                            f"the process speaking shard {job[0]} died (exit code "
                            f"{process.exitcode}) before its first utterance"
                        ) from None
                    crashed.append({**job[3][position], "exit_code": process.exitcode})
                    # Queued first: a crashed shard is finished before any new one starts.
                    pending.appendleft((job, skip | {position}))
                    continue
                if kind == "speaking":
                    state[3] = value
                    continue
                process.join()
                del running[receiver]
                receiver.close()
                if kind == "error":
                    error, where = value
                    context = f"in the process speaking shard {job[0]}:\n{where}"
                    raise error from RuntimeError(context)
                yield value
    finally:  # on an error or Ctrl-C, stop the shards in flight
        for process, *_ in running.values():
            process.kill()
            process.join()


_CORPUS_FILES = ("corpus.json", *(f"{s}.jsonl" for s in SPLITS))


def _prepare_out_dir(out: Path, overwrite: bool) -> None:
    existing = [name for name in (*_CORPUS_FILES, "audio", "text") if (out / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{out} already holds a corpus ({', '.join(existing)}); pass overwrite=True "
            "(dslearn synth --overwrite) to replace it, or choose another folder"
        )
    for name in existing:  # only what generate_corpus writes; other files in `out` stay
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    for split in SPLITS:
        (out / "audio" / split).mkdir(parents=True, exist_ok=True)
    (out / "text").mkdir(exist_ok=True)


def generate_corpus(
    out_dir: str | os.PathLike,
    hours: float = 1.0,
    seed: int = 0,
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    **overrides,
) -> dict:
    """Synthesize the default corpus into ``out_dir``; returns a summary (see below).

    Writes, relative to ``out_dir``:
        ``audio/<split>/<split>-NNNNNN.wav``  16-bit mono WAV at ``sample_rate`` (16 kHz);
        ``<split>.jsonl`` for train, dev, test, test-unseen-voices: one JSON object per line with
            ``audio_filepath`` (relative to ``out_dir``), ``duration`` (seconds), ``text``
            (normalized), ``speaker`` (espeak-ng voice, "accent+variant") and ``words``
            (``[{"word", "start", "end"}]`` in seconds);
        ``text/train.txt``  sentences for language models: the train transcripts plus
            ``text_sentences`` generated ones, none of them a dev, test or unseen-voices sentence;
        ``corpus.json``  the config, the espeak-ng version and the summary (written last).

    Args:
        hours: total audio over all splits (planned from estimated durations, so approximate).
        seed: same seed and overrides give the same files, byte for byte, for any ``workers``.
        workers: processes (default: all CPU cores). Output does not depend on it.
        progress: show a progress bar.
        overwrite: replace a corpus already in ``out_dir`` (otherwise ``FileExistsError``).
        **overrides: any other ``SynthConfig`` field, e.g. ``noise_probability=0``.

    Returns ``{"out_dir", "seed", "hours", "utterances", "seconds_wall", "workers", "splits":
    {split: {"utterances", "hours", "voices", "manifest"}}, "text": {"path", "sentences"}}``,
    plus ``"crashed"`` (the planned utterances left out, with espeak-ng's exit code) when
    espeak-ng crashed on any (rare; a warning names them too: see ``_speak_shards``).
    """
    fields = {f.name for f in dataclasses.fields(SynthConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f"unknown SynthConfig fields {unknown}; known: {sorted(fields)}")
    config = SynthConfig(hours=hours, seed=seed, **overrides)
    out = Path(out_dir)
    started = time.perf_counter()
    tasks, lines = _plan(config)
    _prepare_out_dir(out, overwrite)

    size = config.utterances_per_process
    jobs = [
        (index, str(out), config.sample_rate, tasks[start : start + size])
        for index, start in enumerate(range(0, len(tasks), size))
    ]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    rows_by_job: dict[int, list[dict | None]] = {}
    versions: set[str] = set()
    crashed: list[dict] = []
    from tqdm.auto import tqdm

    with tqdm(total=len(tasks), unit="utt", desc="synth", disable=not progress) as bar:
        for index, version, rows in _speak_shards(jobs, workers, crashed):
            versions.add(version)
            rows_by_job[index] = rows
            bar.update(len(rows))
    rows = [row for index in range(len(jobs)) for row in rows_by_job[index]]
    crashed.sort(key=lambda task: task["path"])  # by file name, whatever order shards ended in
    if crashed:
        warnings.warn(
            f"espeak-ng crashed on {len(crashed)} of {len(tasks)} utterances, which the corpus "
            "leaves out (corpus.json lists them under summary.crashed): "
            + "; ".join(_describe_task(task) for task in crashed),
            stacklevel=2,
        )

    splits = {}
    for split in SPLITS:
        split_rows = [
            r for r, t in zip(rows, tasks, strict=True) if r is not None and t["split"] == split
        ]
        with open(out / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for row in split_rows:
                f.write(json.dumps(row) + "\n")
        splits[split] = {
            "utterances": len(split_rows),
            "hours": sum(r["duration"] for r in split_rows) / 3600,
            "voices": sorted({r["speaker"] for r in split_rows}),
            "manifest": f"{split}.jsonl",
        }
    (out / "text" / "train.txt").write_text(
        "".join(line + "\n" for line in lines), encoding="utf-8"
    )
    summary = {
        "seed": seed,
        "hours": sum(s["hours"] for s in splits.values()),
        "utterances": sum(s["utterances"] for s in splits.values()),
        "splits": splits,
        "text": {"path": "text/train.txt", "sentences": len(lines)},
    }
    if crashed:  # only then, so that corpora without crashes keep the corpus.json they had
        summary["crashed"] = crashed
    record = {
        "format": "dslearn.synth/1",
        "espeak_ng": ", ".join(sorted(versions)),
        "config": dataclasses.asdict(config),
        "summary": summary,
    }
    (out / "corpus.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    # Not in corpus.json, which must not change between runs that make identical corpora.
    summary = {"out_dir": str(out), **summary, "seconds_wall": time.perf_counter() - started,
               "workers": workers}  # fmt: skip
    return summary


def _describe_task(task: dict) -> str:
    return (
        f"{task['path']} ({task['text']!r}, voice {task['voice']}, rate {task['rate']}, pitch "
        f"{task['pitch']}, range {task['pitch_range']}: exit code {task['exit_code']})"
    )


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def describe_corpus(out_dir: str | os.PathLike, summary: dict | None = None) -> str:
    """A short human-readable account of a corpus folder: splits, hours, voices, examples."""
    out = Path(out_dir)
    lines = [f"Synthetic speech corpus in {out}"]
    header = (
        f"  {'split':<20}{'utterances':>11}{'hours':>9}{'minutes':>9}{'speakers':>9}{'variants':>9}"
    )
    lines.append(header)
    examples, train_variants = [], set()
    for split in SPLITS:
        path = out / f"{split}.jsonl"
        if not path.exists():
            lines.append(f"  {split:<20}{'missing':>11}")
            continue
        rows = _read_jsonl(path)
        seconds = sum(r["duration"] for r in rows)
        speakers = {r.get("speaker", "?") for r in rows}  # "accent+variant"
        variants = {v.partition("+")[2] for v in speakers}
        if split != "test-unseen-voices":
            train_variants |= variants
        lines.append(f"  {split:<20}{len(rows):>11}{seconds / 3600:>9.3f}{seconds / 60:>9.1f}"
                     f"{len(speakers):>9}{len(variants):>9}")  # fmt: skip
        if rows:
            examples.append((split, rows[0]))
    unseen_path = out / "test-unseen-voices.jsonl"
    if unseen_path.exists():
        unseen = {r["speaker"].partition("+")[2] for r in _read_jsonl(unseen_path)}
        shared = unseen & train_variants
        lines.append(f"  unseen variants ({', '.join(sorted(unseen))}) "
                     + ("also in other splits: " + ", ".join(sorted(shared)) if shared
                        else "never occur in train/dev/test"))  # fmt: skip
    text_path = out / "text" / "train.txt"
    if text_path.exists():
        text_lines = text_path.read_text(encoding="utf-8").splitlines()
        n_words = sum(len(t.split()) for t in text_lines)
        vocab = len({w for t in text_lines for w in t.split()})
        lines.append(f"  LM text: {text_path.relative_to(out)} ({len(text_lines)} sentences, "
                     f"{n_words} words, {vocab} distinct)")  # fmt: skip
    if summary and summary.get("crashed"):
        lines.append(f"  left out: {len(summary['crashed'])} planned utterance(s) on which "
                     "espeak-ng crashed (corpus.json: summary.crashed)")  # fmt: skip
    if summary and "seconds_wall" in summary:
        wall = max(summary["seconds_wall"], 1e-9)
        speed = summary["hours"] * 3600 / wall
        lines.append(f"  generated in {wall:.1f} s with {summary['workers']} workers "
                     f"({speed:.0f}x real time)")  # fmt: skip
    lines.append("Examples (word timings from espeak-ng, seconds):")
    for split, row in examples:
        lines.append(f"  [{split}] {row['audio_filepath']}  {row['duration']:.2f} s  "
                     f"{row.get('speaker', '?')}")  # fmt: skip
        lines.append(f"    {row['text']!r}")
        timing = " ".join(f"{w['word']}@{w['start']:.2f}-{w['end']:.2f}" for w in row["words"])
        lines.append(f"    {timing}")
    return "\n".join(lines)


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
