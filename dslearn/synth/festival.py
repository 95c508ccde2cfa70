"""The Festival speech synthesis system with its Debian English voices.

``kal_diphone`` (festvox-kallpc16k, American male) and ``ked_diphone`` (festvox-kdlpc16k,
American male) are diphone voices: every sound is a piece of a real speaker's recording, joined
by signal processing. ``cmu_us_slt_arctic_hts`` (festvox-us-slt-hts) is a statistical (HTS)
voice trained on CMU ARCTIC's female speaker. ``text2wave`` reports no word timings, so Festival's
manifest rows carry none.
"""

from __future__ import annotations

from pathlib import Path

from dslearn.synth.engine import Engine, run_to_wav, scratch_wav, which

VOICE_PACKAGES = {
    "kal_diphone": "festvox-kallpc16k",
    "cmu_us_slt_arctic_hts": "festvox-us-slt-hts",
    "ked_diphone": "festvox-kdlpc16k",
}
_VOICE_DIRS = Path("/usr/share/festival/voices")


class Festival(Engine):
    name = "festival"
    packages = "festival " + " ".join(VOICE_PACKAGES.values())
    licence = "Festival and festvox voices: BSD-style (CSTR Edinburgh / CMU), free to redistribute"
    voices = ("kal_diphone", "cmu_us_slt_arctic_hts")
    unseen_voices = ("ked_diphone",)

    def missing(self) -> str | None:
        why = which("text2wave", "festival")
        if why:
            return why
        absent = [p for v, p in VOICE_PACKAGES.items() if not any(_VOICE_DIRS.glob(f"*/{v}"))]
        if absent:
            return f"Festival voices missing (Debian: sudo apt-get install {' '.join(absent)})"
        return None

    def _speak(self, text, voice, rate, seed):
        folder, wav = scratch_wav()
        with folder:
            command = ["text2wave", "-eval", f"(voice_{voice})",
                       "-eval", f"(Parameter.set 'Duration_Stretch {1 / rate:.3f})",
                       "-o", str(wav)]  # fmt: skip
            audio, sample_rate = run_to_wav(
                command, wav, f"festival voice {voice} saying {text!r}", stdin=text
            )
        return audio, sample_rate, None
