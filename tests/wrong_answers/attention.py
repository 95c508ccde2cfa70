"""Typical wrong answers to chapter 16's exercises: each must be rejected by its check."""

import math

import torch


def attention_scaled_by_d(q, k, v, key_padding_mask=None):
    scores = q @ k.T / q.shape[-1]
    if key_padding_mask is not None:
        scores = scores.masked_fill(key_padding_mask[None, :], float("-inf"))
    return scores.softmax(-1) @ v


def attention_unscaled(q, k, v, key_padding_mask=None):
    scores = q @ k.T
    if key_padding_mask is not None:
        scores = scores.masked_fill(key_padding_mask[None, :], float("-inf"))
    return scores.softmax(-1) @ v


def attention_softmax_over_queries(q, k, v, key_padding_mask=None):
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if key_padding_mask is not None:
        scores = scores.masked_fill(key_padding_mask[None, :], float("-inf"))
    return scores.softmax(0) @ v


def attention_ignores_the_mask(q, k, v, key_padding_mask=None):
    return (q @ k.T / math.sqrt(q.shape[-1])).softmax(-1) @ v


def attention_zeroes_padded_scores(q, k, v, key_padding_mask=None):
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if key_padding_mask is not None:
        scores = scores * ~key_padding_mask[None, :]
    return scores.softmax(-1) @ v


def positions_swapped(length, dim):
    p = torch.arange(length, dtype=torch.float32)[:, None]
    w = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    table = torch.zeros(length, dim)
    table[:, 0::2], table[:, 1::2] = torch.cos(p * w), torch.sin(p * w)
    return table


def positions_exponent_i_over_dim(length, dim):
    p = torch.arange(length, dtype=torch.float32)[:, None]
    w = 10000.0 ** (-torch.arange(dim // 2, dtype=torch.float32) / dim)
    table = torch.zeros(length, dim)
    table[:, 0::2], table[:, 1::2] = torch.sin(p * w), torch.cos(p * w)
    return table


def positions_concatenated(length, dim):
    p = torch.arange(length, dtype=torch.float32)[:, None]
    w = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    return torch.cat([torch.sin(p * w), torch.cos(p * w)], dim=1)


def positions_from_one(length, dim):
    p = torch.arange(1, length + 1, dtype=torch.float32)[:, None]
    w = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    table = torch.zeros(length, dim)
    table[:, 0::2], table[:, 1::2] = torch.sin(p * w), torch.cos(p * w)
    return table


WRONG = {
    "masked_attention": [
        ("divides the scores by d instead of sqrt(d)", attention_scaled_by_d),
        ("does not scale the scores", attention_unscaled),
        ("takes the softmax over the queries", attention_softmax_over_queries),
        ("ignores the padding mask", attention_ignores_the_mask),
        ("zeroes padded scores instead of setting them to -inf", attention_zeroes_padded_scores),
    ],
    "sinusoidal_positions": [
        ("puts cos in the even columns and sin in the odd ones", positions_swapped),
        ("uses i / dim instead of 2i / dim in the exponent", positions_exponent_i_over_dim),
        ("concatenates the sines and cosines instead of interleaving", positions_concatenated),
        ("counts positions from 1", positions_from_one),
    ],
}
