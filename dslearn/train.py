"""Training: one loop for a CPU, one GPU, or many GPUs and nodes.

One process (CPU, or one CUDA/MPS device; ``--device auto`` picks the GPU when there is one)::

    dslearn train --preset tiny --train data/demo/train.jsonl --valid data/demo/dev.jsonl \\
        --out runs/tiny

Several GPUs on one machine (DistributedDataParallel, NCCL; gloo when on CPU)::

    torchrun --standalone --nproc_per_node=8 -m dslearn train --preset small ... --out runs/small

Several nodes (run on each node, with its own --node_rank)::

    torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 --master_addr=HOST --master_port=29500 \\
        -m dslearn train --preset base ...

Fine-tuning, or another learning-rate cycle for a trained model: the weights of a checkpoint (or
``pretrained``, the model shipped in the package) with a fresh optimizer and schedule::

    dslearn train --preset small --init-from pretrained --train my/train.jsonl --lr 1e-3 ...

Each step: a batch of padded audio goes to the device; features, speed perturbation and
SpecAugment are computed there; the model's log-probs go into the CTC loss (float32, even under
mixed precision); AdamW steps with a warm-up then cosine learning rate. Every ``eval_every`` steps
the dev set is decoded greedily for WER/CER, and ``last.safetensors`` (everything needed to resume
exactly) and ``best.safetensors`` (lowest dev WER) are written atomically into the run directory.
"""

from __future__ import annotations

import dataclasses
import gc
import inspect
import json
import math
import os
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
import torchaudio
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, Subset
from tqdm.auto import tqdm

from dslearn import checkpoint as ckpt_io
from dslearn.augment import AugmentConfig, Augmenter
from dslearn.ctc import ctc_loss
from dslearn.data import BucketingBatchSampler, SpeechDataset, collate, require_readable_audio
from dslearn.decoding import GreedyDecoder
from dslearn.features import FeatureConfig, SpecAugment, build_features
from dslearn.files import atomic_path
from dslearn.metrics import corpus_errors
from dslearn.model import ModelConfig, build_model, check_ctc_lengths, preset, time_stride
from dslearn.text import Alphabet

# Peak dense throughput in FLOP/s, for the MFU estimate (per GPU, datasheet figures without
# sparsity; tensor cores for bf16/fp16/tf32). "fp32" training still runs its convolutions and RNNs
# (most of our FLOPs) on the tensor cores in TF32, because PyTorch lets cuDNN use TF32 by default
# (torch.backends.cudnn.allow_tf32): peak_flops measures such runs against the TF32 peak.
PEAK_FLOPS = {
    "H100": {"bf16": 989e12, "fp16": 989e12, "tf32": 494.7e12, "fp32": 67e12},
    "H200": {"bf16": 989e12, "fp16": 989e12, "tf32": 494.7e12, "fp32": 67e12},
    "A100": {"bf16": 312e12, "fp16": 312e12, "tf32": 156e12, "fp32": 19.5e12},
    "L4": {"bf16": 121e12, "fp16": 121e12, "tf32": 60e12, "fp32": 30e12},
}


@dataclass
class TrainConfig:
    """A training run. Every field is a ``dslearn train`` option of the same name."""

    train: str  # training manifest (JSON Lines)
    out: str  # run directory: checkpoints, metrics.jsonl, TensorBoard logs
    valid: str | None = None  # dev manifest for WER/CER, best checkpoint and early stopping
    preset: str = "tiny"  # model preset (see `dslearn model --list`)
    model: dict = field(default_factory=dict)  # overrides of the preset's ModelConfig fields
    features: dict = field(default_factory=dict)  # overrides of FeatureConfig fields
    max_steps: int | None = None  # stop after this many optimizer steps
    max_minutes: float | None = None  # stop after this much wall-clock training time
    max_epochs: int = 1000  # stop after this many passes over the training set
    batch_seconds: float = 200.0  # padded audio seconds per batch per process
    max_batch_size: int = 64  # utterances per batch, at most
    bucketing: bool = True  # batches of similar-length utterances (False: random, more padding)
    sortagrad: bool = True  # first epoch shortest-first (DeepSpeech 2's SortaGrad)
    lr: float = 2e-3  # peak learning rate
    weight_decay: float = 1e-2
    warmup_steps: int = 100  # linear warm-up from 0 to lr
    schedule: str = "cosine"  # after warm-up: "cosine" | "onecycle" | "constant"
    schedule_steps: int | None = None  # decay horizon (default: max_steps; with only max_minutes,
    # the decay runs over the time budget instead, ending when it does; else 10k steps)
    min_lr_ratio: float = 0.05  # cosine decays to lr * min_lr_ratio
    grad_clip: float = 5.0  # max gradient norm
    precision: str = "auto"  # "auto": bf16 > fp16 on GPUs, bf16 on CPUs with native bf16, else
    # fp32; or "fp32", "bf16", "fp16"
    spec_augment: bool = True
    # SpecAugment settings over its defaults: freq_masks, freq_width, time_masks, time_width,
    # max_time_fraction (dslearn.features.SpecAugment)
    spec_augment_params: dict = field(default_factory=dict)
    speed_perturb: tuple[float, ...] = (0.9, 1.0, 1.1)  # one factor per batch; () = off
    # On-the-fly speakers, rooms, channels, noise and gain (dslearn.augment.AugmentConfig fields;
    # {} = its defaults); None = off.
    augment: dict | None = None
    eval_every: int = 200  # steps between dev evaluations and checkpoints
    eval_max_utterances: int | None = 400  # dev subset size (first N lines), None = all
    early_stop_patience: int = 0  # stop after this many evals without a better WER; 0 = never
    log_every: int = 10  # steps between metrics.jsonl lines
    seed: int = 0
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N" | "mps"
    num_workers: int | None = None  # audio-loading processes (None: 0 on CPU, 4 on GPU)
    threads: int | None = None  # CPU threads for torch (default: torch's choice)
    resume: bool = False  # continue from out/last.safetensors
    # start from these weights (a checkpoint, a run directory, or "pretrained" for the model shipped
    # in the package) with a fresh optimizer and schedule: fine-tuning, or more training with a new
    # learning-rate cycle. Its model and feature settings must equal this run's.
    init_from: str | None = None
    tensorboard: bool = True
    progress: bool = True

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# --- recipes: a model preset plus the training settings that suit its corpus -------------------

# `dslearn train --preset NAME` with one of these names takes the model preset of the same name
# (dslearn.model.PRESETS) and these TrainConfig fields; options given on the command line win.
# batch_seconds is per process: under torchrun with N GPUs the global batch is N times larger.
RECIPES: dict[str, dict] = {
    # The default preset, made to train on CPUs: the best recipe of docs/benchmarks.md's
    # 15-minute runs on 2 cores (run 13: test CER 0.127; the trainer's general defaults, 0.154).
    # Batches of 100 s and a high LR make the most of few updates; global CMVN (statistics
    # fitted on the training set before the first step, then stored with the model) serves
    # unseen voices better than normalizing each utterance alone.
    "tiny": dict(batch_seconds=100.0, lr=3e-3, features={"normalize": "global"}),
    # The attention encoders that chapter 16 and benchmarks/encoders.py set beside tiny: tiny's
    # recipe, so that the encoder is what differs, except the Transformer's learning rate: at
    # 3e-3 it never left the blank plateau in 400 steps of chapter 16's digits task (dev CER
    # 1.0, train loss flat at 2.6), at 1e-3 it reached CER 0.25 in 300 steps. The Conformer
    # learns at 3e-3 (CER 0.06 in 400 steps).
    "conformer-tiny": dict(batch_seconds=100.0, lr=3e-3, features={"normalize": "global"}),
    "transformer-tiny": dict(batch_seconds=100.0, lr=1e-3, features={"normalize": "global"}),
    # Free Spoken Digit Dataset: 0.4 s clips of 8 kHz speech. Small batches (about 70 clips)
    # give many steps in a CPU budget; mel filters stop at 4 kHz, where the recordings' band ends;
    # wide speed perturbation stands in for the speakers the corpus lacks.
    "fsdd": dict(
        batch_seconds=30.0,
        lr=3e-3,
        warmup_steps=100,
        eval_every=100,
        max_minutes=15.0,
        features={"f_max": 4000.0},
        speed_perturb=(0.8, 0.9, 1.0, 1.1, 1.2),
    ),
    # LibriSpeech train-clean-100 on one 80 GB GPU: ~1,600 padded seconds is about 100 clips of
    # 12-16 s per step, 30 epochs in about 17k steps.
    "librispeech-100": dict(
        batch_seconds=1600.0,
        max_batch_size=128,
        lr=1.5e-3,
        warmup_steps=1000,
        max_epochs=30,
        eval_every=1000,
        eval_max_utterances=500,
        early_stop_patience=10,
        num_workers=8,
    ),
    # All 960 h: the DS2-sized model, bigger batches, fewer epochs (about 150k steps on one GPU;
    # divide by the GPU count under torchrun).
    "librispeech-960": dict(
        batch_seconds=2400.0,
        max_batch_size=192,
        lr=1e-3,
        warmup_steps=2000,
        max_epochs=20,
        eval_every=2000,
        eval_max_utterances=1000,
        early_stop_patience=10,
        num_workers=8,
    ),
}


def recipe_config(preset_name: str = "tiny", **fields) -> TrainConfig:
    """The TrainConfig of a preset: its recipe's settings (if any), then ``fields`` on top.

    ``model``, ``features`` and ``spec_augment_params`` overrides are merged with the recipe's
    rather than replacing them.
    """
    recipe = dict(RECIPES.get(preset_name, {}))
    for key in ("model", "features", "spec_augment_params"):
        recipe[key] = {**recipe.get(key, {}), **(fields.pop(key, None) or {})}
    recipe.update(fields)
    return TrainConfig(preset=preset_name, **recipe)


def pick_device(name: str = "auto") -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_precision(name: str, device: torch.device) -> str:
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    # CPUs with native bf16 arithmetic train as well in bf16 and faster (tiny: same CER, 16%
    # more steps in 15 minutes; docs/benchmarks.md). Others would emulate it, slower than fp32.
    if device.type == "cpu" and cpu_has_native_bf16():
        return "bf16"
    return "fp32"


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX512-BF16 or AMX)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def lr_at(
    step: int, cfg: TrainConfig, horizon: int | None = None, progress: float | None = None
) -> float:
    """Learning rate at optimizer step ``step`` (0-based); a pure function, so resume is exact.

    After the warm-up, the decay is ``progress`` (0 to 1) of the way to its end when that is
    given (the trainer passes the share of a ``max_minutes`` budget spent since the warm-up);
    otherwise it ends at step ``horizon``, by default ``schedule_steps`` or ``max_steps``.
    """
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if progress is None:
        horizon = horizon or cfg.schedule_steps or cfg.max_steps or 10_000
        progress = (step - cfg.warmup_steps) / max(1, horizon - cfg.warmup_steps)
    progress = min(1.0, max(0.0, progress))
    if cfg.schedule == "constant":
        return cfg.lr
    if cfg.schedule == "cosine":
        low = cfg.lr * cfg.min_lr_ratio
        return low + (cfg.lr - low) * 0.5 * (1 + math.cos(math.pi * progress))
    if cfg.schedule == "onecycle":
        return cfg.lr * max(0.0, 1.0 - progress)  # linear down after the warm-up's way up
    raise ValueError(f"schedule must be cosine, onecycle or constant, got {cfg.schedule!r}")


def _front_end_flops(cfg: ModelConfig, frame_rate: float) -> tuple[float, int, float]:
    """The conv front end's forward FLOPs per second of audio, its features per output frame and
    its output frame rate."""
    flops, freq, channels, rate = 0.0, cfg.n_feats, 1, frame_rate
    for c_out, (kf, kt), (sf, st) in zip(cfg.conv_channels, cfg.conv_kernels, cfg.conv_strides):
        freq = (freq + 2 * (kf // 2) - kf) // sf + 1
        rate = rate / st
        flops += 2 * channels * c_out * kf * kt * freq * rate
        channels = c_out
    return flops, channels * freq, rate


def model_flops_per_second(
    cfg: ModelConfig, frame_rate: float = 100.0, utterance_seconds: float = 10.0
) -> float:
    """Forward FLOPs for one second of audio (multiply-adds count 2): conv, RNN, attention and
    linear layers.

    ``frame_rate`` is feature frames per second (100 with a 10 ms hop). Training costs about three
    times this (forward + backward). Elementwise ops, normalization and the softmax are left out.
    Self-attention's cost per second grows with the utterance: each frame looks at every frame of
    an utterance of ``utterance_seconds`` (the RNNs' cost does not depend on it).
    """
    flops = 0.0
    if cfg.arch in ("conformer", "transformer"):
        flops, features, rate = _front_end_flops(cfg, frame_rate)
        d, frames = cfg.d_model, rate * utterance_seconds
        per_frame = features * d + d * cfg.n_classes  # input projection, CTC head
        block = 2 * 2 * d * cfg.ffn_dim  # two feed-forward modules of two matrices each
        block += 4 * d * d + 2 * frames * d  # q, k, v, out projections; scores and weighted sum
        if cfg.arch == "conformer":
            block += 3 * d * d + cfg.conv_kernel * d  # pointwise (GLU), depthwise, pointwise
        return flops + 2 * rate * (per_frame + cfg.encoder_layers * block)
    if cfg.arch == "ds1":
        window = (2 * cfg.context + 1) * cfg.n_feats
        dense = window * cfg.dense_hidden + 2 * cfg.dense_hidden**2
        out = cfg.dense_hidden * cfg.n_classes
        rnn_in, rate = cfg.dense_hidden, frame_rate
        flops += 2 * rate * (dense + out)
        directions = 2 if cfg.bidirectional else 1
        flops += 2 * rate * directions * cfg.rnn_hidden * cfg.dense_hidden
        layers = 1
    else:
        flops, rnn_in, rate = _front_end_flops(cfg, frame_rate)
        layers = cfg.rnn_layers
        directions = 2 if cfg.bidirectional else 1
        flops += 2 * rate * cfg.rnn_hidden * directions * cfg.n_classes
    gates = {"gru": 3, "lstm": 4, "rnn": 1}[cfg.rnn_type]
    directions = 2 if cfg.bidirectional else 1
    for _ in range(layers):
        flops += 2 * rate * directions * gates * (rnn_in + cfg.rnn_hidden) * cfg.rnn_hidden
        rnn_in = cfg.rnn_hidden * directions
    return flops


def peak_flops(device: torch.device, precision: str) -> float | None:
    """Peak FLOP/s of the device for ``precision`` (PEAK_FLOPS); None off CUDA or if unknown."""
    if device.type != "cuda":
        return None
    if precision == "fp32" and torch.backends.cudnn.allow_tf32:
        precision = "tf32"
    name = torch.cuda.get_device_name(device)
    for key, table in PEAK_FLOPS.items():
        if key in name:
            return table[precision]
    return None


class Trainer:
    """Trains a DeepSpeech model from manifests; see the module docstring for the step."""

    def __init__(self, cfg: TrainConfig, callbacks: list[Callable[[dict], None]] = ()) -> None:
        self.cfg = cfg
        self.callbacks = list(callbacks)
        self.out = Path(cfg.out)
        self._setup_distributed()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.device = pick_device(cfg.device) if self.world == 1 else self.device
        self.precision = pick_precision(cfg.precision, self.device)
        torch.manual_seed(cfg.seed)
        # Trainer-owned randomness (speed factors, SpecAugment masks) lives in one generator
        # whose state goes into the checkpoint, so a resumed run draws the same numbers.
        self.gen = torch.Generator().manual_seed(cfg.seed)

        self.alphabet = Alphabet()
        self.feature_cfg = FeatureConfig(**cfg.features)
        self.model_cfg = preset(
            cfg.preset,
            n_feats=self.feature_cfg.n_features,
            n_classes=len(self.alphabet),
            **cfg.model,
        )
        self.features = build_features(self.feature_cfg).to(self.device)
        self.spec_augment = None
        if cfg.spec_augment:
            known = set(inspect.signature(SpecAugment).parameters) - {"mask_value"}
            unknown = sorted(set(cfg.spec_augment_params) - known)
            if unknown:
                raise ValueError(
                    f"spec_augment_params: unknown setting(s) {unknown}; "
                    f"choose from {sorted(known)}"
                )
            self.spec_augment = SpecAugment(**cfg.spec_augment_params).to(self.device)
        self.model = build_model(self.model_cfg).to(self.device)
        self.ddp = None
        if self.world > 1:
            on_gpu = self.device.type == "cuda"
            self.ddp = DDP(self.model, device_ids=[self.device.index] if on_gpu else None)
        self.frame_shift = self.feature_cfg.hop_length / self.feature_cfg.sample_rate
        self.frame_shift *= time_stride(self.model_cfg)
        self.decoder = GreedyDecoder(self.alphabet, frame_shift=self.frame_shift)

        augment = None
        if cfg.augment is not None:  # a different stream on every rank
            augment = Augmenter(
                AugmentConfig.from_dict(cfg.augment), seed=cfg.seed + 1000 * self.rank
            )
        self.train_set = SpeechDataset(cfg.train, self.alphabet, transform=augment)
        self.valid_set = SpeechDataset(cfg.valid, self.alphabet) if cfg.valid else None
        for data in (self.train_set, self.valid_set):
            if data is not None:  # every rank checks, so that all of them stop together
                show = cfg.progress and self.is_main
                require_readable_audio(data.utterances, what=data.source, progress=show)
        self.keep = self._drop_untrainable(self.train_set)
        self.sampler = BucketingBatchSampler(
            [self.train_set.durations[i] for i in self.keep],
            max_batch_seconds=cfg.batch_seconds,
            max_batch_size=cfg.max_batch_size,
            bucketing=cfg.bucketing,
            sortagrad=cfg.sortagrad,
            num_replicas=self.world,
            rank=self.rank,
            seed=cfg.seed,
        )
        if cfg.num_workers is None:
            self.num_workers = 4 if self.device.type == "cuda" else 0
        else:
            self.num_workers = cfg.num_workers
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98)
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.precision == "fp16")
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0
        self.best = {"wer": math.inf, "cer": math.inf}
        self.evals_since_best = 0
        self.train_seconds = 0.0  # wall time spent training, carried across resumes
        self.clock = 0.0  # train_seconds as all ranks agree on it (the slowest rank's)
        self.horizon = cfg.schedule_steps or cfg.max_steps  # None: see _lr
        self.decay_start_seconds: float | None = None  # clock at the end of the warm-up
        self.last_lr = 0.0
        self._stop_signal = None
        self.flops_per_audio_second = model_flops_per_second(self.model_cfg)
        has_run = (self.out / ckpt_io.LAST).exists()
        if has_run and not cfg.resume:
            raise ValueError(
                f"{self.out} already holds a training run ({ckpt_io.LAST}); pass --resume to "
                "continue it, or choose another --out"
            )
        if cfg.init_from and not (cfg.resume and has_run):
            self._init_weights(cfg.init_from)  # a resumed run already holds later weights
        if cfg.resume:
            self._resume()
        if self.features.cmvn is not None and not self.features.cmvn.is_fitted:
            self._fit_global_cmvn()
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    # --- setup ---------------------------------------------------------------------------------

    def _setup_distributed(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.is_main = self.rank == 0
        if self.world == 1:
            return
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        wants_gpu = self.cfg.device in ("auto", "cuda") and torch.cuda.is_available()
        if wants_gpu:
            torch.cuda.set_device(local_rank)
            self.device = torch.device("cuda", local_rank)
        else:
            self.device = torch.device("cpu")
        self._owns_group = not dist.is_initialized()
        if self._owns_group:
            dist.init_process_group("nccl" if wants_gpu else "gloo")

    def _fit_global_cmvn(self, max_utterances: int = 1000) -> None:
        """Global CMVN statistics from a seeded sample of the training set (every DDP rank draws
        the same sample, so all ranks normalize alike); checkpoints carry them from then on."""
        gen = torch.Generator().manual_seed(self.cfg.seed)
        order = torch.randperm(len(self.keep), generator=gen)[:max_utterances].tolist()
        sample = [self.keep[i] for i in order]

        def batches():
            for start in range(0, len(sample), 32):
                batch = collate([self.train_set[i] for i in sample[start : start + 32]])
                yield batch.audio.to(self.device), batch.audio_lengths.to(self.device)

        stats = self.features.fit_global_cmvn(batches())
        if self.is_main:
            hours = sum(self.train_set.durations[i] for i in sample) / 3600
            print(
                f"global CMVN fitted on {len(sample)} training utterances ({hours:.2f} h, "
                f"{stats.frames} frames)"
            )

    def _drop_untrainable(self, dataset: SpeechDataset) -> list[int]:
        """Indices of utterances whose transcript fits the model's output frames.

        Checked with the fastest speed factor, which shortens audio the most. Utterances that
        cannot fit are listed in ``skipped.jsonl`` and counted in a warning, never dropped silently.
        """
        fastest = max(self.cfg.speed_perturb or (1.0,))
        sr, hop = self.feature_cfg.sample_rate, self.feature_cfg.hop_length
        samples = torch.tensor([int(d * sr / fastest) for d in dataset.durations])
        frames = self.model.output_lengths(samples // hop + 1)
        needed = torch.tensor([_frames_needed(dataset.target_ids(i)) for i in range(len(dataset))])
        keep = (needed <= frames).nonzero().flatten().tolist()
        dropped = sorted(set(range(len(dataset))) - set(keep))
        if dropped and self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            with open(self.out / "skipped.jsonl", "w") as f:
                for i in dropped:
                    f.write(
                        json.dumps(
                            {
                                "audio_filepath": str(dataset.path(i)),
                                "needed_frames": int(needed[i]),
                                "frames": int(frames[i]),
                            }
                        )
                        + "\n"
                    )
            warnings.warn(
                f"{len(dropped)} of {len(dataset)} training utterances are too short for their "
                f"transcripts and are skipped; see {self.out / 'skipped.jsonl'} "
                f"(first: {dataset.path(dropped[0])})",
                stacklevel=2,
            )
        if not keep:
            raise ValueError(f"{self.cfg.train}: no utterance is long enough for its transcript")
        return keep

    # --- checkpoints ---------------------------------------------------------------------------

    def _checkpoint(self, with_training_state: bool) -> ckpt_io.Checkpoint:
        info = {
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "best": self.best,
            "evals_since_best": self.evals_since_best,
            "train_seconds": self.train_seconds,
            "horizon": self.horizon,
            "decay_start_seconds": self.decay_start_seconds,
            "train_config": self.cfg.to_dict(),
            "torch": torch.__version__,
        }
        extra = {}
        if with_training_state:
            optim_tensors, optim_meta = ckpt_io.optimizer_to_tensors(self.optimizer.state_dict())
            extra.update(optim_tensors)
            info["optimizer"] = optim_meta
            info["scaler"] = self.scaler.state_dict() if self.scaler.is_enabled() else None
            extra["rng.trainer"] = self.gen.get_state()
            extra["rng.torch"] = torch.get_rng_state()
            if self.device.type == "cuda":
                extra["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        return ckpt_io.Checkpoint(
            model_state=self.model.state_dict(),
            model_config=self.model_cfg.to_dict(),
            alphabet=self.alphabet.to_dict(),
            feature_config=self.feature_cfg.to_dict(),
            extra_tensors=extra,
            info=info,
            feature_state=self.features.state_dict(),
        )

    def save(self, name: str, with_training_state: bool = True) -> Path | None:
        if not self.is_main:
            return None
        return ckpt_io.save_checkpoint(self.out / name, self._checkpoint(with_training_state))

    def _load_weights(self, ck: ckpt_io.Checkpoint) -> None:
        """A checkpoint's weights, and the feature statistics (global CMVN) they were trained on:
        the two only make sense together."""
        self.model.load_state_dict(ck.model_state)
        if ck.feature_state:
            self.features.load_state_dict(ck.feature_state)

    def _init_weights(self, source: str) -> None:
        """Load a checkpoint's weights (not its optimizer or step) into this run's model."""
        path = init_source(source)
        ck = ckpt_io.load_checkpoint(path, with_extra=False)
        # Dropout changes no weight; every other field changes what the weights mean.
        theirs = ModelConfig.from_dict(ck.model_config).to_dict()
        differ = _differences(theirs, self.model_cfg.to_dict(), ignore=("dropout",))
        if differ:
            raise ValueError(
                f"--init-from {path}: its model differs from this run's ({differ}); "
                "choose the --preset (and --set model.*) it was trained with"
            )
        theirs = FeatureConfig.from_dict(ck.feature_config).to_dict()
        differ = _differences(theirs, self.feature_cfg.to_dict())
        if differ:
            raise ValueError(
                f"--init-from {path}: its features differ from this run's ({differ}); "
                "pass the same --set features.* it was trained with"
            )
        if Alphabet.from_dict(ck.alphabet).to_dict() != self.alphabet.to_dict():
            raise ValueError(f"--init-from {path}: its alphabet differs from this run's")
        self._load_weights(ck)
        if self.is_main:
            print(f"initialized from {path} (fresh optimizer and schedule)")

    def _resume(self) -> None:
        path = self.out / ckpt_io.LAST
        if self.is_main:
            # A run killed while writing leaves its temp file; the real checkpoint is intact.
            for stale in self.out.glob(".*.safetensors.tmp-*"):
                stale.unlink()
        if not path.exists():
            if self.is_main:
                print(f"--resume: {path} does not exist yet; starting a new run")
            return
        ck = ckpt_io.load_checkpoint(path)
        if ModelConfig.from_dict(ck.model_config) != self.model_cfg:
            raise ValueError(f"{path}: model config differs from this run's; cannot resume")
        if not ckpt_io.is_resumable(ck):
            raise ValueError(
                f"{path}: holds weights only (no optimizer or RNG state; an exported or best "
                "checkpoint?), so the run cannot continue exactly; start a new run from it "
                "with --init-from instead of --resume"
            )
        self._load_weights(ck)
        info = ck.info
        self.optimizer.load_state_dict(
            ckpt_io.optimizer_from_tensors(ck.extra_tensors, info["optimizer"])
        )
        if info.get("scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(info["scaler"])
        self.gen.set_state(ck.extra_tensors["rng.trainer"])
        torch.set_rng_state(ck.extra_tensors["rng.torch"])
        if "rng.cuda" in ck.extra_tensors and self.device.type == "cuda":
            torch.cuda.set_rng_state(ck.extra_tensors["rng.cuda"], self.device)
        self.step, self.epoch = info["step"], info["epoch"]
        self.batch_in_epoch = info["batch_in_epoch"]
        self.best, self.evals_since_best = info["best"], info["evals_since_best"]
        self.train_seconds = self.clock = info["train_seconds"]
        self.horizon = info.get("horizon", self.horizon)
        self.decay_start_seconds = info.get("decay_start_seconds")
        if self.is_main:
            _truncate_metrics(self.out / "metrics.jsonl", self.step)
            print(f"resumed from {path} at step {self.step} (epoch {self.epoch})")

    # --- one step ------------------------------------------------------------------------------

    def loader(self) -> DataLoader:
        """Training batches from the sampler's current position (audio loaded in workers)."""
        return DataLoader(
            Subset(self.train_set, self.keep),
            batch_sampler=self.sampler,
            collate_fn=collate,
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
        )

    def _speed_perturb(self, audio: torch.Tensor, lengths: torch.Tensor):
        if not self.cfg.speed_perturb:
            return audio, lengths
        pick = torch.randint(len(self.cfg.speed_perturb), (1,), generator=self.gen).item()
        factor = self.cfg.speed_perturb[pick]
        if factor == 1.0:
            return audio, lengths
        # Playing audio recorded at sr * factor back at sr: faster and higher for factor > 1.
        sr = self.feature_cfg.sample_rate
        audio = torchaudio.functional.resample(audio, round(sr * factor), sr)
        lengths = torch.ceil(lengths * (sr / round(sr * factor))).long().clamp(max=audio.shape[1])
        return audio, lengths

    def _forward_loss(self, batch, train: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        audio, lengths = batch.audio.to(self.device), batch.audio_lengths.to(self.device)
        if train:
            audio, lengths = self._speed_perturb(audio, lengths)
        with torch.no_grad():
            feats, frames = self.features(audio, lengths)
            if train and self.spec_augment is not None:
                feats = self.spec_augment(feats, frames, generator=self.gen)
        model = self.ddp if (train and self.ddp is not None) else self.model
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)
        with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
            log_probs, out_lengths = model(feats, frames)
        targets = batch.targets.to(self.device)
        target_lengths = batch.target_lengths.to(self.device)
        names = [str(p) for p in batch.paths] if hasattr(batch, "paths") else None
        check_ctc_lengths(out_lengths, target_lengths, targets, names)
        loss = ctc_loss(
            log_probs, out_lengths, targets, target_lengths, names=names, on_nonfinite="skip"
        )
        return loss, log_probs, out_lengths

    def train_step(self, batch) -> dict:
        """One optimizer step on a ``Batch``; returns its loss and gradient norm."""
        self.model.train()
        self.last_lr = self._lr()
        for group in self.optimizer.param_groups:
            group["lr"] = self.last_lr
        loss, _, _ = self._forward_loss(batch, train=True)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        if torch.isfinite(grad_norm):
            self.scaler.step(self.optimizer)
        else:
            warnings.warn(
                f"step {self.step}: non-finite gradient norm; update skipped", stacklevel=2
            )
        self.scaler.update()
        loss_value = loss.detach()
        if self.world > 1:
            dist.all_reduce(loss_value)
            loss_value /= self.world
        return {"loss": float(loss_value), "grad_norm": float(grad_norm)}

    # --- evaluation ----------------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self, dataset: SpeechDataset | None = None, max_utterances: int | None = None):
        """Greedy WER/CER and CTC loss on a dataset (default: the dev set)."""
        dataset = dataset or self.valid_set
        if dataset is None:
            return {}
        self.model.eval()
        n = len(dataset) if max_utterances is None else min(len(dataset), max_utterances)
        order = sorted(range(n), key=lambda i: dataset.durations[i])  # little padding
        refs, hyps, losses = [], [], []
        for start in range(0, n, 32):
            batch = collate([dataset[i] for i in order[start : start + 32]])
            loss, log_probs, out_lengths = self._forward_loss(batch, train=False)
            losses.append(float(loss) * len(batch.texts))
            hyps += [h.text for h in self.decoder(log_probs, out_lengths)]
            refs += batch.texts
        result = corpus_errors(refs, hyps)
        result["loss"] = sum(losses) / max(1, n)
        result["examples"] = [{"ref": r, "hyp": h} for r, h in list(zip(refs, hyps))[:3]]
        return result

    # --- the loop ------------------------------------------------------------------------------

    def _out_of_budget(self) -> str | None:
        if self.cfg.max_steps is not None and self.step >= self.cfg.max_steps:
            return f"reached --max-steps {self.cfg.max_steps}"
        if self.cfg.max_minutes is not None and self.train_seconds >= 60 * self.cfg.max_minutes:
            return f"reached --max-minutes {self.cfg.max_minutes:g}"
        if self.epoch >= self.cfg.max_epochs:
            return f"reached {self.cfg.max_epochs} epochs"
        if self._stop_signal is not None:
            return f"received signal {self._stop_signal}"
        return None

    def _budget_flag(self) -> bool:
        """Whether to stop, agreed by all ranks (their clocks differ; their steps must not).

        Also agrees on the clock that a time-budget schedule follows: the slowest rank's.
        Collectives take tensors on the training device: NCCL has no CPU tensors.
        """
        stop, self.clock = float(self._out_of_budget() is not None), self.train_seconds
        if self.world > 1:
            flags = torch.tensor([stop, self.clock], dtype=torch.float64, device=self.device)
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
            stop, self.clock = flags.tolist()
        return bool(stop)

    def _lr(self) -> float:
        """The learning rate of the next step.

        With a step horizon (``schedule_steps`` or ``max_steps``) it depends on the step alone.
        With only ``max_minutes``, the decay after the warm-up follows the clock and ends with the
        budget: steps cost different times (SortaGrad's first epoch goes from the shortest
        utterances to the longest, the machine may slow down), so a horizon in steps guessed
        from the warm-up's speed ended the decay anywhere from early to far too late.
        """
        cfg = self.cfg
        if self.horizon is not None or cfg.max_minutes is None or self.step < cfg.warmup_steps:
            return lr_at(self.step, cfg, self.horizon)
        if self.decay_start_seconds is None:
            self.decay_start_seconds = self.clock
        left = 60 * cfg.max_minutes - self.decay_start_seconds
        progress = (self.clock - self.decay_start_seconds) / left if left > 0 else 1.0
        return lr_at(self.step, cfg, progress=progress)

    def fit(self) -> dict:
        """Train until a budget runs out; returns the final dev metrics and where things are."""
        cfg = self.cfg
        writer = self._tensorboard()
        metrics_file = open(self.out / "metrics.jsonl", "a") if self.is_main else None
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        bar = tqdm(
            total=cfg.max_steps,
            initial=self.step,
            disable=not (cfg.progress and self.is_main),
            unit="step",
            dynamic_ncols=True,
        )
        reason, window = None, _ThroughputWindow()
        try:
            while not self._budget_flag():
                self.sampler.set_epoch(self.epoch)
                self.sampler.load_state_dict({"epoch": self.epoch, "position": self.batch_in_epoch})
                # Workers read ahead of training, so the sampler's own position runs ahead too:
                # resuming uses batch_in_epoch, the batches this loop actually consumed.
                loader = self.loader()
                tick = time.perf_counter()
                for batch in loader:
                    stats = self.train_step(batch)
                    if self.device.type == "cuda":
                        torch.cuda.synchronize(self.device)
                    # From the end of the last step: waiting for data counts as training time.
                    elapsed, tick = time.perf_counter() - tick, time.perf_counter()
                    self.train_seconds += elapsed
                    self.step += 1
                    self.batch_in_epoch += 1
                    window.add(batch, elapsed)
                    bar.update(1)
                    bar.set_postfix(loss=f"{stats['loss']:.3f}", refresh=False)
                    if self.step % cfg.log_every == 0:
                        record = {
                            "step": self.step,
                            "epoch": self.epoch,
                            **stats,
                            "lr": self.last_lr,
                        }
                        record.update(window.rates(self))
                        self._log(record, metrics_file, writer, "train")
                        window = _ThroughputWindow()
                    if self.step % cfg.eval_every == 0:
                        self._eval_and_checkpoint(metrics_file, writer, bar)
                        tick = time.perf_counter()  # evaluation is not training time
                    if self._budget_flag():
                        break
                else:
                    self.epoch += 1
                    self.batch_in_epoch = 0
                    continue
                break
            reason = self._out_of_budget() or "stopped"
            if self.step % cfg.eval_every != 0:
                self._eval_and_checkpoint(metrics_file, writer, bar)
        finally:
            bar.close()
            for s, handler in previous.items():
                signal.signal(s, handler)
            if metrics_file:
                metrics_file.close()
            if writer:
                writer.close()
        if self.world > 1 and self._owns_group:
            # All ranks leave together, and the DDP wrapper (whose reducer holds the process
            # group) goes before the group does: a gloo group torn down at interpreter exit, with
            # its threads or a reducer still holding it, can abort a rank after training is done.
            dist.barrier()
            self.ddp = None
            gc.collect()
            dist.destroy_process_group()
            self._owns_group = False
        summary = {
            "reason": reason,
            "step": self.step,
            "epoch": self.epoch,
            "train_minutes": self.train_seconds / 60,
            "best": self.best,
            "out": str(self.out),
        }
        if self.is_main and cfg.progress:
            print(
                f"training stopped: {reason} (step {self.step}, "
                f"{self.train_seconds / 60:.1f} min); best dev {self.best}"
            )
        return summary

    def _eval_and_checkpoint(self, metrics_file, writer, bar) -> None:
        result = {}
        if self.is_main and self.valid_set is not None:
            result = self.evaluate(max_utterances=self.cfg.eval_max_utterances)
            record = {
                "step": self.step,
                "epoch": self.epoch,
                **{k: v for k, v in result.items() if k != "examples"},
            }
            self._log(record, metrics_file, writer, "valid")
            bar.write(
                f"step {self.step}: dev WER {result['wer']:.3f} CER {result['cer']:.3f} "
                f"loss {result['loss']:.3f} | ref: {result['examples'][0]['ref']!r} "
                f"hyp: {result['examples'][0]['hyp']!r}"
            )
            if (result["wer"], result["cer"]) < (self.best["wer"], self.best["cer"]):
                self.best = {"wer": result["wer"], "cer": result["cer"], "step": self.step}
                self.evals_since_best = 0
                self.save(ckpt_io.BEST, with_training_state=False)
            else:
                self.evals_since_best += 1
        self.save(ckpt_io.LAST)
        if self.world > 1:
            # Everyone learns rank 0's early-stopping decision, and nobody races its file writes.
            flag = torch.tensor(float(self.evals_since_best), device=self.device)
            dist.broadcast(flag, src=0)
            self.evals_since_best = int(flag.item())
            dist.barrier()
        patience = self.cfg.early_stop_patience
        if patience and self.evals_since_best >= patience:
            self._stop_signal = f"early stopping ({patience} evals without a better dev WER)"

    def _log(self, record: dict, metrics_file, writer, split: str) -> None:
        record = {"split": split, **record}
        if metrics_file:
            metrics_file.write(json.dumps(record) + "\n")
            metrics_file.flush()
        if writer:
            for key, value in record.items():
                if isinstance(value, int | float) and key not in ("step", "epoch"):
                    writer.add_scalar(f"{split}/{key}", value, self.step)
        for callback in self.callbacks:
            callback(record)

    def _tensorboard(self):
        if not (self.cfg.tensorboard and self.is_main):
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional; metrics.jsonl has the same numbers
            return None
        return SummaryWriter(str(self.out / "tensorboard"))

    def _on_signal(self, signum, frame) -> None:
        # Finish the current step, write last.safetensors, then stop: nothing is lost.
        self._stop_signal = signal.Signals(signum).name


class _ThroughputWindow:
    """Samples, audio seconds and padding over the steps since the last log line."""

    def __init__(self) -> None:
        self.samples = self.audio = self.padded = self.seconds = 0.0

    def add(self, batch, elapsed: float) -> None:
        self.samples += len(batch.texts)
        self.audio += float(batch.audio_lengths.sum())
        self.padded += batch.audio.numel()
        self.seconds += elapsed

    def rates(self, trainer: Trainer) -> dict:
        sr = trainer.feature_cfg.sample_rate
        audio_seconds = self.audio / sr
        out = {
            "samples_per_sec": self.samples / self.seconds * trainer.world,
            "audio_sec_per_sec": audio_seconds / self.seconds * trainer.world,
            "padding": 1 - self.audio / max(1.0, self.padded),
        }
        peak = peak_flops(trainer.device, trainer.precision)
        if peak:
            # Padded frames cost FLOPs too, but only real audio counts as useful work.
            achieved = 3 * trainer.flops_per_audio_second * audio_seconds / self.seconds
            out["mfu"] = achieved / peak
        return out


def init_source(source: str | os.PathLike) -> Path:
    """The checkpoint ``--init-from`` names: ``"pretrained"`` (the model shipped in the package),
    a checkpoint file, or a run directory (its best checkpoint, else its last)."""
    if str(source) == "pretrained":
        from dslearn.inference import pretrained_path

        return pretrained_path()
    return ckpt_io.resolve_model_path(source)


def _differences(theirs: dict, ours: dict, ignore: tuple[str, ...] = ()) -> str:
    """The fields of two config dicts that differ, as "name theirs vs ours; ..." ("" if none)."""
    return "; ".join(
        f"{k} {theirs.get(k)!r} vs {v!r}"
        for k, v in ours.items()
        if k not in ignore and theirs.get(k) != v
    )


def _frames_needed(target: list[int]) -> int:
    """CTC needs a frame per label plus a blank between repeated labels."""
    return len(target) + sum(1 for a, b in zip(target, target[1:]) if a == b)


def read_metrics(run: str | Path, split: str | None = None) -> list[dict]:
    """The records of a run's ``metrics.jsonl``, oldest first.

    Each is a dict with ``split`` ("train": loss, lr, samples/s and audio-seconds/s every
    ``log_every`` steps; "valid": dev WER/CER at each evaluation), ``step`` and ``epoch``.
    ``split`` keeps only that kind. ``run`` is the run directory (``--out``).
    """
    path = Path(run) / "metrics.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no training log here (is {run} a run directory?)")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if split is None or r["split"] == split]


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop lines logged after the checkpoint we resume from: they will be logged again."""
    if not path.exists():
        return
    kept = [line for line in path.read_text().splitlines() if json.loads(line)["step"] <= step]
    with atomic_path(path) as tmp:
        tmp.write_text("".join(line + "\n" for line in kept))
