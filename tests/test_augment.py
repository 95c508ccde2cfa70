"""dslearn.augment: the speakers, rooms, channels and noises the trainer applies on the fly."""

import numpy as np
import pytest
import torch

from dslearn import synth
from dslearn.augment import (
    AugmentConfig,
    Augmenter,
    band_limit,
    change_speaker,
    hum,
    simulated_room,
)

SR = 16000


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    audio, _ = synth.synthesize("she nibbled daintily at her cake", "en-us+m3", pitch=50)
    return audio


def _median_pitch(audio: np.ndarray) -> float:
    import parselmouth

    f0 = parselmouth.Sound(audio.astype(np.float64), SR).to_pitch().selected_array["frequency"]
    return float(np.median(f0[f0 > 0]))


def _centroid(audio: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / SR)
    return float((spectrum * freqs).sum() / spectrum.sum())


def test_a_new_speaker_has_the_asked_pitch_and_higher_formants_at_the_same_length(speech):
    out = change_speaker(speech, formant_shift=1.2, pitch_median=220.0)
    assert len(out) == len(speech) and np.isfinite(out).all()
    assert _median_pitch(speech) < 150  # the male voice it starts from
    assert abs(_median_pitch(out) - 220) < 25
    assert _centroid(out) > 1.05 * _centroid(speech)  # a shorter vocal tract
    lower = change_speaker(speech, formant_shift=0.85, pitch_median=0.0)  # 0: pitch kept
    assert _centroid(lower) < _centroid(speech)


def test_a_room_reverberates_for_about_its_rt60_with_the_direct_path_first():
    rng = np.random.default_rng(0)
    for rt60 in (0.2, 0.6):
        ir = simulated_room(rt60, rng)
        assert np.argmax(np.abs(ir)) == 0
        energy = np.cumsum(ir[::-1] ** 2)[::-1]  # Schroeder's backward integral
        decay_db = 10 * np.log10(energy / energy[0])
        t20 = np.argmax(decay_db < -20) / SR  # time to fall 20 dB, x3 for 60 dB
        assert 0.4 * rt60 < 3 * t20 < 1.8 * rt60, (rt60, 3 * t20)


def test_a_short_rt60_shrinks_a_room_too_big_for_it_instead_of_failing():
    # 0.15 s (AugmentConfig's shortest default) is out of reach of a 10 x 8 x 4 m room even with
    # walls absorbing everything (Sabine: 0.161 V / S = 0.17 s); training once died on it.
    for seed in range(60):
        ir = simulated_room(0.15, np.random.default_rng(seed))
        assert np.argmax(np.abs(ir)) == 0 and np.all(np.isfinite(ir))
    with pytest.raises(ValueError, match="rt60=0.001 s is too short"):
        simulated_room(0.001, np.random.default_rng(0))


def test_a_band_limit_removes_what_lies_outside_the_band():
    noise = np.random.default_rng(1).standard_normal(SR).astype(np.float32)
    out = band_limit(noise, 300.0, 3400.0)
    spectrum = np.abs(np.fft.rfft(out)) ** 2
    freqs = np.fft.rfftfreq(SR, 1 / SR)
    inside = spectrum[(freqs > 500) & (freqs < 3000)].mean()
    assert spectrum[freqs > 4500].mean() < inside * 1e-3
    assert spectrum[freqs < 200].mean() < inside * 1e-2


def test_hum_is_mains_frequency_and_its_harmonics():
    h = hum(SR, np.random.default_rng(2))
    peak = np.fft.rfftfreq(SR, 1 / SR)[np.argmax(np.abs(np.fft.rfft(h)))]
    assert peak in (50.0, 60.0)
    assert abs(np.mean(h**2) - 1) < 1e-3


def test_the_augmenter_changes_each_reading_keeps_length_and_range(speech):
    aug = Augmenter(AugmentConfig(speaker=1, room=1, channel=1, noise=1, clip=1), seed=3)
    x = torch.from_numpy(speech)
    a, b = aug(x), aug(x)
    assert a.shape == b.shape == x.shape and a.dtype == torch.float32
    assert a.abs().max() <= 1 and torch.isfinite(a).all()
    assert not torch.allclose(a, b)  # every epoch hears a different version
    # A seed gives the same stream (without the speaker change: Praat's PSOLA resynthesis is
    # not bit-for-bit repeatable).
    cfg = AugmentConfig(speaker=0, room=1, channel=1, noise=1, clip=1)
    assert torch.equal(Augmenter(cfg, seed=3)(x), Augmenter(cfg, seed=3)(x))


def test_everything_switched_off_leaves_audio_alone(speech):
    off = AugmentConfig(speaker=0, room=0, channel=0, noise=0, clip=0, gain_db=(0.0, 0.0))
    out = Augmenter(off)(torch.from_numpy(speech))
    assert torch.equal(out, torch.from_numpy(speech))


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="augment.room is a probability"):
        AugmentConfig(room=1.5)
    with pytest.raises(ValueError, match="augment.rt60: range 0.9..0.2 is reversed"):
        AugmentConfig(rt60=(0.9, 0.2))
    with pytest.raises(ValueError, match=r"unknown augment setting\(s\) \['rooms'\]"):
        AugmentConfig.from_dict({"rooms": 0.5})
    with pytest.raises(ValueError, match="noise_types"):
        AugmentConfig(noise_types=("thunder",))


def test_train_cli_turns_augmentation_on_with_its_settings():
    from dslearn.cli import build_parser, train_config

    parse = build_parser().parse_args
    assert train_config(parse(["train", "--train", "t.jsonl", "--out", "o"])).augment is None
    cfg = train_config(parse(["train", "--train", "t", "--out", "o", "--augment"]))
    assert cfg.augment == {}
    cfg = train_config(parse(["train", "--train", "t", "--out", "o", "--set", "augment.room=0.5"]))
    assert AugmentConfig.from_dict(cfg.augment).room == 0.5
