"""dslearn.corpora: importers on tiny corpora built here in each format, downloads from a local
HTTP server (resume, checksum, interruption) and safe extraction of malicious archives."""

import gzip
import hashlib
import http.server
import io
import json
import os
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dslearn import corpora
from dslearn.cli import main
from dslearn.corpora import CorpusError, Remote, UnsafeArchiveError, download, prepare, safe_extract
from dslearn.data import read_manifest

RATE = 16000


def write_audio(path: Path, seconds: float, rate: int = RATE, **kwargs) -> Path:
    """A tone with a little noise: real samples, exact duration."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(len(str(path)))
    wave = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(t.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, wave.astype(np.float32), rate, **kwargs)
    return path


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- importers ---------------------------------------------------------------------------------


def make_librispeech(root: Path, subset: str = "dev-clean") -> Path:
    chapter = root / "LibriSpeech" / subset / "84" / "121123"
    write_audio(chapter / "84-121123-0000.flac", 1.5)
    write_audio(chapter / "84-121123-0001.flac", 0.75)
    write_audio(chapter / "84-121123-0002.flac", 1.0)
    (chapter / "84-121123-0000.trans.txt").write_text(
        "84-121123-0000 GO DO YOU HEAR\n"
        "84-121123-0001 BUT IN LESS THAN FIVE MINUTES THE STAIRCASE GROANED\n"
        "84-121123-0002 ÆTHELRED'S SHIP\n"
    )
    return root


def test_librispeech_manifests_and_rejected(tmp_path):
    root = make_librispeech(tmp_path / "corpus")
    report = prepare("librispeech", root, tmp_path / "out", progress=False)
    utts = read_manifest(report.manifests["dev-clean"])
    assert [u.text for u in utts] == [
        "go do you hear",
        "but in less than five minutes the staircase groaned",
    ]
    assert [u.duration for u in utts] == [1.5, 0.75]
    assert {u.speaker for u in utts} == {"84"}
    assert utts[0].audio_filepath.name == "84-121123-0000.flac"
    # "Æ" has no decomposition to a-z: reported with the line it came from, not dropped silently.
    (bad,) = lines(tmp_path / "out" / "rejected.jsonl")
    assert "outside the alphabet" in bad["reason"] and "æ" in bad["reason"]
    assert bad["text"] == "ÆTHELRED'S SHIP" and bad["source"].endswith("trans.txt:3")
    assert report.rejected == 1 and "rejected 1" in report.summary()


def test_librispeech_root_can_be_subset_folder_and_unknown_subset_is_named(tmp_path):
    root = make_librispeech(tmp_path)
    report = prepare(
        "librispeech", root / "LibriSpeech" / "dev-clean", tmp_path / "o", progress=False
    )
    assert list(report.manifests) == ["dev-clean"]
    with pytest.raises(CorpusError, match="test-other.*not found.*dev-clean"):
        prepare("librispeech", root, tmp_path / "o2", subsets=["test-other"], progress=False)


def test_librispeech_lm_is_lowercased_and_loads_in_kenlm(tmp_path):
    kenlm = pytest.importorskip("kenlm")
    arpa = (
        "\\data\\\nngram 1=4\nngram 2=1\n\n\\1-grams:\n"
        "-1.0\t<s>\t-0.3\n-0.5\t</s>\n-0.6\tHELLO\t-0.2\n-0.7\tWORLD\n\n"
        "\\2-grams:\n-0.1\tHELLO WORLD\n\n\\end\\\n"
    )
    with gzip.open(tmp_path / "3-gram.arpa.gz", "wt") as f:
        f.write(arpa)
    out = corpora.librispeech_lm("3-gram", tmp_path, tmp_path / "lm")
    assert "hello world" in out.read_text() and "HELLO" not in out.read_text()
    model = kenlm.Model(str(out))
    assert model.score("hello world") > model.score("world hello")


def make_fsdd(root: Path) -> Path:
    rec = root / "recordings"
    for name in ("0_alice_0", "0_alice_7", "3_alice_12", "9_bob_4", "9_bob_49", "7_bob_5"):
        write_audio(rec / f"{name}.wav", 0.4, rate=8000)
    write_audio(rec / "notes.wav", 0.2, rate=8000)
    return root


def test_fsdd_splits_speakers_and_cli(tmp_path, capsys):
    root = make_fsdd(tmp_path / "fsdd")
    assert main(["data", "prepare", "fsdd", "--root", str(root), "--out", str(tmp_path / "m"),
                 "--no-progress"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "train" in printed and "rejected 1" in printed
    train = read_manifest(tmp_path / "m" / "train.jsonl")
    dev = read_manifest(tmp_path / "m" / "dev.jsonl")
    assert sorted(u.text for u in train) == ["nine", "seven", "three", "zero"]
    assert sorted((u.text, u.speaker) for u in dev) == [("nine", "bob"), ("zero", "alice")]
    assert dev[0].duration == pytest.approx(0.4)
    speakers = corpora.speaker_manifests(tmp_path / "m")
    assert list(speakers) == ["alice", "bob"]
    assert len(read_manifest(speakers["bob"])) == 3
    (bad,) = lines(tmp_path / "m" / "rejected.jsonl")
    assert bad["audio_filepath"].endswith("notes.wav") and "digit" in bad["reason"]


def test_fsdd_real_recordings_when_present(tmp_path):
    from dslearn.course import fsdd_root

    real = fsdd_root()  # DSLEARN_FSDD, else ../shared/fsdd, as the course finds it
    if real is None:
        pytest.skip("FSDD not present (set DSLEARN_FSDD); test_fsdd_splits_speakers_and_cli "
                    "covers the importer on a made-up FSDD")  # fmt: skip
    report = prepare("fsdd", real, tmp_path, progress=False)
    assert report.counts == {"dev": 250, "train": 2250} and report.rejected == 0
    assert len(corpora.speaker_manifests(tmp_path)) == 5


def test_ljspeech_uses_normalized_column_and_splits_by_position(tmp_path):
    root = tmp_path / "LJSpeech-1.1"
    rows = []
    for i in range(1, 53):
        uid = f"LJ001-{i:04d}"
        write_audio(root / "wavs" / f"{uid}.wav", 0.3, rate=22050)
        rows.append(
            f"{uid}|In 1984, Mr. X paid $3.|In nineteen eighty-four, Mister X paid three dollars."
        )
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    report = prepare("ljspeech", tmp_path, tmp_path / "m", progress=False)
    assert report.counts == {"test": 2, "dev": 2, "train": 48}  # positions 0, 50 / 1, 51
    utt = read_manifest(report.manifests["train"])[0]
    assert utt.text == "in nineteen eighty four mister x paid three dollars"
    assert utt.speaker == "lj" and utt.duration == pytest.approx(0.3, abs=1e-4)


def test_common_voice_mp3_and_missing_clip(tmp_path):
    clips = tmp_path / "cv" / "en" / "clips"
    has_mp3 = "MP3" in sf.available_formats()
    first = (
        write_audio(clips / "a.mp3", 1.0, format="MP3")
        if has_mp3
        else write_audio(clips / "a.wav", 1.0)
    )
    write_audio(clips / "b.wav", 0.5)
    header = "client_id\tpath\tsentence_id\tsentence\tup_votes\n"
    (tmp_path / "cv" / "en" / "train.tsv").write_text(
        header + f'c1\t{first.name}\ts1\tHello, world!\t2\nc2\tb.wav\ts2\t"Quoted" text\t3\n'
    )
    (tmp_path / "cv" / "en" / "test.tsv").write_text(header + "c3\tgone.mp3\ts3\tLost clip\t1\n")
    report = prepare("commonvoice", tmp_path / "cv", tmp_path / "m", progress=False)
    train = read_manifest(report.manifests["train"])
    assert [(u.text, u.speaker) for u in train] == [("hello world", "c1"), ("quoted text", "c2")]
    assert train[0].duration == pytest.approx(1.0, abs=0.06)  # MP3 frames pad a little
    (missing,) = lines(tmp_path / "m" / "rejected.jsonl")
    assert missing["split"] == "test" and "no such file" in missing["reason"]


def test_timit_style_with_nist_audio_and_word_times(tmp_path):
    spk = tmp_path / "timit" / "TRAIN" / "DR1" / "FCJF0"
    write_audio(spk / "SA1.WAV", 1.0, format="NIST", subtype="PCM_16")
    (spk / "SA1.TXT").write_text("0 16000 She had your dark suit.\n")
    (spk / "SA1.WRD").write_text("1600 4800 she\n4800 8000 had\n8000 16000 suit\n")
    write_audio(tmp_path / "timit" / "TEST" / "DR2" / "MABC0" / "SX1.WAV", 0.5, format="NIST",
                subtype="PCM_16")  # fmt: skip
    (tmp_path / "timit" / "TEST" / "DR2" / "MABC0" / "SX1.TXT").write_text("0 8000 Don't ask.\n")
    report = prepare("timit", tmp_path / "timit", tmp_path / "m", progress=False)
    (train,) = read_manifest(report.manifests["train"])
    assert train.text == "she had your dark suit" and train.speaker == "FCJF0"
    assert train.words[0] == {"word": "she", "start": 0.1, "end": 0.3}
    (test,) = read_manifest(report.manifests["test"])
    assert test.text == "don't ask" and test.duration == 0.5


def test_folder_reports_audio_without_transcript(tmp_path):
    write_audio(tmp_path / "in" / "a.wav", 0.5)
    (tmp_path / "in" / "a.txt").write_text("Twenty-five apples\n")
    write_audio(tmp_path / "in" / "sub" / "b.flac", 0.5)
    (tmp_path / "in" / "c.wav").write_bytes(b"")  # empty: rejected with the reason, not a crash
    (tmp_path / "in" / "c.txt").write_text("empty")
    report = prepare("folder", tmp_path / "in", tmp_path / "m", progress=False)
    (utt,) = read_manifest(report.manifests["all"])
    assert utt.text == "twenty five apples"
    reasons = {Path(r["audio_filepath"]).name: r["reason"] for r in lines(report.rejected_path)}
    assert "no transcript b.txt" in reasons["b.flac"] and "empty" in reasons["c.wav"]


def test_unknown_corpus_and_missing_root(tmp_path):
    with pytest.raises(CorpusError, match="unknown corpus 'wsj'"):
        prepare("wsj", tmp_path, tmp_path)
    with pytest.raises(CorpusError, match="nowhere: no such folder"):
        prepare("fsdd", tmp_path / "nowhere", tmp_path / "m")
    with pytest.raises(CorpusError, match="cannot be downloaded"):
        prepare("commonvoice", tmp_path, tmp_path / "m", download=True)


# --- a local HTTP server with Range support ------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    log: list[tuple[str, str | None]] = []
    cut_after: int | None = None  # drop the connection after this many bytes (once)

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = self.files.get(self.path)
        range_header = self.headers.get("Range")
        self.log.append((self.path, range_header))
        if body is None:
            self.send_error(404)
            return
        start = int(range_header.split("=")[1].rstrip("-")) if range_header else 0
        if start >= len(body):
            self.send_error(416)
            return
        self.send_response(206 if range_header else 200)
        if range_header:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        payload = body[start:]
        if type(self).cut_after is not None:
            payload, type(self).cut_after = payload[: type(self).cut_after], None
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.files, _Handler.log, _Handler.cut_after = {}, [], None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler
    httpd.shutdown()
    httpd.server_close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_download_verifies_and_resumes(server, tmp_path):
    url, handler = server
    body = os.urandom(3 * corpora.CHUNK_BYTES + 123)
    handler.files["/big.bin"] = body
    target = tmp_path / "big.bin"
    # A previous run stopped after 1000 bytes: only the rest is requested.
    (tmp_path / "big.bin.part").write_bytes(body[:1000])
    download(f"{url}/big.bin", target, sha(body), progress=False)
    assert target.read_bytes() == body and not (tmp_path / "big.bin.part").exists()
    assert handler.log == [("/big.bin", "bytes=1000-")]
    # Already there: verified, not downloaded again.
    download(f"{url}/big.bin", target, sha(body), progress=False)
    assert len(handler.log) == 1


def test_interrupted_download_keeps_part_and_resumes(server, tmp_path):
    url, handler = server
    body = os.urandom(2 * corpora.CHUNK_BYTES)
    handler.files["/f.bin"] = body
    handler.cut_after = 5000
    with pytest.raises(CorpusError, match="interrupted after 5000 of .* run again to resume"):
        download(f"{url}/f.bin", tmp_path / "f.bin", sha(body), progress=False, timeout=5)
    assert (tmp_path / "f.bin.part").stat().st_size == 5000
    download(f"{url}/f.bin", tmp_path / "f.bin", sha(body), progress=False)
    assert (tmp_path / "f.bin").read_bytes() == body
    assert handler.log[-1] == ("/f.bin", "bytes=5000-")


def test_checksum_mismatch_deletes_file(server, tmp_path):
    url, handler = server
    handler.files["/x.bin"] = b"not what you expected"
    with pytest.raises(CorpusError, match="sha256 mismatch .* deleted"):
        download(f"{url}/x.bin", tmp_path / "x.bin", sha(b"other"), progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unknown_checksum_needs_explicit_consent(server, tmp_path, capsys):
    url, handler = server
    handler.files["/u.bin"] = b"abc"
    with pytest.raises(CorpusError, match="allow-unverified"):
        download(f"{url}/u.bin", tmp_path / "u.bin", None, progress=False)
    assert handler.log == []  # nothing was fetched
    download(f"{url}/u.bin", tmp_path / "u.bin", None, allow_unverified=True, progress=False)
    assert sha(b"abc") in capsys.readouterr().out


def test_http_error_names_url(server, tmp_path):
    url, _ = server
    with pytest.raises(CorpusError, match="missing.bin: download failed: HTTP 404"):
        download(f"{url}/missing.bin", tmp_path / "m.bin", "0" * 64, progress=False)


# --- archives ----------------------------------------------------------------------------------


def tar_bytes(members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def file_member(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def special_member(name: str, kind: bytes, target: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


@pytest.mark.parametrize(
    "evil",
    [
        file_member("../escaped.txt"),
        file_member("/tmp/dslearn-absolute-escape.txt"),
        special_member("data/link", tarfile.SYMTYPE, "../../escaped.txt"),
        special_member("data/abs-link", tarfile.SYMTYPE, "/etc/passwd"),
        special_member("data/hard", tarfile.LNKTYPE, "../escaped.txt"),
        special_member("data/dev", tarfile.CHRTYPE),
    ],
    ids=["dotdot", "absolute", "symlink-out", "symlink-abs", "hardlink-out", "device"],
)
def test_malicious_tar_is_refused_and_nothing_is_written(tmp_path, evil):
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(tar_bytes([file_member("data/ok.txt", b"fine"), evil]))
    dest = tmp_path / "inside" / "target"
    before = set(tmp_path.rglob("*"))
    with pytest.raises(UnsafeArchiveError, match="refused.*unsafe members"):
        safe_extract(archive, dest)
    assert set(tmp_path.rglob("*")) == before  # not even the harmless member
    assert not Path("/tmp/dslearn-absolute-escape.txt").exists()


def test_malicious_zip_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../../escaped.txt", "bad")
    with pytest.raises(UnsafeArchiveError, match=r"\.\./\.\./escaped.txt"):
        safe_extract(archive, tmp_path / "t")
    assert not (tmp_path / "t").exists() and not (tmp_path.parent / "escaped.txt").exists()


def test_safe_tar_and_zip_extract(tmp_path):
    archive = tmp_path / "ok.tar.bz2"
    link = special_member("a/link", tarfile.SYMTYPE, "b.txt")
    archive.write_bytes(tar_bytes([file_member("a/b.txt", b"hi"), link], "w:bz2"))
    safe_extract(archive, tmp_path / "t")
    assert (tmp_path / "t" / "a" / "link").read_text() == "hi"
    with zipfile.ZipFile(tmp_path / "ok.zip", "w") as zf:
        zf.writestr("z/c.txt", "zip")
    safe_extract(tmp_path / "ok.zip", tmp_path / "z")
    assert (tmp_path / "z" / "z" / "c.txt").read_text() == "zip"
    with pytest.raises(CorpusError, match="not a readable tar or zip"):
        (tmp_path / "junk.tar").write_bytes(b"junk" * 200)
        safe_extract(tmp_path / "junk.tar", tmp_path / "j")


def librispeech_archive(tmp_path: Path) -> bytes:
    src = make_librispeech(tmp_path / "src")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src / "LibriSpeech", arcname="LibriSpeech")
    return buf.getvalue()


def test_prepare_downloads_extracts_and_imports(server, tmp_path, monkeypatch):
    url, handler = server
    body = librispeech_archive(tmp_path)
    handler.files["/12/dev-clean.tar.gz"] = body
    monkeypatch.setitem(
        corpora.LIBRISPEECH_SUBSETS, "dev-clean", Remote(f"{url}/12/dev-clean.tar.gz", sha(body))
    )
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(CorpusError, match="dev-clean not found.*pass --download"):
        prepare("librispeech", root, tmp_path / "m", subsets=["dev-clean"], progress=False)
    args = ["--root", str(root), "--out", str(tmp_path / "m"), "--subset", "dev-clean"]
    assert main(["data", "prepare", "librispeech", *args, "--download", "--no-progress"]) == 0
    assert len(read_manifest(tmp_path / "m" / "dev-clean.jsonl")) == 2
    # Offline afterwards: the extracted corpus is used, nothing is fetched again.
    handler.files.clear()
    report = prepare("librispeech", root, tmp_path / "m2", subsets=["dev-clean"], download=True,
                     progress=False)  # fmt: skip
    assert report.counts == {"dev-clean": 2} and len(handler.log) == 1


def test_offline_archive_is_used_without_network(tmp_path, monkeypatch):
    body = librispeech_archive(tmp_path)
    monkeypatch.setitem(
        corpora.LIBRISPEECH_SUBSETS,
        "dev-clean",
        Remote("http://127.0.0.1:9/dev-clean.tar.gz", sha(body)),
    )
    root = tmp_path / "root"
    root.mkdir()
    (root / "dev-clean.tar.gz").write_bytes(body)
    report = prepare("librispeech", root, tmp_path / "m", subsets=["dev-clean"], download=True,
                     progress=False)  # fmt: skip
    assert report.counts == {"dev-clean": 2}


def test_prepare_refuses_malicious_download(server, tmp_path, monkeypatch):
    url, handler = server
    body = tar_bytes([file_member("LibriSpeech/dev-clean/x.txt"), file_member("../../pwned.txt")])
    handler.files["/evil.tar.gz"] = body
    monkeypatch.setitem(
        corpora.LIBRISPEECH_SUBSETS, "dev-clean", Remote(f"{url}/evil.tar.gz", sha(body))
    )
    root = tmp_path / "a" / "root"
    args = ["--root", str(root), "--out", str(tmp_path / "m"), "--subset", "dev-clean"]
    code = main(["data", "prepare", "librispeech", *args, "--download", "--no-progress"])
    assert code == 2
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "evil.tar.gz", "root"]


def make_asterisk(root: Path) -> Path:
    """The Debian layout: prompts (8 kHz WAV, subfolders too) and a gzipped transcript table."""
    for name in ("added", "auth-thankyou", "beep", "digits/1", "silence/1", "vm-intro", "stray"):
        write_audio(root / f"{name}.wav", 0.5, rate=8000)
    table = (
        "; Core Asterisk Sounds in English\n\n"
        "added: Added.\n"
        "auth-thankyou: Thank you.\n"
        "beep: [this is a simple beep tone]\n"
        "digits/1: one\n"
        "silence/1: (1 second of silence)\n"
        "vm-intro: Please leave your message after the tone. (simple tone sound plays)\n"
        "vm-missing: This prompt has no audio.\n"
    )
    with gzip.open(root / "core-sounds-en.txt.gz", "wt", encoding="utf-8") as f:
        f.write(table)
    return root


def test_asterisk_prompts_split_by_position_and_notes_are_not_speech(tmp_path, capsys):
    root = make_asterisk(tmp_path / "en")
    assert main(["data", "prepare", "asterisk", "--root", str(root), "--out", str(tmp_path / "m"),
                 "--no-progress"]) == 0  # fmt: skip
    assert "rejected 4" in capsys.readouterr().out
    test = read_manifest(tmp_path / "m" / "test.jsonl")  # position 0 of 10, in name order
    dev = read_manifest(tmp_path / "m" / "dev.jsonl")  # position 1
    train = read_manifest(tmp_path / "m" / "train.jsonl")
    assert [u.text for u in test] == ["added"] and [u.text for u in dev] == ["thank you"]
    assert sorted(u.text for u in train) == ["one", "please leave your message after the tone"]
    assert {u.speaker for u in test + dev + train} == {"allison"}
    assert train[0].duration == pytest.approx(0.5)
    reasons = {
        Path(r["audio_filepath"]).name: r["reason"]
        for r in lines(tmp_path / "m" / "rejected.jsonl")
    }
    assert "not speech" in reasons["beep.wav"] and "not speech" in reasons["1.wav"]
    assert "no audio file" in reasons["vm-missing.wav"]
    assert "no transcript" in reasons["stray.wav"]


def test_asterisk_without_the_packages_names_them(tmp_path):
    with pytest.raises(CorpusError, match="apt install asterisk-core-sounds-en-wav"):
        prepare("asterisk", tmp_path / "nowhere", tmp_path / "m")
    write_audio(tmp_path / "en" / "added.wav", 0.5, rate=8000)
    with pytest.raises(CorpusError, match="asterisk-core-sounds-en"):
        corpora.asterisk(tmp_path / "en", transcripts=tmp_path / "none.txt", progress=False)


def test_asterisk_debian_package_when_installed(tmp_path):
    root = Path("/usr/share/asterisk/sounds/en")
    if not (root / "added.wav").exists() or not corpora.ASTERISK_TRANSCRIPTS.exists():
        pytest.skip("Debian's asterisk-core-sounds-en-wav and asterisk-core-sounds-en are absent")
    report = prepare("asterisk", root, tmp_path, progress=False)
    assert sum(report.counts.values()) > 500 and report.counts["test"] > 40
    first = read_manifest(report.manifests["test"])[0]
    from dslearn import audio

    assert audio.info(first.audio_filepath).samplerate == 8000  # telephone prompts
