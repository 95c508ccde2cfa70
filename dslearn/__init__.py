"""dslearn: learn and build DeepSpeech-style CTC speech recognition.

The pipeline, one module per step: ``audio`` -> ``features`` -> ``model`` -> ``ctc`` (training) /
``decoding`` -> ``metrics``; ``synth`` makes the embedded corpus, ``data`` reads manifests,
``train`` wires it together, ``inference`` serves trained models.

>>> import dslearn
>>> asr = dslearn.load_model()               # the pretrained model shipped in the package
>>> dslearn.transcribe("clip.wav").text
"""

from __future__ import annotations

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
