"""How close are forced-alignment word boundaries to espeak-ng's? Prints a table per convention.

    python benchmarks/alignment.py --manifest CORPUS/test.jsonl     # shipped model, 200 utterances
    python benchmarks/alignment.py --manifest CORPUS/test.jsonl --model RUN_DIR -n 500

Each line of a synthetic manifest (``dslearn synth``) carries espeak-ng's word timings,
``"words": [{"word", "start", "end"}]`` in seconds. Every utterance's manifest text is aligned to
its audio with ``dslearn.align`` and each word's start and end are compared with espeak-ng's. A
word counts as *within* when its error is at most ``--tolerance`` seconds (both boundaries for the
main column). Signed mean errors show a systematic shift (positive: the aligner is late). Target
from the issue: at least 90% of words with both boundaries within 50 ms.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

from dslearn import align as alignment
from dslearn.inference import load_model
from dslearn.text import normalize


def read_lines(manifest: Path, n: int) -> list[dict]:
    lines = []
    with open(manifest) as f:
        for line in f:
            if line.strip():
                lines.append(json.loads(line))
            if len(lines) == n:
                break
    return lines


def summarize(errors: list[tuple[float, float]], tolerance: float) -> dict:
    """Fractions within ``tolerance`` and typical errors, from (start error, end error) pairs."""
    starts = [s for s, _ in errors]
    ends = [e for _, e in errors]
    n = max(1, len(errors))
    return {
        "words": len(errors),
        "both": sum(abs(s) <= tolerance and abs(e) <= tolerance for s, e in errors) / n,
        "start": sum(abs(s) <= tolerance for s in starts) / n,
        "end": sum(abs(e) <= tolerance for e in ends) / n,
        "median_abs_start_ms": 1000 * statistics.median(abs(s) for s in starts),
        "median_abs_end_ms": 1000 * statistics.median(abs(e) for e in ends),
        "mean_start_ms": 1000 * statistics.fmean(starts),
        "mean_end_ms": 1000 * statistics.fmean(ends),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True, help="manifest from `dslearn synth`")
    parser.add_argument("--model", default=None, help="checkpoint or run dir (default: shipped)")
    parser.add_argument("-n", type=int, default=200, help="first N utterances of the manifest")
    parser.add_argument("--tolerance", type=float, default=0.05, help="seconds (default 0.05)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args()

    manifest = Path(args.manifest)
    asr = load_model(args.model)
    lines = read_lines(manifest, args.n)
    # Each convention as ``align`` gives it (first word from the speech onset), and "space"
    # without that refinement, to show what it is worth.
    errors: dict[str, list[tuple[float, float]]] = {name: [] for name in alignment.BOUNDARIES}
    errors["space, no onset"] = []
    # Where the errors are: every word's start but the utterance's first (whose onset follows
    # leading silence) under the convention that scores best.
    later_starts: list[tuple[float, float]] = []
    failed, mismatched, audio_seconds = [], 0, 0.0
    started = time.perf_counter()
    for line in lines:
        wav = manifest.parent / line["audio_filepath"]  # relative to the manifest's folder
        audio_seconds += line["duration"]
        # The emissions and the path do not depend on the convention: compute them once.
        text = normalize(line["text"])
        try:
            wave = asr.as_audio(wav)
            log_probs = asr.chunked_emissions(wave)
            path, scores = alignment.forced_align(log_probs, asr.alphabet.encode(text), text=text)
        except ValueError as err:  # too short for its transcript, or not in the alphabet
            failed.append(f"{wav}: {err}")
            continue
        chars = alignment.token_segments(path, scores)
        reference = line["words"]
        onset = alignment.speech_onset(wave, asr.sample_rate)
        for name in errors:
            convention = name.split(",")[0]
            words = alignment.word_segments(chars, asr.alphabet, asr.frame_shift, convention)
            if name == convention:
                words = alignment.with_speech_onset(words, onset)
            if [w.word for w in words] != [r["word"] for r in reference]:
                mismatched += name == alignment.BOUNDARIES[0]
                continue
            for i, (w, r) in enumerate(zip(words, reference)):
                errors[name].append((w.start - r["start"], w.end - r["end"]))
                if name == "space" and i > 0:
                    later_starts.append((w.start - r["start"], w.end - r["end"]))
    wall = time.perf_counter() - started

    tol_ms = round(1000 * args.tolerance)
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"model: {asr.source} (frame shift {1000 * asr.frame_shift:.0f} ms)")
    print(
        f"manifest: {manifest}, {len(lines)} utterances, {audio_seconds:.0f} s of audio, "
        f"aligned in {wall:.1f} s; {len(failed)} failed, {mismatched} with other words"
    )
    header = (
        f"{'boundaries':<16} {'words':>6} {f'both<={tol_ms}ms':>13} {'start':>7} {'end':>7} "
        f"{'med|ds|':>8} {'med|de|':>8} {'mean ds':>8} {'mean de':>8}"
    )
    print(header)
    print("-" * len(header))
    results = {}
    for name, errs in errors.items():
        if not errs:
            continue
        r = results[name] = summarize(errs, args.tolerance)
        print(
            f"{name:<16} {r['words']:>6} {r['both']:>13.1%} {r['start']:>7.1%} {r['end']:>7.1%} "
            f"{r['median_abs_start_ms']:>6.0f}ms {r['median_abs_end_ms']:>6.0f}ms "
            f"{r['mean_start_ms']:>+6.0f}ms {r['mean_end_ms']:>+6.0f}ms"
        )
    if later_starts:
        r = summarize(later_starts, args.tolerance)
        print(
            f"space, words after each utterance's first: {r['start']:.1%} of starts within "
            f"{tol_ms} ms, both {r['both']:.1%} ({r['words']} words)"
        )
        results["space_after_first"] = r
    for problem in failed[:5]:
        print("failed:", problem)
    if args.json:
        summary = {"model": asr.source, "manifest": str(manifest), "utterances": len(lines)}
        with open(args.json, "w") as f:
            json.dump({**summary, "tolerance": args.tolerance, "results": results}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
