"""Worked solutions to chapter 04's exercises (DeepSpeech 1 and 2, layer by layer)."""

import torch


def conv_output_length(length, kernel, stride, padding):
    """Frames out of a convolution along time: ``floor((T + 2p - k) / s) + 1``.

    ``length`` T input frames, ``kernel`` k frames, ``stride`` s frames, ``padding`` p frames added
    at each end. The first output needs k (padded) input frames; every further output needs s more.
    """
    return (length + 2 * padding - kernel) // stride + 1


def receptive_field(kernels, strides):
    """Input frames that one output frame of a conv stack sees (time axis only).

    ``kernels`` and ``strides``: one int per layer, first layer first. Layer i adds ``k_i - 1``
    taps, and neighbouring taps of layer i are ``jump`` input frames apart, where ``jump`` is the
    product of the strides of the layers below it.
    """
    field, jump = 1, 1
    for k, s in zip(kernels, strides):
        field += (k - 1) * jump
        jump *= s
    return field


def gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU time step, as ``torch.nn.GRUCell`` computes it.

    Shapes: ``x`` (B, H_in), ``h`` (B, H); ``weight_ih`` (3H, H_in) and ``weight_hh`` (3H, H) stack
    the reset, update and candidate rows in that order (r, z, n); biases (3H,). Returns (B, H).
    """
    gi = x @ weight_ih.T + bias_ih  # (B, 3H): input contributions
    gh = h @ weight_hh.T + bias_hh  # (B, 3H): state contributions, bias included
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_r, h_z, h_n = gh.chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)  # reset gate
    z = torch.sigmoid(i_z + h_z)  # update gate: 1 keeps the old state
    n = torch.tanh(i_n + r * h_n)  # candidate; the reset gate scales W_hn h + b_hn
    return (1 - z) * n + z * h
