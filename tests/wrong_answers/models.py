"""Typical wrong answers to chapter 04's exercises: each must be rejected by its check."""

import math

import torch


def conv_length_ceil(length, kernel, stride, padding):
    return math.ceil((length + 2 * padding - kernel) / stride) + 1


def conv_length_no_plus_one(length, kernel, stride, padding):
    return (length + 2 * padding - kernel) // stride


def conv_length_padding_once(length, kernel, stride, padding):
    return (length + padding - kernel) // stride + 1


def conv_length_divide_first(length, kernel, stride, padding):
    return length // stride  # "the stride divides the length": true only for same padding


def field_sum_of_kernels(kernels, strides):
    return sum(kernels) if kernels else 1


def field_ignores_strides(kernels, strides):
    return 1 + sum(k - 1 for k in kernels)


def field_jump_too_early(kernels, strides):
    field, jump = 1, 1
    for k, s in zip(kernels, strides):
        jump *= s
        field += (k - 1) * jump
    return field


def field_last_stride_only(kernels, strides):
    field, previous = 1, 1
    for k, s in zip(kernels, strides):
        field += (k - 1) * previous
        previous = s
    return field


def _gates(x, h, w_ih, w_hh, b_ih, b_hh):
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    return gi.chunk(3, dim=1), gh.chunk(3, dim=1)


def gru_update_blends_the_other_way(x, h, w_ih, w_hh, b_ih, b_hh):
    (i_r, i_z, i_n), (h_r, h_z, h_n) = _gates(x, h, w_ih, w_hh, b_ih, b_hh)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return z * n + (1 - z) * h


def gru_bias_outside_reset(x, h, w_ih, w_hh, b_ih, b_hh):
    (i_r, i_z, i_n), (h_r, h_z, _h_n) = _gates(x, h, w_ih, w_hh, b_ih, b_hh)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    b_hn = b_hh.chunk(3)[2]
    n = torch.tanh(i_n + r * (h @ w_hh.chunk(3)[2].T) + b_hn)
    return (1 - z) * n + z * h


def gru_gate_order_z_r_n(x, h, w_ih, w_hh, b_ih, b_hh):
    (i_z, i_r, i_n), (h_z, h_r, h_n) = _gates(x, h, w_ih, w_hh, b_ih, b_hh)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def gru_no_reset_gate(x, h, w_ih, w_hh, b_ih, b_hh):
    (_i_r, i_z, i_n), (_h_r, h_z, h_n) = _gates(x, h, w_ih, w_hh, b_ih, b_hh)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + h_n)
    return (1 - z) * n + z * h


WRONG = {
    "conv_output_length": [
        ("rounds up instead of down", conv_length_ceil),
        ("forgets the + 1", conv_length_no_plus_one),
        ("pads only one side", conv_length_padding_once),
        ("divides the length by the stride", conv_length_divide_first),
    ],
    "receptive_field": [
        ("adds whole kernels", field_sum_of_kernels),
        ("ignores the strides", field_ignores_strides),
        ("multiplies in a layer's own stride before adding it", field_jump_too_early),
        ("uses only the previous layer's stride", field_last_stride_only),
    ],
    "gru_step": [
        ("blends with z and 1 - z swapped", gru_update_blends_the_other_way),
        ("puts b_hn outside the reset gate", gru_bias_outside_reset),
        ("reads the gates in the order z, r, n", gru_gate_order_z_r_n),
        ("forgets the reset gate", gru_no_reset_gate),
    ],
}
