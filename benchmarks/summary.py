"""One table from the JSON files that the benchmark scripts wrote (``make bench`` calls it last).

    python benchmarks/summary.py runs/bench [--markdown]

Newer scripts put their headline figures in a top-level ``"summary"`` list of rows
``{benchmark, measure, value, unit, target, met}``; for the scripts written before that
convention (synthesis, features, decoders, alignment) the figures are read from their own JSON
layout below. A missing file is listed as not run, never silently skipped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def row(benchmark, measure, value, unit, target=None, met=None) -> dict:
    return dict(
        benchmark=benchmark, measure=measure, value=value, unit=unit, target=target, met=met
    )


def from_synth(d: dict) -> list[dict]:
    x = d["x_real_time"]
    return [row("synthesis", f"corpus generation, {d['workers']} workers", x, "x real time",
                ">= 100x", x >= 100)]  # fmt: skip


def from_features(d: dict) -> list[dict]:
    out = []
    for r in d["rows"]:
        if r["impl"].startswith("librosa, per file"):
            continue
        out.append(row("features", f"{r['features']} {r['impl']}", r["ours_over_librosa"],
                       "x librosa per file", None, None))  # fmt: skip
    return out


def from_decoders(d: dict) -> list[dict]:
    rows = {r["decoder"]: r for r in d["rows"]}
    peer = next(r for name, r in rows.items() if name.startswith("pyctcdecode"))
    greedy = next(r for name, r in rows.items() if name.startswith("greedy"))
    fast = next(r for name, r in rows.items() if name.startswith("LM beam (ours, fast)"))
    speed = fast["utt_per_sec"] / peer["utt_per_sec"]
    return [
        row("decoders", "fast LM beam search / pyctcdecode speed", speed, "x",
            ">= 5x at equal or better WER", speed >= 5 and fast["wer"] <= peer["wer"]),
        row("decoders", f"WER greedy {greedy['wer']:.3f} -> fast LM beam", fast["wer"], "WER",
            ">= 30% relative cut", fast["wer"] <= 0.7 * greedy["wer"]),
    ]  # fmt: skip


def from_alignment(d: dict) -> list[dict]:
    r = d["results"]["space"]
    ms = round(1000 * d["tolerance"])
    return [row("alignment", f"words with both boundaries within {ms} ms of espeak-ng", r["both"],
                "fraction", ">= 90%", r["both"] >= 0.9)]  # fmt: skip


READERS = {
    "synth_speed.json": from_synth,
    "features.json": from_features,
    "decoders.json": from_decoders,
    "alignment.json": from_alignment,
}
ORDER = [
    "synth_speed.json",
    "features.json",
    "decoders.json",
    "alignment.json",
    "train_throughput.json",
    "rnn_packing.json",
    "inference_rtf.json",
    "ddp_scaling.json",
]


def collect(folder: Path) -> list[dict]:
    rows = []
    for name in ORDER:
        path = folder / name
        if not path.exists():
            rows.append(row(name.removesuffix(".json"), "not run", None, ""))
            continue
        data = json.loads(path.read_text())
        rows += data["summary"] if "summary" in data else READERS[name](data)
    return rows


def fmt_value(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "fraction" or unit.startswith("fraction"):
        return f"{value:.1%}" + unit.removeprefix("fraction")
    return f"{value:,.3g} {unit}" if abs(value) < 100 else f"{value:,.0f} {unit}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path, help="where the benchmarks wrote their JSON")
    p.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = p.parse_args()
    rows = collect(args.folder)
    verdict = {True: "met", False: "MISSED", None: ""}
    cells = [
        (r["benchmark"], r["measure"], fmt_value(r["value"], r["unit"]), r["target"] or "",
         verdict[r["met"]])
        for r in rows
    ]  # fmt: skip
    head = ("benchmark", "measure", "value", "target", "")
    if args.markdown:
        print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
        for c in cells:
            print("| " + " | ".join(c) + " |")
        return
    widths = [max(len(c[i]) for c in [head, *cells]) for i in range(len(head))]
    for c in [head, *cells]:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip())


if __name__ == "__main__":
    main()
