"""Scaling on paper: DDP measured on two CPU processes, then LibriSpeech 960 h predicted on GPUs.

    python benchmarks/ddp_scaling.py --manifest-dir CORPUS [--preset tiny] [--steps 40]
        [--warmup 10] [--batch-seconds 100] [--base-comm-steps 2]
        [--gpu-throughput-json FILE | --gpu-audio-sec-per-sec X] [--gpu H100] [--assumed-mfu 0.25]
        [--padding 0.05] [--nvlink-gbps 360] [--ib-gbps 50] [--gpus-per-node 8]
        [--gpus 1 8 64] [--json out.json]

Part 1, measured, with the real ``dslearn.train.Trainer`` on ``CORPUS/train.jsonl`` (gloo, CPU):

* run A: one process, one torch thread; run B: ``torchrun --standalone --nproc_per_node=2``, one
  thread per process and the same ``--batch-seconds`` per process, so the global batch doubles
  (weak scaling, the way DDP is used). Both train ``--steps`` steps with SpecAugment and speed
  perturbation as ``dslearn train`` does; the first ``--warmup`` steps are not timed. Batches are
  drawn shuffled in both runs: SortaGrad's shortest-first first epoch would give B (which walks
  twice as far down the sorted plan) longer utterances than A.
* efficiency = audio-seconds/s of B, both ranks together / (2 x audio-seconds/s of A). Throughput
  is real (unpadded) audio over the wall time from the end of the last warm-up step to the end of
  the last step, data loading included, as the Trainer counts it. The Trainer's own log line
  (rank 0's audio times the world size) is shown beside it.
* where B's extra step time goes, from timestamps taken in every rank (one clock for all
  processes): waiting for the slower rank's backward (the ranks train on different batches), the
  all-reduce left after the last backward ends, and the rest (two processes sharing caches,
  memory bandwidth and the two cores with gloo's threads).
* other processes' CPU use during each run is measured (``/proc/stat`` minus our own processes)
  and printed: B needs both cores, so anything else running biases the efficiency low.
* communication: a DDP communication hook counts the bytes of every gradient bucket handed to
  all-reduce, then runs DDP's default all-reduce, so training is unchanged. Compared with the
  theory (4 bytes per parameter: fp32 gradients) for ``tiny``; ``--base-comm-steps`` steps of the
  ``base`` model on one-utterance batches measure its volume too (0: theory only, labeled so).

Part 2, on paper: the ``librispeech-960`` recipe (``base`` model, ``max_epochs`` epochs,
``batch_seconds`` padded seconds per GPU per step) on 1, 8 and 64 GPUs. Assumptions, all printed
and written to the JSON:

* single-GPU throughput (real audio-seconds per second, ``base``, bf16) comes from
  ``--gpu-throughput-json`` (benchmarks/train_throughput.py) or ``--gpu-audio-sec-per-sec``.
  Without either it is estimated: ``PEAK_FLOPS[gpu]["bf16"] x --assumed-mfu`` divided by
  ``3 x model_flops_per_second(base)`` (forward + backward), the Trainer's MFU definition, and
  every figure that depends on it is labeled "estimated, not measured";
* LibriSpeech 960 h = 960 x 3600 s of audio per epoch (speed perturbation draws one factor per
  batch from 0.9/1.0/1.1, which changes the mean frames per step by under 1%: ignored);
  ``batch_seconds`` counts padded seconds, so a step holds ``batch_seconds x (1 - --padding)``
  seconds of real audio per GPU; steps per epoch = ceil(audio / (N x that)), as every rank runs
  the same number of steps;
* a step computes for ``real audio per GPU / throughput`` seconds; the throughput already pays
  for padding, so padding only sets how many steps, and so all-reduces, an epoch takes;
* communication per step per GPU is a ring all-reduce of the gradients: time =
  ``2 (N - 1) / N x gradient bytes / bus bandwidth`` (NCCL's bus-bandwidth convention), with the
  gradient bytes measured above (fp32: bf16 autocast keeps fp32 parameters and gradients).
  Up to ``--gpus-per-node`` GPUs talk over NVLink (H100 SXM: about 360 GB/s all-reduce bus
  bandwidth), more over InfiniBand (8 x 400 Gb/s per node: 50 GB/s per GPU), the slower link
  setting the pace of the ring. Latency, the Trainer's three scalar all-reduces per step (loss,
  stop flags) and DDP's broadcast of batch-norm statistics before each forward (75 kB for base)
  are left out;
* two bounds: no overlap (compute + communication) and full overlap (the larger of the two).
  DDP all-reduces buckets while backward still runs, so reality lies between; the last bucket
  never overlaps, so the full-overlap bound is optimistic. Dev evaluation, checkpoints, start-up
  and early stopping are left out; data loading is assumed to keep up.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import torch
from torch.distributed.algorithms.ddp_comm_hooks import default_hooks

from dslearn.features import FeatureConfig
from dslearn.model import build_model, count_parameters, preset
from dslearn.text import Alphabet
from dslearn.train import (
    PEAK_FLOPS,
    RECIPES,
    TrainConfig,
    Trainer,
    model_flops_per_second,
    read_metrics,
)

THEORY_PRESETS = ("tiny", "small", "base", "librispeech-100")
RECIPE = "librispeech-960"
LIBRISPEECH_HOURS = 960.0
ESTIMATED = "estimated, not measured"


# --- part 1: the worker, run once per process (alone, or under torchrun) ------------------------


class _CommCounter:
    """The gradient buckets DDP hands to all-reduce: bytes, and [handed over, reduced] times.

    Times are ``time.perf_counter()``, CLOCK_MONOTONIC on Linux: one clock for all processes, so
    the ranks' timestamps can be compared with each other.
    """

    def __init__(self) -> None:
        self.bytes = 0
        self.events: list[list[float]] = []


# No return annotation: DDP insists that one be Future[Tensor] itself, and under
# ``from __future__ import annotations`` it would be a string.
def _counting_allreduce(counter: _CommCounter, bucket):
    buffer = bucket.buffer()
    counter.bytes += buffer.numel() * buffer.element_size()
    event = [time.perf_counter(), math.nan]
    counter.events.append(event)

    def done(fut: torch.futures.Future) -> torch.Tensor:
        event[1] = time.perf_counter()
        return fut.value()

    # The default hook (averaging all-reduce): counting must not change what is trained.
    return default_hooks.allreduce_hook(None, bucket).then(done)


def worker(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    cfg = TrainConfig(**spec["config"])
    trainer = Trainer(cfg)
    if spec["skip_checkpoints"]:
        # Writing base's 1 GB optimizer state is not what is measured here.
        trainer.save = lambda *args, **kwargs: None
    counter = _CommCounter()
    if trainer.ddp is not None:
        trainer.ddp.register_comm_hook(counter, _counting_allreduce)
    sr = trainer.feature_cfg.sample_rate
    steps: list[dict] = []
    train_step = trainer.train_step  # wrapped: the fit loop calls trainer.train_step

    def timed_step(batch) -> dict:
        before = (counter.bytes, len(counter.events))
        started = time.perf_counter()
        stats = train_step(batch)
        ended = time.perf_counter()
        steps.append(
            {
                "start": started,
                "end": ended,
                "utterances": len(batch.texts),
                "audio_seconds": float(batch.audio_lengths.sum()) / sr,
                "padded_seconds": batch.audio.numel() / sr,
                "comm_bytes": counter.bytes - before[0],
                "buckets": counter.events[before[1] :],
            }
        )
        return stats

    trainer.train_step = timed_step
    trainer.fit()
    report = {
        "rank": trainer.rank,
        "world": trainer.world,
        "parameters": count_parameters(trainer.model),
        "steps": steps,
    }
    Path(spec["report_dir"], f"rank{trainer.rank}.json").write_text(json.dumps(report))


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (Linux /proc/stat; else NaN).

    Steal time counts as busy: a vCPU the hypervisor gives to someone else is not ours either.
    """
    try:
        fields = [float(x) for x in Path("/proc/stat").read_text().split()[1:9]]
    except OSError:
        return math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    """CPU seconds of this process and of its finished children (torchrun's workers included)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


class OtherLoad:
    """Cores used by other processes while a block runs: nonzero means shared timings."""

    def __enter__(self) -> OtherLoad:
        self.start = (time.perf_counter(), machine_busy_seconds(), own_seconds())
        return self

    def __exit__(self, *exc) -> None:
        wall, busy, own = time.perf_counter(), machine_busy_seconds(), own_seconds()
        self.seconds = wall - self.start[0]
        self.cores = max(0.0, (busy - self.start[1]) - (own - self.start[2])) / self.seconds


# --- part 1: launching and reading the runs -----------------------------------------------------


def launch(
    nproc: int, config: dict, folder: Path, skip_checkpoints: bool
) -> tuple[list[dict], OtherLoad]:
    """Train in ``nproc`` processes (torchrun when more than one): the ranks' reports, and the
    wall time and the cores other processes used meanwhile."""
    folder.mkdir(parents=True)
    spec = {
        "config": {**config, "out": str(folder / "run")},
        "skip_checkpoints": skip_checkpoints,
        "report_dir": str(folder),
    }
    spec_path = folder / "spec.json"
    spec_path.write_text(json.dumps(spec))
    me = [str(Path(__file__).resolve()), "--worker", str(spec_path)]
    if nproc == 1:
        command = [sys.executable, *me]
    else:
        run = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        command = [*run, f"--nproc_per_node={nproc}", *me]
    # One intra-op thread per process (threads=1 sets torch's; this sets OpenMP's pool too).
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with OtherLoad() as others:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    reports = [json.loads((folder / f"rank{r}.json").read_text()) for r in range(nproc)]
    return reports, others


def throughput(reports: list[dict], warmup: int) -> dict:
    """All ranks' real audio over the timed steps, per second of the slowest rank's wall time."""
    audio = utterances = padded = 0.0
    elapsed, in_step = [], []
    for report in reports:
        steps = report["steps"]
        timed = steps[warmup:]
        start = steps[warmup - 1]["end"] if warmup else steps[0]["start"]
        elapsed.append(timed[-1]["end"] - start)
        audio += sum(s["audio_seconds"] for s in timed)
        padded += sum(s["padded_seconds"] for s in timed)
        utterances += sum(s["utterances"] for s in timed)
        in_step.append(sum(s["end"] - s["start"] for s in timed) / len(timed))
    seconds, n = max(elapsed), len(reports[0]["steps"][warmup:])
    return {
        "timed_steps": n,
        "wall_seconds": seconds,
        "audio_sec_per_sec": audio / seconds,
        "samples_per_sec": utterances / seconds,
        "padding": 1 - audio / padded,
        "seconds_per_step": seconds / n,
        "in_train_step_per_step": max(in_step),
        "between_steps_per_step": seconds / n - max(in_step),
    }


def ddp_split(reports: list[dict], warmup: int) -> dict:
    """Where a DDP step's extra time goes, from the ranks' bucket timestamps (timed steps).

    A rank's last bucket is handed over when its backward ends. The step cannot finish before the
    slowest rank's backward: compared with one process (the mean rank), that costs
    ``max - mean`` of the ranks' backward ends. What follows the slowest backward end until the
    last bucket is reduced is all-reduce that backward did not hide.
    """
    straggler, tail, after_ready = [], [], []
    for i in range(warmup, len(reports[0]["steps"])):
        steps = [r["steps"][i] for r in reports]
        ends = [max(call for call, _ in s["buckets"]) for s in steps]
        reduced = max(done for s in steps for _, done in s["buckets"])
        straggler.append(max(ends) - sum(ends) / len(ends))
        tail.append(reduced - max(ends))
        # Per bucket: from the last rank handing it over to the last rank having it reduced.
        after_ready.append(
            sum(
                max(s["buckets"][k][1] for s in steps) - max(s["buckets"][k][0] for s in steps)
                for k in range(len(steps[0]["buckets"]))
            )
        )
    n = len(straggler)
    return {
        "waiting_for_slower_rank_per_step": sum(straggler) / n,
        "allreduce_after_backward_per_step": sum(tail) / n,
        "allreduce_once_all_ranks_ready_per_step": sum(after_ready) / n,
    }


def trainer_logged(run_dir: Path, warmup: int, log_every: int) -> float | None:
    """Mean audio_sec_per_sec of the Trainer's log windows that hold no warm-up step."""
    rates = [
        r["audio_sec_per_sec"]
        for r in read_metrics(run_dir, "train")
        if r["step"] - log_every >= warmup
    ]
    return sum(rates) / len(rates) if rates else None


def comm_measured(reports: list[dict]) -> dict:
    steps = reports[0]["steps"]
    per_step = sorted({s["comm_bytes"] for s in steps})
    return {
        "bytes_per_step": steps[-1]["comm_bytes"],
        "distinct_values": per_step,  # one value: every step all-reduces the same gradients
        "buckets_per_step": len(steps[-1]["buckets"]),
        "steps": len(steps),
        "parameters": reports[0]["parameters"],
    }


def comm_theory(name: str) -> dict:
    cfg = preset(name, n_feats=FeatureConfig().n_features, n_classes=len(Alphabet()))
    model = build_model(cfg)
    trainable = [p for p in model.parameters() if p.requires_grad]
    return {
        "parameters": count_parameters(model),
        "grad_bytes": sum(p.numel() * 4 for p in trainable),  # fp32 gradients
        # DDP broadcasts buffers (batch-norm statistics) from rank 0 at every forward.
        "buffer_bytes": sum(b.numel() * b.element_size() for b in model.buffers()),
        "forward_flops_per_audio_second": model_flops_per_second(cfg),
    }


# --- part 2: the prediction ---------------------------------------------------------------------


def gpu_throughput_from_json(path: str) -> tuple[float, dict]:
    """The base/bf16 audio-seconds per second in a train_throughput.py JSON, and its record."""
    data = json.loads(Path(path).read_text())
    found: list[dict] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("audio_sec_per_sec"), int | float):
                found.append(node)
            elif isinstance(node.get("value"), int | float) and "audio s/s" in str(
                node.get("unit", "")
            ):
                found.append({**node, "audio_sec_per_sec": node["value"]})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    def fit(record: dict) -> tuple[bool, bool, bool]:
        text = " ".join(str(record.get(k, "")) for k in ("preset", "model", "group", "measure"))
        text = text.lower()
        # train_throughput.py's "matched" rows are a DS1 reshaped to torchaudio's, not base.
        is_base = ("base" in text or RECIPE in text) and "matched" not in text and "ds1" not in text
        bf16 = str(record.get("precision", "")).lower() == "bf16" or "bf16" in text
        return is_base, bf16, record.get("bucketing", True) is not False

    walk(data)
    candidates = [r for r in found if fit(r)[0]]
    if not candidates:
        sys.exit(f"{path}: no audio_sec_per_sec for the base model found")
    record = dict(max(candidates, key=fit))  # max keeps the first of equals: rows come first
    if not fit(record)[1]:
        print(f"note: {path} has no bf16 row for base; using {record.get('precision', '?')}")
    record["device"] = data.get("device_name") or data.get("device")
    args = data.get("args")
    record["batch_seconds"] = args.get("batch_seconds") if isinstance(args, dict) else None
    if "cuda" not in str(data.get("device", "cuda")):
        print(f"note: {path} was measured on {data.get('device')}, not a GPU")
    return float(record["audio_sec_per_sec"]), record


def predict(args: argparse.Namespace, grad_bytes: int, per_gpu: float) -> list[dict]:
    recipe = RECIPES[RECIPE]
    epochs, batch_seconds = recipe["max_epochs"], recipe["batch_seconds"]
    epoch_audio = LIBRISPEECH_HOURS * 3600
    real_per_gpu = batch_seconds * (1 - args.padding)
    compute = real_per_gpu / per_gpu
    rows = []
    for n in args.gpus:
        nodes = math.ceil(n / args.gpus_per_node)
        if n == 1:
            link, gbps = "none", math.inf
        elif nodes == 1:
            link, gbps = "NVLink", args.nvlink_gbps
        else:
            link, gbps = "InfiniBand", args.ib_gbps
        comm = 2 * (n - 1) / n * grad_bytes / (gbps * 1e9)
        steps_per_epoch = math.ceil(epoch_audio / (n * real_per_gpu))
        steps = epochs * steps_per_epoch
        rows.append(
            {
                "gpus": n,
                "nodes": nodes,
                "link": link,
                "bus_gbps": None if n == 1 else gbps,
                "global_batch_audio_hours": n * real_per_gpu / 3600,
                "steps_per_epoch": steps_per_epoch,
                "steps": steps,
                # Weak scaling shrinks the step count: the recipe's schedule may no longer fit.
                "recipe_warmup_share": min(1.0, recipe["warmup_steps"] / steps),
                "compute_s_per_step": compute,
                "comm_s_per_step": comm,
                "hours_no_overlap": steps * (compute + comm) / 3600,
                "hours_full_overlap": steps * max(compute, comm) / 3600,
            }
        )
    for row in rows:
        for bound in ("no_overlap", "full_overlap"):
            speedup = rows[0][f"hours_{bound}"] / row[f"hours_{bound}"] * rows[0]["gpus"]
            row[f"speedup_{bound}"] = speedup
            row[f"efficiency_{bound}"] = speedup / row["gpus"]
    return rows


# --- the report ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--manifest-dir", help="corpus folder holding train.jsonl")
    parser.add_argument("--preset", default="tiny", help="model trained in part 1")
    parser.add_argument("--steps", type=int, default=40, help="steps per run")
    parser.add_argument("--warmup", type=int, default=10, help="untimed first steps")
    parser.add_argument("--batch-seconds", type=float, default=100.0, help="per process")
    parser.add_argument("--log-every", type=int, default=5)
    parser.add_argument("--base-comm-steps", type=int, default=2, help="0: base from theory")
    parser.add_argument("--gpu-throughput-json", help="benchmarks/train_throughput.py output")
    parser.add_argument("--gpu-audio-sec-per-sec", type=float, help="base, bf16, one GPU")
    parser.add_argument("--gpu", default="H100", choices=sorted(PEAK_FLOPS))
    parser.add_argument("--assumed-mfu", type=float, default=0.25, help="for the estimate")
    parser.add_argument("--padding", type=float, default=0.05, help="padded fraction of batches")
    parser.add_argument("--nvlink-gbps", type=float, default=360.0, help="GB/s, all-reduce bus")
    parser.add_argument("--ib-gbps", type=float, default=50.0, help="GB/s per GPU across nodes")
    parser.add_argument("--gpus-per-node", type=int, default=8)
    parser.add_argument("--gpus", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    if not args.manifest_dir:
        parser.error("--manifest-dir is required")
    train = Path(args.manifest_dir) / "train.jsonl"
    if not train.exists():
        parser.error(f"{train} does not exist")
    if not 0 < args.warmup < args.steps:
        parser.error("--warmup must be at least 1 and less than --steps")
    if args.gpus[0] != 1:
        parser.error("--gpus must start with 1 (speed-ups are relative to it)")

    started = time.perf_counter()
    with OtherLoad() as before:
        time.sleep(1.0)
    busy = before.cores
    print(f"{os.cpu_count()} CPUs; other processes use {busy:.2f} of them", flush=True)
    config = dict(
        train=str(train),
        preset=args.preset,
        max_steps=args.steps,
        batch_seconds=args.batch_seconds,
        log_every=args.log_every,
        eval_every=10 * args.steps,  # no dev set: only the final checkpoint
        device="cpu",
        threads=1,
        sortagrad=False,  # see the module docstring
        tensorboard=False,
        progress=False,
    )
    theory = {name: comm_theory(name) for name in dict.fromkeys([*THEORY_PRESETS, args.preset])}
    with tempfile.TemporaryDirectory(prefix="ddp_scaling-") as tmp:
        runs = {}
        for key, nproc in (("A", 1), ("B", 2)):
            print(f"run {key}: {nproc} process(es), {args.steps} steps of {args.preset} ...")
            reports, others = launch(nproc, config, Path(tmp, key), skip_checkpoints=False)
            runs[key] = {
                "processes": nproc,
                "threads_per_process": 1,
                "other_processes_cores": others.cores,
                "launch_wall_seconds": others.seconds,
                **throughput(reports, args.warmup),
                "trainer_logged_audio_sec_per_sec": trainer_logged(
                    Path(tmp, key, "run"), args.warmup, args.log_every
                ),
            }
            if nproc > 1:
                runs[key]["comm"] = comm_measured(reports)
                runs[key]["split"] = ddp_split(reports, args.warmup)
        base_comm = None
        if args.base_comm_steps:
            print(f"base: {args.base_comm_steps} DDP steps on 2 processes to count its bytes ...")
            base_config = {
                **config,
                "preset": "base",
                "max_steps": args.base_comm_steps,
                "batch_seconds": 30.0,
                "max_batch_size": 1,  # SortaGrad's shortest utterances, one per rank: cheap
                "sortagrad": True,
                "spec_augment": False,
                "speed_perturb": (),
                "log_every": 1000,
                "eval_every": 1000,
            }
            reports, others = launch(2, base_config, Path(tmp, "base"), skip_checkpoints=True)
            base_comm = {**comm_measured(reports), "launch_wall_seconds": others.seconds}

    a, b = runs["A"], runs["B"]
    efficiency = b["audio_sec_per_sec"] / (2 * a["audio_sec_per_sec"])
    logged = None
    if a["trainer_logged_audio_sec_per_sec"] and b["trainer_logged_audio_sec_per_sec"]:
        logged = b["trainer_logged_audio_sec_per_sec"] / (2 * a["trainer_logged_audio_sec_per_sec"])
    tiny_comm = b["comm"]
    tiny_theory = theory[args.preset]["grad_bytes"]

    print(
        f"\nPart 1, measured: {args.preset}, {args.steps} steps ({args.warmup} untimed), "
        f"{args.batch_seconds:g} padded s per process per step, gloo on CPU, 1 thread per process"
    )
    print(
        f"{'run':28s}{'audio s/s':>10s}{'(log)':>8s}{'utt/s':>8s}{'s/step':>8s}"
        f"{'in step':>9s}{'between':>9s}{'padding':>9s}{'others':>8s}"
    )
    for key, name in (("A", "A: 1 process"), ("B", "B: torchrun, 2 processes")):
        r = runs[key]
        log = r["trainer_logged_audio_sec_per_sec"]
        print(
            f"{name:28s}{r['audio_sec_per_sec']:10.1f}{log or math.nan:8.1f}"
            f"{r['samples_per_sec']:8.1f}{r['seconds_per_step']:8.3f}"
            f"{r['in_train_step_per_step']:9.3f}{r['between_steps_per_step']:9.3f}"
            f"{r['padding']:9.1%}{r['other_processes_cores']:8.2f}"
        )
    print(
        "(audio s/s: real audio of all ranks per second; (log): the Trainer's metrics.jsonl; in "
        "step: forward, backward with its all-reduces, optimizer; between: data loading, "
        "bookkeeping; others: cores other processes used meanwhile)"
    )
    if max(a["other_processes_cores"], b["other_processes_cores"]) > 0.1:
        print(
            "WARNING: other processes ran during the runs; B needs both cores, so the efficiency "
            "below is biased low"
        )
    overhead = b["in_train_step_per_step"] - a["in_train_step_per_step"]
    split = b["split"]
    rest = (
        overhead
        - split["waiting_for_slower_rank_per_step"]
        - split["allreduce_after_backward_per_step"]
    )
    b["split"]["rest_per_step"] = rest
    print(
        f"efficiency B / (2 x A): {efficiency:.3f} (from the Trainer's log: "
        f"{'-' if logged is None else f'{logged:.3f}'})"
    )
    print(
        f"B's train step - A's: {overhead:+.3f} s = waiting for the slower rank "
        f"{split['waiting_for_slower_rank_per_step']:.3f} s + all-reduce after backward "
        f"{split['allreduce_after_backward_per_step']:.3f} s + the rest {rest:+.3f} s (two "
        "processes sharing caches, memory bandwidth and two cores with gloo's threads)"
    )

    print(
        f"\n{'preset':17s}{'parameters':>12s}{'grad MB/step':>13s}{'measured MB':>13s}"
        f"{'buckets':>9s}{'buffers kB':>11s}"
    )
    measured = {args.preset: tiny_comm, **({"base": base_comm} if base_comm else {})}
    for name, t in theory.items():
        m = measured.get(name)
        shown = f"{m['bytes_per_step'] / 1e6:13.3f}" if m else f"{'-':>13s}"
        buckets = f"{m['buckets_per_step']:9d}" if m else f"{'-':>9s}"
        print(
            f"{name:17s}{t['parameters']:12,d}{t['grad_bytes'] / 1e6:13.3f}{shown}{buckets}"
            f"{t['buffer_bytes'] / 1e3:11.1f}"
        )
    tiny_ok = tiny_comm["bytes_per_step"] == tiny_theory and len(tiny_comm["distinct_values"]) == 1
    print(
        f"{args.preset}: measured {tiny_comm['bytes_per_step']:,} B/step "
        f"{'==' if tiny_ok else '!='} theory {tiny_theory:,} B (4 bytes x parameters)"
    )
    base_theory = theory["base"]["grad_bytes"]
    if base_comm:
        base_bytes, base_source = base_comm["bytes_per_step"], "measured (2-process gloo)"
        agree = "==" if base_bytes == base_theory else "!="
        print(
            f"base: measured {base_bytes:,} B/step {agree} theory {base_theory:,} B "
            f"({base_comm['steps']} steps, {base_comm['launch_wall_seconds']:.0f} s)"
        )
    else:
        base_bytes, base_source = base_theory, "theory (4 bytes x parameters), not measured"
        print(f"base: {base_theory:,} B/step from theory, not measured")

    # Part 2.
    recipe = RECIPES[RECIPE]
    base_flops = theory["base"]["forward_flops_per_audio_second"]
    peak = PEAK_FLOPS[args.gpu]["bf16"]
    if args.gpu_audio_sec_per_sec:
        per_gpu, estimated = args.gpu_audio_sec_per_sec, False
        source = {"from": "--gpu-audio-sec-per-sec"}
    elif args.gpu_throughput_json:
        per_gpu, record = gpu_throughput_from_json(args.gpu_throughput_json)
        estimated, source = False, {"from": args.gpu_throughput_json, "record": record}
    else:
        per_gpu, estimated = peak * args.assumed_mfu / (3 * base_flops), True
        source = {
            "from": f"PEAK_FLOPS[{args.gpu!r}]['bf16'] x assumed MFU / (3 x forward FLOPs)",
            "peak_flops": peak,
            "assumed_mfu": args.assumed_mfu,
            "forward_flops_per_audio_second": base_flops,
        }
    measured_on = source.get("record", {})
    device = measured_on.get("device")
    label = ESTIMATED if estimated else "measured" + (f" on {device}" if device else "")
    if measured_on.get("batch_seconds"):
        # train_throughput.py's batches are smaller than the recipe's: a lower bound, likely.
        label += f" at {measured_on['batch_seconds']:g} padded s per batch"
    implied_mfu = 3 * base_flops * per_gpu / peak
    rows = predict(args, base_bytes, per_gpu)
    assumptions = [
        f"recipe {RECIPE}: model base ({theory['base']['parameters']:,} parameters), "
        f"{recipe['max_epochs']} epochs, {recipe['batch_seconds']:g} padded audio s per GPU per "
        "step; dev evaluation, checkpoints, start-up and early stopping left out",
        f"LibriSpeech {LIBRISPEECH_HOURS:g} h per epoch; speed perturbation ignored (< 1%)",
        f"padding {args.padding:.0%} of each batch (assumed), so "
        f"{recipe['batch_seconds'] * (1 - args.padding):g} s of real audio per GPU per step",
        f"one {device or args.gpu}, base, bf16: {per_gpu:,.0f} audio s/s ({label}; implied MFU "
        f"{implied_mfu:.1%} of {peak / 1e12:g} TFLOP/s)",
        f"gradients per step: {base_bytes / 1e6:.1f} MB fp32, {base_source}",
        f"ring all-reduce: 2 (N-1)/N x gradient bytes / bus bandwidth; NVLink {args.nvlink_gbps:g} "
        f"GB/s within a node of {args.gpus_per_node}, InfiniBand {args.ib_gbps:g} GB/s per GPU "
        "across nodes; latency and small collectives left out; data loading keeps up",
        "no overlap = compute + communication; full overlap = max of the two (optimistic: the "
        "last bucket's all-reduce cannot overlap backward)",
    ]
    title = f"Part 2, on paper: time to train LibriSpeech {LIBRISPEECH_HOURS:g} h"
    print(f"\n{title}; single-GPU throughput {label}")
    for line in assumptions:
        print(f"  - {line}")
    print(
        f"{'GPUs':>5s}{'link':>11s}{'batch h':>8s}{'steps':>8s}{'compute s':>10s}{'comm s':>9s}"
        f"{'hours':>17s}{'days':>17s}{'speed-up':>13s}{'efficiency':>15s}"
    )
    print(f"{'':51s}{'(each: no overlap / full overlap)':>62s}")
    for r in rows:
        print(
            f"{r['gpus']:5d}{r['link']:>11s}{r['global_batch_audio_hours']:8.2f}{r['steps']:8,d}"
            f"{r['compute_s_per_step']:10.3f}{r['comm_s_per_step']:9.4f}"
            f"{r['hours_no_overlap']:9.3g} /{r['hours_full_overlap']:<6.3g}"
            f"{r['hours_no_overlap'] / 24:9.3g} /{r['hours_full_overlap'] / 24:<6.3g}"
            f"{r['speedup_no_overlap']:6.1f} /{r['speedup_full_overlap']:<5.1f}"
            f"{r['efficiency_no_overlap']:7.1%} /{r['efficiency_full_overlap']:<6.1%}"
        )
    print(
        "  (batch h: hours of real audio per global step; compute s, comm s: per step; "
        "speed-up and efficiency vs 1 GPU)"
    )
    for r in rows:
        if r["recipe_warmup_share"] >= 0.5:
            print(
                f"  note: {r['gpus']} GPUs take {r['steps']:,} steps in all, "
                f"{r['recipe_warmup_share']:.0%} of them the recipe's warm-up "
                f"({recipe['warmup_steps']:,} steps): its schedule, and probably its learning "
                f"rate, need rescaling for {r['global_batch_audio_hours']:.1f} h of audio per step"
            )
    if estimated:
        print(f"  (hours, days, compute s: {ESTIMATED}; they scale with 1 / throughput)")
    wall = time.perf_counter() - started
    print(f"\n{wall:.0f} s in all")

    if args.json:
        summary = [
            {
                "measure": f"2-process CPU DDP weak-scaling efficiency ({args.preset}, gloo, "
                "1 thread per process, measured)",
                "value": efficiency,
                "unit": "fraction",
                "target": None,
                "met": None,
            },
            {
                "measure": f"DDP gradient all-reduce bytes per step ({args.preset}, measured)",
                "value": float(tiny_comm["bytes_per_step"]),
                "unit": "bytes",
                "target": f"= 4 x parameters = {tiny_theory} bytes",
                "met": tiny_ok,
            },
            {
                "measure": "DDP gradient all-reduce bytes per step (base, "
                + ("measured)" if base_comm else "theory, not measured)"),
                "value": float(base_bytes),
                "unit": "bytes",
                "target": f"= 4 x parameters = {base_theory} bytes" if base_comm else None,
                "met": (base_bytes == base_theory) if base_comm else None,
            },
            {
                "measure": f"single-{args.gpu} bf16 training throughput, base ({label})",
                "value": per_gpu,
                "unit": "audio s/s",
                "target": None,
                "met": None,
            },
        ]
        for r in rows:
            for bound in ("no_overlap", "full_overlap")[: 1 if r["gpus"] == 1 else 2]:
                summary.append(
                    {
                        "measure": f"predicted hours to train LibriSpeech 960 h (base, "
                        f"{recipe['max_epochs']} epochs) on {r['gpus']} {args.gpu}, "
                        + ("no communication" if r["gpus"] == 1 else bound.replace("_", " "))
                        + (f" ({ESTIMATED})" if estimated else " (from measured throughput)"),
                        "value": r[f"hours_{bound}"],
                        "unit": "hours",
                        "target": None,
                        "met": None,
                    }
                )
        record = {
            "benchmark": "ddp_scaling",
            "date": date.today().isoformat(),
            "torch": torch.__version__,
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "other_processes_cores_before": busy,
            "wall_seconds": wall,
            "summary": [{"benchmark": "scaling", **row} for row in summary],
            "measured": {
                "manifest": str(train),
                "preset": args.preset,
                "steps": args.steps,
                "warmup_steps": args.warmup,
                "batch_seconds_per_process": args.batch_seconds,
                "runs": runs,
                "efficiency": efficiency,
                "efficiency_from_trainer_log": logged,
                "comm": {args.preset: tiny_comm, "base": base_comm},
            },
            "comm_theory": theory,
            "prediction": {
                "single_gpu_throughput": {
                    "audio_sec_per_sec": per_gpu,
                    "estimated": estimated,
                    "label": label,
                    "implied_mfu": implied_mfu,
                    **source,
                },
                "inputs": {
                    "recipe": RECIPE,
                    "model": "base",
                    "epochs": recipe["max_epochs"],
                    "batch_seconds_per_gpu": recipe["batch_seconds"],
                    "hours_of_audio": LIBRISPEECH_HOURS,
                    "padding": args.padding,
                    "gpu": args.gpu,
                    "grad_bytes_per_step": base_bytes,
                    "grad_bytes_source": base_source,
                    "nvlink_bus_gbps": args.nvlink_gbps,
                    "ib_bus_gbps_per_gpu": args.ib_gbps,
                    "gpus_per_node": args.gpus_per_node,
                },
                "assumptions": assumptions,
                "rows": rows,
            },
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
