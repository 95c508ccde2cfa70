"""DeepSpeech acoustic models: features in, per-frame log-probabilities over the alphabet out.

Three families, all trained with CTC:

* ``DeepSpeech1`` (Hannun et al. 2014; Mozilla DeepSpeech): each frame sees a window of
  ``2 * context + 1`` feature frames, goes through three clipped-ReLU dense layers, one recurrent
  layer, one more dense layer and the output layer. One output per input frame. The paper's
  recurrent layer is a bidirectional clipped-ReLU RNN (``rnn_type="rnn", bidirectional=True``;
  it sums the directions, dslearn concatenates them); the ``ds1`` preset follows Mozilla's
  implementation instead: a unidirectional LSTM and 9 frames of context.
* ``DeepSpeech2`` (Amodei et al. 2016): 2-3 Conv2d layers over (frequency, time) with batch norm and
  clipped ReLU, whose time strides shorten the sequence; a stack of (bi)directional GRU/LSTM layers
  with optional sequence-wise batch norm; in unidirectional (streaming) mode a lookahead
  convolution lets each frame peek a few frames into the future; a final linear layer.
* ``ConformerCTC`` (Gulati et al. 2020, "Conformer: Convolution-augmented Transformer for Speech
  Recognition"): the same conv front end as DeepSpeech 2, then, in place of the recurrent layers,
  Conformer blocks from torchaudio (feed-forward / self-attention / convolution module /
  feed-forward), and the same linear CTC head. ``arch="transformer"`` drops each block's
  convolution module (the paper's "without convolution" ablation): attention alone.

Shapes: features ``(B, T, F)`` with lengths ``(B,)`` in frames, out ``(B, T', C)`` log-probs with
``T' = model.output_lengths(T)``. Everything is batch-first, as in the rest of dslearn.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

RELU_CLIP = 20.0  # DeepSpeech clips activations at 20 so that RNN inputs stay bounded


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model; stored as JSON inside checkpoints."""

    arch: str = "ds2"  # "ds1", "ds2", "conformer" or "transformer"
    n_feats: int = 80  # input features per frame (n_mels of the feature extractor)
    n_classes: int = 29  # output classes = len(alphabet), blank included
    rnn_type: str = "gru"  # "gru", "lstm" or "rnn" (plain ReLU RNN, as in the DeepSpeech papers)
    rnn_hidden: int = 256  # units per direction
    rnn_layers: int = 3  # DS2: stacked recurrent layers (DS1 always has one)
    bidirectional: bool = True  # False: streaming model (DS2 adds the lookahead convolution)
    dropout: float = 0.0  # on dense-layer outputs (DS1) / between RNN layers (DS2)
    # DS1 only
    context: int = 9  # frames of context on each side of the centre frame
    dense_hidden: int = 512  # width of DS1's dense layers
    # DS2 only: one entry per conv layer; kernels and strides are (frequency, time)
    conv_channels: tuple[int, ...] = (32, 32)
    conv_kernels: tuple[tuple[int, int], ...] = ((41, 11), (21, 11))
    conv_strides: tuple[tuple[int, int], ...] = ((2, 2), (2, 1))
    rnn_batch_norm: bool = False  # sequence-wise batch norm on each RNN layer's input
    lookahead: int = 20  # future frames seen by the lookahead conv (unidirectional DS2 only)
    # Conformer / Transformer only (their front end is DS2's conv layers, fields above)
    d_model: int = 144  # width of every block (attention, residual stream)
    attention_heads: int = 4  # d_model / attention_heads dimensions per head
    ffn_dim: int = 576  # hidden units of each feed-forward module (4 x d_model)
    encoder_layers: int = 4  # stacked Conformer (or Transformer) blocks
    conv_kernel: int = 15  # frames seen by the convolution module's depthwise conv (odd)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config fields: {sorted(unknown)}")
        d = dict(d)
        # JSON turns tuples into lists; frozen dataclasses should hold hashable tuples.
        for key in ("conv_channels", "conv_kernels", "conv_strides"):
            if key in d:
                d[key] = tuple(tuple(v) if isinstance(v, list) else v for v in d[key])
        return cls(**d)


def clipped_relu(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(x, min=0.0, max=RELU_CLIP)


def mask_padding(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Zero the frames of (B, T, ...) past each length, so whatever padding held cannot leak in."""
    mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
    return x * mask.view(*mask.shape, *([1] * (x.dim() - 2)))


def _rnn(cfg: ModelConfig, input_size: int) -> nn.RNNBase:
    if cfg.rnn_type == "rnn":
        # One matrix per direction instead of three (GRU) or four (LSTM): cheapest per unit.
        return nn.RNN(
            input_size,
            cfg.rnn_hidden,
            nonlinearity="relu",
            batch_first=True,
            bidirectional=cfg.bidirectional,
        )
    cls = {"gru": nn.GRU, "lstm": nn.LSTM}.get(cfg.rnn_type)
    if cls is None:
        raise ValueError(f"rnn_type must be 'gru', 'lstm' or 'rnn', got {cfg.rnn_type!r}")
    return cls(input_size, cfg.rnn_hidden, batch_first=True, bidirectional=cfg.bidirectional)


def run_rnn_packed(rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The reference: packing hides the padding from both directions."""
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, _ = rnn(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out


def reverse_within_lengths(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, T, H): each sequence's first ``length`` frames in reverse order; padding stays last."""
    t = torch.arange(x.shape[1], device=x.device)[None, :]
    lengths = lengths.to(x.device)[:, None]
    index = torch.where(t < lengths, lengths - 1 - t, t)
    return x.gather(1, index[:, :, None].expand_as(x))


def run_rnn_unpacked(rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Same result as ``run_rnn_packed`` from plain padded batches: what the models run.

    (B, T, H_in) -> (B, T, H_out), zero past each length; no direction ever reads padding. It is
    faster than the packed reference on both kinds of device (benchmarks/rnn_packing.py,
    docs/benchmarks.md): on CPUs about twice as fast, since CPU kernels step through a packed batch
    one time step at a time with a shrinking batch; on an H200 1.2-1.9x for bf16 GRUs, since
    cuDNN's packed kernels add a sort, copies and more launches.

    Padding comes after each utterance, so the forward direction reaches it only after every
    valid frame. The backward direction reads each utterance reversed within its own length
    (padding still last) and its output is reversed back. Each direction runs through a
    one-direction copy of the layer's shape, called with that direction's weights.
    """
    single = _one_direction(rnn)
    outputs = []
    for suffix in ("", "_reverse") if rnn.bidirectional else ("",):
        weights = {name: getattr(rnn, name + suffix) for name in single._flat_weights_names}
        backward = suffix == "_reverse"
        inputs = reverse_within_lengths(x, lengths) if backward else x
        out = _call_one_direction(single, weights, inputs)
        outputs.append(reverse_within_lengths(out, lengths) if backward else out)
    return mask_padding(torch.cat(outputs, dim=-1), lengths)


def _call_one_direction(single: nn.RNNBase, weights: dict, x: torch.Tensor) -> torch.Tensor:
    if not x.is_cuda:
        return torch.func.functional_call(single, weights, (x,))[0]
    with warnings.catch_warnings():
        # cuDNN warns that one direction's weights are not one contiguous block and copies them
        # per call: measured (docs/benchmarks.md), and still faster than the packed path.
        warnings.filterwarnings("ignore", message="RNN module weights are not part")
        return torch.func.functional_call(single, weights, (x,))[0]


def _one_direction(rnn: nn.RNNBase) -> nn.RNNBase:
    """A weightless one-direction twin of a single-layer RNN (its weights come per call).

    Building one costs about 0.3 ms, a noticeable share of a small model's forward pass, so twins
    are cached per layer shape. ``functional_call`` lends a twin its weights for the duration of a
    call, so each thread gets its own.
    """
    nonlinearity = rnn.nonlinearity if isinstance(rnn, nn.RNN) else None
    shape = (rnn.input_size, rnn.hidden_size, rnn.bias, rnn.batch_first, nonlinearity)
    return _twin(type(rnn), shape, threading.get_ident())


@functools.lru_cache(maxsize=64)
def _twin(cls: type, shape: tuple, thread: int) -> nn.RNNBase:
    input_size, hidden_size, bias, batch_first, nonlinearity = shape
    options = dict(batch_first=batch_first, bias=bias, device="meta")
    if nonlinearity is not None:
        options["nonlinearity"] = nonlinearity
    return cls(input_size, hidden_size, **options)


class DeepSpeech1(nn.Module):
    """Mozilla DeepSpeech: context window -> 3 dense -> RNN -> dense -> output; T' = T."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        window = (2 * cfg.context + 1) * cfg.n_feats
        self.fc1 = nn.Linear(window, cfg.dense_hidden)
        self.fc2 = nn.Linear(cfg.dense_hidden, cfg.dense_hidden)
        self.fc3 = nn.Linear(cfg.dense_hidden, cfg.dense_hidden)
        self.rnn = _rnn(cfg, cfg.dense_hidden)
        rnn_out = cfg.rnn_hidden * (2 if cfg.bidirectional else 1)
        self.fc5 = nn.Linear(rnn_out, cfg.dense_hidden)
        self.out = nn.Linear(cfg.dense_hidden, cfg.n_classes)
        self.dropout = nn.Dropout(cfg.dropout)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return lengths.clone()

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, T, F) features -> ((B, T, C) log-probs, (B,) output lengths)."""
        c = self.cfg.context
        x = mask_padding(x, lengths)
        # Each frame sees c frames either side: (B, T, F) -> (B, T, (2c+1) * F).
        padded = F.pad(x, (0, 0, c, c))
        windows = padded.unfold(1, 2 * c + 1, 1)  # (B, T, F, 2c+1)
        h = windows.transpose(2, 3).flatten(2)
        for fc in (self.fc1, self.fc2, self.fc3):
            h = self.dropout(clipped_relu(fc(h)))
        h = run_rnn_unpacked(self.rnn, h, lengths)  # (B, T, H * directions)
        h = self.dropout(clipped_relu(self.fc5(h)))
        return self.out(h).log_softmax(dim=-1), self.output_lengths(lengths)


class MaskedConv2d(nn.Module):
    """Conv2d + BatchNorm + clipped ReLU over (B, C, F, T) that zeroes frames past each length.

    Without the mask, padding frames would leak into valid frames through the kernel's time extent
    and through batch-norm statistics, and a padded batch would give other outputs than the same
    utterances one by one.
    """

    def __init__(self, c_in: int, c_out: int, kernel: tuple[int, int], stride: tuple[int, int]):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        padding = (kernel[0] // 2, kernel[1] // 2)
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        k, s, p = self.kernel[1], self.stride[1], self.kernel[1] // 2
        return torch.div(lengths + 2 * p - k, s, rounding_mode="floor") + 1

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = clipped_relu(self.bn(self.conv(x)))
        lengths = self.output_lengths(lengths)
        mask = torch.arange(x.shape[-1], device=x.device)[None, :] < lengths[:, None]
        return x * mask[:, None, None, :], lengths


class Lookahead(nn.Module):
    """DS2's row convolution: frame t mixes frames t..t+tau, per channel (streaming-friendly)."""

    def __init__(self, channels: int, tau: int) -> None:
        super().__init__()
        self.tau = tau
        self.conv = nn.Conv1d(channels, channels, tau + 1, groups=channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, H) -> (B, T, H); zero-pads tau future frames at the end."""
        h = F.pad(x.transpose(1, 2), (0, self.tau))
        return self.conv(h).transpose(1, 2)


def conv_front_end(cfg: ModelConfig) -> tuple[nn.ModuleList, int]:
    """DS2's conv layers (shared by the attention encoders) and the features per output frame
    they produce (channels x remaining frequency bins)."""
    convs, channels, freq = [], 1, cfg.n_feats
    for c_out, kernel, stride in zip(cfg.conv_channels, cfg.conv_kernels, cfg.conv_strides):
        convs.append(MaskedConv2d(channels, c_out, kernel, stride))
        channels = c_out
        freq = (freq + 2 * (kernel[0] // 2) - kernel[0]) // stride[0] + 1
    return nn.ModuleList(convs), channels * freq


def run_front_end(
    convs: nn.ModuleList, x: torch.Tensor, lengths: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, F) features -> ((B, T', C * F') frames for the encoder, (B,) lengths T')."""
    h = mask_padding(x, lengths).transpose(1, 2).unsqueeze(1)  # (B, 1, F, T): an image
    for conv in convs:
        h, lengths = conv(h, lengths)
    return h.flatten(1, 2).transpose(1, 2), lengths


class DeepSpeech2(nn.Module):
    """Baidu DeepSpeech 2: conv front end -> RNN stack -> (lookahead) -> linear."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if not (len(cfg.conv_channels) == len(cfg.conv_kernels) == len(cfg.conv_strides)):
            raise ValueError(
                "conv_channels, conv_kernels and conv_strides need one entry per layer"
            )
        self.cfg = cfg
        self.convs, rnn_in = conv_front_end(cfg)
        directions = 2 if cfg.bidirectional else 1
        self.rnns = nn.ModuleList()
        self.norms = nn.ModuleList()
        for _ in range(cfg.rnn_layers):
            self.norms.append(nn.BatchNorm1d(rnn_in) if cfg.rnn_batch_norm else nn.Identity())
            self.rnns.append(_rnn(cfg, rnn_in))
            rnn_in = cfg.rnn_hidden * directions
        use_lookahead = not cfg.bidirectional and cfg.lookahead > 0
        self.lookahead = Lookahead(rnn_in, cfg.lookahead) if use_lookahead else None
        self.dropout = nn.Dropout(cfg.dropout)
        self.fc = nn.Linear(rnn_in, cfg.n_classes)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            lengths = conv.output_lengths(lengths)
        return lengths

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, T, F) features -> ((B, T', C) log-probs, (B,) lengths T')."""
        h, lengths = run_front_end(self.convs, x, lengths)  # (B, T', C * F')
        for i, (norm, rnn) in enumerate(zip(self.norms, self.rnns)):
            if not isinstance(norm, nn.Identity):
                h = self._sequence_batch_norm(norm, h, lengths)
            if i > 0:
                h = self.dropout(h)
            h = run_rnn_unpacked(rnn, h, lengths)
        if self.lookahead is not None:
            h = clipped_relu(self.lookahead(h))
        return self.fc(h).log_softmax(dim=-1), lengths

    @staticmethod
    def _sequence_batch_norm(norm: nn.BatchNorm1d, h: torch.Tensor, lengths: torch.Tensor):
        """Batch norm whose statistics come from valid frames only (DS2's sequence-wise BN)."""
        mask = torch.arange(h.shape[1], device=h.device)[None, :] < lengths[:, None]
        out = torch.zeros_like(h)
        out[mask] = norm(h[mask])
        return out


def sinusoidal_positions(length: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """(length, dim) position encodings of Vaswani et al. 2017: sin and cos at geometric
    wavelengths from 2 pi to 10000 * 2 pi frames. Self-attention sums over frames without caring
    in which order they come; these tell it where each frame is."""
    position = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, device=device) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[: dim // 2])
    return table


class ConformerCTC(nn.Module):
    """Conv front end -> linear to ``d_model`` -> Conformer blocks -> linear CTC head.

    The blocks are torchaudio's ``ConformerLayer`` modules (their weights, their submodules); this
    class runs them itself, in the order of Gulati et al. 2020, Fig. 1, for one reason: padding.
    torchaudio masks padded frames out of attention but not out of the convolution module, whose
    depthwise kernel reaches ``conv_kernel // 2`` frames past the end of a short utterance into
    its batch neighbour's padding, and whose batch norm would count padded frames. Here padded
    frames are zeroed before that convolution and left out of the batch-norm statistics, so an
    utterance gets the same outputs alone as in any batch (``tests/test_conformer.py`` checks
    both this and that, without padding, these blocks compute exactly what torchaudio's
    ``Conformer`` does).

    With ``cfg.arch == "transformer"`` the convolution modules are removed: what is left is
    attention and feed-forward layers, a Transformer encoder with the Conformer's macaron pair of
    half-step feed-forwards.

    Attention sees the whole utterance, so this model cannot stream frame by frame the way the
    unidirectional DeepSpeech 2 does; long recordings are cut into overlapping chunks as for
    every model (``dslearn.inference.chunked_emissions``).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        from torchaudio.models.conformer import ConformerLayer

        if cfg.d_model % cfg.attention_heads:
            raise ValueError(
                f"d_model={cfg.d_model} must be a multiple of attention_heads={cfg.attention_heads}"
            )
        if cfg.conv_kernel % 2 == 0:
            raise ValueError(f"conv_kernel must be odd (same padding), got {cfg.conv_kernel}")
        if not cfg.bidirectional:
            raise ValueError(
                f"arch={cfg.arch!r} attends to the whole utterance; there is no unidirectional "
                "(streaming) variant here. Use a ds2 model with bidirectional=False to stream."
            )
        self.cfg = cfg
        self.convs, front_features = conv_front_end(cfg)
        self.project = nn.Linear(front_features, cfg.d_model)
        self.dropout = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList()
        for _ in range(cfg.encoder_layers):
            block = ConformerLayer(
                cfg.d_model, cfg.ffn_dim, cfg.attention_heads, cfg.conv_kernel, dropout=cfg.dropout
            )
            if cfg.arch == "transformer":
                block.conv_module = None
            self.blocks.append(block)
        self.fc = nn.Linear(cfg.d_model, cfg.n_classes)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            lengths = conv.output_lengths(lengths)
        return lengths

    def _encoder_input(self, x: torch.Tensor, lengths: torch.Tensor):
        """Front end, projection and positions: ((B, T', d_model), (B,) T', (B, T') real frames)."""
        h, lengths = run_front_end(self.convs, x, lengths)
        h = self.project(h) + sinusoidal_positions(h.shape[1], self.cfg.d_model, h.device)
        valid = torch.arange(h.shape[1], device=h.device)[None, :] < lengths.to(h.device)[:, None]
        return h, lengths, valid

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, T, F) features -> ((B, T', C) log-probs, (B,) lengths T')."""
        h, lengths, valid = self._encoder_input(x, lengths)
        h = self.dropout(h)
        for block in self.blocks:
            h = conformer_block(block, h, valid)
        return self.fc(h).log_softmax(dim=-1), lengths

    @torch.no_grad()
    def attention_maps(self, x: torch.Tensor, lengths: torch.Tensor) -> list[torch.Tensor]:
        """What each block's self-attention looks at: one ``(B, T', T')`` tensor per block, row
        ``t`` the weights (averaged over heads, summing to 1) that output frame ``t`` gives to
        every frame. Padded keys get weight 0. Same input as ``forward``."""
        h, _, valid = self._encoder_input(x, lengths)
        maps = []
        for block in self.blocks:
            a = block.self_attn_layer_norm(h + 0.5 * block.ffn1(h)).transpose(0, 1)
            _, weights = block.self_attn(a, a, a, key_padding_mask=~valid, need_weights=True)
            maps.append(weights)
            h = conformer_block(block, h, valid)
        return maps


def conformer_block(block: nn.Module, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """One torchaudio ``ConformerLayer`` on (B, T, D), with padded frames kept out of its
    convolution. ``valid``: (B, T) bool, True on real frames."""
    x = x + 0.5 * block.ffn1(x)  # macaron: half a feed-forward step before attention...
    a = block.self_attn_layer_norm(x).transpose(0, 1)  # torchaudio's attention is (T, B, D)
    a, _ = block.self_attn(a, a, a, key_padding_mask=~valid, need_weights=False)
    x = x + block.self_attn_dropout(a.transpose(0, 1))
    if block.conv_module is not None:
        x = x + convolution_module(block.conv_module, x, valid)
    x = x + 0.5 * block.ffn2(x)  # ...and half after
    return block.final_layer_norm(x)


def convolution_module(module: nn.Module, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The Conformer's convolution module on (B, T, D): pointwise conv + GLU, depthwise conv over
    ``conv_kernel`` frames, batch norm, SiLU, pointwise conv. Padding is zeroed before the
    depthwise conv and batch-norm statistics come from real frames only."""
    pointwise_in, glu, depthwise, norm, activation, pointwise_out, dropout = module.sequential
    h = glu(pointwise_in(module.layer_norm(x).transpose(1, 2)))  # (B, D, T)
    h = depthwise(h * valid[:, None, :])
    h = h.transpose(1, 2)  # (B, T, D): batch norm per channel over the real frames only
    normed = torch.zeros_like(h)
    normed[valid] = norm(h[valid])
    h = pointwise_out(activation(normed).transpose(1, 2))
    return dropout(h.transpose(1, 2))


# --- presets -----------------------------------------------------------------------------------

# The two conv front ends: a small one (tiny, fsdd) and the DS2 paper's (base and up).
_SMALL_CONVS = dict(conv_channels=(16, 16), conv_kernels=((21, 11), (11, 11)))
_DS2_CONVS = dict(
    conv_channels=(32, 32, 96),
    conv_kernels=((41, 11), (21, 11), (21, 11)),
    conv_strides=((2, 2), (2, 1), (2, 1)),
)
# DS2-paper-sized: 3 conv layers and 5 bidirectional GRU layers of 1024 units.
_BASE = ModelConfig(**_DS2_CONVS, rnn_hidden=1024, rnn_layers=5, rnn_batch_norm=True)
# The attention encoders sized like tiny: tiny's front end (30 ms frames), blocks of width 144.
_TINY_ATTENTION = dict(
    **_SMALL_CONVS, conv_strides=((2, 3), (2, 1)), d_model=144, attention_heads=4, ffn_dim=576
)

PRESETS: dict[str, ModelConfig] = {
    # Trains in minutes on two CPU cores. Its first conv strides 3 frames in time (30 ms
    # outputs, not 20): on CPUs the GRUs' cost is per time step, so the wider GRUs this buys
    # learn more per minute (docs/benchmarks.md, 15-minute runs), and 30 ms frames still leave
    # room: the synthetic corpus's fastest utterance needs 0.8 CTC labels per frame.
    "tiny": ModelConfig(
        **_SMALL_CONVS, conv_strides=((2, 3), (2, 1)), rnn_hidden=256, rnn_layers=2
    ),
    # The default: a GPU trains it in well under an hour on the synthetic corpus.
    "small": ModelConfig(rnn_hidden=320, rnn_layers=3),
    "base": _BASE,
    # Streaming: unidirectional GRUs with a lookahead convolution over 20 output frames; output
    # frames are 20 ms apart (time stride 2), so it sees 400 ms of future audio, and the conv
    # front end another 150 ms (half of each 11-frame kernel): future_frames() = 55 frames,
    # 550 ms of algorithmic latency.
    "small-streaming": ModelConfig(rnn_hidden=384, rnn_layers=3, bidirectional=False),
    # Recipes (dslearn.train.RECIPES adds their batch sizes and schedules).
    # FSDD digits: the tiny model, with dropout between the GRUs against 4-speaker overfitting.
    "fsdd": ModelConfig(**_SMALL_CONVS, rnn_hidden=160, rnn_layers=2, dropout=0.1),
    # 100 h of read speech: between small and base (5 x 768 GRUs).
    "librispeech-100": ModelConfig(
        **_DS2_CONVS, rnn_hidden=768, rnn_layers=5, rnn_batch_norm=True, dropout=0.1
    ),
    # 960 h: the DS2-paper size.
    "librispeech-960": _BASE,
    # Beyond DeepSpeech (chapter 16): the same front ends and CTC head with attention in place of
    # the GRUs, sized to match tiny and small in parameters (within 5 %; ``dslearn model``).
    "conformer-tiny": ModelConfig(arch="conformer", **_TINY_ATTENTION, encoder_layers=4),
    "transformer-tiny": ModelConfig(arch="transformer", **_TINY_ATTENTION, encoder_layers=5),
    "conformer-small": ModelConfig(
        arch="conformer",
        d_model=184,
        attention_heads=4,
        ffn_dim=736,
        encoder_layers=7,
        conv_kernel=15,
        dropout=0.1,
    ),
    # Mozilla DeepSpeech's shape (their release used 2048 units; this is a CPU-friendly width).
    "ds1": ModelConfig(
        arch="ds1",
        rnn_type="lstm",
        rnn_hidden=512,
        bidirectional=False,
        dense_hidden=512,
        context=9,
        dropout=0.05,
    ),
}


ARCHS = ("ds1", "ds2", "conformer", "transformer")


def build_model(cfg: ModelConfig) -> DeepSpeech1 | DeepSpeech2 | ConformerCTC:
    """The model a config describes, with freshly initialized weights."""
    if cfg.arch == "ds1":
        return DeepSpeech1(cfg)
    if cfg.arch == "ds2":
        return DeepSpeech2(cfg)
    if cfg.arch in ("conformer", "transformer"):
        return ConformerCTC(cfg)
    raise ValueError(f"arch must be one of {', '.join(ARCHS)}; got {cfg.arch!r}")


def preset(name: str, **overrides) -> ModelConfig:
    """A named preset, with any field overridden (e.g. ``preset("tiny", n_feats=40)``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return dataclasses.replace(PRESETS[name], **overrides)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def check_ctc_lengths(
    output_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    targets: torch.Tensor | None = None,
    names: list[str] | None = None,
) -> None:
    """Raise before a CTC step if a target cannot fit in its output frames.

    CTC needs one frame per label, plus one blank frame between each pair of repeated labels
    ("ll" in "hello" needs l, blank, l). ``targets`` is ``(B, S)`` padded; without it repeats are
    not counted. ``names`` (e.g. file paths) make the error point at the utterance.
    """
    needed = target_lengths.clone()
    if targets is not None:
        repeats = (targets[:, 1:] == targets[:, :-1]) & (targets[:, 1:] != 0)
        valid = torch.arange(1, targets.shape[1], device=targets.device) < target_lengths[:, None]
        needed = needed + (repeats & valid).sum(dim=1)
    bad = (needed.cpu() > output_lengths.cpu()).nonzero().flatten().tolist()
    if bad:
        lines = []
        for i in bad:
            who = names[i] if names else f"batch item {i}"
            lines.append(
                f"{who}: transcript needs {int(needed[i])} frames but the model outputs only "
                f"{int(output_lengths[i])} (audio too short for its transcript)"
            )
        raise ValueError("; ".join(lines))


def receptive_field(cfg: ModelConfig) -> int | None:
    """Input frames one output frame sees through the front end, before the recurrent or
    attention layers (which then see the whole utterance, or all of its past when
    unidirectional)."""
    if cfg.arch == "ds1":
        return 2 * cfg.context + 1
    field_, jump = 1, 1
    for kernel, stride in zip(cfg.conv_kernels, cfg.conv_strides):
        field_ += (kernel[1] - 1) * jump
        jump *= stride[1]
    return field_


def time_stride(cfg: ModelConfig) -> int:
    """How many input frames make one output frame (2 for most DS2 presets: 20 ms per output;
    3 for ``tiny``)."""
    return 1 if cfg.arch == "ds1" else math.prod(s[1] for s in cfg.conv_strides)


def future_frames(cfg: ModelConfig) -> int | None:
    """Input frames of future context: output frame ``t'`` depends on input frames up to
    ``r * t' + future_frames(cfg)``, with ``r = time_stride(cfg)`` (None: bidirectional, the
    RNN sees the whole utterance).

    Times the hop (10 ms) it is the model's algorithmic latency, what a streaming recognizer must
    wait before it can emit a frame, however fast it computes. Each conv layer pads half its
    kernel in time on both sides, so it looks ``kernel // 2`` of its input frames ahead, which are
    ``jump`` input frames apart (the product of the strides below it); a lookahead convolution
    of ``tau`` frames adds ``tau`` output frames, ``tau * r`` input frames. DS1 sees ``context``
    frames ahead.
    """
    if cfg.bidirectional or cfg.arch in ("conformer", "transformer"):
        return None
    if cfg.arch == "ds1":
        return cfg.context
    frames, jump = 0, 1
    for kernel, stride in zip(cfg.conv_kernels, cfg.conv_strides):
        frames += (kernel[1] // 2) * jump
        jump *= stride[1]
    return frames + (cfg.lookahead * jump if cfg.lookahead > 0 else 0)
