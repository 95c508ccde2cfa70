"""Real-time factor of `dslearn transcribe` on CPU (1 and 2 threads) and GPU, beside PocketSphinx.

    python benchmarks/inference_rtf.py --manifest CORPUS/test.jsonl [--model M]
        [--decoder greedy|lm] [-n 20] [--repeats 3] [--warmup 5] [--threads 1 2]
        [--json out.json]

RTF = processing seconds / audio seconds (below 1: faster than real time). Every file is read
into memory first, for both systems, so disk I/O is excluded; model (and LM) loading is excluded
too. What is timed is what `dslearn transcribe` does after loading: features, acoustic model and
decoding (greedy by default, like the CLI). Each configuration gets one untimed warm-up pass over
the first ``--warmup`` files, then is timed over all files ``--repeats`` times with
``time.perf_counter``; the best (minimum) time is reported, since slower runs measure whatever
else the machine was doing. The defaults (20 files, 3 repeats, 5 warm-up files) keep a run under 3
minutes on two cores; PocketSphinx, far slower than dslearn, takes most of that time.

dslearn modes, on CPU with each ``--threads`` value and, when CUDA is available, on the GPU:

* batched: ``Recognizer.transcribe(all_waves, batch_size=16)``, the way the CLI runs a list of
  files;
* streaming: one file at a time, cut into 2 s chunks as if they arrived from a microphone, each
  chunk run separately (batch 1) with ``ChunkOptions(chunk_seconds=2.0, overlap_seconds=0.5,
  cut_at_pauses=False)`` (a microphone's chunks do not wait for pauses): a chunk starts every
  1.5 s and neighbours share 0.5 s, in which words are split between them. This is chunked
  inference of the bidirectional default model (dslearn has no stateful streaming decoder): up
  to a third more audio goes through the model than in batched mode, each chunk sees no context
  beyond its edges, and the latency of waiting for a chunk to fill is not part of the RTF;
* file by file: one ``transcribe(wave, batch_size=1)`` call per file with the default chunking.

PocketSphinx (``pip install pocketsphinx``, its bundled US English acoustic model, 3-gram LM and
CMUdict) decodes the same in-memory audio as 16 kHz 16-bit PCM, one utterance at a time:

* file by file: ``start_utt``, ``process_raw(all_of_it, full_utt=True)``, ``end_utt``, ``hyp``;
* streaming: consecutive 2 s blocks (no overlap: its search keeps its state from block to
  block) fed with ``full_utt=False``, its native streaming (live cepstral mean normalization,
  decoding as blocks arrive).

PocketSphinx is single-threaded, so its rows say 1 thread whatever torch uses. WER (corpus
level, ``dslearn.metrics``) is shown beside speed; PocketSphinx's output is lowercased and its
punctuation stripped with ``dslearn.text.normalize``, like the references. Target from the issue:
the default model's CPU RTF at most a third of PocketSphinx's (speed ratio >= 3).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from datetime import date

import torch
import torchaudio

from dslearn import audio as audio_io
from dslearn.data import read_manifest
from dslearn.inference import ChunkOptions, Recognizer, load_model
from dslearn.metrics import corpus_errors
from dslearn.text import normalize

BATCH_SIZE = 16  # `dslearn transcribe`'s default
STREAM = ChunkOptions(chunk_seconds=2.0, overlap_seconds=0.5, cut_at_pauses=False)
POCKETSPHINX_RATE = 16000  # the rate of its bundled acoustic model
TARGET_RATIO = 3.0


Run = Callable[[Sequence[int]], list[str]]  # transcribes the files with these indices


def best_time(
    run: Run, files: Sequence[int], warmup: Sequence[int], repeats: int, sync: Callable[[], None]
) -> tuple[float, list[float], list[str]]:
    """(best seconds, every timing, texts) of ``run(files)`` after an untimed ``run(warmup)``."""
    run(warmup)  # lazy initialisation, allocator and cache warm-up are not inference
    sync()
    timings, texts = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        texts = run(files)
        sync()  # CUDA kernels run asynchronously: stop the clock when they are done
        timings.append(time.perf_counter() - started)
    return min(timings), timings, texts


def cpu_model() -> str:
    """The CPU's marketing name (platform.processor() is empty on most Linux systems)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def dslearn_modes(asr: Recognizer, decoder, waves: list[torch.Tensor]) -> dict[str, Run]:
    def batched(files: Sequence[int]) -> list[str]:
        batch = [waves[i] for i in files]
        return [h.text for h in asr.transcribe(batch, decoder=decoder, batch_size=BATCH_SIZE)]

    def streaming(files: Sequence[int]) -> list[str]:
        return [
            asr.transcribe(waves[i], decoder=decoder, batch_size=1, chunks=STREAM).text
            for i in files
        ]

    def file_by_file(files: Sequence[int]) -> list[str]:
        return [asr.transcribe(waves[i], decoder=decoder, batch_size=1).text for i in files]

    return {
        f"batched x{BATCH_SIZE}": batched,
        "streaming 2 s": streaming,
        "file by file": file_by_file,
    }


def pocketsphinx_modes(waves: list[torch.Tensor], sample_rate: int) -> dict[str, Run] | None:
    """PocketSphinx's two modes over ``waves``, or None (with a message) when it is missing."""
    try:
        from pocketsphinx import Decoder
    except ImportError:
        print("pocketsphinx is not installed (pip install pocketsphinx): measuring dslearn only")
        return None
    # Loading the model and converting float audio to its input format happen once, untimed,
    # as reading files does for dslearn.
    ps = Decoder(loglevel="FATAL")
    if sample_rate != POCKETSPHINX_RATE:
        waves = [torchaudio.functional.resample(w, sample_rate, POCKETSPHINX_RATE) for w in waves]
    pcm = [(w.clamp(-1, 1) * 32767).round().to(torch.int16).numpy().tobytes() for w in waves]
    block = int(STREAM.chunk_seconds * POCKETSPHINX_RATE) * 2  # bytes: 16-bit samples
    blocks = [[b[i : i + block] for i in range(0, len(b), block)] for b in pcm]

    def text() -> str:
        hyp = ps.hyp()
        if hyp is None:  # nothing recognised at all
            return ""
        # Fillers (<s>, <sil>, [NOISE]) are not words; CMUdict spellings may carry punctuation.
        words = [w for w in hyp.hypstr.split() if not w.startswith(("<", "["))]
        return normalize(" ".join(words))

    def file_by_file(files: Sequence[int]) -> list[str]:
        texts = []
        for i in files:
            ps.start_utt()
            ps.process_raw(pcm[i], full_utt=True)
            ps.end_utt()
            texts.append(text())
        return texts

    def streaming(files: Sequence[int]) -> list[str]:
        texts = []
        for i in files:
            ps.start_utt()
            for piece in blocks[i]:
                ps.process_raw(piece, full_utt=False)
            ps.end_utt()
            texts.append(text())
        return texts

    return {"file by file": file_by_file, "streaming 2 s": streaming}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", required=True, help="e.g. CORPUS/test.jsonl")
    parser.add_argument("--model", help="checkpoint or run directory (default: shipped model)")
    parser.add_argument("--decoder", choices=("greedy", "lm"), default="greedy")
    parser.add_argument("-n", type=int, default=20, help="first N utterances (0: all)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument("--warmup", type=int, default=5, help="files in the warm-up pass (0: all)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="CPU torch threads")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args()

    # Other work on the machine inflates timings, two-thread ones most: keep a trace of it.
    load_before = os.getloadavg()
    asr = load_model(args.model)
    utterances = read_manifest(args.manifest)[: args.n or None]
    refs = [normalize(u.text) for u in utterances]
    waves = [audio_io.load(u.audio_filepath, asr.sample_rate) for u in utterances]
    audio_seconds = sum(w.numel() for w in waves) / asr.sample_rate
    files = range(len(waves))
    warmup = files[: args.warmup or None]
    print(f"model {asr.source}, decoder {args.decoder}")
    print(
        f"{len(waves)} utterances of {args.manifest}: {audio_seconds:.1f} s of audio in memory; "
        f"best of {args.repeats} after a warm-up pass over {len(warmup)} files"
    )

    rows: list[dict] = []

    def measure(
        system: str,
        device: str,
        threads: int | None,
        mode: str,
        run: Run,
        sync: Callable[[], None] = lambda: None,
    ) -> None:
        seconds, timings, texts = best_time(run, files, warmup, args.repeats, sync)
        errors = corpus_errors(refs, texts)
        row = {
            "system": system,
            "device": device,
            "threads": threads,
            "mode": mode,
            "rtf": seconds / audio_seconds,
            "x_realtime": audio_seconds / seconds,
            "wer": errors["wer"],
            "cer": errors["cer"],
            "seconds": seconds,
            "timings": timings,
        }
        rows.append(row)
        print(f"  {system} {device} {threads or '-'} {mode}: RTF {row['rtf']:.4f}", flush=True)

    default_threads = torch.get_num_threads()
    decoder = asr.decoder(args.decoder)
    for threads in args.threads:
        torch.set_num_threads(threads)
        for mode, run in dslearn_modes(asr, decoder, waves).items():
            measure("dslearn", "cpu", threads, mode, run)
    torch.set_num_threads(default_threads)
    gpu_name = None
    if torch.cuda.is_available():
        gpu_name = torch.cuda.get_device_name()
        gpu = load_model(args.model, device="cuda")
        for mode, run in dslearn_modes(gpu, gpu.decoder(args.decoder), waves).items():
            measure("dslearn", "cuda", None, mode, run, sync=torch.cuda.synchronize)
    ps_modes = pocketsphinx_modes(waves, asr.sample_rate)
    for mode, run in (ps_modes or {}).items():
        measure("pocketsphinx", "cpu", 1, mode, run)

    head = (
        f"{'system':<13}{'device':<7}{'threads':>7}  {'mode':<14}{'RTF':>8}{'x real':>9}{'WER':>8}"
    )
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        print(
            f"{r['system']:<13}{r['device']:<7}{r['threads'] or '-':>7}  {r['mode']:<14}"
            f"{r['rtf']:>8.4f}{r['x_realtime']:>8.0f}x{r['wer']:>8.3f}"
        )

    def find(system: str, device: str, threads: int | None, mode: str) -> dict | None:
        keys = (system, device, threads, mode)
        return next(
            (r for r in rows if (r["system"], r["device"], r["threads"], r["mode"]) == keys), None
        )

    # The issue's target is about one CPU thread, since PocketSphinx only ever uses one.
    base = 1 if 1 in args.threads else args.threads[0]
    summary = [
        {
            "benchmark": "inference",
            "measure": f"dslearn CPU {base}-thread {mode} RTF",
            "value": r["rtf"],
            "unit": "RTF",
            "target": None,
            "met": None,
        }
        for mode in (f"batched x{BATCH_SIZE}", "streaming 2 s")
        if (r := find("dslearn", "cpu", base, mode))
    ]
    if gpu_name:
        r = find("dslearn", "cuda", None, f"batched x{BATCH_SIZE}")
        summary.append(
            {
                "benchmark": "inference",
                "measure": f"dslearn GPU batched RTF ({gpu_name})",
                "value": r["rtf"],
                "unit": "RTF",
                "target": None,
                "met": None,
            }
        )
    ratios = []
    if ps_modes:
        print()
        pairs = ((f"batched x{BATCH_SIZE}", "file by file"), ("streaming 2 s", "streaming 2 s"))
        for ours, theirs in pairs:
            r, p = find("dslearn", "cpu", base, ours), find("pocketsphinx", "cpu", 1, theirs)
            ratio = p["rtf"] / r["rtf"]
            met = ratio >= TARGET_RATIO
            ratios.append({"dslearn": ours, "pocketsphinx": theirs, "ratio": ratio, "met": met})
            print(
                f"pocketsphinx {theirs} RTF / dslearn CPU {base}-thread {ours} RTF = "
                f"{ratio:.1f}: target >= {TARGET_RATIO:.0f} {'met' if met else 'missed'}"
            )
            summary += [
                {
                    "benchmark": "inference",
                    "measure": f"pocketsphinx {theirs} RTF",
                    "value": p["rtf"],
                    "unit": "RTF",
                    "target": None,
                    "met": None,
                },
                {
                    "benchmark": "inference",
                    "measure": f"speed vs pocketsphinx, {ours} (pocketsphinx RTF / dslearn RTF)",
                    "value": ratio,
                    "unit": "x",
                    "target": f"≥ {TARGET_RATIO:.0f}× pocketsphinx",
                    "met": met,
                },
            ]
    for system, mode in (("dslearn", f"batched x{BATCH_SIZE}"), ("pocketsphinx", "file by file")):
        if r := find(system, "cpu", base if system == "dslearn" else 1, mode):
            summary.append(
                {
                    "benchmark": "inference",
                    "measure": f"{system} WER ({mode})",
                    "value": r["wer"],
                    "unit": "WER",
                    "target": None,
                    "met": None,
                }
            )

    if args.json:
        record = {
            "benchmark": "inference",
            "date": date.today().isoformat(),
            "processor": platform.processor(),
            "machine": platform.machine(),
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "torch": torch.__version__,
            "gpu": gpu_name,
            "manifest": args.manifest,
            "model": asr.source,
            "decoder": args.decoder,
            "files": len(waves),
            "audio_seconds": audio_seconds,
            "repeats": args.repeats,
            "timing": "best (minimum) of repeats, after one untimed warm-up pass",
            "warmup_files": len(warmup),
            "streaming_chunks": {
                "chunk_seconds": STREAM.chunk_seconds,
                "overlap_seconds": STREAM.overlap_seconds,
            },
            "rows": rows,
            "ratios": ratios,
            "summary": summary,
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
