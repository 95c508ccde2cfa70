"""Features: parity with librosa on real speech, exact padding, CMVN and SpecAugment."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dslearn import audio
from dslearn.features import FeatureConfig, SpecAugment, build_features, utterance_cmvn

FSDD = Path(__file__).resolve().parents[2] / "shared" / "fsdd" / "recordings"
CLIPS = ["3_george_7.wav", "8_yweweler_12.wav", "0_lucas_3.wav"]
needs_fsdd = pytest.mark.skipif(not (FSDD / CLIPS[0]).exists(), reason="../shared/fsdd absent")

# Tolerances in dB (features) for float32 against librosa's float32/float64 mix. The largest
# differences sit near the -100 dB power floor, where float32 rounding dominates.
LOGMEL_ATOL_DB = 0.02
MFCC_ATOL = 0.01


@pytest.fixture(scope="module")
def speech():
    return [audio.load(FSDD / name).numpy() for name in CLIPS]


def _ours(cfg: FeatureConfig, y: np.ndarray) -> np.ndarray:
    feats, frames = build_features(cfg)(torch.from_numpy(y)[None], torch.tensor([len(y)]))
    assert int(frames[0]) == feats.shape[1] == len(y) // cfg.hop_length + 1
    return feats[0].numpy()


@needs_fsdd
@pytest.mark.parametrize("n_fft", [400, 512])
@pytest.mark.parametrize("top_db", [None, 80.0])
def test_logmel_matches_librosa(speech, n_fft, top_db):
    librosa = pytest.importorskip("librosa")
    cfg = FeatureConfig(kind="logmel", n_fft=n_fft, normalize="none", top_db=top_db)
    for y in speech:
        mel = librosa.feature.melspectrogram(
            y=y, sr=16000, n_fft=n_fft, hop_length=160, n_mels=80, pad_mode="constant"
        )
        ref = librosa.power_to_db(mel, top_db=top_db).T
        np.testing.assert_allclose(_ours(cfg, y), ref, atol=LOGMEL_ATOL_DB, rtol=0)


@needs_fsdd
@pytest.mark.parametrize("n_mfcc", [13, 26])
def test_mfcc_matches_librosa(speech, n_mfcc):
    librosa = pytest.importorskip("librosa")
    # librosa.feature.mfcc floors the dB log-mel at 80 dB below its peak (top_db=80).
    cfg = FeatureConfig(kind="mfcc", n_mfcc=n_mfcc, normalize="none", top_db=80.0)
    for y in speech:
        ref = librosa.feature.mfcc(
            y=y, sr=16000, n_mfcc=n_mfcc, n_fft=400, hop_length=160, n_mels=80, pad_mode="constant"
        ).T
        np.testing.assert_allclose(_ours(cfg, y), ref, atol=MFCC_ATOL, rtol=0)


@needs_fsdd
def test_padded_batch_equals_each_utterance_alone(speech):
    for kind in ("spectrogram", "logmel", "mfcc"):
        extractor = build_features(FeatureConfig(kind=kind))
        lengths = torch.tensor([len(y) for y in speech])
        batch = torch.full((len(speech), int(lengths.max())), 0.7)  # junk in the padding
        for i, y in enumerate(speech):
            batch[i, : len(y)] = torch.from_numpy(y)
        feats, frames = extractor(batch, lengths)
        assert feats.shape == (3, int(frames.max()), FeatureConfig(kind=kind).n_features)
        for i, y in enumerate(speech):
            alone, n = extractor(torch.from_numpy(y)[None], torch.tensor([len(y)]))
            assert int(n[0]) == int(frames[i])
            torch.testing.assert_close(feats[i, : frames[i]], alone[0], atol=1e-4, rtol=1e-4)
            assert feats[i, frames[i] :].abs().sum() == 0  # padded frames are zero


def test_utterance_cmvn_uses_only_valid_frames():
    feats = torch.randn(2, 50, 8) * 3 + 5
    lengths = torch.tensor([50, 20])
    out = utterance_cmvn(feats, lengths)
    valid = out[1, :20]
    torch.testing.assert_close(valid.mean(0), torch.zeros(8), atol=1e-5, rtol=0)
    torch.testing.assert_close(valid.std(0, unbiased=False), torch.ones(8), atol=1e-3, rtol=0)
    assert out[1, 20:].abs().sum() == 0
    # The statistics of utterance 1 do not depend on the junk in its padding.
    feats[1, 20:] = 1e6
    torch.testing.assert_close(utterance_cmvn(feats, lengths)[1, :20], valid)


def test_specaugment_masks_only_in_training_and_inside_lengths():
    feats = torch.ones(4, 300, 80)
    lengths = torch.tensor([300, 250, 120, 40])
    aug = SpecAugment(freq_masks=2, freq_width=15, time_masks=2, time_width=40)
    assert torch.equal(aug.eval()(feats, lengths), feats)
    aug.train()
    out = aug(feats, lengths, generator=torch.Generator().manual_seed(1))
    zeroed = out == 0
    assert zeroed.any()
    # Time masks never exceed 10% of an utterance: at most 2 * 4 frames of the 40-frame one.
    fully_masked_frames = zeroed[3, :40].all(dim=-1).sum()
    assert fully_masked_frames <= 8
    # Frequency bands are whole: a masked feature is masked on every frame of that utterance.
    band = zeroed[0].all(dim=0)
    assert 0 < band.sum() <= 30


def test_specaugment_is_deterministic_with_a_generator():
    feats, lengths = torch.randn(3, 100, 40), torch.tensor([100, 80, 60])
    aug = SpecAugment().train()
    a = aug(feats, lengths, generator=torch.Generator().manual_seed(5))
    b = aug(feats, lengths, generator=torch.Generator().manual_seed(5))
    c = aug(feats, lengths, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_config_round_trip_and_validation():
    cfg = FeatureConfig(kind="mfcc", n_mfcc=26, top_db=80.0)
    assert FeatureConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert cfg.n_features == 26 and FeatureConfig(kind="spectrogram").n_features == 201
    with pytest.raises(ValueError, match="feature kind"):
        FeatureConfig(kind="wavelets")
    with pytest.raises(ValueError, match=r"expected \(batch, samples\)"):
        build_features()(torch.zeros(100), torch.tensor([100]))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_matches_cpu():
    audio_batch = torch.randn(2, 16000) * 0.1
    lengths = torch.tensor([16000, 9000])
    extractor = build_features()
    cpu, _ = extractor(audio_batch, lengths)
    gpu, _ = extractor.cuda()(audio_batch.cuda(), lengths.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-3, rtol=1e-3)
