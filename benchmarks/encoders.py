"""DeepSpeech 2 beside Conformer and Transformer encoders of its size: same data, trainer, budget.

    python benchmarks/encoders.py [--corpus DIR] [--minutes 10] [--presets tiny conformer-tiny
        transformer-tiny] [--out DIR] [--json F] [-- MORE DSLEARN TRAIN OPTIONS]

Each preset is trained by ``dslearn train --preset P --max-minutes M`` itself, one after the
other, on one corpus (``dslearn synth --hours 2 --seed 0``, the corpus of docs/benchmarks.md's
15-minute ``tiny`` rows, made in ``--corpus`` if that folder has no ``train.jsonl``). The
presets' recipes are the same (``dslearn.train.RECIPES``: 100 s batches, LR 3e-3, global CMVN,
SpecAugment, speed perturbation), the parameter counts within 5 %, so the encoder is what
differs: two bidirectional GRU layers, four Conformer blocks, or five Transformer blocks.

For each, after training (``--reuse``: runs already finished in ``--out`` are evaluated, not
trained again): the best checkpoint (lowest dev WER) decoded greedily on dev, test and
test-unseen-voices (CER and WER, corpus level); training speed (audio seconds per wall second,
mean over the run's logged steps) and, on a GPU, MFU (model FLOPs from
``dslearn.train.model_flops_per_second`` over the GPU's peak for the precision it trains in); and
inference RTF (processing seconds per audio second: ``Recognizer.transcribe`` of the first
``--rtf-files`` test files in batches of 16, audio already in memory, one warm-up pass, best of 3).

The budget is wall-clock minutes: run it with nothing else busy on the machine. Prints one
markdown table in the format of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import torch

from dslearn import audio as audio_io
from dslearn.cli import build_parser, train_config
from dslearn.data import read_manifest
from dslearn.inference import evaluate, load_model
from dslearn.model import count_parameters
from dslearn.synth import generate_corpus
from dslearn.train import Trainer, read_metrics

SPLITS = ("dev", "test", "test-unseen-voices")


def train_one(preset: str, args: argparse.Namespace) -> dict:
    """Train ``preset`` for the budget; return its figures."""
    out = args.out / preset
    command = ["train", "--preset", preset, "--train", str(args.corpus / "train.jsonl"),
               "--valid", str(args.corpus / "dev.jsonl"), "--out", str(out),
               "--max-minutes", str(args.minutes), "--no-progress", *args.extra]  # fmt: skip
    cfg = train_config(build_parser().parse_args(command))
    if args.reuse and (out / "last.safetensors").exists():
        print(f"reusing the finished run in {out} (--reuse)", flush=True)
    else:
        print("dslearn " + " ".join(command), flush=True)
        Trainer(cfg).fit()
    logged = read_metrics(out, "train")
    speed = statistics.mean(r["audio_sec_per_sec"] for r in logged)
    mfus = [r["mfu"] for r in logged if r.get("mfu") is not None]
    asr = load_model(out, device="cuda" if torch.cuda.is_available() else "cpu")
    scores = {
        split: evaluate(asr, args.corpus / f"{split}.jsonl", progress=False)[0] for split in SPLITS
    }
    return {
        "preset": preset,
        "arch": asr.model_config.arch,
        "parameters": count_parameters(asr.model),
        "steps": max(r["step"] for r in read_metrics(out)),  # the last evaluation's step
        "audio_sec_per_sec": speed,
        "mfu": statistics.mean(mfus) if mfus else None,
        "rtf": real_time_factor(asr, args.corpus / "test.jsonl", args.rtf_files),
        "device": str(asr.device),
        "curve": [
            {"step": r["step"], "wer": r["wer"], "cer": r["cer"]}
            for r in read_metrics(out, "valid")
        ],
        **scores,
    }


def real_time_factor(asr, manifest: Path, n_files: int) -> float:
    """Seconds of processing per second of audio: batched transcription, best of 3."""
    utterances = read_manifest(manifest)[:n_files]
    waves = [audio_io.load(u.audio_filepath, asr.sample_rate) for u in utterances]
    seconds = sum(w.numel() for w in waves) / asr.sample_rate
    asr.transcribe(waves[:4], batch_size=16)  # warm-up: allocations, kernel choices
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        asr.transcribe(waves, batch_size=16)
        if asr.device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best / seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("runs/synth2h"),
                    help="2-hour corpus folder, made here if it has no train.jsonl")  # fmt: skip
    ap.add_argument("--minutes", type=float, default=10.0, help="training budget per model")
    ap.add_argument("--presets", nargs="+", default=["tiny", "conformer-tiny", "transformer-tiny"])
    ap.add_argument("--out", type=Path, default=Path("runs/encoders"), help="run folders")
    ap.add_argument("--rtf-files", type=int, default=40, help="test files timed for the RTF")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--reuse", action="store_true", help="evaluate finished runs in --out again")
    ap.add_argument("extra", nargs="*", help="after --: more `dslearn train` options for all")
    args = ap.parse_args(argv)

    if not (args.corpus / "train.jsonl").exists():
        t0 = time.perf_counter()
        generate_corpus(args.corpus, hours=2.0, seed=0)
        print(f"corpus: 2 h synthesized in {time.perf_counter() - t0:.0f} s -> {args.corpus}")
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else platform.processor()
    threads = torch.get_num_threads()
    print(f"{device or platform.machine()}, {threads} threads, torch {torch.__version__}, "
          f"{date.today()}; {args.minutes:g} min per model", flush=True)  # fmt: skip

    rows = [train_one(preset, args) for preset in args.presets]

    def pair(row: dict, split: str) -> str:
        return f"{row[split]['cer']:.3f} / {row[split]['wer']:.3f}"

    print("\n| preset | encoder | parameters | steps | train audio-s/s | MFU | dev CER / WER | "
          "test CER / WER | unseen voices CER / WER | RTF |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "n/a (CPU)"
        print(f"| {r['preset']} | {r['arch']} | {r['parameters']:,} | {r['steps']:,} | "
              f"{r['audio_sec_per_sec']:.0f} | {mfu} | {pair(r, 'dev')} | {pair(r, 'test')} | "
              f"{pair(r, 'test-unseen-voices')} | {r['rtf']:.4f} |")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"minutes": args.minutes, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
