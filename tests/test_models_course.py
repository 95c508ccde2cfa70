"""model.future_frames (chapters 04 and 11): the future context a streaming model waits for."""

import torch

from dslearn.model import build_model, future_frames, preset, time_stride


def test_future_frames_of_the_presets():
    assert future_frames(preset("small-streaming")) == 15 + 2 * 20  # convs 150 ms + lookahead
    assert future_frames(preset("small-streaming", lookahead=0)) == 15
    assert future_frames(preset("small")) is None  # bidirectional: the whole utterance
    assert future_frames(preset("ds1")) == 9


def test_an_output_frame_changes_exactly_when_its_last_future_input_frame_changes():
    torch.manual_seed(0)
    cfg = preset("small-streaming", rnn_hidden=32, rnn_layers=1, lookahead=4)
    model = build_model(cfg).eval()
    r, future = time_stride(cfg), future_frames(cfg)
    x = torch.randn(1, 120, 80)
    lengths = torch.tensor([120])
    with torch.no_grad():
        base, _ = model(x, lengths)
        for t_in in (40, 61, 90):
            y = x.clone()
            y[:, t_in] += 3.0
            changed = (model(y, lengths)[0] - base).abs().amax(-1)[0] > 1e-6
            first = int(changed.nonzero()[0])
            # output t' reads input frames up to r * t' + future
            assert r * first + future >= t_in > r * (first - 1) + future


def test_partial_input_covering_the_future_context_gives_final_outputs():
    torch.manual_seed(0)
    cfg = preset("small-streaming", rnn_hidden=32, rnn_layers=1)
    model = build_model(cfg).eval()
    x = torch.randn(1, 300, 80)
    n_out = 50
    seen = time_stride(cfg) * (n_out - 1) + future_frames(cfg) + 1
    with torch.no_grad():
        whole, _ = model(x, torch.tensor([300]))
        part, _ = model(x[:, :seen], torch.tensor([seen]))
        short, _ = model(x[:, : seen - 1], torch.tensor([seen - 1]))
    assert torch.allclose(whole[:, :n_out], part[:, :n_out], atol=1e-5)
    assert not torch.allclose(whole[:, :n_out], short[:, :n_out], atol=1e-5)
