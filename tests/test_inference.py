"""Inference with the pretrained model shipped in the package, on freshly synthesized speech."""

import functools
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import dslearn
from dslearn import audio, synth
from dslearn.checkpoint import CheckpointError
from dslearn.inference import ChunkOptions, load_model, pretrained_path
from dslearn.metrics import cer, wer

SENTENCES = [
    "turn on the lights in the kitchen",
    "what is the weather like in paris today",
    "remind me to call my mother at seven thirty",
]


@pytest.fixture(scope="module")
def asr():
    return load_model()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    paths = []
    for i, text in enumerate(SENTENCES):
        wave, _ = synth.synthesize(text, voice="en-us+m3", seed=i)
        paths.append(audio.save(folder / f"clip{i}.wav", wave))
    return paths


def test_pretrained_model_is_shipped_small_and_safe():
    path = pretrained_path()
    assert path.suffix == ".safetensors"
    assert path.stat().st_size <= 25 * 1024 * 1024
    assert (path.parent / "TRAINING.md").is_file()


def test_the_model_and_its_lms_fit_the_40_mb_package_budget():
    from dslearn.inference import SHIPPED_LMS, pretrained_lm_path

    sizes = {"model": pretrained_path().stat().st_size}
    sizes |= {name: pretrained_lm_path(name).stat().st_size for name in SHIPPED_LMS}
    assert sum(sizes.values()) <= 40_000_000, sizes


def test_the_english_lm_knows_everyday_words_the_grammar_lm_never_saw():
    from dslearn.inference import pretrained_lm_path, resolve_lm
    from dslearn.lm import NGramLM

    english = NGramLM.from_arpa(resolve_lm("english"))
    grammar = NGramLM.from_arpa(pretrained_lm_path("grammar"))
    assert len(english.vocab) > 10 * len(grammar.vocab)
    everyday = {"river", "valley", "bread", "cheerful", "government", "yesterday", "quickly"}
    assert everyday <= english.vocab and not everyday <= grammar.vocab
    sentence = "the river flows quickly through the green valley"
    assert english.score_sentence(sentence) > grammar.score_sentence(sentence) + 5  # 10^5 likelier


def test_pretrained_model_reads_synthetic_speech(asr, clips):
    hyps = [h.text for h in asr.transcribe(list(clips))]
    assert cer(SENTENCES, hyps) < 0.15, hyps


def test_word_timestamps_are_ordered_and_inside_the_audio(asr, clips):
    hyp = asr.transcribe(clips[1])
    duration = audio.duration(clips[1])
    assert hyp.words and 0 < hyp.confidence <= 1
    starts = [w.start for w in hyp.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start < w.end <= duration + 0.05 for w in hyp.words)


@pytest.fixture(scope="module")
def long_recording(clips) -> torch.Tensor:
    """~30 s: the clips three times over, each followed by a 1 s pause."""
    waves = [audio.load(p) for p in clips]
    gap = torch.zeros(16000)  # a pause between sentences, as in real long recordings
    long = torch.cat([w for wave in waves * 3 for w in (wave, gap)])
    assert len(long) / 16000 > 25
    return long


@pytest.fixture(scope="module")
def long_transcripts(asr, long_recording):
    """The long recording in fixed 7 s chunks (no cutting at pauses) and in one pass."""
    fixed = ChunkOptions(chunk_seconds=7.0, overlap_seconds=2.0, cut_at_pauses=False)
    chunked = asr.transcribe(long_recording, chunks=fixed)
    one_pass = asr.transcribe(long_recording, chunks=ChunkOptions(chunk_seconds=60.0))
    return chunked, one_pass


def test_long_audio_is_cut_at_its_pauses_into_pieces_read_alone(asr, clips, long_recording):
    from dslearn import vad

    pieces = vad.cut_at_pauses(long_recording, 16000)
    assert len(pieces) == 3 * len(clips)  # one per sentence: the pause after the last is no cut
    whole = asr.transcribe(long_recording, chunks=ChunkOptions(chunk_seconds=7.0))
    alone = [asr.transcribe(long_recording[a:b]) for a, b in pieces]
    assert whole.text == " ".join(h.text for h in alone)
    # Every word in recording time, inside its own piece, in order.
    expected = [(w.word, a / 16000 + w.start) for (a, _), h in zip(pieces, alone) for w in h.words]
    assert [w.word for w in whole.words] == [word for word, _ in expected]
    assert [w.start for w in whole.words] == pytest.approx([t for _, t in expected], abs=1e-3)
    for (a, b), h in zip(pieces, alone):
        assert all(0 <= w.start < w.end <= (b - a) / 16000 + 0.05 for w in h.words)


def test_long_audio_is_chunked_in_order_and_close_to_one_pass(long_transcripts):
    chunked, one_pass = long_transcripts
    # Chunk edges change the model's context a little: a letter here and there, and where it
    # puts spaces ("kitchen what is" or "kitchenwatis"), so words are compared by time below.
    assert wer(one_pass.text, chunked.text) < 0.15, (one_pass.text, chunked.text)
    starts = [w.start for w in chunked.words]
    assert starts == sorted(starts) and starts[-1] > 25


def _covered(word, others) -> float:
    """Fraction of ``word``'s time span that the spans of ``others`` cover."""
    inside = sum(max(0.0, min(word.end, o.end) - max(word.start, o.start)) for o in others)
    return inside / (word.end - word.start)


@pytest.mark.xfail(
    strict=True,
    reason="known bug in inference._stitch: when two chunks place or split a word differently, a "
    "word of the later chunk that overlaps the word kept before it is dropped whole, with the "
    "letters it adds (with the stage 11 model 'remind' at 6.0 s is lost, and 'in' at 10.4 s and "
    "'me' at 15.8 s are placed where one pass hears no word; "
    "stitching posteriors instead was tried and loses letters in other places: "
    "docs/benchmarks.md, stage 10)",
)
def test_long_audio_is_chunked_without_losing_or_doubling_words(long_transcripts):
    chunked, one_pass = long_transcripts
    # Exact, by time: every word one pass hears is heard by the chunks (its span covered), every
    # word of the chunks was heard by one pass, and no two words of the chunks overlap (a word
    # kept from two chunks would). The 0.8 only absorbs boundaries moving by a frame or two.
    lost = [w for w in one_pass.words if _covered(w, chunked.words) < 0.8]
    extra = [w for w in chunked.words if _covered(w, one_pass.words) < 0.8]
    doubled = [(a, b) for a, b in zip(chunked.words, chunked.words[1:]) if b.start < a.end]
    assert (lost, extra, doubled) == ([], [], []), (one_pass.text, chunked.text)


def test_stitching_keeps_a_word_seen_by_two_chunks_once():
    from dslearn.decoding import Hypothesis, WordTiming
    from dslearn.inference import _stitch

    # Chunks [0, 7) s and [5, 12) s cut at 6 s. The first chunk places "kitchen" at 5.5-6.4 s
    # (middle 5.95: its own); the second hears it merged with the next word, at 5.5-7.2 s
    # (middle 6.35: also its own): one copy must go, and the starts must stay in order.
    opts = ChunkOptions(chunk_seconds=7.0, overlap_seconds=2.0)
    first = Hypothesis("the kitchen", 0.0, 0.9, words=[WordTiming("the", 5.0, 5.4),
                       WordTiming("kitchen", 5.5, 6.4)])  # fmt: skip
    second = Hypothesis("kitchenwhat is", 0.0, 0.9, words=[WordTiming("kitchenwhat", 0.5, 2.2),
                        WordTiming("is", 2.5, 2.7)])  # fmt: skip
    hyp = _stitch([first, second], [(0, 112000), (80000, 192000)], 16000, opts)
    assert [w.word for w in hyp.words] == ["the", "kitchen", "is"]
    starts = [w.start for w in hyp.words]
    assert starts == sorted(starts)


def test_top_level_api_and_tensor_input(clips):
    wave = audio.load(clips[0])
    assert dslearn.transcribe(wave).text == dslearn.transcribe(str(clips[0])).text
    with pytest.raises(ValueError, match=r"expected \(samples,\)"):
        dslearn.transcribe(np.zeros((2, 100), dtype=np.float32))


def test_load_model_errors_name_the_path(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_model(tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="junk.safetensors: not a safetensors file"):
        load_model(tmp_path / "junk.safetensors")


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "dslearn", *args], capture_output=True, text=True, timeout=300
    )


def test_transcribe_cli_with_timestamps(clips):
    out = _cli("transcribe", "--timestamps", "--json", "--threads", "1", str(clips[0]))
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout.splitlines()[-1])
    assert record["file"] == str(clips[0]) and record["words"]
    assert cer(SENTENCES[0], record["text"]) < 0.2


def test_transcribe_files_reports_bad_files_and_keeps_the_rest(asr, clips, tmp_path):
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF but nothing else")
    audio.save(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32))
    bad = [tmp_path / "corrupt.wav", tmp_path / "missing.wav", tmp_path / "empty.wav"]
    paths = [clips[0], bad[0], bad[1], bad[2], clips[1], clips[2]]
    # Groups of two files: one mixed, one all bad, one all good.
    results = list(asr.transcribe_files(paths, files_per_group=2))
    assert [r.path for r in results] == [str(p) for p in paths]
    want = [h.text for h in asr.transcribe(list(clips))]
    good = [results[0], results[4], results[5]]
    assert [r.hypothesis.text for r in good] == want and not any(r.error for r in good)
    for result, path in zip(results[1:4], bad):
        assert result.hypothesis is None and str(path) in result.error

    out = _cli("transcribe", "--threads", "1", *map(str, paths))
    assert out.returncode == 2
    assert out.stdout.splitlines() == [f"{clip}: {text}" for clip, text in zip(clips, want)]
    for path in bad:
        assert f"dslearn transcribe: error: {path}" in out.stderr
    assert "3 of 6 files could not be read; the other 3 are transcribed above" in out.stderr
    assert "Traceback" not in out.stderr


def test_transcribe_cli_summary_is_true_when_nothing_was_transcribed(tmp_path):
    out = _cli("transcribe", "--threads", "1", str(tmp_path / "missing.wav"))
    assert out.returncode == 2 and out.stdout == ""
    assert "could not be read; nothing was transcribed" in out.stderr
    assert "above" not in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "failed, total, says",
    [
        (1, 1, "the file could not be read; nothing was transcribed"),
        (3, 3, "none of the 3 files could be read; nothing was transcribed"),
        (1, 2, "1 of 2 files could not be read; the other one is transcribed above"),
        (2, 5, "2 of 5 files could not be read; the other 3 are transcribed above"),
    ],
)
def test_transcribe_summary_says_what_happened(failed, total, says):
    from dslearn.cli import _unreadable_summary

    assert _unreadable_summary(failed, total) == says


def test_eval_names_every_unreadable_file_before_decoding_any(asr, clips, tmp_path, monkeypatch):
    from dslearn.data import Utterance, write_manifest
    from dslearn.inference import evaluate, tune_lm_weights

    (tmp_path / "corrupt.wav").write_bytes(b"RIFF but nothing else")
    audio.save(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32))
    paths = [*clips, tmp_path / "corrupt.wav", tmp_path / "missing.wav", tmp_path / "empty.wav"]
    manifest = write_manifest(
        tmp_path / "m.jsonl",
        [Utterance(audio_filepath=p, duration=2.0, text="some words here") for p in paths],
    )
    decoded = []
    monkeypatch.setattr(type(asr), "log_probs", lambda *a: decoded.append(a))
    tune = functools.partial(tune_lm_weights, lm=tmp_path / "lm.arpa", alphas=[0.5], betas=[1.0])
    for run in (evaluate, tune):
        with pytest.raises(ValueError, match=r"m.jsonl \(audio files\) has 3 problem") as err:
            run(asr, manifest)
        for path in paths[3:]:
            assert str(path) in str(err.value)
    assert decoded == []  # found from the headers, before any audio reached the model


def test_eval_cli_json_last_line(tmp_path):
    synth.generate_corpus(tmp_path / "c", hours=0.01, seed=5, progress=False)
    out = _cli("eval", "--manifest", str(tmp_path / "c" / "test.jsonl"), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(result) >= {"wer", "cer", "n", "decoder"} and result["decoder"] == "greedy"
    assert result["n"] == len((tmp_path / "c" / "test.jsonl").read_text().splitlines())
    assert 0 <= result["cer"] < 0.3


def test_eval_cli_lm_decoder_beats_greedy(tmp_path):
    """The shipped LM (with its tuned alpha/beta) repairs errors greedy decoding makes."""
    synth.generate_corpus(tmp_path / "c", hours=0.02, seed=11, progress=False)
    manifest = str(tmp_path / "c" / "test.jsonl")
    results = {}
    for decoder in ("greedy", "lm"):
        out = _cli("eval", "--manifest", manifest, "--decoder", decoder, "--json")
        assert out.returncode == 0, out.stderr
        results[decoder] = json.loads(out.stdout.strip().splitlines()[-1])
    assert results["lm"]["decoder"] == "lm"
    assert results["lm"]["wer"] < results["greedy"]["wer"], results


def test_align_cli_json(tmp_path):
    text = "please open the window in the kitchen"
    wave, reference = synth.synthesize(text, voice="en-us+f2", seed=3)
    path = audio.save(tmp_path / "clip.wav", wave)
    out = _cli("align", str(path), text.upper() + "!", "--json")
    assert out.returncode == 0, out.stderr
    assert "warning" not in out.stderr, out.stderr  # the transcript matches
    record = json.loads(out.stdout.splitlines()[-1])
    assert [w["word"] for w in record["words"]] == text.split()
    for i, (got, ref) in enumerate(zip(record["words"], reference)):
        assert set(got) >= {"word", "start", "end"} and got["start"] < got["end"]
        assert abs(got["end"] - ref["end"]) < 0.1, (got, ref)
        # The shipped model fires an utterance's first letter at its very first frame, so the
        # first word's start is early (docs/benchmarks.md); later starts follow the speech.
        if i > 0:
            assert abs(got["start"] - ref["start"]) < 0.1, (got, ref)


def test_align_cli_warns_when_the_transcript_does_not_match(tmp_path):
    wave, _ = synth.synthesize("please open the window in the kitchen", voice="en-us+f2", seed=3)
    path = audio.save(tmp_path / "clip.wav", wave)
    out = _cli("align", str(path), "what time does the train to london leave")
    assert out.returncode == 0, out.stderr  # the alignment is still printed
    assert "leave" in out.stdout
    assert "warning: the transcript does not seem to match the audio" in out.stderr, out.stderr


def test_align_help_documents_the_mismatch_thresholds(capsys):
    from dslearn.align import MISMATCH_PATH_PROBABILITY, UNHEARD_WORD_SCORE
    from dslearn.cli import main

    with pytest.raises(SystemExit):
        main(["align", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"below {MISMATCH_PATH_PROBABILITY} (dslearn.align.MISMATCH_PATH_PROBABILITY" in text
    assert f"below {UNHEARD_WORD_SCORE} (dslearn.align.UNHEARD_WORD_SCORE" in text


def test_align_cli_explains_text_too_long_for_audio(tmp_path):
    wave, _ = synth.synthesize("hi", voice="en-us+m3")
    path = audio.save(tmp_path / "hi.wav", wave)
    out = _cli("align", str(path), "this sentence is far too long for such a short clip " * 3)
    assert out.returncode == 2
    assert "too short for the transcript" in out.stderr and "hi.wav" in out.stderr


def test_lm_tune_writes_weights_that_eval_picks_up(tmp_path):
    from dslearn.inference import decoder_settings

    corpus = tmp_path / "c"
    synth.generate_corpus(corpus, hours=0.01, seed=21, progress=False)
    lm = tmp_path / "lm.arpa"
    built = _cli("lm", "build", "--text", str(corpus / "text" / "train.txt"), "--order", "2",
                 "--out", str(lm))  # fmt: skip
    assert built.returncode == 0, built.stderr
    manifest = str(corpus / "dev.jsonl")
    tuned = _cli("lm", "tune", "--manifest", manifest, "--lm", str(lm), "--alphas", "0,0.5",
                 "--betas", "0,2", "--beam-size", "8")  # fmt: skip
    assert tuned.returncode == 0, tuned.stderr
    record = json.loads((tmp_path / "lm.arpa.tuned.json").read_text())
    assert len(record["grid"]) == 4
    best = min(record["grid"], key=lambda g: (g["wer"], g["cer"]))
    assert (record["alpha"], record["beta"]) == (best["alpha"], best["beta"])
    assert decoder_settings(lm)["alpha"] == record["alpha"]
    assert decoder_settings(lm)["beta"] == record["beta"]
    # eval with the tuned LM reproduces the WER tuning reported for the same manifest.
    out = _cli("eval", "--manifest", manifest, "--decoder", "lm", "--lm", str(lm),
               "--beam-size", "8", "--json")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["wer"] == pytest.approx(record["wer"])
    assert "beam_size_token" not in decoder_settings(lm)  # the decoder's default search

    # --beam-tokens all: stored as null, and the decoder built from the file tries every token.
    every = _cli("lm", "tune", "--manifest", manifest, "--lm", str(lm), "--alphas", "0.5",
                 "--betas", "0", "--beam-size", "8", "--beam-tokens", "all")  # fmt: skip
    assert every.returncode == 0, every.stderr
    assert json.loads((tmp_path / "lm.arpa.tuned.json").read_text())["beam_size_token"] is None
    assert decoder_settings(lm)["beam_size_token"] is None
    from dslearn.inference import load_model

    asr = load_model(None)
    assert asr.decoder("lm", lm=lm).search["beam_size_token"] is None
    assert asr.decoder("lm", lm=lm, beam_size_token=6).search["beam_size_token"] == 6
    bad = _cli("lm", "tune", "--manifest", manifest, "--lm", str(lm), "--beam-tokens", "0")
    assert bad.returncode != 0 and "--beam-tokens" in bad.stderr and "'0'" in bad.stderr
