"""How OpenMP's wait policy changes torch's speed on a CPU that other processes share.

Times one training step (forward and backward) of the ``tiny`` model on 8 utterances of 3 s, with
1 and 2 threads, under the default spinning wait policy and under ``OMP_WAIT_POLICY=PASSIVE``.
Each setting runs in a fresh process, since the policy is read when torch starts. Run it once on
an idle machine and once while another process keeps the cores busy (``--busy``).

    python benchmarks/omp_wait.py [--busy] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys

STEP = """
import time, torch
from dslearn.model import build_model, preset
m = build_model(preset("tiny"))
x, l = torch.randn(8, 300, 80), torch.full((8,), 300)
for _ in range(2):
    m(x, l)[0].sum().backward()
t = time.perf_counter()
for _ in range(5):
    m(x, l)[0].sum().backward()
print((time.perf_counter() - t) / 5)
"""


def _spin(stop) -> None:  # a competing process: pure Python work on one core
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def step_seconds(threads: int, policy: str | None) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    # -c with torch imported before dslearn, so dslearn's own default does not apply
    out = subprocess.run([sys.executable, "-c", STEP], env=env, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    stop = multiprocessing.Event()
    spinner = multiprocessing.Process(target=_spin, args=(stop,)) if args.busy else None
    if spinner:
        spinner.start()
    rows = []
    try:
        for threads in (1, 2):
            for policy in (None, "PASSIVE"):
                seconds = step_seconds(threads, policy)
                rows.append(
                    {"threads": threads, "policy": policy or "default", "s_per_step": seconds}
                )
                print(f"{threads} thread(s), {policy or 'default (spin)':<16} {seconds:.3f} s/step")
    finally:
        if spinner:
            stop.set()
            spinner.join()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"busy": args.busy, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
