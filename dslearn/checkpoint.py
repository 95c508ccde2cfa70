"""Checkpoints that are safe to load from strangers.

A checkpoint is one safetensors file: tensors (model weights under ``model.``, fitted feature
statistics such as global CMVN under ``features.``, and for training checkpoints the optimizer and
RNG state under ``optim.`` / ``rng.`` prefixes) plus a JSON header with everything
needed to rebuild the model: its config, the alphabet and the feature settings. safetensors holds
only numbers and strings, so loading a file can never run code from it, unlike ``torch.load`` of a
pickle. Files are written to a temporary name and renamed, so a crash mid-write never leaves a
half-written checkpoint under the real name.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from dslearn.files import atomic_path

FORMAT = "dslearn-checkpoint-1"  # bumped when the header's meaning changes
BEST, LAST = "best.safetensors", "last.safetensors"  # names inside a run directory


class CheckpointError(ValueError):
    """A file that is not a usable dslearn checkpoint; the message names it."""


@dataclass
class Checkpoint:
    model_state: dict[str, torch.Tensor]
    model_config: dict
    alphabet: dict
    feature_config: dict
    extra_tensors: dict[str, torch.Tensor] = field(default_factory=dict)  # optimizer, RNG, ...
    # the feature extractor's state_dict: global CMVN statistics, empty for per-utterance CMVN
    feature_state: dict[str, torch.Tensor] = field(default_factory=dict)
    info: dict = field(default_factory=dict)  # training state, metrics, provenance (JSON)


def save_checkpoint(path: str | os.PathLike, ckpt: Checkpoint) -> Path:
    """Write ``ckpt`` to ``path`` atomically (temp file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in ckpt.model_state.items()}
    for key, value in ckpt.feature_state.items():
        tensors[f"features.{key}"] = value.detach().cpu().contiguous()
    for key, value in ckpt.extra_tensors.items():
        tensors[key] = value.detach().cpu().contiguous()
    header = {
        "format": FORMAT,
        "model_config": ckpt.model_config,
        "alphabet": ckpt.alphabet,
        "feature_config": ckpt.feature_config,
        "info": ckpt.info,
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"dslearn": json.dumps(header)})
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    return path


def resolve_model_path(path: str | os.PathLike) -> Path:
    """A checkpoint file, or a run directory (its best checkpoint, else its last)."""
    path = Path(path)
    if path.is_dir():
        for name in (BEST, LAST):
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"{path}: run directory holds neither {BEST} nor {LAST}")
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint file or run directory")
    return path


def load_checkpoint(path: str | os.PathLike, *, with_extra: bool = True) -> Checkpoint:
    """Read a checkpoint written by ``save_checkpoint`` (never unpickles anything)."""
    path = resolve_model_path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path)) if with_extra else None
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(
            f"{path}: not a safetensors file ({err}); dslearn only loads safetensors checkpoints "
            "and never unpickles files, which could run arbitrary code"
        ) from err
    if "dslearn" not in metadata:
        raise CheckpointError(f"{path}: safetensors file without a dslearn header")
    header = json.loads(metadata["dslearn"])
    if header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {header.get('format')!r}")
    if tensors is None:
        with safe_open(str(path), framework="pt") as f:
            tensors = {
                k: f.get_tensor(k) for k in f.keys() if k.startswith(("model.", "features."))
            }
    model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    feature_state = {
        k[len("features.") :]: v for k, v in tensors.items() if k.startswith("features.")
    }
    extra = {k: v for k, v in tensors.items() if not k.startswith(("model.", "features."))}
    return Checkpoint(
        model_state=model_state,
        model_config=header["model_config"],
        alphabet=header["alphabet"],
        feature_config=header["feature_config"],
        extra_tensors=extra,
        info=header.get("info", {}),
        feature_state=feature_state,
    )


def optimizer_to_tensors(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Split ``optimizer.state_dict()`` into tensors (``optim.{param}.{key}``) and JSON."""
    tensors = {}
    for param_id, param_state in state["state"].items():
        for key, value in param_state.items():
            tensors[f"optim.{param_id}.{key}"] = torch.as_tensor(value)
    return tensors, {"param_groups": state["param_groups"]}


def optimizer_from_tensors(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    """Inverse of ``optimizer_to_tensors``: a dict for ``optimizer.load_state_dict``."""
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, param_id, key = name.split(".", 2)
            state.setdefault(int(param_id), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


# What a training checkpoint carries only so that `--resume` can continue it: dropped on export.
TRAINING_ONLY_INFO = ("optimizer", "scaler")
EXPORT_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def is_resumable(ckpt: Checkpoint) -> bool:
    """Whether ``ckpt`` holds the optimizer and RNG state that exact resume needs."""
    return "optimizer" in ckpt.info and "rng.trainer" in ckpt.extra_tensors


def export_weights(src: str | os.PathLike, dst: str | os.PathLike, dtype: str = "float32") -> Path:
    """Write the inference part of a checkpoint (or run directory) to ``dst``.

    Keeps the weights, the fitted feature statistics and the header (model config, alphabet,
    feature settings, training provenance); drops the optimizer, gradient-scaler and RNG state,
    which only ``--resume`` needs and which make a ``last`` checkpoint of a ``small`` run three
    times the size of its weights. ``dtype`` ("float32", "float16" or "bfloat16") stores the
    model's floating-point weights at that precision, halving the file for 16 bits; loading
    casts them back into the float32 model. Feature statistics stay float32: they are few, and
    rounding them would shift every input frame. The result loads anywhere a checkpoint does
    (``load_model``, ``--model``, ``--init-from``) but cannot be resumed.
    """
    if dtype not in EXPORT_DTYPES:
        raise ValueError(f"dtype {dtype!r}: choose one of {', '.join(EXPORT_DTYPES)}")
    src_path = resolve_model_path(src)
    ck = load_checkpoint(src_path, with_extra=False)
    if Path(dst).resolve() == src_path.resolve():
        raise ValueError(f"{dst}: is the checkpoint being exported; write to another file")
    cast = EXPORT_DTYPES[dtype]
    ck.model_state = {
        k: v.to(cast) if v.is_floating_point() else v for k, v in ck.model_state.items()
    }
    return _save_weights_only(dst, ck)


def _save_weights_only(dst: str | os.PathLike, ck: Checkpoint) -> Path:
    """Save ``ck`` without the state only ``--resume`` needs (optimizer, scaler, RNG)."""
    ck.info = {k: v for k, v in ck.info.items() if k not in TRAINING_ONLY_INFO}
    ck.extra_tensors = {}
    return save_checkpoint(dst, ck)


def blend_weights(
    a: str | os.PathLike, b: str | os.PathLike, weight_b: float, dst: str | os.PathLike
) -> Path:
    """Write ``(1 - weight_b) * A + weight_b * B``, weight by weight, to ``dst`` (weights only).

    A and B must be the same architecture with the same alphabet and features, B typically
    fine-tuned from A. Averaging the two in weight space keeps much of what fine-tuning gained on
    the new data and much of what A knew (Wortsman et al. 2022, "Robust fine-tuning of zero-shot
    models", WiSE-FT); ``weight_b`` slides between them (0: A, 1: B). Integer tensors (batch
    norm's step counter) come from B. The header is B's, with the blend recorded in its ``info``.
    """
    if not 0.0 <= weight_b <= 1.0:
        raise ValueError(f"weight_b={weight_b}: must lie in [0, 1]")
    ck_a = load_checkpoint(a, with_extra=False)
    ck_b = load_checkpoint(b, with_extra=False)
    from dslearn.model import ModelConfig

    twins = {  # configs compared through ModelConfig: one written before newer fields gets defaults
        "model_config": ModelConfig.from_dict(ck_a.model_config)
        == ModelConfig.from_dict(ck_b.model_config),
        "alphabet": ck_a.alphabet == ck_b.alphabet,
        "feature_config": ck_a.feature_config == ck_b.feature_config,
    }
    for field_name, same in twins.items():
        if not same:
            raise ValueError(f"{a} and {b}: different {field_name}; only twins can be blended")
    if ck_a.model_state.keys() != ck_b.model_state.keys():
        raise ValueError(f"{a} and {b}: different weight names; only twins can be blended")
    ck_b.model_state = {
        k: torch.lerp(ck_a.model_state[k].float(), v.float(), weight_b) if v.is_floating_point()
        else v
        for k, v in ck_b.model_state.items()
    }  # fmt: skip
    ck_b.feature_state = {
        k: torch.lerp(ck_a.feature_state[k].float(), v.float(), weight_b)
        for k, v in ck_b.feature_state.items()
    }
    ck_b.info = {**ck_b.info, "blend": {"a": str(a), "b": str(b), "weight_b": weight_b}}
    return _save_weights_only(dst, ck_b)
