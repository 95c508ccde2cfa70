"""How fast does the embedded corpus synthesize? Prints hours of audio, wall time and x real time.

    python benchmarks/synth_speed.py                 # 0.1 h on all cores
    python benchmarks/synth_speed.py --hours 1 --workers 2 --json synth_speed.json

The corpus goes to a temporary folder that is deleted afterwards. The figure covers everything
``dslearn synth`` does: planning the text, espeak-ng, resampling to 16 kHz, noise and reverb,
writing WAV files and manifests. Target on a 2-core machine: at least 100x real time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

from dslearn import synth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=0.1, help="audio to generate (hours)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="also write the result as JSON here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dslearn-synth-bench-") as out:
        started = time.perf_counter()
        summary = synth.generate_corpus(
            out, hours=args.hours, seed=args.seed, workers=args.workers, progress=False
        )
        wall = time.perf_counter() - started
    audio_hours = summary["hours"]
    result = {
        "audio_hours": round(audio_hours, 4),
        "utterances": summary["utterances"],
        "wall_seconds": round(wall, 2),
        "x_real_time": round(audio_hours * 3600 / wall, 1),
        "utterances_per_second": round(summary["utterances"] / wall, 1),
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }
    print(
        f"{result['audio_hours']:.3f} h of audio ({result['utterances']} utterances) in "
        f"{result['wall_seconds']:.1f} s with {args.workers} workers: "
        f"{result['x_real_time']:.0f}x real time, {result['utterances_per_second']:.1f} utt/s"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
