"""What forced-alignment scores look like when the transcript is not what was said.

    python benchmarks/alignment_mismatch.py                    # shipped model, about 1 min on a CPU
    python benchmarks/alignment_mismatch.py --model RUN_DIR

Sentences: 6 fixed ones and ``-n`` from the corpus generator (``dslearn.synth.generate_sentence``).
Forced alignment always finds a path, so ``dslearn align`` judges the transcript by the path's
scores (``dslearn.align.alignment_warnings``). This measures them on espeak-ng clips: each sentence
is aligned to itself (``match``), to itself after noise and reverberation (``noisy``), to itself
with its middle word replaced (``one word``) and to another sentence (``mismatch``). The
thresholds ``MISMATCH_PATH_PROBABILITY`` (on the mean path probability per frame) and
``UNHEARD_WORD_SCORE`` (on the lowest word score) must separate ``match``/``noisy`` from the rest.
"""

from __future__ import annotations

import argparse
import random

import torch

from dslearn.align import MISMATCH_PATH_PROBABILITY, UNHEARD_WORD_SCORE
from dslearn.inference import load_model
from dslearn.synth import generate_sentence, synthesize

SENTENCES = [
    "turn on the lights in the kitchen",
    "what is the weather like in paris today",
    "remind me to call my mother at seven thirty",
    "the quick brown fox jumps over the lazy dog",
    "set a timer for ten minutes",
    "play some music in the living room",
]
VOICES = ["en-us+m3", "en-us+f2", "en-gb-scotland+m1", "en+f3", "en-us-nyc+m2"]
KINDS = ("match", "noisy", "one word", "mismatch")


def measure(asr, sentences=SENTENCES, voices=VOICES) -> list[dict]:
    """One ``{"kind", "path_probability", "min_word_score"}`` per (sentence, kind)."""
    rows = []
    for i, sentence in enumerate(sentences):
        voice = voices[i % len(voices)]
        clean = torch.from_numpy(synthesize(sentence, voice=voice, seed=i)[0])
        noisy = synthesize(sentence, voice=voice, seed=i, noise_snr_db=10, reverb_rt60=0.4)[0]
        words = sentence.split()
        words[len(words) // 2] = "banana"
        cases = {
            "match": (clean, sentence),
            "noisy": (torch.from_numpy(noisy), sentence),
            "one word": (clean, " ".join(words)),
            "mismatch": (clean, sentences[(i + 1) % len(sentences)]),
        }
        for kind, (wave, text) in cases.items():
            result = asr.align(wave, text)
            rows.append(
                {
                    "kind": kind,
                    "path_probability": result.score,
                    "min_word_score": min(w.score for w in result.words),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="checkpoint or run dir (default: shipped)")
    parser.add_argument("-n", type=int, default=30, help="generated sentences besides the fixed")
    args = parser.parse_args()
    rng = random.Random(1)
    sentences = SENTENCES + [generate_sentence(rng) for _ in range(args.n)]
    rows = measure(load_model(args.model), sentences)
    print(f"{len(sentences)} sentences in {len(VOICES)} voices")
    print(f"{'kind':<10} {'path probability / frame':>26} {'lowest word score':>20}")
    for kind in KINDS:
        paths = [r["path_probability"] for r in rows if r["kind"] == kind]
        words = [r["min_word_score"] for r in rows if r["kind"] == kind]
        print(
            f"{kind:<10} {min(paths):>12.3f} .. {max(paths):<10.3f} "
            f"{min(words):>8.3f} .. {max(words):<8.3f}"
        )
    print(
        f"thresholds: MISMATCH_PATH_PROBABILITY={MISMATCH_PATH_PROBABILITY}, "
        f"UNHEARD_WORD_SCORE={UNHEARD_WORD_SCORE}"
    )


if __name__ == "__main__":
    main()
