"""The ``dslearn`` command line.

Each subcommand is a thin layer over one library function, so anything the command line does can
be done from a notebook in one call. The forms follow the contract in the README ("Command line").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEMO_HOURS = 1.0  # about 1,300 utterances: some 20 s to synthesize on two cores
# The demo's training budget is counted in steps, not minutes, so that a busy machine takes longer
# but learns as much: tiny's recipe reaches dev CER about 0.3 in 400 steps of 100 s batches
# (measured 2026-12-07: dev CER 0.339 at step 400), about 10 minutes on two CPU cores.
DEMO_STEPS = 400


def _add_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="generate the synthetic multi-speaker speech corpus",
        description=(
            "Generate the embedded default corpus: espeak-ng speaks procedurally generated English "
            "(commands with times, numbers, names and places; numbers and dates; free sentences) "
            "in many voice variants. Writes 16 kHz WAV files, train/dev/test/test-unseen-voices "
            "manifests (JSON Lines with audio_filepath, duration, text, speaker and word timings) "
            "and a text corpus for language models. --engines adds Flite and Festival voices "
            "(Debian packages), --open-text sentences people wrote (WordNet's examples), --long "
            "several sentences per file with pauses between them."
        ),
    )
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument(
        "--engines",
        default="espeak",
        help="comma-separated speech engines: espeak (default), flite, festival; naming one "
        "twice doubles its share (espeak,espeak,festival)",
    )
    p.add_argument(
        "--open-text", type=float, default=0.0, help="share of sentences from WordNet (0..1)"
    )
    p.add_argument(
        "--long", type=float, default=0.0, help="share of multi-sentence utterances (0..1)"
    )
    p.add_argument("--hours", type=float, default=1.0, help="hours of audio in all splits")
    p.add_argument("--seed", type=int, default=0, help="same seed, same corpus (default 0)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument("--overwrite", action="store_true", help="replace a corpus already in --out")
    p.set_defaults(func=_run_synth)


def _run_synth(args: argparse.Namespace) -> int:
    from dslearn import synth

    engines = tuple(name.strip() for name in args.engines.split(",") if name.strip())
    for name in dict.fromkeys(engines):
        synth.get_engine(name)  # a missing engine fails now, naming its package
    summary = synth.generate_corpus(
        args.out, hours=args.hours, seed=args.seed, workers=args.workers,
        overwrite=args.overwrite, engines=engines, open_weight=args.open_text,
        long_probability=args.long,
    )  # fmt: skip
    print(synth.describe_corpus(args.out, summary=summary))
    return 0


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the main job on the embedded default data",
        description=(
            "The whole pipeline on the embedded synthetic corpus: generate speech, show what a "
            "model sees, train the tiny model for a few minutes, evaluate it next to the "
            "pretrained model shipped in the package, and transcribe held-out files."
        ),
    )
    p.add_argument("--out", type=Path, default=Path("data/demo"), help="corpus folder")
    p.add_argument("--run", type=Path, default=Path("runs/demo"), help="training run folder")
    p.add_argument("--hours", type=float, default=DEMO_HOURS, help="hours of audio to generate")
    p.add_argument("--steps", type=int, default=DEMO_STEPS, help="training steps")
    p.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="also stop after this many minutes (default: no limit)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    import shutil

    import torch

    from dslearn import audio, data, features, synth
    from dslearn.inference import evaluate, load_model, pretrained_lm_path, pretrained_path
    from dslearn.train import Trainer, recipe_config

    print(f"[1/5] Generating {args.hours:g} h of synthetic speech in {args.out}", flush=True)
    summary = synth.generate_corpus(args.out, hours=args.hours, seed=args.seed, overwrite=True)
    print(synth.describe_corpus(args.out, summary=summary))

    print("\n[2/5] What a model sees: log-mel features of the first test utterance", flush=True)
    utt = data.read_manifest(args.out / "test.jsonl")[0]
    wave = audio.load(utt.audio_filepath)
    extractor = features.build_features(features.FeatureConfig())
    feats, frames = extractor(wave[None], torch.tensor([wave.numel()]))
    print(f"  file:      {utt.audio_filepath}")
    print(f"  text:      {utt.text!r}  ({len(utt.text)} characters)")
    print(f"  audio:     {wave.numel()} samples = {wave.numel() / audio.SAMPLE_RATE:.2f} s")
    print(f"  features:  {tuple(feats.shape)} = (batch, frames, n_mels); {int(frames[0])} frames")

    print(f"\n[3/5] Training the tiny DeepSpeech 2 for {args.steps} steps in {args.run}")
    print(
        "  What to expect: about 10 minutes on two CPU cores (longer on a busy machine, with\n"
        "  the same result: the budget is in steps). The loss falls fast, then stalls while the\n"
        "  model outputs almost only blanks (dev CER near 1.0 at the first evaluation), then\n"
        "  characters appear and the dev CER falls to about a third by the last step: it reads,\n"
        "  with misspellings. The pretrained model shipped in the package trained ~300x longer.",
        flush=True,
    )
    shutil.rmtree(args.run, ignore_errors=True)
    cfg = recipe_config(
        "tiny",  # the 2-core CPU recipe of docs/benchmarks.md's 15-minute runs
        train=str(args.out / "train.jsonl"),
        valid=str(args.out / "dev.jsonl"),
        out=str(args.run),
        max_steps=args.steps,
        max_minutes=args.minutes,
        warmup_steps=min(100, max(1, args.steps // 4)),
        eval_every=100,
        seed=args.seed,
    )
    trainer = Trainer(cfg)
    trainer.fit()
    print(f"  best dev CER {trainer.best['cer']:.3f} (WER {trainer.best['wer']:.3f})")

    print("\n[4/5] Word and character error rates (greedy decoding, and the shipped 3-gram LM)")
    trained = load_model(args.run)
    models = {"trained now": (trained, trained.greedy)}
    try:
        pretrained = load_model(pretrained_path())
        models["pretrained"] = (pretrained, pretrained.greedy)
        if pretrained_lm_path() is not None:
            models["pretrained+LM"] = (pretrained, pretrained.decoder("lm"))
    except FileNotFoundError as err:
        print(f"  ({err})")
    hyps = {}
    print(f"  {'model':<14} {'split':<20} {'WER':>6} {'CER':>6}   n")
    for name, (asr, decoder) in models.items():
        for split in ("test", "test-unseen-voices"):
            manifest = args.out / f"{split}.jsonl"
            result, _, hyps[name, split] = evaluate(asr, manifest, decoder=decoder)
            print(
                f"  {name:<14} {split:<20} {result['wer']:>6.3f} {result['cer']:>6.3f} "
                f"{result['n']:>3}"
            )

    print("\n[5/5] Transcripts of held-out files")
    for i, utt in enumerate(data.read_manifest(args.out / "test-unseen-voices.jsonl")[:3]):
        print(f"  {Path(utt.audio_filepath).name}  ({utt.speaker}, a voice never trained on)")
        print(f"    reference:      {utt.text}")
        for name in models:
            print(f"    {name + ':':<15} {hyps[name, 'test-unseen-voices'][i]}")
    return 0


def _add_model(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="list the model presets and their sizes")
    p.add_argument("--list", action="store_true", help="print every preset (the default)")
    p.set_defaults(func=_run_model)


def _run_model(args: argparse.Namespace) -> int:
    from dslearn.model import PRESETS, build_model, count_parameters, receptive_field

    print(f"{'preset':<17} {'arch':<11} {'parameters':>11}  {'encoder':<26} front-end field")
    for name, cfg in PRESETS.items():
        n = count_parameters(build_model(cfg))
        if cfg.arch in ("conformer", "transformer"):
            kernel = f" k{cfg.conv_kernel}" if cfg.arch == "conformer" else ""
            encoder = (
                f"{cfg.encoder_layers}x{cfg.arch} d{cfg.d_model} h{cfg.attention_heads}{kernel}"
            )
        else:
            direction = "bi" if cfg.bidirectional else "uni"
            layers = cfg.rnn_layers if cfg.arch == "ds2" else 1
            encoder = f"{layers}x{direction}-{cfg.rnn_type} {cfg.rnn_hidden}"
        field = f"{receptive_field(cfg)} frames"
        print(f"{name:<17} {cfg.arch:<11} {n:>11,}  {encoder:<26} {field}")
    return 0


def _add_train(sub: argparse._SubParsersAction) -> None:
    from dslearn.train import RECIPES, TrainConfig

    p = sub.add_parser(
        "train",
        help="train a model on manifests",
        description="Train a CTC model (DeepSpeech 1 or 2, Conformer or Transformer: the "
        "presets of dslearn model). Runs unchanged on CPU, one GPU, or under torchrun on many "
        "GPUs (see the header of dslearn/train.py). A recipe preset "
        f"({', '.join(RECIPES)}) also sets batch size, learning rate, schedule or features for "
        "its corpus or machine (dslearn.train.RECIPES); the defaults shown below hold where no "
        "recipe sets a value, and options given here override both.",
        argument_default=argparse.SUPPRESS,  # unset options fall back to the recipe, then defaults
    )
    defaults = TrainConfig(train="", out="")

    def option(name: str, kind: type, help: str = "") -> None:
        default = getattr(defaults, name)
        shown = f" (default {default})" if default is not None else ""
        p.add_argument("--" + name.replace("_", "-"), type=kind, help=help + shown)

    p.add_argument("--train", required=True, help="training manifest (.jsonl)")
    p.add_argument("--valid", help="dev manifest for WER/CER, best checkpoint, early stopping")
    p.add_argument("--out", required=True, help="run directory (checkpoints, metrics.jsonl)")
    p.add_argument("--preset", help="model preset or recipe (dslearn model --list; default tiny)")
    option("max_steps", int, "stop after N optimizer steps")
    option(
        "max_minutes",
        float,
        "stop after X minutes of training (without --max-steps the LR decays over the minutes)",
    )
    option("max_epochs", int)
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N | mps (default auto)")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.safetensors")
    p.add_argument(
        "--init-from",
        metavar="MODEL",
        help="start from these weights with a fresh optimizer and schedule (fine-tuning): a "
        "checkpoint, a run directory, or 'pretrained' for the shipped model",
    )
    for name in ("batch_seconds", "lr", "weight_decay", "grad_clip", "min_lr_ratio"):
        option(name, float)
    for name in (
        "max_batch_size",
        "warmup_steps",
        "eval_every",
        "log_every",
        "seed",
        "num_workers",
        "early_stop_patience",
        "threads",
        "schedule_steps",
        "eval_max_utterances",
    ):
        option(name, int)
    p.add_argument("--schedule", choices=["cosine", "onecycle", "constant"])
    p.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"])
    p.add_argument("--no-spec-augment", action="store_true", help="turn SpecAugment off")
    p.add_argument("--no-speed-perturb", action="store_true", help="turn speed perturbation off")
    p.add_argument(
        "--augment",
        action="store_true",
        help="on-the-fly speakers, rooms, channels, noise and gain (dslearn.augment; "
        "tune with --set augment.FIELD=VALUE)",
    )
    p.add_argument(
        "--no-bucketing", action="store_true", help="random batches instead of similar lengths"
    )
    p.add_argument(
        "--no-sortagrad", action="store_true", help="random batch order from the first epoch on"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a model field (model.rnn_hidden=128), feature field (features.n_mels=40) "
        "SpecAugment setting (spec_augment.time_masks=1) or augmentation setting "
        "(augment.room=0.5, implies --augment); repeatable",
    )
    p.set_defaults(func=_run_train)


def _parse_overrides(pairs: list[str]) -> dict[str, dict]:
    """``--set SECTION.FIELD=VALUE`` pairs as ``{section: {field: value}}`` (values JSON if they
    parse, else strings)."""
    import json

    sections: dict[str, dict] = {"model": {}, "features": {}, "spec_augment": {}, "augment": {}}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        section, dot, field_name = key.partition(".")
        if not sep or not dot or section not in sections:
            raise ValueError(
                f"--set {pair!r}: expected model.FIELD=VALUE, features.FIELD=VALUE, "
                "spec_augment.FIELD=VALUE or augment.FIELD=VALUE"
            )
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value  # bare strings such as lstm
        sections[section][field_name] = parsed
    return sections


def train_config(args: argparse.Namespace):
    """The TrainConfig that ``dslearn train`` options describe (recipe, then given options)."""
    import dataclasses

    from dslearn.train import TrainConfig, recipe_config

    given = vars(args)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    skip = ("model", "features", "augment")
    overrides = {k: v for k, v in given.items() if k in fields and k not in skip}
    sets = _parse_overrides(given.get("set", []))
    if given.get("no_spec_augment"):
        overrides["spec_augment"] = False
    if given.get("no_speed_perturb"):
        overrides["speed_perturb"] = ()
    if given.get("augment") or sets["augment"]:
        overrides["augment"] = sets["augment"]
    if given.get("no_bucketing"):
        overrides["bucketing"] = False
    if given.get("no_sortagrad"):
        overrides["sortagrad"] = False
    if given.get("no_progress"):
        overrides["progress"] = False
    name = overrides.pop("preset", "tiny")
    return recipe_config(
        name,
        model=sets["model"],
        features=sets["features"],
        spec_augment_params=sets["spec_augment"],
        **overrides,
    )


def _run_train(args: argparse.Namespace) -> int:
    from dslearn.train import Trainer

    Trainer(train_config(args)).fit()
    return 0


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="checkpoint or run directory (default: the shipped model)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    p.add_argument("--threads", type=int, help="CPU threads for inference")


def _add_inference_options(p: argparse.ArgumentParser) -> None:
    _add_model_options(p)
    p.add_argument(
        "--decoder",
        default="greedy",
        choices=["greedy", "beam", "lm"],
        help="greedy; beam: readable prefix beam search (with --lm if given); "
        "lm: fast beam search with a KenLM n-gram (default: the LM shipped with the model)",
    )
    p.add_argument(
        "--lm",
        help="ARPA language model for --decoder lm/beam, or a shipped one: grammar (default: "
        "commands, numbers, dates) or english (open English text)",
    )
    p.add_argument("--alpha", type=float, help="LM weight (default: from `lm tune`, else 0.5)")
    p.add_argument("--beta", type=float, help="word bonus (default: from `lm tune`, else 1.0)")
    p.add_argument("--beam-size", type=int, help="beams kept per frame (default 16/32)")


def _load_for_inference(args: argparse.Namespace):
    import torch

    from dslearn.inference import load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    return load_model(args.model, device=args.device)


def _decoder_from_args(asr, args: argparse.Namespace):
    from dslearn.inference import resolve_lm

    args.lm = resolve_lm(args.lm)
    if args.lm is not None and not args.lm.exists():
        raise FileNotFoundError(f"{args.lm}: language model not found")
    return asr.decoder(
        args.decoder, lm=args.lm, alpha=args.alpha, beta=args.beta, beam_size=args.beam_size
    )


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="WER/CER of a model on a manifest")
    p.add_argument("--manifest", required=True, help="manifest to evaluate on (.jsonl)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--json", action="store_true", help='last line: {"wer":…,"cer":…,"n":…,…}')
    _add_inference_options(p)
    p.set_defaults(func=_run_eval)


def _run_eval(args: argparse.Namespace) -> int:
    import json

    from dslearn.inference import evaluate

    asr = _load_for_inference(args)
    decoder = _decoder_from_args(asr, args)
    result, refs, hyps = evaluate(
        asr, args.manifest, decoder=decoder, batch_size=args.batch_size, progress=not args.json
    )
    result["decoder"] = args.decoder
    if args.json:
        print(json.dumps(result))
        return 0
    for ref, hyp in list(zip(refs, hyps))[:5]:
        print(f"REF: {ref}\nHYP: {hyp}\n")
    print(
        f"WER {result['wer']:.4f}  CER {result['cer']:.4f}  on {result['n']} utterances "
        f"({args.manifest}, model {asr.source})"
    )
    return 0


def _add_transcribe(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transcribe", help="transcribe audio files")
    p.add_argument("files", nargs="+", help="audio files (wav, flac, ogg)")
    p.add_argument("--timestamps", action="store_true", help="print word start/end seconds")
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.add_argument("--batch-size", type=int, default=16)
    _add_inference_options(p)
    p.set_defaults(func=_run_transcribe)


def _run_transcribe(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    asr = _load_for_inference(args)
    decoder = _decoder_from_args(asr, args)
    files, group = list(args.files), 4 * args.batch_size
    results = asr.transcribe_files(files, decoder, args.batch_size, files_per_group=group)
    # A bar only where there is something to wait for; lines go through it so it stays whole.
    bar = tqdm(total=len(files), unit="file", disable=len(files) <= group, file=sys.stderr)
    failed = 0
    for result in results:
        bar.update()
        path, hyp = result.path, result.hypothesis
        if hyp is None:
            failed += 1
            bar.write(f"dslearn transcribe: error: {result.error}", file=sys.stderr)
            continue
        words = [{"word": w.word, "start": w.start, "end": w.end} for w in hyp.words]
        if args.json:
            line = {"file": path, "text": hyp.text, "confidence": hyp.confidence}
            bar.write(json.dumps({**line, **({"words": words} if args.timestamps else {})}))
        else:
            bar.write(f"{path}: {hyp.text}")
            if args.timestamps:
                for w in words:
                    bar.write(f"  {w['start']:7.2f} {w['end']:7.2f}  {w['word']}")
    bar.close()
    if failed:
        print(f"dslearn transcribe: {_unreadable_summary(failed, len(files))}", file=sys.stderr)
        return 2
    return 0


def _unreadable_summary(failed: int, total: int) -> str:
    """What the last line of ``transcribe`` says when ``failed`` of ``total`` files failed."""
    if total == 1:
        return "the file could not be read; nothing was transcribed"
    if failed == total:
        return f"none of the {total} files could be read; nothing was transcribed"
    done = total - failed
    return (
        f"{failed} of {total} files could not be read; the other "
        f"{'one is' if done == 1 else f'{done} are'} transcribed above"
    )


def _add_align(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "align",
        help="forced alignment: when each word of a known text is spoken",
        description="Find when each word of a known transcript is spoken in an audio file. "
        "Alignment always finds some path, so its scores judge the transcript: when the mean "
        "path probability per frame is below 0.2 (dslearn.align.MISMATCH_PATH_PROBABILITY; "
        "with the shipped model, synthesized speech scores 0.73 to 0.99 against its own "
        "transcript and at most 0.07 against another sentence's), a warning on stderr says the "
        "transcript does not seem to match the audio; otherwise each word scoring below 0.01 "
        "(dslearn.align.UNHEARD_WORD_SCORE; a word that was not said scores 0.003 or less) is "
        "named on stderr as probably not spoken. The alignment is printed either way, and the "
        "exit status is 0.",
    )
    p.add_argument("audio", help="audio file (wav, flac, ogg); minutes long is fine")
    p.add_argument("text", help="the transcript, as spoken")
    _add_model_options(p)
    p.add_argument(
        "--boundaries",
        default="space",
        choices=["plain", "gap", "space"],
        help="plain: words span their characters' frames; gap: neighbours meet in the middle "
        "of the frames between them; space (default): neighbours meet where the model emits "
        "the space",
    )
    p.add_argument(
        "--no-onset",
        action="store_true",
        help="start the first word at its first character's frame, not at the speech onset "
        "found from the audio's energy",
    )
    p.add_argument("--json", action="store_true", help='one JSON object: {"words": [...], ...}')
    p.set_defaults(func=_run_align)


def _run_align(args: argparse.Namespace) -> int:
    import json

    asr = _load_for_inference(args)
    result = asr.align(args.audio, args.text, boundaries=args.boundaries, onset=not args.no_onset)
    for warning in result.warnings():
        print(f"dslearn align: warning: {warning}", file=sys.stderr)
    words = [
        {"word": w.word, "start": w.start, "end": w.end, "score": round(w.score, 4)}
        for w in result.words
    ]
    if args.json:
        print(json.dumps({"file": args.audio, "text": result.text, "words": words}))
        return 0
    print(f"{args.audio}: {result.text}  (path probability per frame {result.score:.3f})")
    for w in words:
        print(f"  {w['start']:7.2f} {w['end']:7.2f}  {w['word']:<16} {w['score']:.2f}")
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a checkpoint's weights alone, for sharing or shipping",
        description=(
            "Write the inference part of a checkpoint: weights, feature statistics, model config, "
            "alphabet and feature settings, without the optimizer and RNG state that only "
            "--resume needs (a last checkpoint is about three times its weights). The file "
            "loads wherever a model path is accepted, and with --init-from, but cannot be "
            "resumed."
        ),
    )
    p.add_argument(
        "model",
        help="checkpoint file, run directory (its best checkpoint), or 'pretrained' (the shipped "
        "model)",
    )
    p.add_argument("--out", required=True, type=Path, help="the .safetensors file to write")
    p.add_argument(
        "--dtype",
        default="float32",
        choices=["float32", "float16", "bfloat16"],
        help="precision of the stored weights (16 bits: half the size; loaded back as float32)",
    )
    p.add_argument(
        "--blend-from",
        metavar="MODEL0",
        help="write (1 - W) * MODEL0 + W * MODEL instead, weight by weight (WiSE-FT: MODEL "
        "fine-tuned from MODEL0 keeps more of what MODEL0 knew); MODEL0 as MODEL: a file, a run "
        "directory or 'pretrained'",
    )
    p.add_argument(
        "--blend-weight", metavar="W", type=float, default=0.5, help="MODEL's share (default 0.5)"
    )
    p.set_defaults(func=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from dslearn.checkpoint import blend_weights, export_weights
    from dslearn.train import init_source

    src = init_source(args.model)  # the names --init-from takes: a file, a run dir, "pretrained"
    if args.blend_from:
        if args.dtype != "float32":
            raise ValueError("--blend-from writes float32; export the blend again for --dtype")
        base = init_source(args.blend_from)
        out = blend_weights(base, src, args.blend_weight, args.out)
        share = args.blend_weight
        print(f"{out}: {1 - share:g} x {base} + {share:g} x {src}")
        return 0
    out = export_weights(src, args.out, dtype=args.dtype)
    mb = 1024 * 1024
    print(
        f"{out}: {out.stat().st_size / mb:.1f} MB ({args.dtype} weights) "
        f"from {src} ({src.stat().st_size / mb:.1f} MB)"
    )
    return 0


def _add_lm(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lm", help="build and tune n-gram language models")
    lm_sub = p.add_subparsers(dest="lm_command", metavar="LM_COMMAND", required=True)
    b = lm_sub.add_parser(
        "build",
        help="build an ARPA n-gram LM (modified Kneser-Ney) from a text file",
        description="One sentence per line; words are split on whitespace. "
        "The synthetic corpus writes its LM text to CORPUS/text/train.txt.",
    )
    b.add_argument("--text", required=True, type=Path, help="training text, one sentence a line")
    b.add_argument("--order", type=int, default=3, help="n-gram order, 2-5 (default 3)")
    b.add_argument("--out", required=True, type=Path, help="ARPA file to write")
    b.set_defaults(func=_run_lm_build)
    t = lm_sub.add_parser(
        "tune",
        help="search LM weight alpha and word bonus beta on a dev manifest",
        description="Runs the acoustic model once, then decodes the cached posteriors for every "
        "alpha/beta pair with the fast LM decoder. Writes the best pair to LM.tuned.json, which "
        "`eval`/`transcribe --decoder lm` then use by default.",
    )
    t.add_argument("--manifest", required=True, help="dev manifest (.jsonl)")
    t.add_argument("--lm", help="ARPA LM, or a shipped one: grammar (the default) or english")
    t.add_argument("--alphas", default="0,0.25,0.5,0.75,1,1.5,2", help="comma-separated")
    t.add_argument("--betas", default="-2,-1,0,1,2,3", help="comma-separated")
    t.add_argument("--beam-size", type=int, default=32)
    t.add_argument(
        "--beam-tokens",
        help="tokens the search tries per frame: a number, or 'all' (what a small lexicon such "
        "as ten digit words needs; default: the decoder's 6, fast on open vocabulary)",
    )
    t.add_argument("--max-utterances", type=int, help="tune on the first N utterances only")
    t.add_argument("--out", type=Path, help="where to write the result (default: LM.tuned.json)")
    _add_model_options(t)
    t.set_defaults(func=_run_lm_tune)


def _run_lm_build(args: argparse.Namespace) -> int:
    import time

    from dslearn.lm import build_arpa

    if not 2 <= args.order <= 5:
        raise ValueError(f"--order must be between 2 and 5, got {args.order}")
    started = time.perf_counter()
    lm = build_arpa(args.text, args.out, order=args.order)
    counts = ", ".join(f"{n}-grams {c}" for n, c in sorted(lm.counts.items()))
    print(f"wrote {args.out} ({counts}) in {time.perf_counter() - started:.1f} s")
    return 0


def _parse_floats(text: str, name: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as err:
        raise ValueError(f"{name}: expected comma-separated numbers, got {text!r}") from err
    if not values:
        raise ValueError(f"{name}: no values in {text!r}")
    return values


def _run_lm_tune(args: argparse.Namespace) -> int:
    import json

    from dslearn.inference import pretrained_lm_path, resolve_lm, tune_lm_weights, tuned_path

    lm = resolve_lm(args.lm) or pretrained_lm_path()
    if lm is None:
        raise FileNotFoundError("no LM shipped here: pass --lm LM.arpa")
    if not Path(lm).exists():
        raise FileNotFoundError(f"{lm}: language model not found")
    search = {}
    if args.beam_tokens is not None:
        tokens = args.beam_tokens.strip().lower()
        if tokens != "all" and not (tokens.isdigit() and int(tokens) > 0):
            raise ValueError(f"--beam-tokens: a positive number or 'all', got {args.beam_tokens!r}")
        search["beam_size_token"] = None if tokens == "all" else int(tokens)
    asr = _load_for_inference(args)
    result = tune_lm_weights(
        asr,
        args.manifest,
        lm,
        alphas=_parse_floats(args.alphas, "--alphas"),
        betas=_parse_floats(args.betas, "--betas"),
        beam_size=args.beam_size,
        max_utterances=args.max_utterances,
        **search,
    )
    result["lm"] = str(lm)
    result["model"] = asr.source
    out = args.out or tuned_path(lm)
    Path(out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(
        f"best alpha {result['alpha']} beta {result['beta']}: WER {result['wer']:.4f} "
        f"CER {result['cer']:.4f} (greedy WER {result['greedy_wer']:.4f}) on {result['n']} "
        f"utterances; wrote {out}"
    )
    return 0


def _add_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="import real speech corpora into manifests")
    data_sub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    d = data_sub.add_parser(
        "prepare",
        help="write manifests for a corpus in its published layout",
        description="Walk a corpus folder (LibriSpeech, FSDD, LJSpeech, Common Voice, TIMIT-style, "
        "the Asterisk prompts, or any folder of audio + same-named .txt) and write one manifest "
        "per split into --out, plus rejected.jsonl naming every utterance that could not be used "
        "and why. Downloads "
        "only with --download (resumable, sha256-checked, safe extraction).",
    )
    from dslearn.corpora import NAMES

    d.add_argument("name", choices=NAMES, help="corpus format")
    d.add_argument(
        "--root", required=True, type=Path, help="folder holding (or to receive) the corpus"
    )
    d.add_argument("--out", type=Path, help="manifest folder (default: ROOT/manifests)")
    d.add_argument(
        "--subset", action="append", help="LibriSpeech subset / Common Voice split; repeatable"
    )
    d.add_argument("--download", action="store_true", help="fetch missing archives into ROOT")
    d.add_argument(
        "--allow-unverified", action="store_true", help="download files dslearn knows no sha256 for"
    )
    d.add_argument(
        "--lm", help="LibriSpeech LM to convert to lowercase ARPA (e.g. 3-gram.pruned.1e-7)"
    )
    d.add_argument("--no-progress", action="store_true", help="no progress bars")
    d.set_defaults(func=_run_data_prepare)
    m = data_sub.add_parser(
        "mix",
        help="combine manifests into one training manifest (repeats, held-out speakers)",
        description="Write one manifest holding the utterances of several: MANIFEST*N repeats "
        "a manifest's utterances N times (to weigh a small corpus more), --exclude-speaker "
        "leaves a speaker out (to keep it for testing). The result is shuffled.",
    )
    m.add_argument("manifests", nargs="+", help="MANIFEST or MANIFEST*N")
    m.add_argument("--out", required=True, type=Path, help="manifest to write")
    m.add_argument("--exclude-speaker", action="append", default=[], help="repeatable")
    m.add_argument("--seed", type=int, default=0, help="shuffle seed")
    m.set_defaults(func=_run_data_mix)


def _run_data_prepare(args: argparse.Namespace) -> int:
    from dslearn.corpora import prepare

    report = prepare(
        args.name, args.root, args.out or args.root / "manifests", subsets=args.subset,
        download=args.download, allow_unverified=args.allow_unverified, lm=args.lm,
        progress=not args.no_progress,
    )  # fmt: skip
    print(report.summary())
    return 0


def _run_data_mix(args: argparse.Namespace) -> int:
    from dslearn.data import mix_manifests, write_manifest

    sources = []
    for spec in args.manifests:
        path, star, repeat = spec.rpartition("*") if "*" in spec else (spec, "", "1")
        if not repeat.isdigit():
            raise ValueError(f"{spec!r}: expected MANIFEST or MANIFEST*N with N a whole number")
        sources.append((path, int(repeat)))
    mixed = mix_manifests(sources, args.exclude_speaker, args.seed)
    write_manifest(args.out, mixed)
    hours = sum(u.duration for u in mixed) / 3600
    print(f"wrote {args.out}: {len(mixed)} utterances, {hours:.2f} h")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dslearn",
        description="Learn and build DeepSpeech-style CTC speech recognition.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_synth(sub)
    _add_model(sub)
    _add_train(sub)
    _add_eval(sub)
    _add_transcribe(sub)
    _add_align(sub)
    _add_export(sub)
    _add_lm(sub)
    _add_data(sub)
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
