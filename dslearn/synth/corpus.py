"""The corpus maker: sentences × engines × voices × prosody × rooms → WAV files and manifests.

    generate_corpus     OUT/audio/<split>/*.wav, OUT/<split>.jsonl, OUT/text/train.txt

Reproducibility. espeak-ng keeps state between utterances (its pitch-flutter phase and automatic
gain control live in C static variables that no API resets), so the same ``synthesize`` call can
differ slightly depending on what the process spoke before. ``generate_corpus`` therefore cuts the
utterance list into fixed shards and speaks each shard in a fresh process: the same seed and
config give the same bytes for any number of workers. espeak-ng also crashes, rarely, on some
combinations of voice, pitch and word; such an utterance is left out of the corpus and named in a
warning and in ``corpus.json`` (one utterance of the 42,278 in ``--hours 30 --seed 3``; none
in ``--hours 30 --seed 2`` or ``--hours 10 --seed 0``).
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import random
import shutil
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from dslearn.augment import NOISE_COLORS, add_noise, add_reverb
from dslearn.synth.engine import SAMPLE_RATE, SynthError, resample
from dslearn.synth.espeak import (
    ACCENTS,
    TRAIN_VARIANTS,
    UNSEEN_VARIANTS,
    espeak_version,
    synthesize,
)
from dslearn.synth.registry import get_engine
from dslearn.synth.sentences import generate_sentence, open_sentences

SPLITS = ("train", "dev", "test", "test-unseen-voices")


# --- the corpus ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthConfig:
    """Everything that decides the corpus. Same config, same bytes (for any number of workers)."""

    hours: float = 1.0  # audio in all four splits together, hours (estimated while planning)
    seed: int = 0  # seeds sentences, voices, prosody, noise and rooms
    sample_rate: int = SAMPLE_RATE  # Hz of the written WAV files (16-bit PCM, mono)
    dev_fraction: float = 0.05  # share of `hours` for dev
    test_fraction: float = 0.05  # share of `hours` for test
    unseen_fraction: float = 0.05  # share of `hours` for test-unseen-voices; train gets the rest
    min_utterances: int = 2  # per split, so that even a tiny corpus has every split
    voices: tuple[str, ...] = TRAIN_VARIANTS  # espeak-ng variants heard in train/dev/test
    unseen_voices: tuple[str, ...] = UNSEEN_VARIANTS  # variants heard only in test-unseen-voices
    accents: tuple[str, ...] = ACCENTS  # espeak-ng English voices combined with the variants
    rate_wpm: tuple[int, int] = (130, 220)  # speaking rate range, words per minute
    pitch: tuple[int, int] = (25, 75)  # espeak-ng pitch range, 0–100 (50: the variant's own)
    pitch_range: tuple[int, int] = (20, 90)  # intonation range, 0 (monotone) – 100
    volume: tuple[int, int] = (50, 100)  # espeak-ng amplitude; some variants clip above 100
    pad_seconds: tuple[float, float] = (0.05, 0.35)  # silence before and after speech, seconds
    noise_probability: float = 0.3  # share of utterances with background noise
    snr_db: tuple[float, float] = (5.0, 30.0)  # SNR range of that noise, dB
    noise_colors: tuple[str, ...] = ("white", "pink", "brown")  # noise spectra to choose from
    reverb_probability: float = 0.2  # share of utterances in a synthetic room
    rt60: tuple[float, float] = (0.2, 0.8)  # reverberation time range, seconds to decay 60 dB
    drr_db: tuple[float, float] = (0.0, 10.0)  # direct-to-reverberant ratio range, dB
    command_weight: float = 0.4  # share of voice-assistant commands with slots
    number_weight: float = 0.2  # share of sentences about numbers, dates, times and money
    free_weight: float = 0.4  # share of free sentences from the vocabulary
    digits_weight: float = 0.0  # share of digit strings ("four one seven"): the course's easy task
    text_sentences: int = 20000  # generated sentences added to the train text in text/train.txt
    engines: tuple[str, ...] = ("espeak",)  # speech engines to choose from (see ENGINES)
    engine_rate: tuple[float, float] = (0.8, 1.25)  # relative speed range of non-espeak engines
    open_weight: float = 0.0  # share of sentences from open text (WordNet's examples)
    long_probability: float = 0.0  # share of utterances that are several sentences with pauses
    long_sentences: tuple[int, int] = (2, 5)  # sentences in such an utterance
    long_pause: tuple[float, float] = (0.3, 1.2)  # silence between its sentences, seconds
    long_voice_change: float = 0.3  # chance that each next sentence has another voice
    utterances_per_process: int = 16  # shard size: each shard is spoken by a fresh process

    def __post_init__(self) -> None:
        if not self.hours > 0:
            raise ValueError(f"hours must be positive, got {self.hours}")
        if self.dev_fraction + self.test_fraction + self.unseen_fraction >= 1:
            raise ValueError("dev, test and unseen fractions must leave something for train")
        overlap = set(self.voices) & set(self.unseen_voices)
        if overlap:
            raise ValueError(f"voices in both train and unseen lists: {sorted(overlap)}")
        if not self.voices or not self.unseen_voices or not self.accents:
            raise ValueError("voices, unseen_voices and accents must not be empty")
        for name in ("rate_wpm", "pitch", "pitch_range", "volume", "pad_seconds", "snr_db", "rt60",
                     "drr_db"):  # fmt: skip
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name}: range {low}..{high} is reversed")
        if not self.engines:
            raise ValueError("engines must not be empty")
        from dslearn.synth.registry import ENGINES

        for name in self.engines:
            if name not in ENGINES:
                raise ValueError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
        for name in ("open_weight", "long_probability", "long_voice_change"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in 0..1, got {getattr(self, name)}")
        for color in self.noise_colors:
            if color not in NOISE_COLORS:
                raise ValueError(f"noise color {color!r}: choose from {', '.join(NOISE_COLORS)}")
        if self.utterances_per_process < 1 or self.min_utterances < 1:
            raise ValueError("utterances_per_process and min_utterances must be at least 1")

    def split_fractions(self) -> dict[str, float]:
        rest = self.dev_fraction + self.test_fraction + self.unseen_fraction
        return {"train": 1 - rest, "dev": self.dev_fraction, "test": self.test_fraction,
                "test-unseen-voices": self.unseen_fraction}  # fmt: skip


def _estimated_seconds(text: str, rate_wpm: int, pad: tuple[float, float]) -> float:
    # Least-squares fit on 500 utterances of espeak-ng 1.52 (about 11% error per utterance).
    return (8.8 * len(text) + 23.0) / rate_wpm + sum(pad)


def _pick_text(rng: random.Random, kinds: dict, config: SynthConfig, pool: tuple[str, ...],
               used: set[str], split: str) -> str:  # fmt: skip
    """A sentence no split has used yet: open text with probability ``open_weight``."""
    for _ in range(1000):
        if pool and rng.random() < config.open_weight:
            text = rng.choice(pool)
        else:
            text = generate_sentence(rng, kinds)
        if text not in used:  # no sentence in two splits
            used.add(text)
            return text
    raise SynthError(f"ran out of distinct sentences while planning {split}")


def _pick_voice(rng: random.Random, config: SynthConfig, split: str) -> tuple[str, str]:
    """``(engine, voice)``: unseen voices for test-unseen-voices, the others elsewhere."""
    unseen = split == "test-unseen-voices"
    engine = config.engines[0] if len(config.engines) == 1 else rng.choice(config.engines)
    if engine == "espeak":  # accents x variants, from the config
        variants = config.unseen_voices if unseen else config.voices
        return engine, f"{rng.choice(config.accents)}+{rng.choice(variants)}"
    voices = get_engine(engine, require=False)
    return engine, rng.choice(voices.unseen_voices if unseen else voices.voices)


def _plan(config: SynthConfig) -> tuple[list[dict], list[str]]:
    """Every utterance with all its random choices, in a fixed order; and the LM text lines."""
    kinds = {"command": config.command_weight, "number": config.number_weight,
             "free": config.free_weight, "digits": config.digits_weight}  # fmt: skip
    kinds = {kind: weight for kind, weight in kinds.items() if weight > 0}
    pool = open_sentences() if config.open_weight > 0 else ()
    used: set[str] = set()
    tasks: list[dict] = []
    for split, fraction in config.split_fractions().items():
        rng = random.Random(f"dslearn.synth/{config.seed}/{split}")  # str seeds are stable
        target, planned, count = config.hours * 3600 * fraction, 0.0, 0
        while planned < target or count < config.min_utterances:
            text = _pick_text(rng, kinds, config, pool, used, split)
            pad = tuple(round(rng.uniform(*config.pad_seconds), 3) for _ in range(2))
            engine, voice = _pick_voice(rng, config, split)
            task = {
                "split": split,
                "path": f"audio/{split}/{split}-{count:06d}.wav",
                "text": text,
                "voice": voice,
                "rate": rng.randint(*config.rate_wpm),
                "pitch": rng.randint(*config.pitch),
                "pitch_range": rng.randint(*config.pitch_range),
                "volume": rng.randint(*config.volume),
                "pad": pad,
                "noise_snr_db": None,
                "noise_color": "white",
                "reverb_rt60": None,
                "reverb_drr_db": 0.0,
                "seed": rng.getrandbits(31),
            }
            if rng.random() < config.noise_probability:
                task["noise_snr_db"] = round(rng.uniform(*config.snr_db), 1)
                task["noise_color"] = rng.choice(config.noise_colors)
            if rng.random() < config.reverb_probability:
                task["reverb_rt60"] = round(rng.uniform(*config.rt60), 2)
                task["reverb_drr_db"] = round(rng.uniform(*config.drr_db), 1)
            if engine != "espeak":
                task["engine"] = engine
                task["engine_rate"] = round(rng.uniform(*config.engine_rate), 2)
            wpm = task["rate"] if engine == "espeak" else 175 * task["engine_rate"]
            seconds = _estimated_seconds(text, wpm, pad)
            if config.long_probability > 0 and rng.random() < config.long_probability:
                parts = [(text, engine, voice)]
                task["pauses"] = []
                for _ in range(rng.randint(*config.long_sentences) - 1):
                    if rng.random() < config.long_voice_change:
                        engine, voice = _pick_voice(rng, config, split)
                    parts.append((_pick_text(rng, kinds, config, pool, used, split), engine, voice))
                    task["pauses"].append(round(rng.uniform(*config.long_pause), 2))
                    seconds += _estimated_seconds(parts[-1][0], wpm, (0, 0)) + task["pauses"][-1]
                task["parts"] = parts
                task["text"] = " ".join(part[0] for part in parts)
            tasks.append(task)
            planned += seconds
            count += 1
    held_out = {t["text"] for t in tasks if t["split"] != "train"}
    held_out |= {p[0] for t in tasks if t["split"] != "train" for p in t.get("parts", ())}
    lines = [t["text"] for t in tasks if t["split"] == "train"]
    rng = random.Random(f"dslearn.synth/{config.seed}/text")
    extra = 0
    while extra < config.text_sentences:
        if pool and rng.random() < config.open_weight:
            sentence = rng.choice(pool)
        else:
            sentence = generate_sentence(rng, kinds)
        if sentence not in held_out:  # the LM must not have seen dev/test sentences
            lines.append(sentence)
            extra += 1
    return tasks, lines


def _speak_task(task: dict, sample_rate: int) -> tuple[np.ndarray, list[dict] | None]:
    """One planned utterance: its audio and word times (None where an engine reports none)."""
    parts = task.get("parts") or [(task["text"], task.get("engine", "espeak"), task["voice"])]
    if len(parts) == 1 and parts[0][1] == "espeak":  # espeak-ng does the effects itself
        return synthesize(
            task["text"], task["voice"], task["rate"], task["pitch"], task["pitch_range"],
            task["volume"], pad=task["pad"], noise_snr_db=task["noise_snr_db"],
            noise_color=task["noise_color"], reverb_rt60=task["reverb_rt60"],
            reverb_drr_db=task["reverb_drr_db"], seed=task["seed"], sample_rate=sample_rate,
        )  # fmt: skip
    lead, trail = (int(round(p * sample_rate)) for p in task["pad"])
    pieces: list[np.ndarray] = [np.zeros(lead, np.float32)]
    words: list[dict] | None = []
    offset = lead
    pauses = [*task.get("pauses", ()), 0.0]
    for i, (text, engine, voice) in enumerate(parts):
        if engine == "espeak":
            audio, timed = synthesize(
                text, voice, task["rate"], task["pitch"], task["pitch_range"], task["volume"],
                pad=(0.0, 0.0), seed=task["seed"] + i, sample_rate=sample_rate,
            )  # fmt: skip
        else:
            rate = task.get("engine_rate", round(task["rate"] / 175, 2))  # espeak-ng led: its speed
            audio, timed = get_engine(engine).speak(text, voice, rate, task["seed"])
            audio = resample(audio, SAMPLE_RATE, sample_rate) * np.float32(task["volume"] / 100)
        if timed is None:
            words = None
        elif words is not None:
            words += [{"word": w["word"], "start": w["start"] + offset / sample_rate,
                       "end": w["end"] + offset / sample_rate} for w in timed]  # fmt: skip
        gap = np.zeros(int(round(pauses[i] * sample_rate)), np.float32)
        pieces += [audio.astype(np.float32), gap]
        offset += len(audio) + len(gap)
    pieces.append(np.zeros(trail, np.float32))
    audio = np.concatenate(pieces)
    rng = np.random.default_rng(task["seed"])
    if task["reverb_rt60"] is not None:
        audio = add_reverb(audio, task["reverb_rt60"], sample_rate, task["reverb_drr_db"], rng)
    if task["noise_snr_db"] is not None:
        audio = add_noise(audio, task["noise_snr_db"], task["noise_color"], rng, (lead, offset))
    peak = float(np.abs(audio).max())
    if peak > 0.99:
        audio = audio * np.float32(0.99 / peak)  # scale rather than clip; keeps the SNR
    return audio, words


def _speak_shard(
    job: tuple[int, str, int, list[dict]], skip: frozenset[int], conn
) -> tuple[int, str, list[dict | None]]:
    """Worker: synthesize and write one shard; returns its index, espeak-ng's version, its lines.

    ``skip``: positions in the shard not to speak (their line is None). ``conn``: a pipe end on
    which the position about to be spoken is sent first, so that the parent can tell which
    utterance a crash inside espeak-ng interrupted.
    """
    index, out_dir, sample_rate, tasks = job
    rows: list[dict | None] = []
    for position, task in enumerate(tasks):
        if position in skip:
            rows.append(None)
            continue
        conn.send(("speaking", position))
        audio, words = _speak_task(task, sample_rate)
        pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)
        path = Path(out_dir) / task["path"]
        sf.write(str(path), pcm, sample_rate, subtype="PCM_16")
        rows.append({
            "audio_filepath": task["path"],
            "duration": len(pcm) / sample_rate,
            "text": task["text"],
            "speaker": f"{task['engine']}:{task['voice']}" if "engine" in task else task["voice"],
        })  # fmt: skip
        if words is not None:  # engines without word timings get none rather than invented ones
            rows[-1]["words"] = [{"word": w["word"], "start": round(w["start"], 3),
                                  "end": round(w["end"], 3)} for w in words]  # fmt: skip
    return index, espeak_version(), rows


def _shard_process(job: tuple, skip: frozenset[int], conn) -> None:
    """Body of a shard's process: its lines, or its Python exception, go back through ``conn``."""
    try:
        conn.send(("done", _speak_shard(job, skip, conn)))
    except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises it
        import traceback

        where = "".join(traceback.format_exception(error))
        try:
            conn.send(("error", (error, where)))
        except Exception:  # an exception that cannot be pickled: its text, then
            conn.send(("error", (RuntimeError(f"{type(error).__name__}: {error}"), where)))
    finally:
        conn.close()


def _speak_shards(jobs: list, workers: int, crashed: list[dict]) -> Iterable:
    """``_speak_shard(job)`` for every job, each in a new process; yields results as they finish.

    A fresh process per shard starts espeak-ng from a clean state (see the module docstring); the
    forkserver keeps that cheap: it imports this module once, then forks a process per shard.

    espeak-ng itself can crash on rare inputs: version 1.52's "rob" variant at a low pitch with a
    wide pitch range dies with a segmentation fault on the word "immediately", which no Python
    code can catch. When a shard's process dies that way, the utterance it was speaking is
    appended to ``crashed`` (its task and the exit code) and the shard is spoken again, from its
    start in a fresh process, without it. The outcome depends only on the shard, so the corpus
    stays the same for any number of workers. A process that dies before speaking anything, or a
    Python exception in a worker, stops the whole run.
    """
    from collections import deque
    from multiprocessing.connection import wait

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["dslearn.synth"])
    pending = deque((job, frozenset()) for job in jobs)
    running: dict = {}  # receiving pipe end -> [process, job, skip, position being spoken]
    try:
        while pending or running:
            while pending and len(running) < workers:
                job, skip = pending.popleft()
                receiver, sender = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_shard_process, args=(job, skip, sender), daemon=True)
                process.start()
                sender.close()  # the child holds the only sending end: its death means EOF here
                running[receiver] = [process, job, skip, None]
            for receiver in wait(list(running)):
                state = running[receiver]
                process, job, skip, position = state
                try:
                    kind, value = receiver.recv()
                except EOFError:  # the process died without a word: a crash inside espeak-ng
                    process.join()
                    del running[receiver]
                    receiver.close()
                    if position is None:
                        raise RuntimeError(
                            f"the process speaking shard {job[0]} died (exit code "
                            f"{process.exitcode}) before its first utterance"
                        ) from None
                    crashed.append({**job[3][position], "exit_code": process.exitcode})
                    # Queued first: a crashed shard is finished before any new one starts.
                    pending.appendleft((job, skip | {position}))
                    continue
                if kind == "speaking":
                    state[3] = value
                    continue
                process.join()
                del running[receiver]
                receiver.close()
                if kind == "error":
                    error, where = value
                    context = f"in the process speaking shard {job[0]}:\n{where}"
                    raise error from RuntimeError(context)
                yield value
    finally:  # on an error or Ctrl-C, stop the shards in flight
        for process, *_ in running.values():
            process.kill()
            process.join()


_CORPUS_FILES = ("corpus.json", *(f"{s}.jsonl" for s in SPLITS))


def _prepare_out_dir(out: Path, overwrite: bool) -> None:
    existing = [name for name in (*_CORPUS_FILES, "audio", "text") if (out / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{out} already holds a corpus ({', '.join(existing)}); pass overwrite=True "
            "(dslearn synth --overwrite) to replace it, or choose another folder"
        )
    for name in existing:  # only what generate_corpus writes; other files in `out` stay
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    for split in SPLITS:
        (out / "audio" / split).mkdir(parents=True, exist_ok=True)
    (out / "text").mkdir(exist_ok=True)


def generate_corpus(
    out_dir: str | os.PathLike,
    hours: float = 1.0,
    seed: int = 0,
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    **overrides,
) -> dict:
    """Synthesize the default corpus into ``out_dir``; returns a summary (see below).

    Writes, relative to ``out_dir``:
        ``audio/<split>/<split>-NNNNNN.wav``  16-bit mono WAV at ``sample_rate`` (16 kHz);
        ``<split>.jsonl`` for train, dev, test, test-unseen-voices: one JSON object per line with
            ``audio_filepath`` (relative to ``out_dir``), ``duration`` (seconds), ``text``
            (normalized), ``speaker`` (espeak-ng voice, "accent+variant") and ``words``
            (``[{"word", "start", "end"}]`` in seconds);
        ``text/train.txt``  sentences for language models: the train transcripts plus
            ``text_sentences`` generated ones, none of them a dev, test or unseen-voices sentence;
        ``corpus.json``  the config, the espeak-ng version and the summary (written last).

    Args:
        hours: total audio over all splits (planned from estimated durations, so approximate).
        seed: same seed and overrides give the same files, byte for byte, for any ``workers``.
        workers: processes (default: all CPU cores). Output does not depend on it.
        progress: show a progress bar.
        overwrite: replace a corpus already in ``out_dir`` (otherwise ``FileExistsError``).
        **overrides: any other ``SynthConfig`` field, e.g. ``noise_probability=0``.

    Returns ``{"out_dir", "seed", "hours", "utterances", "seconds_wall", "workers", "splits":
    {split: {"utterances", "hours", "voices", "manifest"}}, "text": {"path", "sentences"}}``,
    plus ``"crashed"`` (the planned utterances left out, with espeak-ng's exit code) when
    espeak-ng crashed on any (rare; a warning names them too: see ``_speak_shards``).
    """
    fields = {f.name for f in dataclasses.fields(SynthConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f"unknown SynthConfig fields {unknown}; known: {sorted(fields)}")
    config = SynthConfig(hours=hours, seed=seed, **overrides)
    out = Path(out_dir)
    started = time.perf_counter()
    tasks, lines = _plan(config)
    _prepare_out_dir(out, overwrite)

    size = config.utterances_per_process
    jobs = [
        (index, str(out), config.sample_rate, tasks[start : start + size])
        for index, start in enumerate(range(0, len(tasks), size))
    ]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    rows_by_job: dict[int, list[dict | None]] = {}
    versions: set[str] = set()
    crashed: list[dict] = []
    from tqdm.auto import tqdm

    with tqdm(total=len(tasks), unit="utt", desc="synth", disable=not progress) as bar:
        for index, version, rows in _speak_shards(jobs, workers, crashed):
            versions.add(version)
            rows_by_job[index] = rows
            bar.update(len(rows))
    rows = [row for index in range(len(jobs)) for row in rows_by_job[index]]
    crashed.sort(key=lambda task: task["path"])  # by file name, whatever order shards ended in
    if crashed:
        warnings.warn(
            f"espeak-ng crashed on {len(crashed)} of {len(tasks)} utterances, which the corpus "
            "leaves out (corpus.json lists them under summary.crashed): "
            + "; ".join(_describe_task(task) for task in crashed),
            stacklevel=2,
        )

    splits = {}
    for split in SPLITS:
        split_rows = [
            r for r, t in zip(rows, tasks, strict=True) if r is not None and t["split"] == split
        ]
        with open(out / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for row in split_rows:
                f.write(json.dumps(row) + "\n")
        splits[split] = {
            "utterances": len(split_rows),
            "hours": sum(r["duration"] for r in split_rows) / 3600,
            "voices": sorted({r["speaker"] for r in split_rows}),
            "manifest": f"{split}.jsonl",
        }
    (out / "text" / "train.txt").write_text(
        "".join(line + "\n" for line in lines), encoding="utf-8"
    )
    summary = {
        "seed": seed,
        "hours": sum(s["hours"] for s in splits.values()),
        "utterances": sum(s["utterances"] for s in splits.values()),
        "splits": splits,
        "text": {"path": "text/train.txt", "sentences": len(lines)},
    }
    if crashed:  # only then, so that corpora without crashes keep the corpus.json they had
        summary["crashed"] = crashed
    record = {
        "format": "dslearn.synth/1",
        "espeak_ng": ", ".join(sorted(versions)),
        "config": dataclasses.asdict(config),
        "summary": summary,
    }
    (out / "corpus.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    # Not in corpus.json, which must not change between runs that make identical corpora.
    summary = {"out_dir": str(out), **summary, "seconds_wall": time.perf_counter() - started,
               "workers": workers}  # fmt: skip
    return summary


def _describe_task(task: dict) -> str:
    return (
        f"{task['path']} ({task['text']!r}, voice {task['voice']}, rate {task['rate']}, pitch "
        f"{task['pitch']}, range {task['pitch_range']}: exit code {task['exit_code']})"
    )


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _variant(speaker: str) -> str:
    """What makes a voice: espeak-ng's variant ("m3" of "en-us+m3"), another engine's voice."""
    return speaker if ":" in speaker else speaker.partition("+")[2]


def describe_corpus(out_dir: str | os.PathLike, summary: dict | None = None) -> str:
    """A short human-readable account of a corpus folder: splits, hours, voices, examples."""
    out = Path(out_dir)
    lines = [f"Synthetic speech corpus in {out}"]
    header = (
        f"  {'split':<20}{'utterances':>11}{'hours':>9}{'minutes':>9}{'speakers':>9}{'variants':>9}"
    )
    lines.append(header)
    examples, train_variants = [], set()
    for split in SPLITS:
        path = out / f"{split}.jsonl"
        if not path.exists():
            lines.append(f"  {split:<20}{'missing':>11}")
            continue
        rows = _read_jsonl(path)
        seconds = sum(r["duration"] for r in rows)
        speakers = {r.get("speaker", "?") for r in rows}  # "accent+variant" or "engine:voice"
        variants = {_variant(v) for v in speakers}
        if split != "test-unseen-voices":
            train_variants |= variants
        lines.append(f"  {split:<20}{len(rows):>11}{seconds / 3600:>9.3f}{seconds / 60:>9.1f}"
                     f"{len(speakers):>9}{len(variants):>9}")  # fmt: skip
        if rows:
            examples.append((split, rows[0]))
    unseen_path = out / "test-unseen-voices.jsonl"
    if unseen_path.exists():
        unseen = {_variant(r["speaker"]) for r in _read_jsonl(unseen_path)}
        shared = unseen & train_variants
        lines.append(f"  unseen variants ({', '.join(sorted(unseen))}) "
                     + ("also in other splits: " + ", ".join(sorted(shared)) if shared
                        else "never occur in train/dev/test"))  # fmt: skip
    text_path = out / "text" / "train.txt"
    if text_path.exists():
        text_lines = text_path.read_text(encoding="utf-8").splitlines()
        n_words = sum(len(t.split()) for t in text_lines)
        vocab = len({w for t in text_lines for w in t.split()})
        lines.append(f"  LM text: {text_path.relative_to(out)} ({len(text_lines)} sentences, "
                     f"{n_words} words, {vocab} distinct)")  # fmt: skip
    if summary and summary.get("crashed"):
        lines.append(f"  left out: {len(summary['crashed'])} planned utterance(s) on which "
                     "espeak-ng crashed (corpus.json: summary.crashed)")  # fmt: skip
    if summary and "seconds_wall" in summary:
        wall = max(summary["seconds_wall"], 1e-9)
        speed = summary["hours"] * 3600 / wall
        lines.append(f"  generated in {wall:.1f} s with {summary['workers']} workers "
                     f"({speed:.0f}x real time)")  # fmt: skip
    lines.append("Examples (word timings in seconds, where the engine reports them):")
    for split, row in examples:
        lines.append(f"  [{split}] {row['audio_filepath']}  {row['duration']:.2f} s  "
                     f"{row.get('speaker', '?')}")  # fmt: skip
        lines.append(f"    {row['text']!r}")
        if "words" in row:
            timing = " ".join(f"{w['word']}@{w['start']:.2f}-{w['end']:.2f}" for w in row["words"])
            lines.append(f"    {timing}")
        else:
            lines.append("    (no word timings: this engine does not report them)")
    return "\n".join(lines)
