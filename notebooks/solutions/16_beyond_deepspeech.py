"""Worked solutions to chapter 16's exercises (beyond DeepSpeech)."""

import math

import torch


def masked_attention(q, k, v, key_padding_mask=None):
    """One head of scaled dot-product attention: q (T, d), k (S, d), v (S, d_v) -> (T, d_v).

    ``key_padding_mask`` (S,) is True on keys that are padding: they get a score of -inf, so the
    softmax gives them exactly zero weight whatever they hold.
    """
    scores = q @ k.T / math.sqrt(q.shape[-1])  # (T, S): how well each query matches each key
    if key_padding_mask is not None:
        scores = scores.masked_fill(key_padding_mask[None, :], float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # one distribution over the keys per query
    return weights @ v


def sinusoidal_positions(length, dim):
    """(length, dim): column 2i is sin(p w_i), column 2i + 1 cos(p w_i), w_i = 10000^(-2i/dim)."""
    p = torch.arange(length, dtype=torch.float32)[:, None]  # (length, 1)
    w = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)  # (dim / 2,)
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(p * w)
    table[:, 1::2] = torch.cos(p * w)
    return table
