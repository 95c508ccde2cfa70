"""Test helpers every clone has: recordings named like the Free Spoken Digit Dataset's.

(A module of its own, not conftest.py: ``pytest tests notebooks`` also loads notebooks/conftest.py,
and the two would share the module name ``conftest``.)

Tests that want human speech read FSDD where the course finds it (``dslearn.course.fsdd_root``:
``DSLEARN_FSDD``, else ``../shared/fsdd`` above the working directory). A clone without it, which
is every user's, gets stand-ins instead of skips: the same digit spoken by espeak-ng
(``dslearn.synth.synthesize``), one voice per FSDD speaker and the take as the seed, written as
FSDD writes its files (8 kHz mono 16-bit PCM WAV). They are made once per test session, on first
use, in a temporary folder removed at the end.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

DIGITS = "zero one two three four five six seven eight nine".split()
FSDD_RATE = 8000  # Hz, as FSDD's recordings
# A voice per FSDD speaker, so that "different speakers" stay different voices.
STAND_IN_VOICES = {
    "george": "en-us+m3",
    "jackson": "en-gb-scotland+m1",
    "lucas": "en-us-nyc+m2",
    "nicolas": "en+m4",
    "theo": "en-029+m5",
    "yweweler": "en+f3",
}


@functools.cache
def _fsdd_root() -> Path | None:
    """Found once: ``fsdd_root`` looks above the working directory, which tests may change."""
    from dslearn.course import fsdd_root

    return fsdd_root()


@functools.cache
def _stand_in_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="dslearn-fsdd-stand-ins-"))


def fsdd_recording(digit: int, speaker: str = "george", take: int = 0) -> Path:
    """``{digit}_{speaker}_{take}.wav``: FSDD's recording if FSDD is present, else a stand-in."""
    name = f"{digit}_{speaker}_{take}.wav"
    root = _fsdd_root()
    if root is not None:
        return root / "recordings" / name
    path = _stand_in_folder() / name
    if not path.exists():
        import soundfile as sf

        from dslearn.synth import synthesize

        voice = STAND_IN_VOICES.get(speaker, "en-us+m3")
        # FSDD trims its recordings closely: a little silence each side, as there.
        wave, _ = synthesize(
            DIGITS[digit], voice=voice, seed=take, pad=(0.05, 0.05), sample_rate=FSDD_RATE
        )
        sf.write(path, wave, FSDD_RATE, subtype="PCM_16")
    return path


def remove_stand_ins() -> None:
    """Delete the stand-in folder, if this session made one (tests/conftest.py calls it)."""
    if _stand_in_folder.cache_info().currsize:
        shutil.rmtree(_stand_in_folder(), ignore_errors=True)
