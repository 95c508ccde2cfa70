"""Exercises of chapter 04 (DeepSpeech models): conv output length, receptive field, GRU step."""

from __future__ import annotations

import torch

from dslearn import model
from dslearn.exercises import Case, Exercise, close, equal, register, seeded


def _conv_output_length(length: int, kernel: int, stride: int, padding: int) -> int:
    """Frames out of a 1D (or the time axis of a 2D) convolution: floor((T + 2p - k) / s) + 1."""
    return (length + 2 * padding - kernel) // stride + 1


def _conv_length_cases() -> list[Case]:
    cases = [
        Case("'same' padding, stride 1: 300 frames stay 300", (300, 11, 1, 5)),
        Case(
            "stride 2, even length: 300 -> 150",
            (300, 11, 2, 5),
            hint="divide by the stride, then add 1: floor((T + 2p - k) / s) + 1",
        ),
        Case(
            "stride 2, odd length: 301 -> 151 (floor, then + 1)",
            (301, 11, 2, 5),
            hint="round down with // before adding 1; do not round up or use float division",
        ),
        Case(
            "no padding: a kernel of 11 eats 10 frames",
            (100, 11, 1, 0),
            hint="without padding the first output needs k input frames: T - k + 1",
        ),
        Case(
            "stride 3, no padding: 100 -> 30",
            (100, 11, 3, 0),
            hint="(100 - 11) // 3 + 1 = 30: floor division, not rounding",
        ),
        Case(
            "padding on both sides counts twice",
            (50, 5, 1, 2),
            hint="the padding p is added at the start and at the end: T + 2p",
        ),
        Case("kernel as long as the input: one frame out", (11, 11, 2, 0)),
    ]
    rng = seeded(40)
    for i in range(10):
        kernel = int(torch.randint(1, 16, (1,), generator=rng))
        stride = int(torch.randint(1, 5, (1,), generator=rng))
        padding = int(torch.randint(0, kernel // 2 + 1, (1,), generator=rng))
        length = int(torch.randint(kernel, 500, (1,), generator=rng))
        cases.append(Case(f"random {i + 1}", (length, kernel, stride, padding)))
    return cases


register(
    Exercise(
        name="conv_output_length",
        chapter="04",
        signature="conv_output_length(length, kernel, stride, padding) -> int  # frames out",
        reference=_conv_output_length,
        cases=_conv_length_cases,
        compare=equal,
    )
)


def _receptive_field(kernels, strides) -> int:
    """Input frames one output frame sees through a stack of convolutions (time axis only)."""
    n = len(kernels)
    cfg = model.ModelConfig(
        conv_channels=(1,) * n,
        conv_kernels=tuple((1, int(k)) for k in kernels),
        conv_strides=tuple((1, int(s)) for s in strides),
    )
    return model.receptive_field(cfg)


def _receptive_field_cases() -> list[Case]:
    cases = [
        Case("one layer: the kernel itself", ([11], [2])),
        Case(
            "two stride-1 layers: 11 + 10 = 21",
            ([11, 11], [1, 1]),
            hint="each layer adds (k - 1) frames: it widens the field by k - 1, not by k",
        ),
        Case(
            "DS2 small: kernels 11, 11 with strides 2, 1 -> 31",
            ([11, 11], [2, 1]),
            hint="a layer above a stride-2 layer steps 2 input frames per tap: it adds "
            "(k - 1) x 2 frames",
        ),
        Case(
            "the last layer's own stride does not widen the field",
            ([5, 5], [1, 4]),
            hint="a layer's stride spaces its outputs, not its inputs: multiply the jump "
            "after adding the layer's (k - 1) x jump",
        ),
        Case(
            "tiny: kernels 11, 11 with strides 3, 1 -> 41",
            ([11, 11], [3, 1]),
        ),
        Case(
            "DS2 base: three layers, strides 2, 1, 1 -> 51",
            ([11, 11, 11], [2, 1, 1]),
            hint="the jump is the product of ALL strides below the layer, not only the last one",
        ),
        Case(
            "strides compound: 3 layers of stride 2",
            ([3, 3, 3], [2, 2, 2]),
            hint="jump after two stride-2 layers is 4: the third layer adds (3 - 1) x 4",
        ),
        Case("kernel 1 adds nothing", ([1, 7], [2, 1])),
        Case("no layers: one frame sees itself", ([], [])),
    ]
    rng = seeded(41)
    for i in range(8):
        n = int(torch.randint(1, 5, (1,), generator=rng))
        kernels = torch.randint(1, 12, (n,), generator=rng).tolist()
        strides = torch.randint(1, 4, (n,), generator=rng).tolist()
        cases.append(Case(f"random {i + 1}: {n} layers", (kernels, strides)))
    return cases


register(
    Exercise(
        name="receptive_field",
        chapter="04",
        signature="receptive_field(kernels, strides) -> int  # input frames seen by one output",
        reference=_receptive_field,
        cases=_receptive_field_cases,
        compare=equal,
    )
)


def _gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh) -> torch.Tensor:
    """One GRU time step as torch.nn.GRUCell computes it (gate order r, z, n)."""
    cell = torch.nn.GRUCell(weight_ih.shape[1], h.shape[1], dtype=x.dtype)
    with torch.no_grad():
        cell.weight_ih.copy_(weight_ih)
        cell.weight_hh.copy_(weight_hh)
        cell.bias_ih.copy_(bias_ih)
        cell.bias_hh.copy_(bias_hh)
        return cell(x, h)


def _gru_args(rng, batch, n_in, hidden, scale=0.5, zero_bias=False, zero_h=False):
    def r(*shape):
        return torch.randn(*shape, generator=rng, dtype=torch.float64) * scale

    x, h = r(batch, n_in), r(batch, hidden)
    if zero_h:
        h = torch.zeros_like(h)
    w_ih, w_hh = r(3 * hidden, n_in), r(3 * hidden, hidden)
    b_ih, b_hh = r(3 * hidden), r(3 * hidden)
    if zero_bias:
        b_ih, b_hh = torch.zeros_like(b_ih), torch.zeros_like(b_hh)
    return (x, h, w_ih, w_hh, b_ih, b_hh)


def _gru_cases() -> list[Case]:
    rng = seeded(42)
    zeros = (
        torch.zeros(1, 2, dtype=torch.float64),
        torch.full((1, 3), 0.8, dtype=torch.float64),
        torch.zeros(9, 2, dtype=torch.float64),
        torch.zeros(9, 3, dtype=torch.float64),
        torch.zeros(9, dtype=torch.float64),
        torch.zeros(9, dtype=torch.float64),
    )
    cases = [
        Case(
            "all weights zero: z = 1/2, n = 0, so h' = h / 2",
            zeros,
            hint="with zero pre-activations the gates are sigmoid(0) = 1/2 and n = tanh(0) = 0",
        ),
        Case(
            "from a zero state, no biases",
            _gru_args(rng, 2, 3, 4, zero_bias=True, zero_h=True),
            hint="h' = (1 - z) * n + z * h: with h = 0 only (1 - z) * n remains",
        ),
        Case(
            "which way the update gate blends",
            _gru_args(rng, 2, 3, 4, scale=1.0, zero_bias=True),
            hint="PyTorch keeps the OLD state where z is 1: h' = (1 - z) * n + z * h",
        ),
        Case(
            "gate order in the stacked weights: r, z, n",
            _gru_args(rng, 1, 2, 3, scale=1.5, zero_bias=True),
            hint="rows [0:H] are the reset gate, [H:2H] the update gate, [2H:3H] the candidate",
        ),
        Case(
            "the reset gate multiplies W_hn h + b_hn (bias inside)",
            _gru_args(rng, 2, 3, 4, scale=1.0),
            hint="n = tanh(W_in x + b_in + r * (W_hn h + b_hn)): b_hn is inside the product",
        ),
        Case("a batch of 5, 8 inputs, 6 units", _gru_args(rng, 5, 8, 6)),
    ]
    for i in range(6):
        batch, n_in, hidden = (int(torch.randint(1, 7, (1,), generator=rng)) for _ in range(3))
        cases.append(Case(f"random {i + 1}", _gru_args(rng, batch, n_in, hidden, scale=0.8)))
    return cases


register(
    Exercise(
        name="gru_step",
        chapter="04",
        signature="gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh) -> h_new  # (B, H)",
        reference=_gru_step,
        cases=_gru_cases,
        compare=close(rtol=1e-6, atol=1e-8),
    )
)
