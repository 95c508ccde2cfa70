"""Training throughput: dslearn's trainer against a plain loop around torchaudio's DeepSpeech.

    python benchmarks/train_throughput.py --manifest CORPUS/train.jsonl [--device auto]
        [--presets small base] [--precisions fp32 bf16] [--steps 6] [--warmup 2]
        [--batch-seconds 30] [--threads N] [--json out.json]

Every row trains for ``--warmup`` untimed and then ``--steps`` timed optimizer steps on the same
manifest and reports real (unpadded) audio seconds per second, utterances per second, the padding
fraction, the share of wall time spent computing rather than waiting for data (the "busy
fraction": the rest is the training loop waiting on the data loader), achieved GFLOP/s and, on a
GPU whose peak is known, model FLOPs utilization (``dslearn.train.model_flops_per_second``: conv,
RNN and linear layers, times 3 for forward + backward, over real audio only).

Two groups of rows:

* **The same model in two implementations.** ``torchaudio.models.DeepSpeech`` (3 dense layers, a
  bidirectional ReLU RNN, a dense layer, the output) cannot express DS2, so the comparison uses a
  dslearn ``DeepSpeech1`` configured to the same shape: no context window, dense width = RNN width
  = the ``--presets``' ``rnn_hidden``, ReLU RNN. (dslearn concatenates the two RNN directions where
  torchaudio sums them, so dslearn's model is slightly *larger*: counted in its FLOPs.) The
  baseline is the minimal loop a tutorial writes: a Dataset computing log-mel features per
  utterance in ``__getitem__``, a shuffled DataLoader with a fixed batch size (dslearn's mean batch
  size), padding, forward over the padded batch, ``F.ctc_loss``, AdamW, float32. dslearn runs its
  own ``Trainer.train_step`` on its own loader (length bucketing, features on the device, RNNs
  that padding never reaches, the precision ``dslearn train`` picks: bf16 on recent GPUs and on
  CPUs with native bf16, else fp32; ``--matched-precision``), with SpecAugment and speed
  perturbation off, since the baseline does neither.
* **dslearn's DS2 presets** as users train them (SpecAugment and speed perturbation on), in each
  ``--precisions`` entry, with and without length bucketing (``bucketing=False``: random batches).

Each configuration runs without SortaGrad's sorted first epoch (``sortagrad=False``), so batches
are as random as in the rest of training. Timing synchronizes the GPU after every step.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import soundfile as sf
import torch
import torch.nn.functional as F
import torchaudio
from torch.utils.data import DataLoader, Dataset

from dslearn.data import read_manifest
from dslearn.model import count_parameters, preset
from dslearn.text import Alphabet, normalize
from dslearn.train import TrainConfig, Trainer, model_flops_per_second, peak_flops, pick_device


@dataclass
class Measured:
    """Totals over the timed steps."""

    steps: int = 0
    samples: int = 0
    audio: float = 0.0  # real audio seconds
    padded: float = 0.0  # audio seconds including padding
    compute: float = 0.0  # seconds inside the training step
    wall: float = 0.0  # seconds from the first timed batch request to the last step's end

    def add(self, samples: int, audio: float, padded: float, compute: float) -> None:
        self.steps += 1
        self.samples += samples
        self.audio += audio
        self.padded += padded
        self.compute += compute

    def row(self, flops_per_audio_second: float, peak: float | None) -> dict:
        achieved = 3 * flops_per_audio_second * self.audio / self.wall
        return {
            "audio_sec_per_sec": self.audio / self.wall,
            "samples_per_sec": self.samples / self.wall,
            "padding": 1 - self.audio / self.padded,
            "busy": self.compute / self.wall,
            "gflops": achieved / 1e9,
            "mfu": achieved / peak if peak else None,
            "mean_batch": self.samples / self.steps,
        }


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_steps(batches, step, sizes, device: torch.device, warmup: int, steps: int) -> Measured:
    """Run ``step(batch)`` on ``warmup + steps`` batches; time the last ``steps``.

    ``sizes(batch)`` gives (utterances, real audio seconds, padded audio seconds). The wall clock
    runs from the first timed batch request, so waiting for data counts; the step clock does not.
    """
    measured, start = Measured(), None
    for i in range(warmup + steps):
        if i == warmup:
            start = time.perf_counter()
        batch = next(batches)
        t0 = time.perf_counter()
        step(batch)
        synchronize(device)
        if i >= warmup:
            measured.add(*sizes(batch), time.perf_counter() - t0)
    measured.wall = time.perf_counter() - start
    return measured


def time_dslearn(
    cfg: TrainConfig, warmup: int, steps: int, profile: bool = False
) -> tuple[Measured, Trainer, str | None]:
    """Run the real trainer's step on its real loader; time ``steps`` after ``warmup``.

    With ``profile``, one more step runs under ``torch.profiler``: its operators by self time.
    """
    trainer = Trainer(cfg)
    sr = trainer.feature_cfg.sample_rate

    def sizes(batch) -> tuple[int, float, float]:
        return len(batch), float(batch.audio_lengths.sum()) / sr, batch.audio.numel() / sr

    batches = iter(trainer.loader())
    measured = timed_steps(batches, trainer.train_step, sizes, trainer.device, warmup, steps)
    table = None
    if profile:
        activities = [torch.profiler.ProfilerActivity.CPU]
        if trainer.device.type == "cuda":
            activities.append(torch.profiler.ProfilerActivity.CUDA)
        batch = next(batches)
        with torch.profiler.profile(activities=activities) as prof:
            trainer.train_step(batch)
            synchronize(trainer.device)
        key = "self_cuda_time_total" if trainer.device.type == "cuda" else "self_cpu_time_total"
        table = prof.key_averages().table(sort_by=key, row_limit=15)
    return measured, trainer, table


# --- the baseline: a plain loop around torchaudio.models.DeepSpeech -------------------------------


class PlainDataset(Dataset):
    """Log-mel features computed per utterance on the CPU, as a tutorial's Dataset does."""

    def __init__(self, manifest: str, alphabet: Alphabet) -> None:
        self.items = read_manifest(manifest)
        self.alphabet = alphabet
        self.mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=400, hop_length=160, n_mels=80)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        wave, _ = sf.read(self.items[i].audio_filepath, dtype="float32")
        feats = (self.mel(torch.from_numpy(wave)) + 1e-6).log().T  # (frames, 80)
        feats = (feats - feats.mean(0)) / (feats.std(0) + 1e-5)
        target = self.alphabet.encode(normalize(self.items[i].text))
        return feats, torch.tensor(target), len(wave)


def plain_collate(items):
    feats, targets, samples = zip(*items)
    return (
        torch.nn.utils.rnn.pad_sequence(feats, batch_first=True),
        torch.tensor([len(f) for f in feats]),
        torch.nn.utils.rnn.pad_sequence(targets, batch_first=True),
        torch.tensor([len(t) for t in targets]),
        torch.tensor(samples),
    )


def torchaudio_flops_per_second(model: torch.nn.Module) -> float:
    """Forward FLOPs per audio second of ``torchaudio.models.DeepSpeech`` at 100 frames/s.

    Each of its weight matrices (dense layers, the RNN's input and recurrent weights per
    direction) is applied once per frame: one multiply-add per weight.
    """
    return 2 * 100 * sum(p.numel() for p in model.parameters() if p.dim() == 2)


def time_baseline(
    manifest: str,
    hidden: int,
    batch_size: int,
    device: torch.device,
    warmup: int,
    steps: int,
    workers: int,
) -> Measured:
    torch.manual_seed(0)
    model = torchaudio.models.DeepSpeech(80, n_hidden=hidden, n_class=29).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loader = DataLoader(
        PlainDataset(manifest, Alphabet()),
        batch_size=batch_size,
        shuffle=True,
        collate_fn=plain_collate,
        num_workers=workers,
        pin_memory=device.type == "cuda",
    )

    def step(batch) -> None:
        feats, frames, targets, target_lengths, _ = batch
        log_probs = model(feats.to(device).unsqueeze(1))  # (B, T, C)
        loss = F.ctc_loss(
            log_probs.transpose(0, 1),
            targets.to(device),
            frames,
            target_lengths,
            zero_infinity=True,
        )
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()

    def sizes(batch) -> tuple[int, float, float]:
        feats, samples = batch[0], batch[4]
        # 100 feature frames per second of (padded) audio
        return len(samples), float(samples.sum()) / 16000, feats.shape[0] * feats.shape[1] / 100

    return timed_steps(iter(loader), step, sizes, device, warmup, steps)


# --- the runs ---------------------------------------------------------------------------------


def base_config(args, out: str, **fields) -> TrainConfig:
    return TrainConfig(
        train=args.manifest,
        out=out,
        batch_seconds=args.batch_seconds,
        max_batch_size=args.max_batch_size,
        device=args.device,
        threads=args.threads,
        sortagrad=False,  # SortaGrad's shortest-first first epoch is not typical of training
        tensorboard=False,
        progress=False,
        **fields,
    )


def run(args) -> tuple[list[dict], dict[str, str]]:
    """The rows of the table, and per preset the profile of one step (with ``--profile``)."""
    device = pick_device(args.device)
    rows, profiles = [], {}

    def report(row: dict) -> None:
        rows.append(row)
        mfu = f"{row['mfu']:.1%}" if row.get("mfu") is not None else "-"
        print(
            f"{row['implementation']:<22} {row['model']:<24} {row['precision']:<5} "
            f"{'yes' if row['bucketing'] else 'no':<9} {row['audio_sec_per_sec']:>9.1f} "
            f"{row['samples_per_sec']:>8.1f} {row['padding']:>8.1%} {row['busy']:>6.1%} "
            f"{row['gflops']:>8.1f} {mfu:>6}",
            flush=True,
        )

    print(
        f"{'implementation':<22} {'model':<24} {'prec':<5} {'bucketing':<9} {'audio s/s':>9} "
        f"{'utt/s':>8} {'padding':>8} {'busy':>6} {'GFLOP/s':>8} {'MFU':>6}"
    )
    for name in args.presets:
        hidden = preset(name).rnn_hidden
        # 1) the same model shape, two implementations
        with tempfile.TemporaryDirectory() as tmp:
            cfg = base_config(
                args,
                tmp,
                preset=name,
                precision=args.matched_precision,
                spec_augment=False,
                speed_perturb=(),
                model=dict(
                    arch="ds1",
                    context=0,
                    dense_hidden=hidden,
                    rnn_hidden=hidden,
                    rnn_type="rnn",
                    bidirectional=True,
                    dropout=0.0,
                ),
            )
            measured, trainer, _ = time_dslearn(cfg, args.warmup, args.steps)
            flops = model_flops_per_second(trainer.model_cfg)
            ours = {
                "implementation": "dslearn Trainer",
                "model": f"DS1 {hidden} (= torchaudio)",
                "group": f"matched-{name}",
                "params": count_parameters(trainer.model),
                "precision": trainer.precision,
                "bucketing": True,
                **measured.row(flops, peak_flops(device, trainer.precision)),
            }
            workers = trainer.num_workers
        report(ours)
        batch_size = max(1, round(ours["mean_batch"]))
        measured = time_baseline(
            args.manifest, hidden, batch_size, device, args.warmup, args.steps, workers
        )
        peer = torchaudio.models.DeepSpeech(80, n_hidden=hidden, n_class=29)
        baseline = {
            "implementation": "torchaudio plain loop",
            "model": f"DeepSpeech {hidden}",
            "group": f"matched-{name}",
            "params": count_parameters(peer),
            "precision": "fp32",
            "bucketing": False,
            **measured.row(torchaudio_flops_per_second(peer), peak_flops(device, "fp32")),
        }
        report(baseline)
        ours["speedup_vs_baseline"] = ours["audio_sec_per_sec"] / baseline["audio_sec_per_sec"]

        # 2) the DS2 preset as users train it
        for precision in args.precisions:
            if precision == "fp16" and device.type != "cuda":
                continue
            for bucketing in (True, False) if precision == args.precisions[0] else (True,):
                with tempfile.TemporaryDirectory() as tmp:
                    cfg = base_config(
                        args,
                        tmp,
                        preset=name,
                        precision=precision,
                        bucketing=bucketing,
                    )
                    first = precision == args.precisions[0] and bucketing
                    measured, trainer, table = time_dslearn(
                        cfg, args.warmup, args.steps, profile=args.profile and first
                    )
                    if table:
                        profiles[name] = table
                    flops = model_flops_per_second(trainer.model_cfg)
                    report(
                        {
                            "implementation": "dslearn Trainer",
                            "model": f"DS2 {name}",
                            "group": f"preset-{name}",
                            "params": count_parameters(trainer.model),
                            "precision": precision,
                            "bucketing": bucketing,
                            **measured.row(flops, peak_flops(device, precision)),
                        }
                    )
    return rows, profiles


def summary_rows(rows: list[dict], device: torch.device) -> list[dict]:
    out = []
    on_gpu = device.type == "cuda"
    where = "GPU" if on_gpu else "CPU"
    for row in rows:
        if "speedup_vs_baseline" in row:
            out.append(
                {
                    "benchmark": "training",
                    "measure": f"{row['model']} vs torchaudio baseline, audio s/s ratio ({where})",
                    "value": row["speedup_vs_baseline"],
                    "unit": "x",
                    "target": ">= 2x on one H100",
                    "met": (row["speedup_vs_baseline"] >= 2) if on_gpu else None,
                }
            )
        elif row["implementation"] == "dslearn Trainer" and row["bucketing"]:
            measure = f"{row['model']} {row['precision']} audio s/s ({where})"
            out.append(
                {
                    "benchmark": "training",
                    "measure": measure,
                    "value": row["audio_sec_per_sec"],
                    "unit": "audio s/s",
                    "target": None,
                    "met": None,
                }
            )
            if row["mfu"] is not None and "base" in row["model"] and row["precision"] == "bf16":
                out.append(
                    {
                        "benchmark": "training",
                        "measure": f"{row['model']} bf16 MFU",
                        "value": row["mfu"],
                        "unit": "fraction",
                        "target": ">= 25% on one H100",
                        "met": row["mfu"] >= 0.25,
                    }
                )
    unbucketed = {r["model"] + r["precision"]: r for r in rows if not r["bucketing"]}
    for row in rows:
        key = row["model"] + row["precision"]
        if row["bucketing"] and key in unbucketed and row["group"].startswith("preset"):
            out.append(
                {
                    "benchmark": "training",
                    "measure": f"{row['model']} padding with / without bucketing",
                    "value": row["padding"],
                    "unit": f"fraction (without: {unbucketed[key]['padding']:.1%})",
                    "target": None,
                    "met": None,
                }
            )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--manifest", required=True, help="training manifest, e.g. CORPUS/train.jsonl")
    p.add_argument("--presets", nargs="+", default=["small", "base"])
    p.add_argument(
        "--precisions", nargs="+", default=None, help="default: fp32 bf16 (+fp16 on GPU)"
    )
    p.add_argument(
        "--matched-precision",
        default="auto",
        help="dslearn's precision against the fp32 baseline (auto: what `dslearn train` picks)",
    )
    p.add_argument("--steps", type=int, default=6, help="timed steps per row")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--batch-seconds", type=float, default=None, help="CPU 30, GPU 400")
    p.add_argument("--max-batch-size", type=int, default=64)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument("--profile", action="store_true", help="profile one step of each preset")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args()
    device = pick_device(args.device)
    if args.batch_seconds is None:
        args.batch_seconds = 400.0 if device.type == "cuda" else 30.0
    if args.precisions is None:
        args.precisions = ["fp32", "bf16"] + (["fp16"] if device.type == "cuda" else [])
    if args.threads:
        torch.set_num_threads(args.threads)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(
        f"device {device} ({name or platform.machine()}), {torch.get_num_threads()} CPU threads, "
        f"{args.batch_seconds:g} padded s per batch, {args.warmup}+{args.steps} steps per row"
    )
    started = time.perf_counter()
    rows, profiles = run(args)
    for name, table in profiles.items():
        print(f"\none training step of DS2 {name} ({args.precisions[0]}), by self time:\n{table}")
    for row in rows:
        if "speedup_vs_baseline" in row:
            print(
                f"{row['model']}: dslearn / torchaudio baseline = {row['speedup_vs_baseline']:.2f}x"
            )
    summary = summary_rows(rows, device)
    if args.json:
        record = {
            "benchmark": "train_throughput",
            "date": date.today().isoformat(),
            "device": str(device),
            "device_name": name,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "seconds": time.perf_counter() - started,
            "rows": rows,
            "profiles": profiles,
            "summary": summary,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=1, default=str))


if __name__ == "__main__":
    main()
