"""dslearn.data: manifests, validation, Dataset, collate on FSDD (or stand-ins); the sampler."""

import json
import re
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from fsdd_stand_in import DIGITS, fsdd_recording

from dslearn import data
from dslearn.data import (
    Batch,
    BucketingBatchSampler,
    ManifestError,
    SpeechDataset,
    Utterance,
    collate,
    make_loader,
    padding_fraction,
    read_manifest,
    validate_manifest,
    write_manifest,
)
from dslearn.text import Alphabet, normalize


def clip(digit: int, speaker: str = "george", take: int = 0) -> Path:
    """FSDD's recording, or its espeak-ng stand-in where FSDD is absent (tests/conftest.py)."""
    return fsdd_recording(digit, speaker, take)


def header_duration(path: Path) -> float:
    return sf.info(str(path)).duration


def fsdd_utterance(digit: int, speaker: str = "george", take: int = 0, **kw) -> Utterance:
    path = clip(digit, speaker, take)
    return Utterance(path, header_duration(path), DIGITS[digit], speaker=speaker, **kw)


def write_lines(path: Path, lines: list) -> Path:
    """Manifest with lines given as dicts (dumped) or raw strings (written as they are)."""
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def lines_with_problems(problems: list[str]) -> dict[int, list[str]]:
    by_line: dict[int, list[str]] = {}
    for p in problems:
        m = re.match(r"^(.*):(\d+): (.*)$", p)
        assert m, f"problem not in 'path:line: reason' form: {p!r}"
        by_line.setdefault(int(m.group(2)), []).append(m.group(3))
    return by_line


# --- manifests ---------------------------------------------------------------------------------


def test_write_read_round_trip_keeps_every_field(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "wavs").mkdir(parents=True)
    inside = corpus / "wavs" / "three.wav"
    inside.symlink_to(clip(3))
    words = [{"word": "three", "start": 0.05, "end": 0.3}]
    utts = [
        Utterance(inside, header_duration(inside), "three", speaker="george", words=words),
        fsdd_utterance(7, "jackson", extra={"lang": "en", "snr_db": 21.5, "tags": ["clean"]}),
        Utterance(clip(0), 0.298, "Zero!"),  # raw text is kept as written, not normalized
    ]
    path = write_manifest(corpus / "train.jsonl", utts)
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    # Inside the manifest folder: relative (the folder can move); outside: absolute.
    assert raw[0]["audio_filepath"] == "wavs/three.wav"
    assert raw[1]["audio_filepath"] == str(clip(7, "jackson"))
    assert raw[1]["lang"] == "en" and raw[1]["tags"] == ["clean"]
    assert "speaker" not in raw[2] and "words" not in raw[2]

    back = read_manifest(path)
    assert back == utts
    assert back[0].audio_filepath == inside  # the symlink itself, not its target
    assert back[1].extra == {"lang": "en", "snr_db": 21.5, "tags": ["clean"]}
    assert back[0].origin == f"{path}:1"
    # Writing what was read gives the same file, byte for byte.
    again = write_manifest(tmp_path / "again" / "train.jsonl", back)
    assert [json.loads(x) for x in again.read_text().splitlines()][1:] == raw[1:]


def _write_many(path: Path, times: int) -> None:
    utts = [Utterance(Path(f"/clips/{i}.wav"), 1.0, "hello") for i in range(200)]
    for _ in range(times):
        write_manifest(path, utts)


def test_processes_writing_one_manifest_at_once_do_not_collide(tmp_path):
    """Every DDP rank may write the same manifest; a shared temporary name made one rank's
    rename fail once the other had moved the file away (seen in the DDP test)."""
    import multiprocessing

    path = tmp_path / "shared.jsonl"
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_write_many, args=(path, 40)) for _ in range(2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=60)
    assert [w.exitcode for w in writers] == [0, 0]
    assert len(read_manifest(path)) == 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.jsonl"]  # no temporary left


def test_relative_paths_resolve_against_the_manifest_folder_not_the_cwd(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    (corpus / "wavs").mkdir(parents=True)
    (corpus / "wavs" / "five.wav").symlink_to(clip(5))
    (tmp_path / "shared.wav").symlink_to(clip(6))
    write_lines(
        corpus / "m.jsonl",
        [
            {"audio_filepath": "wavs/five.wav", "duration": 0.4, "text": "five"},
            {"audio_filepath": "./wavs/../wavs/five.wav", "duration": 0.4, "text": "five"},
            {"audio_filepath": "../shared.wav", "duration": 0.4, "text": "six"},
            {"audio_filepath": str(clip(1)), "duration": 0.4, "text": "one"},
        ],
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "wavs").mkdir()  # a decoy: resolving against the CWD would land here
    monkeypatch.chdir(elsewhere)
    utts = read_manifest(Path("..") / "corpus" / "m.jsonl")  # a relative manifest path, too
    assert [u.audio_filepath for u in utts] == [
        corpus / "wavs" / "five.wav",
        corpus / "wavs" / "five.wav",
        tmp_path / "shared.wav",
        clip(1),
    ]
    assert all(u.audio_filepath.is_absolute() and u.audio_filepath.exists() for u in utts)
    dataset = SpeechDataset(Path("..") / "corpus" / "m.jsonl")
    assert dataset[2].audio.numel() == pytest.approx(2 * sf.info(str(clip(6))).frames, abs=1)


def test_read_manifest_reports_every_structural_problem_at_once(tmp_path):
    path = write_lines(
        tmp_path / "m.jsonl",
        [
            {"audio_filepath": "a.wav", "duration": 1.0, "text": "fine"},
            '{"audio_filepath": "b.wav", "duration": 1.0, "text": "unterminated}',
            {"audio_filepath": "c.wav", "text": "no duration"},
            "",  # blank lines are allowed and still counted
            {"audio_filepath": "d.wav", "duration": 0, "text": "zero seconds"},
            {"audio_filepath": "e.wav", "duration": -2.5, "text": "negative"},
            '["a list", "not an object"]',
            {"duration": 1.0, "text": "no path", "speaker": "x"},
            {"audio_filepath": "f.wav", "duration": "1.0", "text": "string duration"},
            {"audio_filepath": "g.wav", "duration": 1.0, "text": 7},
            {"audio_filepath": "h.wav", "duration": 1.0, "text": "ok", "words": [{"w": 1}]},
            {"audio_filepath": "i.wav", "duration": 2.0, "text": "fine again"},
        ],
    )
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    by_line = lines_with_problems(info.value.problems)
    assert sorted(by_line) == [2, 3, 5, 6, 7, 8, 9, 10, 11]
    assert "invalid JSON" in by_line[2][0]
    assert "'duration'" in by_line[3][0] and "missing" in by_line[3][0]
    assert "positive" in by_line[5][0] and "positive" in by_line[6][0]
    assert "JSON object" in by_line[7][0]
    assert "'audio_filepath'" in by_line[8][0]
    assert "number" in by_line[9][0]
    assert "'text'" in by_line[10][0]
    assert "'words'" in by_line[11][0]
    assert str(path) in str(info.value) and "9 problem(s)" in str(info.value)


def test_validate_manifest_reports_every_bad_line_with_its_line_number(tmp_path):
    def two(take: int, **fields) -> dict:
        # A different recording per line, so that only line 13 repeats a file.
        path = clip(2, "george", take)
        line = {"audio_filepath": str(path), "duration": header_duration(path), "text": "two"}
        return {**line, **fields}

    good = {"audio_filepath": str(clip(0)), "duration": header_duration(clip(0)), "text": "zero"}
    lines = [
        good,  # 1
        {**good, "audio_filepath": str(tmp_path / "nowhere.wav")},  # 2 missing file
        two(3, text="   "),  # 3 empty text
        two(4, text="two " * 20),  # 4 ~80 chars in ~0.4 s: far too fast
        '{"audio_filepath": "x.wav", "duration": 1.0, "text": "zero",}',  # 5 bad JSON
        two(6, text="zwei straße"),  # 6 'ß' survives normalization, not in the alphabet
        {"audio_filepath": str(clip(3)), "text": "three"},  # 7 missing field
        two(8, duration=0.0),  # 8 non-positive duration
        {**two(9), "audio_filepath": str(clip(1)), "text": "one", "duration": 40.0},  # 9 too long
        two(10, duration=header_duration(clip(2, "george", 10)) + 0.5),  # 10 header disagrees
        "",  # 11 blank, fine
        two(12, text="Two!"),  # 12 fine after normalization ('two')
        {**good},  # 13 duplicate of line 1
        two(14, words=[{"word": "two", "start": 0.1, "end": 9.0}]),  # 14 word past the end
        two(15, text="?!"),  # 15 nothing left after normalization
    ]
    path = write_lines(tmp_path / "m.jsonl", lines)

    problems = validate_manifest(path)
    by_line = lines_with_problems(problems)
    assert all(p.startswith(f"{path}:") for p in problems)
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15], problems
    assert "not found" in by_line[2][0]
    assert by_line[3] == ["empty text"]
    assert any("too short" in r and "chars/s" in r for r in by_line[4])
    assert "invalid JSON" in by_line[5][0]
    assert "'ß' (U+00DF)" in by_line[6][0] and "alphabet" in by_line[6][0]
    assert "missing" in by_line[7][0] and "'duration'" in by_line[7][0]
    assert "positive" in by_line[8][0]
    assert any("too long" in r for r in by_line[9])
    assert any("in the audio file" in r for r in by_line[9])  # 40 s vs the header, too
    assert len(by_line[10]) == 1 and "in the audio file" in by_line[10][0]
    assert "line 1" in by_line[13][0]
    assert "word 0 'two'" in by_line[14][0]
    assert "empty after normalization" in by_line[15][0]

    # Without audio checks: no file access, content problems remain.
    quick = lines_with_problems(validate_manifest(path, check_audio=False))
    assert sorted(quick) == [3, 4, 5, 6, 7, 8, 9, 13, 14, 15]


def test_validate_checks_the_alphabet_after_normalization(tmp_path):
    path = write_lines(
        tmp_path / "m.jsonl",
        [
            {"audio_filepath": "a.wav", "duration": 1.0, "text": "Café"},
            {"audio_filepath": "b.wav", "duration": 1.0, "text": "10 €"},
            {"audio_filepath": "c.wav", "duration": 1.0, "text": "λόγος"},
        ],
    )
    # The default normalizer strips accents and drops a lone currency sign: only Greek is left.
    assert sorted(lines_with_problems(validate_manifest(path, check_audio=False))) == [3]
    keep_accents = partial(normalize, accents=True)
    by_line = lines_with_problems(
        validate_manifest(path, check_audio=False, normalizer=keep_accents)
    )
    assert sorted(by_line) == [1, 3] and "'é'" in by_line[1][0]
    french = Alphabet(list(" abcdefghijklmnopqrstuvwxyz'é"))
    by_line = validate_manifest(path, french, check_audio=False, normalizer=keep_accents)
    assert sorted(lines_with_problems(by_line)) == [3]


# --- dataset and collate -----------------------------------------------------------------------


@pytest.fixture
def digits_manifest(tmp_path) -> Path:
    utts = [fsdd_utterance(d, s) for s in ("george", "jackson") for d in range(10)]
    return write_manifest(tmp_path / "digits.jsonl", utts)


def test_dataset_returns_16k_audio_and_encoded_targets(digits_manifest):
    alphabet = Alphabet()
    dataset = SpeechDataset(digits_manifest, alphabet)
    assert len(dataset) == 20
    for i in (0, 7, 13):
        example = dataset[i]
        digit, speaker = i % 10, ("george", "jackson")[i // 10]
        frames = sf.info(str(clip(digit, speaker))).frames  # at 8 kHz
        assert example.audio.dtype == torch.float32 and example.audio.ndim == 1
        assert abs(example.audio.numel() - 2 * frames) <= 1  # resampled to 16 kHz
        assert example.targets.dtype == torch.long
        assert example.targets.tolist() == alphabet.encode(DIGITS[digit])
        assert alphabet.decode(example.targets) == DIGITS[digit] == example.text
        assert example.index == i and example.path == clip(digit, speaker)
        assert dataset.durations[i] == pytest.approx(frames / 8000)
        assert dataset.target_ids(i) == example.targets.tolist()
    assert dataset.total_duration == pytest.approx(sum(dataset.durations))


def test_dataset_normalizes_text_and_applies_transform():
    utts = [Utterance(clip(4), header_duration(clip(4)), "FOUR!"), fsdd_utterance(8)]
    dataset = SpeechDataset(utts, transform=lambda wave: wave[:100] * 0.5)
    assert dataset.texts == ["four", "eight"]
    example = dataset[0]
    assert example.audio.shape == (100,)
    full = SpeechDataset(utts)[0].audio
    assert torch.allclose(example.audio, full[:100] * 0.5)


def test_dataset_unknown_characters_error_drop_skip(tmp_path):
    lines = [fsdd_utterance(d) for d in range(3)]
    lines[1] = Utterance(clip(1), header_duration(clip(1)), "ein straße")
    lines.append(Utterance(clip(9), header_duration(clip(9)), "nine λ"))
    path = write_manifest(tmp_path / "m.jsonl", lines)

    with pytest.raises(ManifestError) as info:
        SpeechDataset(path)
    message = str(info.value)
    # Every offending utterance, with its manifest line, its file and the character.
    assert f"{path}:2" in message and "1_george_0.wav" in message and "'ß'" in message
    assert f"{path}:4" in message and "9_george_0.wav" in message and "'λ'" in message
    assert len(info.value.problems) == 2

    dropped = SpeechDataset(path, on_unknown="drop")
    assert dropped.texts == ["zero", "ein strae", "two", "nine"]
    with pytest.warns(UserWarning, match="skipped 2 utterance"):
        skipped = SpeechDataset(path, on_unknown="skip")
    assert skipped.texts == ["zero", "two"]
    assert skipped.path(1) == clip(2) and skipped[1].index == 1
    with pytest.raises(ValueError, match="on_unknown"):
        SpeechDataset(path, on_unknown="ignore")


def test_collate_pads_audio_with_zeros_and_targets_with_blank(digits_manifest):
    dataset = SpeechDataset(digits_manifest)
    examples = [dataset[i] for i in (1, 7, 3)]  # "one", "seven", "three"
    batch = collate(examples)
    lengths = [e.audio.numel() for e in examples]
    assert isinstance(batch, Batch) and len(batch) == 3
    assert batch.audio.shape == (3, max(lengths)) and batch.audio.dtype == torch.float32
    assert batch.audio_lengths.tolist() == lengths and batch.audio_lengths.dtype == torch.int64
    assert batch.targets.shape == (3, 5) and batch.targets.dtype == torch.int64
    assert batch.target_lengths.tolist() == [3, 5, 5]
    assert batch.indices.tolist() == [1, 7, 3]
    assert batch.texts == ["one", "seven", "three"]
    assert batch.paths == [clip(1), clip(7), clip(3)]
    for b, e in enumerate(examples):
        n, m = lengths[b], len(e.targets)
        assert torch.equal(batch.audio[b, :n], e.audio)
        assert batch.audio[b, n:].abs().sum() == 0
        assert torch.equal(batch.targets[b, :m], e.targets)
        assert (batch.targets[b, m:] == 0).all()
    moved = batch.to("cpu")
    assert moved.texts == batch.texts and torch.equal(moved.audio, batch.audio)
    with pytest.raises(ValueError):
        collate([])


def test_make_loader_yields_every_utterance_once_in_budgeted_batches(digits_manifest):
    dataset = SpeechDataset(digits_manifest)
    loader = make_loader(dataset, max_batch_seconds=3.0, seed=1)
    seen = []
    for batch in loader:
        assert isinstance(batch, Batch)
        longest = batch.audio.shape[1] / 16000
        assert len(batch) == 1 or len(batch) * longest <= 3.0 + 1e-3
        seen += batch.indices.tolist()
    assert sorted(seen) == list(range(len(dataset)))
    assert loader.batch_sampler.epoch == 1  # moved on by itself after a full epoch


# --- bucketing sampler -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def durations() -> list[float]:
    # Spread like a real corpus: mostly a few seconds, a long tail.
    rng = np.random.default_rng(0)
    return np.clip(rng.lognormal(mean=1.2, sigma=0.6, size=600), 0.3, 25.0).round(3).tolist()


def flat(batches) -> list[int]:
    return [i for b in batches for i in b]


def test_each_index_exactly_once_per_epoch_within_budget(durations):
    sampler = BucketingBatchSampler(durations, max_batch_seconds=60.0, max_batch_size=16, seed=3)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert len(batches) == len(sampler) == len(set(map(tuple, batches)))
        assert sorted(flat(batches)) == list(range(len(durations)))
        for b in batches:
            assert 1 <= len(b) <= 16
            assert len(b) * max(durations[i] for i in b) <= 60.0


def test_utterance_over_budget_gets_its_own_batch():
    durations = [1.0] * 20 + [30.0] + [2.0] * 10 + [12.0]
    with pytest.warns(UserWarning, match="2 utterance"):
        sampler = BucketingBatchSampler(durations, max_batch_seconds=10.0, seed=0)
    for epoch in range(2):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert sorted(flat(batches)) == list(range(len(durations)))  # nothing dropped
        assert [20] in batches and [31] in batches


def test_bucketing_pads_less_than_random_batching(durations):
    budget = 60.0
    sampler = BucketingBatchSampler(durations, budget, bucket_size=200, seed=0)
    sampler.set_epoch(1)  # a shuffled epoch, not the fully sorted SortaGrad one
    bucketed = list(sampler)
    # Random batching under the same budget: fill batches in a random order.
    order = np.random.default_rng(1).permutation(len(durations)).tolist()
    random_batches, current = [], []
    for i in order:
        if current and (len(current) + 1) * max(durations[j] for j in [*current, i]) > budget:
            random_batches.append(current)
            current = []
        current.append(i)
    random_batches.append(current)
    ours, theirs = (
        padding_fraction(bucketed, durations),
        padding_fraction(random_batches, durations),
    )
    assert ours < 0.1 < 0.3 < theirs, (ours, theirs)
    # Less padding means more real audio per batch, so fewer steps per epoch.
    assert len(bucketed) < len(random_batches)


def test_padding_fraction_by_hand():
    assert padding_fraction([[0, 1], [2]], [1.0, 3.0, 2.0]) == pytest.approx(1 - 6 / 8)
    assert padding_fraction([[0, 1]], [2.0, 2.0]) == 0.0


def test_sortagrad_first_epoch_shortest_first_then_shuffled(durations):
    sampler = BucketingBatchSampler(durations, 60.0, seed=5)
    epochs = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        epochs.append(list(sampler))
    longest = [[max(durations[i] for i in b) for b in batches] for batches in epochs]
    shortest = [[min(durations[i] for i in b) for b in batches] for batches in epochs]
    assert longest[0] == sorted(longest[0])
    # Shortest-first across batches, not just by their longest members.
    assert all(a <= b for a, b in zip(longest[0][:-1], shortest[0][1:]))
    assert longest[1] != sorted(longest[1]) and longest[2] != sorted(longest[2])
    assert epochs[1] != epochs[2]
    unsorted = BucketingBatchSampler(durations, 60.0, seed=5, sortagrad=False)
    first = [max(durations[i] for i in b) for b in unsorted]
    assert first != sorted(first)
    # shuffle=False: shortest-first every epoch (evaluation order).
    fixed = BucketingBatchSampler(durations, 60.0, shuffle=False)
    assert list(fixed) == list(fixed) == epochs[0]


def test_same_seed_same_batches_other_seed_other_batches(durations):
    def run(seed):
        sampler = BucketingBatchSampler(durations, 45.0, seed=seed)
        return [list(sampler) for _ in range(3)]  # iterating moves on to the next epoch

    a, b, c = run(7), run(7), run(8)
    assert a == b
    assert a[1] != a[2]
    assert a[0] == c[0]  # SortaGrad epoch: sorted, no randomness
    assert a[1] != c[1] and a[2] != c[2]


@pytest.mark.parametrize("world", [2, 3, 4, 7])
def test_distributed_ranks_get_disjoint_equal_shares(durations, world):
    for epoch in (0, 1):
        shares = []
        for rank in range(world):
            sampler = BucketingBatchSampler(durations, 50.0, seed=2, num_replicas=world, rank=rank)
            sampler.set_epoch(epoch)
            shares.append(list(sampler))
            assert len(sampler) == len(shares[-1])
        single = BucketingBatchSampler(durations, 50.0, seed=2)
        single.set_epoch(epoch)
        n_batches = len(list(single))
        assert len({len(s) for s in shares}) == 1  # every rank takes the same number of steps
        assert len(shares[0]) == -(-n_batches // world)
        everything = [tuple(b) for s in shares for b in s]
        repeats = len(everything) - len(set(everything))
        assert repeats == len(everything) - n_batches < world  # only padding is repeated
        assert sorted(set(flat(everything))) == list(range(len(durations)))
        if epoch == 0:  # SortaGrad holds on every rank
            for share in shares:
                longest = [max(durations[i] for i in b) for b in share]
                assert longest == sorted(longest)


def test_distributed_steps_pair_batches_of_similar_length(durations):
    shares = []
    for rank in range(4):
        sampler = BucketingBatchSampler(durations, 50.0, seed=2, num_replicas=4, rank=rank)
        sampler.set_epoch(3)
        shares.append([max(durations[i] for i in b) for b in sampler])
    spread = [max(step) - min(step) for step in zip(*shares)]
    assert np.median(spread) < 1.0  # seconds: ranks rarely wait for each other


def test_resume_mid_epoch_yields_exactly_the_remaining_batches(durations):
    reference = BucketingBatchSampler(durations, 40.0, seed=11)
    reference.set_epoch(2)
    full = list(reference)

    sampler = BucketingBatchSampler(durations, 40.0, seed=11)
    sampler.set_epoch(2)
    consumed = []
    for batch in sampler:
        consumed.append(batch)
        if len(consumed) == 9:
            break
    state = json.loads(json.dumps(sampler.state_dict()))  # survives a JSON checkpoint
    assert state["epoch"] == 2 and state["position"] == 9

    resumed = BucketingBatchSampler(durations, 40.0, seed=11)
    resumed.load_state_dict(state)
    resumed.set_epoch(2)  # the usual loop calls this again; the position must survive it
    rest = list(resumed)
    assert consumed + rest == full
    assert resumed.state_dict()["epoch"] == 3 and resumed.state_dict()["position"] == 0

    # The trainer's form: only epoch and position.
    again = BucketingBatchSampler(durations, 40.0, seed=11)
    again.load_state_dict({"epoch": 2, "position": len(full) - 1})
    assert list(again) == full[-1:]

    with pytest.raises(ValueError, match="seed"):
        BucketingBatchSampler(durations, 40.0, seed=12).load_state_dict(state)
    with pytest.raises(ValueError, match="position"):
        again.load_state_dict({"epoch": 2, "position": len(full) + 1})


def test_resume_distributed_mid_epoch(durations):
    def sampler(rank):
        return BucketingBatchSampler(durations, 40.0, seed=4, num_replicas=2, rank=rank)

    for rank in range(2):
        full = list(sampler(rank))
        first = sampler(rank)
        head = [b for _, b in zip(range(5), first)]
        second = sampler(rank)
        second.load_state_dict(first.state_dict())
        assert head + list(second) == full


def test_sampler_rejects_bad_settings(durations):
    with pytest.raises(ValueError):
        BucketingBatchSampler(durations, 0.0)
    with pytest.raises(ValueError):
        BucketingBatchSampler(durations, 10.0, num_replicas=2, rank=2)
    with pytest.raises(ValueError):
        BucketingBatchSampler([1.0, float("nan")], 10.0)
    with pytest.raises(ValueError):
        BucketingBatchSampler(durations, 10.0, max_batch_size=0)
    assert list(BucketingBatchSampler([], 10.0)) == []


def test_module_constants_are_sane():
    # A fast talker (~20 chars/s) must pass, a wrong duration (50 chars/s) must not.
    assert 20 <= data.MAX_CHARS_PER_SECOND < 50


def test_mix_repeats_small_corpora_and_keeps_held_out_speakers_out(tmp_path):
    from dslearn.cli import main
    from dslearn.data import mix_manifests, read_manifest, write_manifest

    def utts(prefix, speakers):
        return [Utterance(tmp_path / f"{prefix}{i}.wav", 1.0, "a b", speaker=s)
                for i, s in enumerate(speakers)]  # fmt: skip

    a = write_manifest(tmp_path / "a.jsonl", utts("a", ["x", "y", "george"]))
    b = write_manifest(tmp_path / "b.jsonl", utts("b", ["z"]))
    mixed = mix_manifests([(a, 1), (b, 3)], exclude_speakers=["george"], seed=0)
    assert sorted(u.speaker for u in mixed) == ["x", "y", "z", "z", "z"]
    assert mixed != mix_manifests([(a, 1), (b, 3)], ["george"], seed=None)  # shuffled
    assert main(["data", "mix", str(a), f"{b}*3", "--exclude-speaker", "george",
                 "--out", str(tmp_path / "m" / "mix.jsonl")]) == 0  # fmt: skip
    written = read_manifest(tmp_path / "m" / "mix.jsonl")
    assert sorted(u.audio_filepath.name for u in written) == sorted(
        ["a0.wav", "a1.wav", "b0.wav", "b0.wav", "b0.wav"]
    )
    assert main(["data", "mix", f"{b}*x", "--out", str(tmp_path / "bad.jsonl")]) == 2
