"""What every speech engine of ``dslearn.synth`` provides, and the engines dslearn knows.

An engine turns normalized English text into 16 kHz float audio with one of its voices:

    engine = get_engine("flite")           # raises EngineMissing naming the Debian package
    audio, words = engine.speak("set a timer for ten minutes", voice="slt", rate=1.1, seed=3)

``words`` is a list of ``{"word", "start", "end"}`` (seconds) where the engine reports word
timings (espeak-ng does, through its WORD events), and ``None`` where it does not: a corpus made
with such an engine says so in its manifest rather than inventing times.

Each engine lists its voices in two groups: ``voices`` may be heard in train/dev/test and
``unseen_voices`` only in the ``test-unseen-voices`` split, so that a corpus measures voices the
model never heard. Licences of the engines and voices are in ``ENGINE_LICENCES`` and in
docs/voices.md; every engine below allows training a model that is then redistributed.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16000  # Hz: what dslearn's models hear (same as dslearn.audio.SAMPLE_RATE)


class SynthError(ValueError):
    """Text or settings an engine cannot speak. The message names the text, voice or value."""


class EngineMissing(SynthError):
    """An engine whose program or voice is not installed; the message names what to install."""


class Engine:
    """One speech synthesizer behind the interface the corpus maker uses.

    Subclasses set ``name``, ``packages`` (what to install), ``licence``, ``voices`` and
    ``unseen_voices``, and implement ``_speak``.
    """

    name: str = ""
    packages: str = ""  # Debian packages (or pip) that bring the engine and its voices
    licence: str = ""
    voices: tuple[str, ...] = ()  # heard in train, dev and test
    unseen_voices: tuple[str, ...] = ()  # heard only in test-unseen-voices
    reports_word_times: bool = False

    def missing(self) -> str | None:
        """Why the engine cannot run here (naming what to install), or None when it can."""
        return None

    def require(self) -> None:
        """Raise ``EngineMissing`` naming the package to install when the engine cannot run."""
        why = self.missing()
        if why:
            raise EngineMissing(f"speech engine {self.name!r} is not usable here: {why}")

    def check_voice(self, voice: str) -> None:
        if voice not in self.voices + self.unseen_voices:
            raise SynthError(
                f"{self.name} has no voice {voice!r}; known: "
                f"{', '.join(self.voices + self.unseen_voices)}"
            )

    def speak(
        self, text: str, voice: str, rate: float = 1.0, seed: int = 0
    ) -> tuple[np.ndarray, list[dict] | None]:
        """Speak normalized ``text``: ``((samples,) float32 at 16 kHz, word times or None)``.

        ``rate`` is relative to the voice's own speed (1.2: 20% faster).
        """
        if not text.strip():
            raise SynthError(f"{self.name}: nothing to say in {text!r}")
        if not 0.5 <= rate <= 2.0:
            raise SynthError(f"{self.name}: rate {rate} outside 0.5..2.0 (relative speed)")
        self.require()
        self.check_voice(voice)
        audio, sample_rate, words = self._speak(text, voice, rate, seed)
        if audio.size == 0 or not np.any(audio):
            raise SynthError(f"{self.name} produced no audio for {text!r} with voice {voice!r}")
        return resample(audio, sample_rate, SAMPLE_RATE), words

    def _speak(
        self, text: str, voice: str, rate: float, seed: int
    ) -> tuple[np.ndarray, int, list[dict] | None]:
        raise NotImplementedError


def run_to_wav(
    command: list[str], wav: Path, what: str, stdin: str | None = None
) -> tuple[np.ndarray, int]:
    """Run an engine's command that writes ``wav``; its audio as float32 and its sample rate."""
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not wav.exists():
        raise SynthError(
            f"{what}: {command[0]} failed ({done.returncode}): {done.stderr.strip()[-300:]}"
        )
    audio, sample_rate = sf.read(str(wav), dtype="float32", always_2d=True)
    return audio.mean(axis=1), sample_rate


def which(program: str, package: str) -> str | None:
    """None when ``program`` is on PATH, else a sentence naming the package to install."""
    if shutil.which(program):
        return None
    return f"the program {program!r} is not installed (Debian: sudo apt-get install {package})"


def scratch_wav() -> tuple[tempfile.TemporaryDirectory, Path]:
    folder = tempfile.TemporaryDirectory(prefix="dslearn-synth-")
    return folder, Path(folder.name) / "out.wav"


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
