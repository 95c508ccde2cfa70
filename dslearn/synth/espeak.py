"""espeak-ng through ctypes: the default engine, needing nothing but the espeakng-loader wheel.

Variation comes from espeak-ng's voice *variants* (``espeak-ng-data/voices/!v``: m1–m8, f1–f5,
klatt, …) combined with its English accents (en-us, en-gb-scotland, …), and per utterance from
speaking rate, pitch, pitch range and volume.

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
"""

from __future__ import annotations

import ctypes
import functools
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dslearn.augment import add_noise, add_reverb
from dslearn.synth.engine import SAMPLE_RATE, Engine, SynthError, resample
from dslearn.text import normalize

ESPEAK_RATE = 22050  # Hz: espeak-ng synthesizes every built-in voice at this rate

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


class Espeak(Engine):
    """espeak-ng as an ``Engine``: voices are "accent+variant" ("en-us+m3")."""

    name = "espeak"
    packages = "espeakng-loader (pip; installed with dslearn)"
    licence = "GPL-3.0-or-later (espeak-ng and its voice data); its audio is not covered by it"
    reports_word_times = True

    @property
    def voices(self) -> tuple[str, ...]:
        return tuple(f"{a}+{v}" for a in ACCENTS for v in TRAIN_VARIANTS)

    @property
    def unseen_voices(self) -> tuple[str, ...]:
        return tuple(f"{a}+{v}" for a in ACCENTS for v in UNSEEN_VARIANTS)

    def check_voice(self, voice: str) -> None:
        _check_voice(voice)

    def _speak(self, text, voice, rate, seed):
        audio, words = synthesize(text, voice, rate=round(175 * rate), seed=seed)
        return audio, SAMPLE_RATE, words
