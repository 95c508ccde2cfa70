"""Real speech, unseen speakers: train on four FSDD speakers, test on the fifth, rotating.

    python benchmarks/fsdd_speaker_heldout.py --root ../shared/fsdd --minutes 15

For each of the five speakers in turn, a model is trained with the ``fsdd`` recipe on the other
four speakers' takes 5-49 (their takes 0-4 pick the best checkpoint), within ``--minutes`` of
training on this machine, then decoded on all 500 recordings of the held-out speaker: greedily,
and with a beam search constrained to the ten digit words (lexicon + unigram LM built from the
training transcripts), the way a digit recognizer is deployed. Prints digit WER per held-out
speaker and the mean, and writes JSON.

The held-out speaker's recordings are never seen in training nor in checkpoint selection.

``--init-from pretrained`` fine-tunes the model shipped in the package (trained on many synthetic
voices) instead of training the preset from scratch: the model keeps its own preset and features
(16 kHz, mel filters to 8 kHz; FSDD's 8 kHz recordings are resampled and leave the top half
empty), the ``fsdd`` recipe gives the rest (batch size, augmentation, schedule, evaluation).
``--model small`` trains the same model and features from scratch with the same recipe: the control.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

from dslearn.checkpoint import load_checkpoint
from dslearn.corpora import prepare, speaker_manifests
from dslearn.data import read_manifest, write_manifest
from dslearn.inference import evaluate, load_model
from dslearn.lm import build_arpa
from dslearn.train import RECIPES, TrainConfig, Trainer, init_source, recipe_config


def fold_manifests(manifests: Path, held_out: str, folder: Path) -> tuple[Path, Path, Path]:
    """(train, valid, test) manifests of one fold."""
    folder.mkdir(parents=True, exist_ok=True)
    train = [u for u in read_manifest(manifests / "train.jsonl") if u.speaker != held_out]
    valid = [u for u in read_manifest(manifests / "dev.jsonl") if u.speaker != held_out]
    test = read_manifest(speaker_manifests(manifests)[held_out])
    return (
        write_manifest(folder / "train.jsonl", train),
        write_manifest(folder / "valid.jsonl", valid),
        write_manifest(folder / "test.jsonl", test),
    )


def digits_lm(train: Path, out: Path) -> Path:
    """A unigram-ish LM over the training transcripts: its words become the decoder's lexicon."""
    text = out.with_suffix(".txt")
    text.write_text("".join(u.text + "\n" for u in read_manifest(train)), encoding="utf-8")
    build_arpa(text, out, order=2, progress=False)
    return out


def run_fold(args: argparse.Namespace, manifests: Path, speaker: str) -> dict:
    folder = args.out / speaker
    train, valid, test = fold_manifests(manifests, speaker, folder)
    preset, fields = args.preset, {}
    if args.init_from or args.model:
        # The recipe's training settings, the model's own features (default ones from scratch).
        fields = {k: v for k, v in RECIPES.get(args.preset, {}).items() if k != "features"}
        preset = args.model
    if args.init_from:
        source = init_source(args.init_from)
        trained_with = load_checkpoint(source, with_extra=False).info["train_config"]
        preset = trained_with["preset"]
        fields.update(
            init_from=str(source), model=trained_with["model"], features=trained_with["features"]
        )
    if args.lr is not None:
        fields["lr"] = args.lr
    fields.update(
        train=str(train),
        valid=str(valid),
        out=str(folder / "run"),
        max_minutes=None if args.steps else args.minutes,
        max_steps=args.steps,
        seed=args.seed,
        threads=args.threads,
        eval_max_utterances=None,
        progress=False,
        tensorboard=False,
    )
    if args.init_from or args.model:
        # fields already hold --preset's recipe; the model preset's own recipe (tiny's global
        # CMVN, say) must not slip in on top.
        cfg = TrainConfig(preset=preset, **fields)
    else:
        cfg = recipe_config(preset, **fields)
    start = time.perf_counter()
    trainer = Trainer(cfg)
    trainer.fit()
    minutes = (time.perf_counter() - start) / 60
    asr = load_model(folder / "run")
    greedy, _, _ = evaluate(asr, test, progress=False)
    lm = digits_lm(train, folder / "digits.arpa")
    constrained, _, _ = evaluate(asr, test, decoder=asr.decoder("lm", lm=lm), progress=False)
    return {
        "speaker": speaker,
        "n": greedy["n"],
        "greedy_wer": greedy["wer"],
        "greedy_cer": greedy["cer"],
        "lexicon_wer": constrained["wer"],
        "train_minutes": round(minutes, 2),
        "steps": trainer.step,
        "best_dev_wer": trainer.best["wer"],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, default=Path("../shared/fsdd"), help="FSDD folder")
    p.add_argument("--out", type=Path, default=Path("runs/fsdd_heldout"), help="work folder")
    p.add_argument("--minutes", type=float, default=15.0, help="training budget per fold")
    p.add_argument(
        "--steps",
        type=int,
        help="train each fold for exactly N steps instead (results then do not depend on what "
        "else the machine is doing; the minutes it took are reported)",
    )
    p.add_argument("--preset", default="fsdd", help="recipe / model preset")
    p.add_argument(
        "--init-from",
        help="fine-tune this checkpoint ('pretrained': the shipped model) instead of training "
        "the preset from scratch (the preset's recipe still sets batch, augmentation, schedule)",
    )
    p.add_argument(
        "--model",
        help="train this model preset from scratch with the recipe's training settings and "
        "default features (the control for --init-from)",
    )
    p.add_argument("--lr", type=float, help="peak learning rate (default: the recipe's)")
    p.add_argument("--speakers", nargs="*", help="folds to run (default: every speaker)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", type=Path, help="write results here (default OUT/results.json)")
    args = p.parse_args()

    manifests = args.out / "manifests"
    prepare("fsdd", args.root, manifests, progress=False)
    speakers = args.speakers or list(speaker_manifests(manifests))
    results = []
    print(f"{'held out':<10} {'greedy WER':>10} {'lexicon WER':>11} {'minutes':>8} {'steps':>6}")
    for speaker in speakers:
        r = run_fold(args, manifests, speaker)
        results.append(r)
        print(f"{speaker:<10} {r['greedy_wer']:>10.3f} {r['lexicon_wer']:>11.3f} "
              f"{r['train_minutes']:>8.1f} {r['steps']:>6}", flush=True)  # fmt: skip
    mean = {k: sum(r[k] for r in results) / len(results) for k in ("greedy_wer", "lexicon_wer")}
    print(f"{'mean':<10} {mean['greedy_wer']:>10.3f} {mean['lexicon_wer']:>11.3f}")
    target = 0.05
    verdict = {k: "met" if v <= target else "missed" for k, v in mean.items()}
    print(f"target: mean WER <= {target}: greedy {verdict['greedy_wer']}, "
          f"lexicon {verdict['lexicon_wer']}")  # fmt: skip
    report = {
        "benchmark": "fsdd_speaker_heldout",
        "preset": args.preset,
        "init_from": args.init_from,
        "model": args.model,
        "lr": args.lr,
        "minutes_per_fold": None if args.steps else args.minutes,
        "steps_per_fold": args.steps,
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
        "folds": results,
        "mean": mean,
    }
    out = args.json or args.out / "results.json"
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
