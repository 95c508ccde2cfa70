"""CMU Flite: a small unit-selection and diphone synthesizer (``apt-get install flite``).

Voices are built from CMU recordings of real speakers: ``kal``/``kal16`` (diphones of an American
male, 8 and 16 kHz), ``awb`` (Scottish male), ``rms`` (American male) and ``slt`` (American
female), the last three cluster-unit voices from CMU ARCTIC. Flite reports no word timings
through its command line, so its manifest rows carry none.
"""

from __future__ import annotations

from dslearn.synth.engine import Engine, run_to_wav, scratch_wav, which


class Flite(Engine):
    name = "flite"
    packages = "flite"
    licence = "BSD-style (CMU / Edinburgh), voices from CMU ARCTIC: free to use and redistribute"
    voices = ("kal16", "awb", "slt", "kal")
    unseen_voices = ("rms",)

    def missing(self) -> str | None:
        return which("flite", self.packages)

    def _speak(self, text, voice, rate, seed):
        folder, wav = scratch_wav()
        with folder:
            command = ["flite", "-voice", voice, "--setf", f"duration_stretch={1 / rate:.3f}",
                       "-t", text, "-o", str(wav)]  # fmt: skip
            audio, sample_rate = run_to_wav(command, wav, f"flite voice {voice} saying {text!r}")
        return audio, sample_rate, None
