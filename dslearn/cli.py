"""The ``dslearn`` command line.

Each subcommand is a thin layer over one library function, so anything the command line does can
be done from a notebook in one call. The forms follow the contract in the README ("Command line").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEMO_HOURS = 0.05  # 3 minutes of speech: a few seconds to synthesize on two cores


def _add_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="generate the synthetic multi-speaker speech corpus",
        description=(
            "Generate the embedded default corpus: espeak-ng speaks procedurally generated English "
            "(commands with times, numbers, names and places; numbers and dates; free sentences) "
            "in many voice variants. Writes 16 kHz WAV files, train/dev/test/test-unseen-voices "
            "manifests (JSON Lines with audio_filepath, duration, text, speaker and word timings) "
            "and a text corpus for language models."
        ),
    )
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--hours", type=float, default=1.0, help="hours of audio in all splits")
    p.add_argument("--seed", type=int, default=0, help="same seed, same corpus (default 0)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument("--overwrite", action="store_true", help="replace a corpus already in --out")
    p.set_defaults(func=_run_synth)


def _run_synth(args: argparse.Namespace) -> int:
    from dslearn import synth

    summary = synth.generate_corpus(
        args.out, hours=args.hours, seed=args.seed, workers=args.workers, overwrite=args.overwrite
    )
    print(synth.describe_corpus(args.out, summary=summary))
    return 0


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the main job on the embedded default data",
        description=(
            "Generate a small synthetic corpus and show what is in it: splits, voices, example "
            "utterances with espeak-ng's word timings, and the log-mel features a model will see."
        ),
    )
    p.add_argument("--out", type=Path, default=Path("data/demo"), help="corpus folder")
    p.add_argument("--hours", type=float, default=DEMO_HOURS, help="hours of audio to generate")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    import torch

    from dslearn import audio, data, features, synth

    print(f"[1/2] Generating {args.hours:g} h of synthetic speech in {args.out} ...", flush=True)
    summary = synth.generate_corpus(args.out, hours=args.hours, seed=args.seed, overwrite=True)
    print(synth.describe_corpus(args.out, summary=summary))

    print("\n[2/2] What a model sees: log-mel features of the first test utterance", flush=True)
    utt = data.read_manifest(args.out / "test.jsonl")[0]
    wave = audio.load(utt.audio_filepath)
    extractor = features.build_features(features.FeatureConfig())
    feats, frames = extractor(wave[None], torch.tensor([wave.numel()]))
    print(f"  file:      {utt.audio_filepath}")
    print(f"  text:      {utt.text!r}  ({len(utt.text)} characters)")
    print(f"  audio:     {wave.numel()} samples = {wave.numel() / audio.SAMPLE_RATE:.2f} s")
    print(f"  features:  {tuple(feats.shape)} = (batch, frames, n_mels); {int(frames[0])} frames")
    print(f"  CTC needs at least {len(utt.text)} frames for this text: it has {int(frames[0])}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dslearn",
        description="Learn and build DeepSpeech-style CTC speech recognition.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_synth(sub)
    _add_demo(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as err:
        # Our errors name the file/field/value; a traceback would only bury that line.
        print(f"dslearn {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
