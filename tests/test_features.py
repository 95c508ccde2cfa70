"""Features: parity with librosa on real speech, exact padding, CMVN, SpecAugment, config.

Parity tolerances (max abs difference against librosa 0.11, same parameters, on FSDD speech
resampled to 16 kHz). float32 is what training uses; float64 input runs the same code in float64
and shows that the remaining float32 differences are rounding, not a different formula.

=====================  ==============================  =====================  ================
features               bins compared                   float32 (measured*)    float64
=====================  ==============================  =====================  ================
log-mel, dB            all (floor -100 dB)             0.02 dB (0.015)        1e-5 dB (4e-7)
log-mel, dB            within 80 dB of the peak        0.005 dB (0.0013)
MFCC (top_db=80)       all coefficients                0.002 (0.0004)         1e-4 (2e-6)
power spectrogram, dB  within 80 dB of the peak        0.02 dB (0.008)        1e-4 dB (1e-9)
=====================  ==============================  =====================  ================

(*) worst case over 100 FSDD files, n_fft 400 and 512. float64 rows compare all bins. The
largest float32 differences are in near-silent bins 100+ dB below the utterance's peak, where the
float32 FFT's rounding error (~1e-7 of the peak amplitude) is a large fraction of the bin; librosa
computes its STFT in float64 internally. Individual (unpooled) spectrogram bins there differ by up
to ~0.5 dB in float32, which is why that row only compares bins within 80 dB of the peak.
"""

import json
import math

import numpy as np
import pytest
import torch
from fsdd_stand_in import fsdd_recording

from dslearn import audio
from dslearn.features import (
    MFCC,
    FeatureConfig,
    FeatureExtractor,
    GlobalCMVN,
    LogMel,
    SpecAugment,
    Spectrogram,
    build_features,
    compute_global_stats,
    dct_matrix,
    frame_lengths,
    mel_filterbank,
    utterance_cmvn,
)

# Four FSDD digits of different speakers (FSDD's own, or espeak-ng stand-ins: tests/conftest.py).
CLIPS = [(3, "george", 7), (8, "yweweler", 12), (0, "lucas", 3), (5, "jackson", 20)]

LOGMEL_ATOL_DB = 0.02  # float32, every bin down to the -100 dB floor
LOGMEL_TOP80_ATOL_DB = 0.005  # float32, bins within 80 dB of the utterance's peak
MFCC_ATOL = 0.002  # float32, MFCC coefficients (top_db=80, as librosa.feature.mfcc)
SPEC_TOP80_ATOL_DB = 0.02  # float32 power spectrogram, bins within 80 dB of the peak
FLOAT64_ATOL_DB = 1e-5  # log-mel computed in float64 (librosa's float32 filterbank dominates)
FLOAT64_MFCC_ATOL = 1e-4


@pytest.fixture(scope="module")
def speech() -> list[np.ndarray]:
    """Four FSDD digits (different speakers) at 8 kHz, resampled to 16 kHz."""
    return [audio.load(fsdd_recording(*clip)).numpy() for clip in CLIPS]


@pytest.fixture(scope="module")
def librosa():
    return pytest.importorskip("librosa")


def _ours(cfg: FeatureConfig, y: np.ndarray) -> np.ndarray:
    """Features of one utterance; float64 audio is computed in float64."""
    wave = torch.from_numpy(y)
    feats, frames = build_features(cfg)(wave[None], torch.tensor([len(y)]))
    assert feats.dtype == wave.dtype and frames.dtype == torch.int64
    assert int(frames[0]) == feats.shape[1] == len(y) // cfg.hop_length + 1
    return feats[0].numpy()


def _max_diff(ours: np.ndarray, ref: np.ndarray, within_db: float | None = None) -> float:
    assert ours.shape == ref.shape
    diff = np.abs(ours - ref)
    if within_db is not None:
        diff = diff[ref > ref.max() - within_db]
    return float(diff.max())


@pytest.mark.parametrize("n_fft", [400, 512])
def test_logmel_matches_librosa(speech, librosa, n_fft):
    cfg = FeatureConfig(kind="logmel", n_fft=n_fft, normalize="none")
    for y in speech:
        for dtype, atol in ((np.float32, LOGMEL_ATOL_DB), (np.float64, FLOAT64_ATOL_DB)):
            y = y.astype(dtype)
            # librosa defaults: Slaney mel scale and norm, periodic Hann, centered zero padding.
            mel = librosa.feature.melspectrogram(
                y=y, sr=16000, n_fft=n_fft, hop_length=160, n_mels=80
            )
            ref = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None).T
            ours = _ours(cfg, y)
            assert _max_diff(ours, ref) <= atol
            if dtype == np.float32:
                assert _max_diff(ours, ref, within_db=80) <= LOGMEL_TOP80_ATOL_DB


def test_logmel_top_db_matches_power_to_db(speech, librosa):
    cfg = FeatureConfig(kind="logmel", normalize="none", top_db=60.0)
    for y in speech:
        mel = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=400, hop_length=160, n_mels=80)
        ref = librosa.power_to_db(mel, top_db=60.0).T
        ours = _ours(cfg, y)
        assert _max_diff(ours, ref) <= LOGMEL_TOP80_ATOL_DB
        # The floor is actually active on this speech, so this compares the clamp, not luck.
        assert np.isclose(ours.min(), ours.max() - 60.0, atol=1e-3)


@pytest.mark.parametrize("n_mfcc", [13, 40])
def test_mfcc_matches_librosa(speech, librosa, n_mfcc):
    # librosa.feature.mfcc floors its dB log-mel 80 dB below the peak (power_to_db's top_db=80).
    cfg = FeatureConfig(kind="mfcc", n_mfcc=n_mfcc, normalize="none", top_db=80.0)
    for y in speech:
        for dtype, atol in ((np.float32, MFCC_ATOL), (np.float64, FLOAT64_MFCC_ATOL)):
            y = y.astype(dtype)
            ref = librosa.feature.mfcc(
                y=y, sr=16000, n_mfcc=n_mfcc, n_fft=400, hop_length=160, n_mels=80
            ).T
            assert _max_diff(_ours(cfg, y), ref) <= atol


def test_spectrogram_matches_librosa_stft(speech, librosa):
    for y in speech:
        mag = np.abs(librosa.stft(y.astype(np.float64), n_fft=400, hop_length=160))
        ref_db = librosa.power_to_db(mag**2, top_db=None).T
        db = _ours(FeatureConfig(kind="spectrogram", normalize="none"), y)
        assert _max_diff(db, ref_db, within_db=80) <= SPEC_TOP80_ATOL_DB
        db64 = _ours(FeatureConfig(kind="spectrogram", normalize="none"), y.astype(np.float64))
        assert _max_diff(db64, ref_db) <= 1e-4
        # Linear magnitude: relative to the loudest bin, float32 rounding is all that differs.
        cfg = FeatureConfig(kind="spectrogram", normalize="none", power=1.0, log=False)
        assert _max_diff(_ours(cfg, y), mag.T) <= 1e-5 * mag.max()


def test_native_8khz_and_htk_mel_scale(librosa):
    """The config's sample_rate is honoured: FSDD at its native 8 kHz, HTK mels, f_min/f_max."""
    y = audio.load(fsdd_recording(*CLIPS[0]), sample_rate=None).numpy()
    cfg = FeatureConfig(
        kind="logmel",
        sample_rate=8000,
        n_fft=256,
        hop_length=80,
        n_mels=40,
        f_min=50.0,
        f_max=3800.0,
        mel_scale="htk",
        normalize="none",
        top_db=80.0,
    )
    mel = librosa.feature.melspectrogram(
        y=y, sr=8000, n_fft=256, hop_length=80, n_mels=40, fmin=50.0, fmax=3800.0, htk=True
    )
    assert _max_diff(_ours(cfg, y), librosa.power_to_db(mel, top_db=80.0).T) <= 0.005


def test_mel_filterbank_and_dct_match_librosa_and_scipy(librosa):
    scipy_fft = pytest.importorskip("scipy.fft")
    for kwargs in (
        dict(sr=16000, n_fft=400, n_mels=80),
        dict(sr=16000, n_fft=512, n_mels=64, fmin=20.0, fmax=7600.0),
        dict(sr=8000, n_fft=256, n_mels=40, htk=True),
    ):
        ref = librosa.filters.mel(**kwargs, dtype=np.float64).T
        ours = mel_filterbank(
            kwargs["sr"],
            kwargs["n_fft"],
            kwargs["n_mels"],
            kwargs.get("fmin", 0.0),
            kwargs.get("fmax"),
            mel_scale="htk" if kwargs.get("htk") else "slaney",
        )
        np.testing.assert_allclose(ours.numpy(), ref, rtol=0, atol=1e-12 * ref.max())
    x = np.random.default_rng(0).standard_normal((5, 80))
    ref = scipy_fft.dct(x, type=2, norm="ortho")[:, :13]
    np.testing.assert_allclose(x @ dct_matrix(80, 13).numpy(), ref, atol=1e-12)


@pytest.mark.parametrize("n_fft,hop", [(400, 160), (512, 160), (401, 100)])
def test_frame_lengths_are_exact(n_fft, hop):
    """frame_lengths agrees with what the STFT of each utterance alone produces."""
    spec = Spectrogram(n_fft=n_fft, hop_length=hop)
    lengths = torch.tensor([1, hop - 1, hop, hop + 1, 1000, 16000])
    for n in lengths:
        _, frames = spec(torch.randn(1, int(n)), n[None])
        alone, _ = spec(torch.randn(1, int(n)), n[None])
        assert int(frames[0]) == alone.shape[1]
    expected = torch.tensor([(int(n) + 2 * (n_fft // 2) - n_fft) // hop + 1 for n in lengths])
    assert torch.equal(frame_lengths(lengths, hop, n_fft), expected)
    if n_fft % 2 == 0:
        assert torch.equal(frame_lengths(lengths, hop, n_fft), lengths // hop + 1)


@pytest.mark.parametrize("kind", ["spectrogram", "logmel", "mfcc"])
@pytest.mark.parametrize("normalize", ["utterance", "none"])
def test_padded_batch_equals_each_utterance_alone(speech, kind, normalize):
    cfg = FeatureConfig(kind=kind, normalize=normalize, top_db=80.0)
    extractor = build_features(cfg)
    lengths = torch.tensor([len(y) for y in speech])
    batch = torch.full((len(speech), int(lengths.max()) + 517), 0.7)  # junk in the padding
    for i, y in enumerate(speech):
        batch[i, : len(y)] = torch.from_numpy(y)
    feats, frames = extractor(batch, lengths)
    assert feats.shape == (len(speech), batch.shape[1] // 160 + 1, cfg.n_features)
    assert torch.equal(frames, lengths // 160 + 1)
    for i, y in enumerate(speech):
        alone, n = extractor(torch.from_numpy(y)[None], torch.tensor([len(y)]))
        assert int(n[0]) == int(frames[i]) == alone.shape[1]
        # FFT rounding differs with the batch shape (~1e-5 dB); CMVN divides by the std of each
        # bin, which is small for bins that sit at the top_db floor, and so magnifies it.
        atol = 5e-3 if normalize == "utterance" else 1e-4
        torch.testing.assert_close(feats[i, : frames[i]], alone[0], atol=atol, rtol=1e-5)
        assert feats[i, frames[i] :].abs().sum() == 0  # padded frames are zero


def test_top_db_peak_ignores_frames_past_the_length():
    """The first frame past an utterance still overlaps its last samples (by up to n_fft / 2).

    With n_fft 512 and a click on the utterance's last sample, that padded frame has the click at
    its window's center and is louder than any valid frame; the top_db floor must not see it.
    """
    n = 160 * 20 + 159
    quiet = torch.randn(n, generator=torch.Generator().manual_seed(0)) * 1e-3
    quiet[-1] = 1.0
    cfg = FeatureConfig(kind="spectrogram", n_fft=512, normalize="none", top_db=40.0)
    extractor = build_features(cfg)
    alone, _ = extractor(quiet[None], torch.tensor([n]))
    batch = torch.zeros(2, n + 1000)
    batch[0, :n] = quiet
    batch[1] = 0.01
    feats, frames = extractor(batch, torch.tensor([n, n + 1000]))
    torch.testing.assert_close(feats[0, : frames[0]], alone[0], atol=1e-3, rtol=1e-5)


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


def test_compute_global_stats_counts_only_valid_frames():
    gen = torch.Generator().manual_seed(0)
    utts = [torch.randn(n, 6, generator=gen) * torch.arange(1, 7) + 10 for n in (30, 7, 52, 1, 19)]
    everything = torch.cat(utts).double()
    # Two padded batches with junk padding, plus a bare (frames, feats) tensor.
    batches = []
    for group in (utts[:2], utts[2:4]):
        lengths = torch.tensor([len(u) for u in group])
        padded = torch.full((len(group), int(lengths.max()) + 5, 6), 1e4)
        for i, u in enumerate(group):
            padded[i, : len(u)] = u
        batches.append((padded, lengths))
    stats = compute_global_stats([*batches, utts[4]])
    assert stats.frames == everything.shape[0] == 109
    torch.testing.assert_close(stats.mean, everything.mean(0).float(), atol=1e-5, rtol=0)
    std = torch.sqrt(everything.var(0, unbiased=False) + 1e-5).float()
    torch.testing.assert_close(stats.std, std, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="no valid frames"):
        compute_global_stats([])


def test_global_cmvn_normalizes_and_travels_in_state_dict():
    cfg = FeatureConfig(kind="logmel", n_mels=40, normalize="global")
    extractor = build_features(cfg)
    gen = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(3):
        lengths = torch.randint(4000, 16000, (4,), generator=gen)
        wave = torch.randn(4, 16000, generator=gen) * torch.rand(4, 1, generator=gen)
        batches.append((wave, lengths))
    with pytest.raises(RuntimeError, match="no statistics"):
        extractor(*batches[0])
    stats = extractor.fit_global_cmvn(batches)
    assert stats.frames == sum(int((n // 160 + 1).sum()) for _, n in batches)
    # Over the data it was fitted on: zero mean, unit variance per feature (valid frames only).
    outs = []
    for wave, lengths in batches:
        feats, frames = extractor(wave, lengths)
        outs += [feats[i, : frames[i]] for i in range(len(frames))]
        assert feats[torch.arange(feats.shape[1])[None] >= frames[:, None]].abs().sum() == 0
    pooled = torch.cat(outs).double()
    torch.testing.assert_close(
        pooled.mean(0), torch.zeros(40, dtype=torch.float64), atol=1e-4, rtol=0
    )
    torch.testing.assert_close(
        pooled.std(0, unbiased=False), torch.ones(40, dtype=torch.float64), atol=1e-3, rtol=0
    )
    # The statistics are persistent buffers: a fresh extractor with the state_dict agrees.
    state = extractor.state_dict()
    assert set(state) == {"cmvn.mean", "cmvn.std", "cmvn.frames"}
    fresh = FeatureExtractor(FeatureConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))))
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh(*batches[1])[0], extractor(*batches[1])[0])
    # Without global normalization the extractor has no state to save.
    assert build_features(FeatureConfig()).state_dict() == {}


def test_global_cmvn_module_fit_and_shape_check():
    cmvn = GlobalCMVN(3)
    assert not cmvn.is_fitted
    cmvn.fit([torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 5.0]])])
    assert cmvn.is_fitted
    torch.testing.assert_close(cmvn.mean, torch.tensor([2.0, 2.0, 4.0]))
    out = cmvn(torch.tensor([[[3.0, 2.0, 5.0], [9.0, 9.0, 9.0]]]), torch.tensor([1]))
    torch.testing.assert_close(out[0, 0], torch.tensor([1.0, 0.0, 1.0]), atol=1e-4, rtol=0)
    assert out[0, 1].abs().sum() == 0
    with pytest.raises(ValueError, match="features"):
        GlobalCMVN(4).set_stats(compute_global_stats([torch.ones(2, 3)]))


def test_specaugment_is_identity_in_eval_and_masks_in_training():
    feats = torch.randn(4, 300, 80) + 5
    before = feats.clone()
    lengths = torch.tensor([300, 250, 120, 40])
    aug = SpecAugment(freq_masks=2, freq_width=15, time_masks=2, time_width=40)
    assert aug.eval()(feats, lengths) is feats
    out = aug.train()(feats, lengths, generator=torch.Generator().manual_seed(1))
    # Input left alone: masking a copy, never the caller's tensor (nothing of it was zeroed).
    assert out is not feats and torch.equal(feats, before)
    zeroed = out == 0
    assert zeroed.any()
    assert torch.equal(out[~zeroed], feats[~zeroed])
    for b in range(4):
        # Frequency masks are whole bands over the utterance's valid frames.
        band = zeroed[b, : lengths[b]].all(dim=0)
        assert 0 < band.sum() <= 2 * 15 or not zeroed[b].any()


def test_specaugment_respects_lengths_and_caps_time_masks():
    n_frames, repeats = 300, 100
    caps = {300: 10, 90: 9, 40: 4, 9: 0, 0: 0}  # min(time_width=10, floor(0.1 * length))
    lengths = torch.tensor(list(caps)).repeat_interleave(repeats)  # 100 draws per length
    padding_value = 3.0
    pad = torch.arange(n_frames)[None] >= lengths[:, None]
    feats = torch.ones(len(lengths), n_frames, 20)
    feats[pad] = padding_value
    aug = SpecAugment(
        freq_masks=2, freq_width=5, time_masks=1, time_width=10, max_time_fraction=0.1
    ).train()
    out = aug(feats, lengths, generator=torch.Generator().manual_seed(0))
    # Padded frames are never touched, whatever they hold.
    assert (out[pad] == padding_value).all()
    # Two bands of <= 5 of the 20 features never mask a whole frame: only time masks do.
    widths = (out == 0).all(dim=-1).sum(dim=1).view(len(caps), repeats)
    # Never wider than the cap, and the cap is reached: both limits are exercised.
    assert widths.amax(dim=1).tolist() == list(caps.values())
    assert (out == 0).any(dim=1).any()  # frequency masks happened too


def test_specaugment_is_deterministic_with_a_generator():
    feats, lengths = torch.randn(3, 100, 40), torch.tensor([100, 80, 60])
    aug = SpecAugment().train()
    a = aug(feats, lengths, generator=torch.Generator().manual_seed(5))
    b = aug(feats, lengths, generator=torch.Generator().manual_seed(5))
    c = aug(feats, lengths, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    # Utterances in a batch draw their own masks.
    same_input = torch.ones(2, 100, 40)
    d = aug(same_input, torch.tensor([100, 100]), generator=torch.Generator().manual_seed(5))
    assert not torch.equal(d[0], d[1])


@pytest.mark.parametrize(
    "cfg",
    [
        FeatureConfig(),
        FeatureConfig(kind="mfcc", n_mfcc=26, top_db=80.0, f_max=7600.0, normalize="global"),
        FeatureConfig(kind="spectrogram", win_length=320, power=1.0, log=False, normalize="none"),
        FeatureConfig(kind="logmel", mel_scale="htk", mel_norm=None, sample_rate=8000, n_mels=40),
    ],
)
def test_config_round_trips_through_json(cfg):
    text = json.dumps(cfg.to_dict())
    back = FeatureConfig.from_dict(json.loads(text))
    assert back == cfg and back.to_dict() == cfg.to_dict()
    assert build_features(back).config == cfg


def test_config_properties_and_validation():
    assert FeatureConfig().n_features == 80
    assert FeatureConfig(kind="mfcc", n_mfcc=26).n_features == 26
    assert FeatureConfig(kind="spectrogram").n_features == 201
    assert math.isclose(FeatureConfig().frame_shift, 0.01)
    # Older checkpoints without newer fields still load; unknown fields are an error.
    assert FeatureConfig.from_dict({"kind": "mfcc"}) == FeatureConfig(kind="mfcc")
    with pytest.raises(ValueError, match="unknown FeatureConfig field"):
        FeatureConfig.from_dict({"kind": "logmel", "n_melz": 40})
    bad = [
        dict(kind="wavelets"),
        dict(normalize="batch"),
        dict(win_length=512),
        dict(f_max=9000.0),
        dict(kind="mfcc", n_mfcc=81),
        dict(power=3.0),
        dict(kind="logmel", log=False),
        dict(top_db=-1.0),
    ]
    for kwargs in bad:
        with pytest.raises(ValueError):
            FeatureConfig(**kwargs)
    with pytest.raises(ValueError, match=r"expected \(batch, samples\)"):
        build_features()(torch.zeros(100), torch.tensor([100]))


def test_module_classes_agree_with_the_extractor():
    wave, lengths = torch.randn(2, 8000) * 0.1, torch.tensor([8000, 5000])
    logmel, frames = LogMel()(wave, lengths)
    mfcc, _ = MFCC(n_mfcc=13)(wave, lengths)
    ext = build_features(FeatureConfig(kind="mfcc", normalize="none"))
    torch.testing.assert_close(ext(wave, lengths)[0], mfcc)
    torch.testing.assert_close(mfcc, (logmel @ dct_matrix(80, 13).float()), atol=1e-3, rtol=1e-5)
    assert torch.equal(frames, ext.frame_lengths(lengths))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_matches_cpu():
    gen = torch.Generator().manual_seed(0)
    wave = torch.randn(3, 16000, generator=gen) * 0.1
    lengths = torch.tensor([16000, 9000, 4000])
    for kind in ("spectrogram", "logmel", "mfcc"):
        extractor = build_features(FeatureConfig(kind=kind, top_db=80.0))
        cpu, cpu_frames = extractor(wave, lengths)
        gpu, gpu_frames = extractor.cuda()(wave.cuda(), lengths.cuda())
        assert gpu.is_cuda and torch.equal(gpu_frames.cpu(), cpu_frames)
        torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-3, rtol=1e-3)
    # SpecAugment with a CPU generator draws the same masks for GPU features.
    aug = SpecAugment().train()
    feats = torch.randn(3, 101, 80)
    frames = torch.tensor([101, 57, 26])
    on_cpu = aug(feats, frames, generator=torch.Generator().manual_seed(3))
    on_gpu = aug(feats.cuda(), frames.cuda(), generator=torch.Generator().manual_seed(3))
    assert torch.equal(on_gpu.cpu(), on_cpu)
    # Global CMVN statistics fitted from GPU features.
    ext = build_features(FeatureConfig(normalize="global")).cuda()
    ext.fit_global_cmvn([(wave.cuda(), lengths.cuda())])
    assert ext(wave.cuda(), lengths.cuda())[0].is_cuda
