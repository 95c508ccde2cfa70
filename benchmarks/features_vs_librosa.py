"""Log-mel and MFCC throughput: dslearn.features against librosa on the same real speech.

    python benchmarks/features_vs_librosa.py [--n-files 500] [--device auto|cpu|cuda]
        [--repeats 5] [--batch-size 64] [--threads N] [--json out.json] [--fsdd ../shared/fsdd]

Loads ``--n-files`` Free Spoken Digit Dataset recordings (8 kHz speech, spread over all digits and
speakers) and resamples them to 16 kHz. Then, with the same parameters (n_fft 400, hop 160,
80 Slaney mels, dB with ``ref=1, amin=1e-10``; MFCC: 13 coefficients of the log-mel floored at
80 dB below the peak, i.e. ``librosa.feature.mfcc``'s defaults), times:

* librosa, one file at a time (``melspectrogram`` + ``power_to_db``; ``feature.mfcc``), and
  the same with the mel filterbank (and DCT matrix) built once instead of on every call;
* dslearn on the CPU, one file at a time: the like-for-like comparison;
* dslearn on the CPU, padded batches of files sorted by length (as the bucketing sampler feeds
  training); building the batches is not timed;
* dslearn on the GPU, same batches, when CUDA is available: audio already on the GPU, and again
  including the host-to-device copy. CUDA is synchronized before the clock stops.

Each measurement is a full pass over all files; the first pass is a warm-up, then the median (and
best) of ``--repeats`` passes is kept. Reported: files per second, audio seconds per wall second
(x real time) and the speed ratio ours/librosa (> 1: ours is faster).

Threads: torch runs on ``torch.get_num_threads()`` CPU threads (``--threads`` to change); numpy's
FFT runs on one, but its BLAS (librosa's mel matrix product) on all cores. On a busy machine
multi-threaded runs of either side slow down erratically, by 3-10x. For comparable figures, pin
everything to one thread:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        python benchmarks/features_vs_librosa.py --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np
import scipy.fft
import torch

from dslearn import audio
from dslearn.features import FeatureConfig, build_features

REPO = Path(__file__).resolve().parents[1]
N_FFT, HOP, N_MELS, N_MFCC, TOP_DB = 400, 160, 80, 13, 80.0


def timed(fn: Callable[[], object], repeats: int, sync: Callable[[], None] = lambda: None):
    """(median, best) wall seconds of ``fn`` over ``repeats`` runs after one warm-up run."""
    fn()
    sync()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), min(runs)


def pick_files(fsdd: Path, n: int) -> list[Path]:
    """``n`` recordings spread evenly over the sorted list (all digits and speakers)."""
    files = sorted((fsdd / "recordings").glob("*.wav"))
    if not files:
        raise SystemExit(f"no recordings under {fsdd / 'recordings'} (set --fsdd)")
    step = max(1, len(files) // n)
    return files[::step][:n]


def padded_batches(
    waves: list[torch.Tensor], batch_size: int
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Length-sorted ``(audio (batch, samples), lengths (batch,))`` batches."""
    order = sorted(range(len(waves)), key=lambda i: waves[i].numel())
    batches = []
    for start in range(0, len(order), batch_size):
        group = [waves[i] for i in order[start : start + batch_size]]
        lengths = torch.tensor([w.numel() for w in group])
        batches.append((torch.nn.utils.rnn.pad_sequence(group, batch_first=True), lengths))
    return batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsdd", type=Path, default=REPO.parent / "shared" / "fsdd")
    parser.add_argument("--n-files", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="auto", help="auto (cuda if available) | cpu | cuda")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    use_gpu = torch.cuda.is_available() and args.device in ("auto", "cuda")
    if args.device == "cuda" and not torch.cuda.is_available():
        print("CUDA not available: GPU rows skipped")

    files = pick_files(args.fsdd, args.n_files)
    waves = [audio.load(f) for f in files]  # float32, resampled 8 -> 16 kHz
    audio_seconds = sum(w.numel() for w in waves) / audio.SAMPLE_RATE
    numpy_waves = [w.numpy() for w in waves]
    batches = padded_batches(waves, args.batch_size)
    print(
        f"{len(files)} FSDD files, {audio_seconds:.1f} s of audio at 16 kHz; "
        f"torch {torch.__version__} on {torch.get_num_threads()} CPU threads, "
        f"librosa {librosa.__version__}; median of {args.repeats} after a warm-up"
    )

    def librosa_logmel() -> None:
        for y in numpy_waves:
            mel = librosa.feature.melspectrogram(
                y=y, sr=16000, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS
            )
            librosa.power_to_db(mel, top_db=None)

    # librosa.feature.melspectrogram rebuilds the mel filterbank on every call (its cache is off
    # by default); this variant builds it once, timing only the per-file work.
    mel_basis = librosa.filters.mel(sr=16000, n_fft=N_FFT, n_mels=N_MELS)
    dct_basis = scipy.fft.dct(np.eye(N_MELS, dtype=np.float32), norm="ortho", axis=0)[:N_MFCC]

    def librosa_logmel_cached() -> None:
        for y in numpy_waves:
            power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
            librosa.power_to_db(mel_basis @ power, top_db=None)

    def librosa_mfcc_cached() -> None:
        for y in numpy_waves:
            power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
            dct_basis @ librosa.power_to_db(mel_basis @ power, top_db=TOP_DB)

    def librosa_mfcc() -> None:
        for y in numpy_waves:
            librosa.feature.mfcc(
                y=y, sr=16000, n_mfcc=N_MFCC, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS
            )

    rows = []
    for kind, librosa_fn, librosa_cached in (
        ("logmel", librosa_logmel, librosa_logmel_cached),
        ("mfcc", librosa_mfcc, librosa_mfcc_cached),
    ):
        cfg = FeatureConfig(
            kind=kind,
            n_fft=N_FFT,
            hop_length=HOP,
            n_mels=N_MELS,
            n_mfcc=N_MFCC,
            top_db=TOP_DB if kind == "mfcc" else None,
            normalize="none",  # librosa does not normalize either
        )
        cpu = build_features(cfg).eval()

        @torch.inference_mode()
        def ours_per_file(ex=cpu) -> None:
            for w in waves:
                ex(w[None], torch.tensor([w.numel()]))

        @torch.inference_mode()
        def ours_batched(ex=cpu) -> None:
            for x, n in batches:
                ex(x, n)

        results = {
            "librosa, per file": timed(librosa_fn, args.repeats),
            "librosa, per file, fbank once": timed(librosa_cached, args.repeats),
            "dslearn cpu, per file": timed(ours_per_file, args.repeats),
            f"dslearn cpu, batch {args.batch_size}": timed(ours_batched, args.repeats),
        }
        if use_gpu:
            gpu = build_features(cfg).cuda().eval()
            on_gpu = [(x.cuda(), n.cuda()) for x, n in batches]

            @torch.inference_mode()
            def ours_gpu(ex=gpu, on_gpu=on_gpu) -> None:
                for x, n in on_gpu:
                    ex(x, n)

            @torch.inference_mode()
            def ours_gpu_with_copy(ex=gpu) -> None:
                for x, n in batches:
                    ex(x.cuda(non_blocking=True), n.cuda(non_blocking=True))

            sync = torch.cuda.synchronize
            results[f"dslearn gpu, batch {args.batch_size}"] = timed(ours_gpu, args.repeats, sync)
            results[f"dslearn gpu, batch {args.batch_size} + copy"] = timed(
                ours_gpu_with_copy, args.repeats, sync
            )
        t_librosa = results["librosa, per file"][0]
        for impl, (median, best) in results.items():
            rows.append(
                {
                    "features": kind,
                    "impl": impl,
                    "median_s": median,
                    "best_s": best,
                    "files_per_s": len(files) / median,
                    "x_realtime": audio_seconds / median,
                    "ours_over_librosa": t_librosa / median,
                }
            )

    header = (
        f"{'features':<8} {'implementation':<30} {'median s':>9} {'files/s':>9} "
        f"{'x real time':>12} {'ours/librosa':>13}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        print(
            f"{r['features']:<8} {r['impl']:<30} {r['median_s']:>9.3f} {r['files_per_s']:>9.0f} "
            f"{r['x_realtime']:>12.0f} {r['ours_over_librosa']:>12.2f}x"
        )
    if args.json:
        meta = {
            "files": len(files),
            "audio_seconds": audio_seconds,
            "repeats": args.repeats,
            "batch_size": args.batch_size,
            "torch": torch.__version__,
            "librosa": librosa.__version__,
            "torch_threads": torch.get_num_threads(),
            "thread_env": {
                k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
            },
            "cpu": platform.processor() or platform.machine(),
            "gpu": torch.cuda.get_device_name() if use_gpu else None,
        }
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
