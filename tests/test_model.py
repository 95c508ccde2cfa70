"""DeepSpeech models: exact output lengths, padding invariance, streaming causality, configs."""

import json

import pytest
import torch

from dslearn.model import (
    PRESETS,
    ModelConfig,
    build_model,
    check_ctc_lengths,
    count_parameters,
    preset,
    receptive_field,
    reverse_within_lengths,
    run_rnn_packed,
    run_rnn_unpacked,
)


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {name: build_model(cfg).eval() for name, cfg in PRESETS.items() if name != "base"}


@pytest.mark.parametrize("name", [n for n in PRESETS if n != "base"])
def test_output_lengths_exact_for_every_length(models, name):
    model = models[name]
    for n_frames in [1, 2, 3, 7, 8, 50, 101]:
        x = torch.randn(1, n_frames, 80)
        with torch.no_grad():
            y, lengths = model(x, torch.tensor([n_frames]))
        assert y.shape == (1, int(model.output_lengths(torch.tensor([n_frames]))), 29)
        assert int(lengths) == y.shape[1]


def test_base_preset_is_ds2_paper_sized():
    model = build_model(PRESETS["base"])
    assert count_parameters(model) > 50_000_000
    assert len(model.convs) == 3 and len(model.rnns) == 5
    with torch.no_grad():
        y, lengths = model.eval()(torch.randn(2, 40, 80), torch.tensor([40, 33]))
    assert y.shape[1] == int(lengths.max()) and lengths.tolist() == [20, 17]


@pytest.mark.parametrize("name", ["tiny", "ds1", "small-streaming"])
def test_padded_batch_equals_each_utterance_alone(models, name):
    model = models[name]
    lengths = torch.tensor([90, 61, 23])
    x = torch.randn(3, 90, 80)
    x[1, 61:] = 123.0  # garbage in the padding must not leak into valid frames
    with torch.no_grad():
        y, out_lengths = model(x, lengths)
        for b in range(3):
            alone, _ = model(x[b : b + 1, : lengths[b]], lengths[b : b + 1])
            assert torch.allclose(y[b, : out_lengths[b]], alone[0], atol=1e-5)


def test_reverse_within_lengths_keeps_padding_last():
    x = torch.arange(10.0).view(2, 5, 1)
    out = reverse_within_lengths(x, torch.tensor([5, 3]))
    assert out[:, :, 0].tolist() == [[4, 3, 2, 1, 0], [7, 6, 5, 8, 9]]


@pytest.mark.parametrize("cls", [torch.nn.GRU, torch.nn.LSTM, torch.nn.RNN])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_unpacked_rnn_equals_the_packed_reference(cls, bidirectional):
    # The CPU fast path must give the packed reference's outputs and gradients.
    torch.manual_seed(0)
    rnn = cls(7, 5, batch_first=True, bidirectional=bidirectional)
    x = torch.randn(3, 9, 7, requires_grad=True)
    lengths = torch.tensor([9, 4, 6])
    results = []
    for run in (run_rnn_packed, run_rnn_unpacked):
        out = run(rnn, x, lengths)
        results.append((out, torch.autograd.grad(out.pow(2).sum(), [x, *rnn.parameters()])))
    (ref, ref_grads), (fast, fast_grads) = results
    assert torch.allclose(ref, fast, atol=1e-6)
    assert fast[1, 4:].abs().sum() == 0  # zero past the length, as pad_packed_sequence gives
    for a, b in zip(ref_grads, fast_grads):
        assert torch.allclose(a, b, atol=1e-5)


def test_streaming_model_does_not_look_further_than_its_lookahead(models):
    model, cfg = models["small-streaming"], PRESETS["small-streaming"]
    x = torch.randn(1, 200, 80)
    changed = x.clone()
    changed[:, 150:] = torch.randn(1, 50, 80)
    with torch.no_grad():
        a, _ = model(x, torch.tensor([200]))
        b, _ = model(changed, torch.tensor([200]))
    # Conv output frame t sees input frames up to 2t + 15 (kernel 11 twice, time stride 2);
    # the lookahead conv adds `lookahead` output frames: t + lookahead >= (150 - 15) / 2.
    first_affected = -(-(150 - 15) // 2) - cfg.lookahead
    differs = (a - b).abs().amax(-1)[0] > 1e-6
    assert not differs[:first_affected].any()
    assert differs[first_affected]


def test_bidirectional_model_does_look_ahead(models):
    x = torch.randn(1, 100, 80)
    changed = x.clone()
    changed[:, 90:] += 1.0
    with torch.no_grad():
        a, _ = models["tiny"](x, torch.tensor([100]))
        b, _ = models["tiny"](changed, torch.tensor([100]))
    # Output frame 30 sees input frames up to 2 * 30 + 15 = 75 through the convs; only the
    # backward RNN can carry news from frame 90 to it.
    assert (a[0, 30] - b[0, 30]).abs().max() > 1e-4


def test_ctc_length_check_names_the_utterance():
    targets = torch.tensor([[5, 12, 12, 15], [1, 2, 0, 0]])
    check_ctc_lengths(torch.tensor([5, 2]), torch.tensor([4, 2]), targets)  # "hello" fits in 5
    with pytest.raises(
        ValueError,
        match=r"b\.wav: transcript needs 5 frames but the model "
        r"outputs only 4",
    ):
        check_ctc_lengths(
            torch.tensor([9, 4]),
            torch.tensor([4, 5]),
            torch.tensor([[1, 2, 3, 4, 0], [3, 4, 5, 6, 7]]),
            ["a.wav", "b.wav"],
        )


def test_config_round_trips_through_json_and_overrides():
    cfg = preset("small", n_feats=40, rnn_type="lstm")
    again = ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and again.n_feats == 40
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        preset("huge")
    with pytest.raises(ValueError, match="unknown model config fields"):
        ModelConfig.from_dict({"nope": 1})


def test_receptive_field_and_sizes():
    assert receptive_field(PRESETS["tiny"]) == 41  # 11 + 10 frames x time stride 3
    assert receptive_field(PRESETS["ds1"]) == 19
    sizes = {name: count_parameters(build_model(PRESETS[name])) for name in ("tiny", "small")}
    assert sizes["tiny"] < 2_500_000 < sizes["small"] < 6_500_000  # small fits 25 MB in fp32
