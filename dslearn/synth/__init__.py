"""The embedded default corpus: English speech synthesized offline, by several engines.

Nothing is downloaded. ``pip install dslearn`` brings ``espeakng-loader``, a wheel that ships the
espeak-ng library and its voice data, so the default corpus needs nothing else; Flite and
Festival, with voices cut from real speakers' recordings, come from Debian packages
(``sudo apt-get install flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts``).

    sentences   generate_sentence / open_sentences: the text, normalized
    espeak      synthesize: espeak-ng (22050 Hz + WORD events) ─► 16 kHz ─► pad ─► reverb ─► noise
    flite       CMU Flite's voices           } one ``Engine`` interface (engine.py):
    festival    Festival's festvox voices    } ``get_engine(name).speak(text, voice, rate)``
    corpus      generate_corpus: OUT/audio/<split>/*.wav, OUT/<split>.jsonl, OUT/text/train.txt

Variation comes from the engines and their voices (espeak-ng's variants combined with its English
accents, Flite's and Festival's voices), and per utterance from speaking rate, pitch, volume,
background noise at a chosen SNR and a synthetic room. The ``test-unseen-voices`` split is
spoken only by voices that never occur in ``train``/``dev``/``test``; no sentence text occurs in
two splits. The effects the trainer applies on the fly live in ``dslearn.augment``.
"""

from dslearn.augment import (
    NOISE_COLORS,
    add_noise,
    add_noise_to_manifest,
    add_reverb,
    colored_noise,
    room_impulse_response,
)
from dslearn.synth.corpus import SPLITS, SynthConfig, describe_corpus, generate_corpus
from dslearn.synth.engine import SAMPLE_RATE, Engine, EngineMissing, SynthError, resample
from dslearn.synth.espeak import (
    ACCENTS,
    ESPEAK_RATE,
    TRAIN_VARIANTS,
    UNSEEN_VARIANTS,
    _engine,
    espeak_version,
    list_voices,
    synthesize,
)
from dslearn.synth.registry import ENGINES, available_engines, get_engine
from dslearn.synth.sentences import (
    ASSETS,
    COMMANDS,
    FREE_SENTENCES,
    NUMBER_SENTENCES,
    SENTENCE_KINDS,
    fill_template,
    generate_sentence,
    generate_sentences,
    open_sentences,
    vocabulary,
    word_list,
)

__all__ = [
    "ACCENTS", "ASSETS", "COMMANDS", "ENGINES", "ESPEAK_RATE", "FREE_SENTENCES", "NOISE_COLORS",
    "NUMBER_SENTENCES", "SAMPLE_RATE", "SENTENCE_KINDS", "SPLITS", "TRAIN_VARIANTS",
    "UNSEEN_VARIANTS", "Engine", "EngineMissing", "SynthConfig", "SynthError", "_engine",
    "add_noise", "add_noise_to_manifest", "add_reverb", "available_engines", "colored_noise",
    "describe_corpus", "espeak_version", "fill_template", "generate_corpus", "generate_sentence",
    "generate_sentences", "get_engine", "list_voices", "open_sentences", "resample",
    "room_impulse_response", "synthesize", "vocabulary", "word_list",
]  # fmt: skip
