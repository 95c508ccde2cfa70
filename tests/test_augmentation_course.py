"""synth.add_noise_to_manifest: the noisy test sets of chapter 12."""

import numpy as np

from dslearn.audio import load, save
from dslearn.data import Utterance, read_manifest, write_manifest
from dslearn.synth import add_noise_to_manifest


def _manifest(tmp_path, with_words: bool):
    t = np.arange(16000) / 16000
    utts = []
    for i in range(2):
        audio = np.zeros(16000, np.float32)
        audio[4000:12000] = 0.3 * np.sin(2 * np.pi * (200 + 100 * i) * t[4000:12000])
        path = save(tmp_path / "clean" / f"{i}.wav", audio)
        words = [{"word": "one", "start": 0.25, "end": 0.75}] if with_words else None
        utts.append(Utterance(path, 1.0, "one", speaker="v", words=words))
    return write_manifest(tmp_path / "clean" / "test.jsonl", utts)


def test_noisy_copy_has_the_snr_over_the_words_and_keeps_the_transcripts(tmp_path):
    manifest = _manifest(tmp_path, with_words=True)
    noisy = add_noise_to_manifest(manifest, tmp_path / "noisy", snr_db=10.0, seed=1)
    assert noisy == tmp_path / "noisy" / "test.jsonl"
    clean_utts, noisy_utts = read_manifest(manifest), read_manifest(noisy)
    assert [u.text for u in noisy_utts] == [u.text for u in clean_utts]
    assert [u.words for u in noisy_utts] == [u.words for u in clean_utts]
    for c, n in zip(clean_utts, noisy_utts):
        clean, mixed = load(c.audio_filepath).numpy(), load(n.audio_filepath).numpy()
        words, noise = clean[4000:12000], (mixed - clean)[4000:12000]
        snr = 10 * np.log10(np.mean(words.astype(np.float64) ** 2) / np.mean(noise**2))
        assert abs(snr - 10.0) < 0.2, snr  # 16-bit rounding of the written files only
        assert np.abs(mixed[:4000]).max() > 0  # the noise covers the silence too
    # different utterances get different noise; a second call reuses the copy
    a, b = (load(u.audio_filepath).numpy() - load(c.audio_filepath).numpy() for u, c in
            zip(noisy_utts, clean_utts))  # fmt: skip
    assert not np.allclose(a, b)
    before = noisy.stat().st_mtime_ns
    assert add_noise_to_manifest(manifest, tmp_path / "noisy", snr_db=10.0) == noisy
    assert noisy.stat().st_mtime_ns == before


def test_without_word_times_the_snr_is_over_the_whole_file(tmp_path):
    manifest = _manifest(tmp_path, with_words=False)
    noisy = add_noise_to_manifest(manifest, tmp_path / "noisy", snr_db=0.0)
    c, n = read_manifest(manifest)[0], read_manifest(noisy)[0]
    clean, mixed = load(c.audio_filepath).numpy(), load(n.audio_filepath).numpy()
    snr = 10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean((mixed - clean) ** 2))
    assert abs(snr) < 0.2, snr
