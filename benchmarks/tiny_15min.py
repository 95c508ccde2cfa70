"""`tiny` trained for 15 minutes on this CPU; issue 3's target is greedy CER <= 0.10 on test.

    python benchmarks/tiny_15min.py [--corpus DIR] [--minutes 15] [--out DIR] [--json F]
        [-- MORE DSLEARN TRAIN OPTIONS]

The corpus is the one every row of docs/benchmarks.md ("Training `tiny` for 15 minutes") used:
``dslearn synth --hours 2 --seed 0``, made in ``--corpus`` if that folder has no ``train.jsonl``
(about 25 s on two cores). The model trains through ``dslearn train --preset tiny
--max-minutes 15`` itself (the ``tiny`` recipe: 100 s batches, LR 3e-3, global CMVN, SpecAugment,
speed perturbation, bf16 where the CPU has it), with any options after ``--`` added to that
command (``-- --lr 2e-3 --set model.rnn_hidden=320``: the docs' rows that change one thing);
then the best checkpoint (lowest dev WER) is decoded greedily on dev, test and
test-unseen-voices. Prints one row in the format of the docs' table and whether the target is met.

Run it with nothing else busy on the machine: the budget is wall-clock minutes, so a shared CPU
trains fewer steps (this 2-core machine's speed drifts 10-20% from one quarter hour to the next).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from dslearn.cli import build_parser, train_config
from dslearn.inference import evaluate, load_model
from dslearn.synth import generate_corpus
from dslearn.train import Trainer, read_metrics

TARGET_CER = 0.10
SPLITS = ("dev", "test", "test-unseen-voices")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--corpus",
        type=Path,
        default=Path("runs/synth2h"),
        help="2-hour corpus folder, made here if it has no train.jsonl",
    )
    ap.add_argument("--minutes", type=float, default=15.0, help="training budget, wall clock")
    ap.add_argument("--out", type=Path, default=Path("runs/tiny15"), help="run folder")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("extra", nargs="*", help="after --: more `dslearn train` options")
    args = ap.parse_args(argv)

    if not (args.corpus / "train.jsonl").exists():
        t0 = time.perf_counter()
        generate_corpus(args.corpus, hours=2.0, seed=0)
        print(f"corpus: 2 h synthesized in {time.perf_counter() - t0:.0f} s -> {args.corpus}")

    command = [
        "train",
        "--preset",
        "tiny",
        "--train",
        str(args.corpus / "train.jsonl"),
        "--valid",
        str(args.corpus / "dev.jsonl"),
        "--out",
        str(args.out),
        "--max-minutes",
        str(args.minutes),
        "--no-progress",
        *args.extra,
    ]
    cfg = train_config(build_parser().parse_args(command))
    print("dslearn " + " ".join(command))
    print(
        f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}; training {args.minutes:g} min -> {args.out}",
        flush=True,
    )
    trainer = Trainer(cfg)
    trainer.fit()

    speed = statistics.mean(r["audio_sec_per_sec"] for r in read_metrics(args.out, "train"))
    asr = load_model(args.out)
    scores = {
        split: evaluate(asr, args.corpus / f"{split}.jsonl", progress=False)[0] for split in SPLITS
    }

    def pair(split: str) -> str:
        return f"{scores[split]['cer']:.3f} / {scores[split]['wer']:.3f}"

    print("| steps | audio-s/s | dev CER | test CER / WER | unseen voices CER / WER |")
    print("|---|---|---|---|---|")
    print(
        f"| {trainer.step:,} | {speed:.0f} | {scores['dev']['cer']:.3f} | "
        f"{pair('test')} | {pair('test-unseen-voices')} |"
    )
    met = scores["test"]["cer"] <= TARGET_CER
    print(
        f"target greedy test CER <= {TARGET_CER:.2f}: {'met' if met else 'missed'} "
        f"({scores['test']['cer']:.3f})"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "steps": trainer.step,
                    "audio_sec_per_sec": speed,
                    "minutes": args.minutes,
                    "config": cfg.to_dict(),
                    **scores,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
