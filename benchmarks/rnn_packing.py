"""The RNN layers: the packed reference against the unpacked fast path, forward + backward.

    python benchmarks/rnn_packing.py [--batch 12] [--frames 250] [--repeats 5] [--json out.json]
        [--device cpu|cuda] [--precision fp32|bf16]

``dslearn.model.run_rnn_packed`` hides padding from both directions with PyTorch's packed
sequences; ``run_rnn_unpacked`` gets the same numbers (tests/test_model.py) from plain padded
batches, reversing each utterance within its length for the backward direction. This prints the
time of one forward + backward pass through one bidirectional layer of each size that the
presets and the torchaudio comparison use, on a batch with a few frames of padding per utterance
(what length bucketing leaves), median of ``--repeats`` after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import date
from pathlib import Path

import torch

from dslearn.model import run_rnn_packed, run_rnn_unpacked

LAYERS = [  # (name, module class, input size, hidden size, extra options)
    ("GRU 160 (tiny)", torch.nn.GRU, 320, 160, {}),
    ("GRU 320 (small)", torch.nn.GRU, 640, 320, {}),
    ("GRU 1024 (base)", torch.nn.GRU, 2048, 1024, {}),
    ("ReLU RNN 1024 (DS1 1024)", torch.nn.RNN, 1024, 1024, {"nonlinearity": "relu"}),
]


def seconds(run, rnn, x, lengths, repeats: int, dtype: torch.dtype | None = None) -> float:
    cuda = x.is_cuda

    def once() -> float:
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.autocast(x.device.type, dtype=dtype, enabled=dtype is not None):
            out = run(rnn, x, lengths)
        out.float().sum().backward()
        if cuda:  # kernels run asynchronously: wait for them before reading the clock
            torch.cuda.synchronize()
        return time.perf_counter() - start

    once()
    return statistics.median(once() for _ in range(repeats))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=12)
    p.add_argument("--frames", type=int, default=250, help="longest utterance, output frames")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"), help="autocast dtype")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    dtype = torch.bfloat16 if args.precision == "bf16" else None
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    # Two frames shorter per utterance: bucketed batches hold similar, not equal, lengths.
    spread = max(2, args.frames // 5)  # lengths within the longest 20%
    lengths = [args.frames - (2 * i) % spread for i in range(args.batch)]
    lengths = torch.tensor(lengths, device=args.device)
    print(
        f"batch {args.batch}, {args.frames}-{int(lengths.min())} frames, {args.device} "
        f"{args.precision}, {torch.get_num_threads()} threads; median of {args.repeats}, "
        "forward + backward"
    )
    print(f"{'layer (bidirectional)':<26} {'packed s':>9} {'unpacked s':>11} {'speed-up':>9}")
    rows = []
    for name, cls, n_in, hidden, options in LAYERS:
        rnn = cls(n_in, hidden, batch_first=True, bidirectional=True, **options).to(args.device)
        x = torch.randn(args.batch, args.frames, n_in, device=args.device, requires_grad=True)
        packed = seconds(run_rnn_packed, rnn, x, lengths, args.repeats, dtype)
        unpacked = seconds(run_rnn_unpacked, rnn, x, lengths, args.repeats, dtype)
        rows.append({"layer": name, "packed_s": packed, "unpacked_s": unpacked})
        print(f"{name:<26} {packed:>9.3f} {unpacked:>11.3f} {packed / unpacked:>8.2f}x")
    if args.json:
        summary = [
            {
                "benchmark": "rnn",
                "measure": f"{r['layer']}: unpacked (fast path) vs packed reference, {args.device}",
                "value": r["packed_s"] / r["unpacked_s"],
                "unit": "x",
                "target": None,
                "met": None,
            }
            for r in rows
        ]
        record = {
            "date": date.today().isoformat(),
            "machine": platform.machine(),
            "device": args.device,
            "precision": args.precision,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "args": {k: str(v) for k, v in vars(args).items()},
            "rows": rows,
            "summary": summary,
        }
        args.json.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
