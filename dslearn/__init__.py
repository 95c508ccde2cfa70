"""dslearn: learn and build DeepSpeech-style CTC speech recognition.

The pipeline, one module per step: ``audio`` -> ``features`` -> ``model`` -> ``ctc`` (training) /
``decoding`` -> ``metrics``; ``synth`` makes the embedded corpus, ``data`` reads manifests,
``train`` wires it together, ``inference`` serves trained models.

>>> import dslearn
>>> asr = dslearn.load_model()               # the pretrained model shipped in the package
>>> dslearn.transcribe("clip.wav").text
"""

from __future__ import annotations

import os

# OpenMP threads that wait for work by spinning make torch on a busy machine many times slower:
# with another process competing for a 2-core CPU, a training step of the tiny model took 12.1 s
# with torch's 2 threads spinning and 1.7 s with them sleeping (docs/benchmarks.md, "Threads on a
# busy machine"). Set before torch is imported, so it holds when dslearn is imported first (the
# command line, every chapter of the course); a value the user set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
__all__ = ["load_model", "transcribe"]


def __getattr__(name: str):
    # Imported on first use: `import dslearn` stays light for synth's worker processes, which
    # never need torch.
    if name == "load_model":
        from dslearn.inference import load_model

        return load_model
    raise AttributeError(f"module 'dslearn' has no attribute {name!r}")


def transcribe(audio, model=None, device: str = "cpu"):
    """Transcribe a file, a ``(samples,)`` 16 kHz tensor, or a list of them (default model)."""
    from dslearn.inference import load_model

    return load_model(model, device=device).transcribe(audio)
