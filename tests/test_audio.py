"""dslearn.audio on 8 kHz speech (FSDD, else espeak-ng stand-ins) and on broken files."""

import numpy as np
import pytest
import soundfile as sf
import torch
from fsdd_stand_in import fsdd_recording

from dslearn import audio
from dslearn.audio import AudioError

CLIP = fsdd_recording(7, "jackson")  # FSDD's, or an espeak-ng stand-in (tests/conftest.py)


def test_load_resamples_real_speech_to_16k():
    native = audio.load(CLIP, sample_rate=None)
    resampled = audio.load(CLIP)
    header = sf.info(str(CLIP))
    assert header.samplerate == 8000
    assert native.dtype == torch.float32 and native.ndim == 1
    assert native.numel() == header.frames
    assert abs(resampled.numel() - 2 * header.frames) <= 1
    assert audio.duration(CLIP) == pytest.approx(header.frames / 8000)
    # Same signal energy after resampling (band-limited speech survives 8k -> 16k).
    assert resampled.pow(2).mean().item() == pytest.approx(native.pow(2).mean().item(), rel=0.05)
    assert 0.01 < resampled.abs().max().item() <= 1.0


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
def test_save_and_load_round_trip(tmp_path, suffix):
    clip = audio.load(CLIP)
    path = audio.save(tmp_path / f"clip{suffix}", clip)
    back = audio.load(path)
    assert back.numel() == pytest.approx(clip.numel(), abs=2)
    n = min(back.numel(), clip.numel())
    error = (back[:n] - clip[:n]).abs().max().item()
    # 16-bit PCM and FLAC are exact to quantisation; Vorbis is lossy, so compare energies instead.
    if suffix == ".ogg":
        assert back.pow(2).mean().item() == pytest.approx(clip.pow(2).mean().item(), rel=0.2)
    else:
        assert error < 1e-4


def test_stereo_is_mixed_down(tmp_path):
    t = np.arange(16000) / 16000
    left, right = np.sin(2 * np.pi * 440 * t), np.zeros_like(t)
    sf.write(
        tmp_path / "stereo.wav",
        np.stack([left, right], axis=1).astype(np.float32) * 0.5,
        16000,
        subtype="FLOAT",
    )
    mono = audio.load(tmp_path / "stereo.wav")
    assert mono.shape == (16000,)
    assert mono.abs().max().item() == pytest.approx(0.25, abs=1e-3)


def test_save_clips_instead_of_wrapping(tmp_path):
    path = audio.save(tmp_path / "loud.wav", torch.tensor([2.0, -3.0, 0.5]))
    assert audio.load(path).tolist() == pytest.approx([1.0, -1.0, 0.5], abs=1e-4)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(AudioError, match=r"nothere\.wav: no such file"):
        audio.load(tmp_path / "nothere.wav")


def test_empty_file_is_named(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: file is empty"):
        audio.load(tmp_path / "empty.wav")


def test_corrupt_bytes_are_named(tmp_path):
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunkjunk" * 4)
    with pytest.raises(AudioError, match=r"corrupt\.wav: cannot decode audio"):
        audio.load(bad)
    with pytest.raises(AudioError, match=r"corrupt\.wav"):
        audio.duration(bad)


def test_zero_length_audio_is_named(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match=r"silence\.wav: contains no audio samples"):
        audio.load(path)


def test_unsupported_format_is_named(tmp_path):
    mp4 = tmp_path / "talk.m4a"
    mp4.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(64))
    with pytest.raises(AudioError, match=r"talk\.m4a: unsupported audio format '\.m4a'"):
        audio.load(mp4)
    with pytest.raises(AudioError, match=r"cannot write '\.m4a'"):
        audio.save(tmp_path / "out.m4a", torch.zeros(10))


def test_directory_is_not_audio(tmp_path):
    with pytest.raises(AudioError, match="is a directory"):
        audio.load(tmp_path)


def test_resample_rejects_nonsense_rates():
    with pytest.raises(ValueError, match="positive"):
        audio.resample(torch.zeros(100), 0, 16000)
