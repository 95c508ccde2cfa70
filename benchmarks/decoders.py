"""CTC decoders side by side on the same posteriors: WER and utterances per second.

    python benchmarks/decoders.py --manifest CORPUS/test.jsonl [--model M] [--lm LM.arpa]
        [--alpha A --beta B] [--beam-size 32] [--beam-threshold 15] [--beam-size-token 6]
        [-n 0] [--threads 1] [--json out.json]

The acoustic model runs once over the manifest; then each decoder decodes the same cached
posteriors, one utterance at a time (no batching, no worker pools), and only decoding is timed:

* greedy (``dslearn.decoding.GreedyDecoder``);
* our readable prefix beam search in Python with the word LM (``PrefixBeamSearchDecoder``);
* our fast LM beam search (flashlight-text through torchaudio, KenLM; ``LMBeamSearchDecoder``);
* pyctcdecode with the same ARPA file, the same beam width, and the LM's words as its unigram
  list. pyctcdecode scales the LM's natural-log score by its alpha, KenLM/flashlight scale the
  log10 score; it gets ``alpha / ln(10)`` so both weigh the LM the same.

alpha/beta default to the values ``dslearn lm tune`` stored beside the LM (``LM.tuned.json``).
Reported: WER, CER, utterances per second, and each decoder's speed relative to pyctcdecode.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from datetime import date

import torch

from dslearn.data import read_manifest
from dslearn.decoding import LMBeamSearchDecoder, PrefixBeamSearchDecoder, arpa_vocabulary
from dslearn.inference import decoder_settings, load_model, pretrained_lm_path
from dslearn.lm import NGramLM
from dslearn.metrics import corpus_errors
from dslearn.text import normalize

HEAD = ("WER", "CER", "utt/s", "vs pyctc", "WER rel")


def pyctcdecode_decoder(alphabet, lm_path: str, alpha: float, beta: float):
    """pyctcdecode set up to search the same space as ours: same labels, LM and weights."""
    import kenlm
    from pyctcdecode import Alphabet as PyAlphabet
    from pyctcdecode import BeamSearchDecoderCTC, LanguageModel

    labels = [
        "" if i == alphabet.blank_id else " " if i == alphabet.space_id else s
        for i, s in enumerate(alphabet.tokens)
    ]
    lm = LanguageModel(
        kenlm.Model(lm_path),
        unigrams=arpa_vocabulary(lm_path),
        alpha=alpha / math.log(10),
        beta=beta,
    )
    return BeamSearchDecoderCTC(PyAlphabet(labels, False), lm)


def timed(name: str, decode, posteriors: list[torch.Tensor]) -> tuple[list[str], float]:
    decode(posteriors[0])  # warm-up: lazy initialisation is not decoding
    started = time.perf_counter()
    texts = [decode(p) for p in posteriors]
    seconds = time.perf_counter() - started
    print(f"  {name}: {len(posteriors) / seconds:.1f} utt/s", flush=True)
    return texts, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", required=True, help="e.g. CORPUS/test.jsonl")
    parser.add_argument("--model", help="checkpoint or run directory (default: shipped model)")
    parser.add_argument("--lm", help="ARPA LM (default: the LM shipped beside the model)")
    parser.add_argument("--alpha", type=float)
    parser.add_argument("--beta", type=float)
    parser.add_argument("--beam-size", type=int, default=32)
    parser.add_argument("--beam-threshold", type=float, default=15.0, help="ours, fast")
    parser.add_argument("--beam-size-token", type=int, default=6, help="ours, fast (0: all)")
    parser.add_argument("-n", type=int, default=0, help="first N utterances (0: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (acoustic model)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    lm_path = str(args.lm or pretrained_lm_path())
    settings = decoder_settings(lm_path)
    alpha = settings["alpha"] if args.alpha is None else args.alpha
    beta = settings["beta"] if args.beta is None else args.beta
    asr = load_model(args.model)
    utterances = read_manifest(args.manifest)[: args.n or None]
    refs = [normalize(u.text) for u in utterances]
    print(f"model {asr.source}\nLM {lm_path} (alpha {alpha}, beta {beta}, beam {args.beam_size})")
    print(f"{len(utterances)} utterances of {args.manifest}; computing posteriors once ...")
    posteriors = asr.emissions([u.audio_filepath for u in utterances], progress=True)

    def one(decoder):
        return lambda p: decoder(p[None], torch.tensor([p.shape[0]]))[0].text

    pyctc = pyctcdecode_decoder(asr.alphabet, lm_path, alpha, beta)
    decoders = {
        "greedy": one(asr.greedy),
        "prefix beam + LM (ours, readable)": one(
            PrefixBeamSearchDecoder(
                asr.alphabet,
                beam_size=args.beam_size,
                lm=NGramLM.from_arpa(lm_path),
                alpha=alpha,
                beta=beta,
                frame_shift=asr.frame_shift,
            )
        ),
        "LM beam (ours, fast)": one(
            LMBeamSearchDecoder(
                asr.alphabet,
                lm=lm_path,
                alpha=alpha,
                beta=beta,
                beam_size=args.beam_size,
                beam_threshold=args.beam_threshold,
                beam_size_token=args.beam_size_token or None,
            )
        ),
        "pyctcdecode + LM": lambda p: pyctc.decode(p.numpy(), beam_width=args.beam_size),
    }
    rows = []
    for name, decode in decoders.items():
        texts, seconds = timed(name, decode, posteriors)
        errors = corpus_errors(refs, [" ".join(t.split()) for t in texts])
        rows.append(
            {
                "decoder": name,
                "wer": errors["wer"],
                "cer": errors["cer"],
                "utt_per_sec": len(posteriors) / seconds,
            }
        )
    peer = next(r for r in rows if r["decoder"].startswith("pyctcdecode"))
    greedy = rows[0]
    print("\n" + f"{'decoder':36s}" + "".join(f"{h:>10s}" for h in HEAD))
    for r in rows:
        speed = r["utt_per_sec"] / peer["utt_per_sec"]
        rel = (r["wer"] - greedy["wer"]) / greedy["wer"] if greedy["wer"] else 0.0
        print(
            f"{r['decoder']:36s}{r['wer']:10.4f}{r['cer']:10.4f}{r['utt_per_sec']:10.1f}"
            f"{speed:9.2f}x{rel:+10.1%}"
        )
    if args.json:
        record = {
            "date": date.today().isoformat(),
            "machine": platform.platform(),
            "manifest": args.manifest,
            "model": asr.source,
            "lm": lm_path,
            "alpha": alpha,
            "beta": beta,
            "beam_size": args.beam_size,
            "beam_threshold": args.beam_threshold,
            "beam_size_token": args.beam_size_token,
            "n": len(utterances),
            "rows": rows,
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
