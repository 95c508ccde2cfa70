"""Log-mel and MFCC throughput: dslearn.features against librosa on the same real speech.

    python benchmarks/features_vs_librosa.py [--n-files 300] [--device cpu|cuda] [--json out.json]

Loads FSDD recordings (8 kHz human speech, resampled to 16 kHz), then times, on the same audio and
the same parameters (n_fft 400, hop 160, 80 mels, 13 MFCCs): librosa one file at a time; ours one
file at a time (the fair per-call comparison) and as padded batches (how training uses it); and
ours on the GPU when there is one. Reports audio seconds processed per wall second and the ratio
to librosa. Median of --repeats runs after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import librosa
import torch

from dslearn import audio
from dslearn.features import FeatureConfig, build_features

REPO = Path(__file__).resolve().parents[1]


def timed(fn, repeats: int, sync=lambda: None) -> float:
    fn()
    sync()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsdd", type=Path, default=REPO.parent / "shared" / "fsdd")
    parser.add_argument("--n-files", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    files = sorted((args.fsdd / "recordings").glob("*.wav"))[: args.n_files]
    if not files:
        raise SystemExit(f"no recordings under {args.fsdd}/recordings")
    waves = [audio.load(f) for f in files]
    seconds = sum(w.numel() for w in waves) / audio.SAMPLE_RATE
    numpy_waves = [w.numpy() for w in waves]
    lengths = torch.tensor([w.numel() for w in waves])
    padded = torch.nn.utils.rnn.pad_sequence(waves, batch_first=True)
    print(
        f"{len(files)} FSDD files, {seconds:.1f} s of audio; torch threads "
        f"{torch.get_num_threads()}"
    )

    rows = []
    for kind in ("logmel", "mfcc"):
        cfg = FeatureConfig(kind=kind, normalize="none", top_db=80.0 if kind == "mfcc" else None)
        extractor = build_features(cfg)

        def librosa_run(kind=kind):
            for y in numpy_waves:
                mel = librosa.feature.melspectrogram(
                    y=y, sr=16000, n_fft=400, hop_length=160, n_mels=80, pad_mode="constant"
                )
                db = librosa.power_to_db(mel, top_db=80.0 if kind == "mfcc" else None)
                if kind == "mfcc":
                    librosa.feature.mfcc(S=db, n_mfcc=13)

        def ours_single(extractor=extractor):
            for w in waves:
                extractor(w[None], torch.tensor([w.numel()]))

        def ours_batched(extractor=extractor, device="cpu"):
            ex = extractor.to(device)
            for i in range(0, len(waves), args.batch_size):
                ex(padded[i : i + args.batch_size].to(device), lengths[i : i + args.batch_size])

        t_librosa = timed(librosa_run, args.repeats)
        results = {
            "librosa (per file)": t_librosa,
            "dslearn cpu (per file)": timed(ours_single, args.repeats),
            "dslearn cpu (batched)": timed(ours_batched, args.repeats),
        }
        if args.device.startswith("cuda") and torch.cuda.is_available():
            # Audio already on the GPU, as in training, where the batch is moved once.
            gpu_padded, gpu_lengths = padded.to(args.device), lengths.to(args.device)
            gpu_ex = build_features(cfg).to(args.device)

            def ours_gpu(ex=gpu_ex, x=gpu_padded, n=gpu_lengths):
                for i in range(0, len(waves), args.batch_size):
                    ex(x[i : i + args.batch_size], n[i : i + args.batch_size])

            results["dslearn gpu (batched)"] = timed(
                ours_gpu, args.repeats, sync=torch.cuda.synchronize
            )
        for name, t in results.items():
            rows.append(
                {
                    "features": kind,
                    "impl": name,
                    "seconds": t,
                    "audio_x_realtime": seconds / t,
                    "vs_librosa": t_librosa / t,
                }
            )

    print(
        f"\n{'features':<8} {'implementation':<24} {'wall s':>8} {'x real time':>12} "
        f"{'vs librosa':>11}"
    )
    for r in rows:
        print(
            f"{r['features']:<8} {r['impl']:<24} {r['seconds']:>8.3f} "
            f"{r['audio_x_realtime']:>12.0f} {r['vs_librosa']:>10.1f}x"
        )
    if args.json:
        meta = {
            "files": len(files),
            "audio_seconds": seconds,
            "torch": torch.__version__,
            "librosa": librosa.__version__,
            "threads": torch.get_num_threads(),
            "device": args.device,
        }
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
