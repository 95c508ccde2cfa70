"""Interactive explorers for the notebooks, built on ``dslearn.plot`` and ipywidgets.

Each function returns a widget you display by leaving it last in a cell. Figures are drawn with
matplotlib into ``ipywidgets.Image`` (PNG), so they update in place when a control changes and
still show in the static HTML book. Every explorer keeps its controls and outputs as attributes
(``.controls``, ``.image``, ``.text``), which is how the tests drive them without a browser.

- ``feature_explorer``: n_fft / hop / n_mels / kind sliders over one clip's features.
- ``ctc_explorer``: pick a word and a frame count, step through every valid CTC alignment on the
  trellis with its probability.
- ``decoding_explorer``: beam width, alpha and beta over the same posteriors; hypotheses and WER.
- ``alignment_player``: word segments over the waveform; click a word to hear it.
- ``Recorder``: record from the browser's microphone (or upload a file), then see the waveform,
  spectrogram, greedy and LM transcripts and the word alignment.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from dslearn import plot
from dslearn.text import Alphabet

MAX_PATHS = 5000  # alignments enumerated by the CTC explorer (they grow combinatorially)


def _widgets():
    try:
        import ipywidgets
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(
            "dslearn.widgets needs ipywidgets: pip install 'dslearn[notebooks]'"
        ) from err
    return ipywidgets


def _image(fig):
    return _widgets().Image(value=plot.to_png(fig), format="png")


def wav_bytes(audio, sample_rate: int = 16000) -> bytes:
    """``(samples,)`` float audio as the bytes of a 16-bit WAV file (for ``ipywidgets.Audio``)."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, plot._numpy(audio).reshape(-1), sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


# --- features ---


def feature_explorer(audio, sample_rate: int = 16000):
    """Sliders over n_fft, hop, n_mels and the feature kind, redrawing one clip's features.

    ``audio``: ``(samples,)`` at ``sample_rate``. The title reports the resulting shape
    ``(frames, bins)``: a shorter hop gives more frames, a longer n_fft finer frequency bins.
    """
    w = _widgets()
    from dslearn.features import FeatureConfig, build_features

    audio = torch.as_tensor(plot._numpy(audio), dtype=torch.float32).reshape(-1)
    controls = {
        "kind": w.Dropdown(
            options=["logmel", "mfcc", "spectrogram"], value="logmel", description="kind"
        ),
        "n_fft": w.SelectionSlider(
            options=[128, 256, 400, 512, 1024, 2048], value=400, description="n_fft"
        ),
        "hop_length": w.SelectionSlider(
            options=[80, 160, 240, 320, 480], value=160, description="hop"
        ),
        "n_mels": w.IntSlider(value=80, min=10, max=128, step=2, description="n_mels"),
    }
    image = w.Image(format="png")
    text = w.HTML()

    def redraw(_=None):
        cfg = FeatureConfig(
            kind=controls["kind"].value,
            sample_rate=sample_rate,
            n_fft=controls["n_fft"].value,
            hop_length=controls["hop_length"].value,
            n_mels=controls["n_mels"].value,
            n_mfcc=min(13, controls["n_mels"].value),
            normalize="none",
        )
        feats, _ = build_features(cfg)(audio[None], torch.tensor([audio.numel()]))
        feats = feats[0]
        shift = cfg.hop_length / sample_rate
        ylabel = {"logmel": "mel bin", "mfcc": "coefficient", "spectrogram": "frequency bin"}[
            cfg.kind
        ]
        title = f"{cfg.kind}: {feats.shape[0]} frames x {feats.shape[1]} bins"
        fig = plot.spectrogram(feats, shift, ylabel=ylabel, title=title).figure
        image.value = plot.to_png(fig)
        window_ms, hop_ms = 1000 * cfg.n_fft / sample_rate, 1000 * cfg.hop_length / sample_rate
        text.value = (
            f"window {window_ms:.1f} ms, hop {hop_ms:.1f} ms, frequency resolution "
            f"{sample_rate / cfg.n_fft:.1f} Hz per FFT bin; shape <b>{tuple(feats.shape)}</b>"
        )

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    box = w.VBox(
        [w.HBox(list(controls.values())[:2]), w.HBox(list(controls.values())[2:]), text, image]
    )
    box.controls, box.image, box.text = controls, image, text
    return box


# --- CTC alignments ---


def toy_posteriors(word: str, n_frames: int, alphabet: Alphabet | None = None, seed: int = 0):
    """Deterministic ``(n_frames, classes)`` log-probs that slightly favour ``word``'s letters in
    order: a stand-in for a model's output, for the CTC lessons."""
    alphabet = alphabet or Alphabet()
    gen = torch.Generator().manual_seed(seed + sum(map(ord, word)) * 31 + n_frames)
    logits = torch.randn(n_frames, len(alphabet), generator=gen)
    ids = alphabet.encode(word)
    for t in range(n_frames):  # a soft diagonal: letter i is likely around frame i * T / len
        logits[t, ids[min(len(ids) - 1, t * len(ids) // n_frames)]] += 2.5
        logits[t, alphabet.blank_id] += 1.5
    return torch.log_softmax(logits, dim=-1)


def ctc_explorer(
    words: Sequence[str] = ("cat", "see", "hello", "a"), alphabet: Alphabet | None = None
):
    """Pick a word and a number of frames; step through every alignment that collapses to it.

    Shows the trellis (probability of each state's label per frame, from ``toy_posteriors``) with
    the chosen path, the path as frame labels, its probability, and the sum over all paths, which
    equals ``exp(-ctc_forward_reference(...))``: the CTC likelihood.
    """
    w = _widgets()
    from dslearn.align import frames_needed
    from dslearn.ctc import alignments, ctc_forward_reference

    alphabet = alphabet or Alphabet()
    word = w.Dropdown(options=list(words), value=words[0], description="word")
    frames = w.IntSlider(value=5, min=1, max=12, description="frames")
    path_index = w.IntSlider(value=1, min=1, max=1, description="path")  # 1-based, as printed
    image, text, table = w.Image(format="png"), w.HTML(), w.HTML()
    state: dict = {}

    def recompute(_=None):
        ids = alphabet.encode(word.value)
        frames.min = frames_needed(ids, alphabet.blank_id)
        n = frames.value
        log_probs = toy_posteriors(word.value, n, alphabet)
        paths = list(itertools.islice(alignments(ids, n, alphabet.blank_id), MAX_PATHS))
        scores = [float(sum(log_probs[t, k] for t, k in enumerate(p))) for p in paths]
        order = sorted(range(len(paths)), key=lambda i: -scores[i])
        total = float(torch.exp(-ctc_forward_reference(log_probs, ids, alphabet.blank_id)))
        state.update(
            ids=ids,
            log_probs=log_probs,
            paths=[paths[i] for i in order],
            scores=[scores[i] for i in order],
            total=total,
        )
        path_index.max = max(1, len(paths))
        path_index.value = 1
        rows = "".join(
            f"<tr><td>{i + 1}</td><td><code>{_spell(state['paths'][i], alphabet)}</code></td>"
            f"<td>{np.exp(state['scores'][i]):.2e}</td></tr>"
            for i in range(min(8, len(paths)))
        )
        table.value = (
            f"<table><tr><th>#</th><th>alignment</th><th>probability</th></tr>{rows}</table>"
        )
        redraw()

    def redraw(_=None):
        if not state.get("paths"):
            return
        i = path_index.value - 1
        path = state["paths"][i]
        fig = plot.trellis(
            state["log_probs"],
            state["ids"],
            alphabet,
            path=plot.trellis_path(path, alphabet.blank_id),
            title=f"'{word.value}' in {frames.value} frames: path {i + 1}",
        ).figure
        image.value = plot.to_png(fig)
        p = np.exp(state["scores"][i])
        text.value = (
            f"<b>{len(state['paths'])}</b> valid alignments of '{word.value}' in "
            f"{frames.value} frames"
            f"{' (first ' + str(MAX_PATHS) + ')' if len(state['paths']) == MAX_PATHS else ''}. "
            f"Path {i + 1}: <code>{_spell(path, alphabet)}</code> has probability {p:.3e}, "
            f"{100 * p / state['total']:.1f}% of the total {state['total']:.3e} "
            "(the CTC likelihood, summed over all paths by the forward algorithm)."
        )

    word.observe(recompute, names="value")
    frames.observe(recompute, names="value")
    path_index.observe(redraw, names="value")
    recompute()
    box = w.VBox([w.HBox([word, frames, path_index]), text, image, table])
    box.controls = {"word": word, "frames": frames, "path": path_index}
    box.image, box.text, box.table, box.state = image, text, table, state
    return box


def _spell(path: Sequence[int], alphabet: Alphabet) -> str:
    return " ".join(plot.symbol(alphabet, k) for k in path)


# --- decoding ---


def decoding_explorer(
    log_probs: Sequence[torch.Tensor],
    references: Sequence[str],
    alphabet: Alphabet,
    lm: str | Path | None,
    frame_shift: float = 0.02,
):
    """Beam width, alpha (LM weight) and beta (word bonus) sliders over fixed posteriors.

    ``log_probs``: one ``(frames, classes)`` tensor per utterance (computed once, e.g. with
    ``Recognizer.emissions``). Shows, for the chosen utterance, the reference, the greedy and the
    LM beam-search hypotheses, and the WER of each decoder over all utterances.
    """
    w = _widgets()
    from dslearn.decoding import GreedyDecoder, LMBeamSearchDecoder
    from dslearn.metrics import wer

    padded = torch.nn.utils.rnn.pad_sequence(list(log_probs), batch_first=True)
    lengths = torch.tensor([lp.shape[0] for lp in log_probs])
    greedy = [h.text for h in GreedyDecoder(alphabet, frame_shift=frame_shift)(padded, lengths)]
    controls = {
        "utterance": w.IntSlider(value=0, min=0, max=len(references) - 1, description="utterance"),
        "beam": w.IntSlider(value=16, min=1, max=64, description="beam"),
        "alpha": w.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.25, description="alpha"),
        "beta": w.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.5, description="beta"),
    }
    text = w.HTML()
    state: dict = {}

    def decode(_=None):
        decoder = LMBeamSearchDecoder(
            alphabet,
            lm=lm,
            alpha=controls["alpha"].value,
            beta=controls["beta"].value,
            beam_size=controls["beam"].value,
            frame_shift=frame_shift,
        )
        state["beam"] = [h.text for h in decoder(padded, lengths)]
        show()

    def show(_=None):
        i = controls["utterance"].value
        esc = html.escape
        text.value = (
            f"<table><tr><td>reference</td><td><code>{esc(references[i])}</code></td></tr>"
            f"<tr><td>greedy</td><td><code>{esc(greedy[i])}</code></td></tr>"
            f"<tr><td>LM beam</td><td><code>{esc(state['beam'][i])}</code></td></tr></table>"
            f"WER over {len(references)} utterances: greedy <b>{wer(references, greedy):.3f}</b>, "
            f"LM beam search <b class='dslearn-beam-wer'>{wer(references, state['beam']):.3f}</b>"
        )

    for name in ("beam", "alpha", "beta"):
        controls[name].observe(decode, names="value")
    controls["utterance"].observe(show, names="value")
    decode()
    box = w.VBox(
        [
            w.HBox([controls["utterance"], controls["beam"]]),
            w.HBox([controls["alpha"], controls["beta"]]),
            text,
        ]
    )
    box.controls, box.text, box.state = controls, text, state
    return box


# --- alignment ---


def alignment_player(
    audio, alignment, sample_rate: int = 16000, feats=None, feat_shift: float = 0.01
):
    """Word segments over the waveform (and features); a button per word plays that word."""
    w = _widgets()
    samples = plot._numpy(audio).reshape(-1)
    image = _image(plot.alignment(samples, alignment, sample_rate, feats, feat_shift))
    player = w.Audio(format="wav", autoplay=True, loop=False)
    label = w.HTML("click a word to hear it")

    def play(segment):
        def on_click(_):
            a, b = int(segment.start * sample_rate), int(segment.end * sample_rate)
            player.value = wav_bytes(samples[a:b], sample_rate)
            label.value = (
                f"<b>{html.escape(segment.word)}</b>: {segment.start:.2f}–{segment.end:.2f} s"
            )

        return on_click

    buttons = []
    for segment in alignment.words:
        button = w.Button(description=segment.word, layout=w.Layout(width="auto"))
        button.on_click(play(segment))
        buttons.append(button)
    box = w.VBox([image, w.HBox(buttons, layout=w.Layout(flex_flow="row wrap")), label, player])
    box.image, box.buttons, box.player, box.label = image, buttons, player, label
    return box


# --- record and transcribe ---

_RECORDER_JS = """
function wav(samples, rate) {
  const buf = new ArrayBuffer(44 + samples.length * 2), v = new DataView(buf);
  const put = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  put(0, "RIFF"); v.setUint32(4, 36 + samples.length * 2, true); put(8, "WAVEfmt ");
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true);
  v.setUint16(34, 16, true); put(36, "data"); v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    v.setInt16(44 + 2 * i, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  let bin = ""; const bytes = new Uint8Array(buf);
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}
function render({ model, el }) {
  const button = document.createElement("button");
  const status = document.createElement("span");
  button.className = "dslearn-record"; status.className = "dslearn-record-status";
  button.textContent = "● record"; status.textContent = " ready";
  el.append(button, status);
  let recording = null;
  async function start() {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: {
      echoCancellation: false, autoGainControl: false, noiseSuppression: false,
      channelCount: 1 } });
    const ctx = new AudioContext();
    const source = ctx.createMediaStreamSource(stream);
    const node = ctx.createScriptProcessor(4096, 1, 1);
    const chunks = [];
    node.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    source.connect(node); node.connect(ctx.destination);
    recording = { stream, ctx, node, chunks };
    button.textContent = "■ stop"; status.textContent = " recording…";
    const seconds = model.get("max_seconds");
    if (seconds > 0) setTimeout(() => { if (recording) stop(); }, seconds * 1000);
  }
  function stop() {
    const { stream, ctx, node, chunks } = recording; recording = null;
    node.disconnect(); stream.getTracks().forEach((t) => t.stop());
    const n = chunks.reduce((a, c) => a + c.length, 0), all = new Float32Array(n);
    let o = 0; for (const c of chunks) { all.set(c, o); o += c.length; }
    model.set("sample_rate", ctx.sampleRate);
    model.set("wav_base64", wav(all, ctx.sampleRate));
    model.save_changes(); ctx.close();
    button.textContent = "● record";
    status.textContent = ` ${(n / ctx.sampleRate).toFixed(1)} s recorded`;
  }
  button.addEventListener("click", () => (recording ? stop() : start().catch((err) => {
    status.textContent = " microphone unavailable: " + err.message; })));
}
export default { render };
"""


def _recorder_class():
    import anywidget
    import traitlets

    class _MicButton(anywidget.AnyWidget):
        _esm = _RECORDER_JS
        wav_base64 = traitlets.Unicode("").tag(sync=True)
        sample_rate = traitlets.Int(0).tag(sync=True)
        max_seconds = traitlets.Float(0.0).tag(sync=True)

    return _MicButton


class Recorder:
    """Record from the browser's microphone (or upload a file), then transcribe and align.

    The browser records, so this works on a remote Jupyter server too; audio travels to the kernel
    as a WAV file. Shows the waveform and spectrogram, the greedy and LM transcripts, and the word
    alignment of the LM transcript. ``max_seconds`` stops recording by itself (0: click to stop).

    >>> Recorder(dslearn.load_model()).widget
    """

    def __init__(self, asr, lm: str | Path | None = None, max_seconds: float = 0.0) -> None:
        w = _widgets()
        from dslearn.inference import pretrained_lm_path

        self.asr, self.lm = asr, lm if lm is not None else pretrained_lm_path()
        self.mic = _recorder_class()(max_seconds=max_seconds)
        self.upload = w.FileUpload(
            accept="audio/*,.wav,.flac,.ogg", multiple=False, description="upload"
        )
        # An Image with no value shows the browser's broken-image icon: hidden until a recording.
        self.image = w.Image(format="png", layout=w.Layout(display="none"))
        self.text = w.HTML("record or upload a clip")
        self.result: dict = {}
        self.mic.observe(lambda change: self._from_base64(change["new"]), names="wav_base64")
        self.upload.observe(self._from_upload, names="value")
        self.widget = w.VBox([w.HBox([self.mic, self.upload]), self.text, self.image])

    def _ipython_display_(self):  # pragma: no cover - display hook
        from IPython.display import display

        display(self.widget)

    @functools.cached_property
    def lm_decoder(self):
        """The LM beam search, built on the first recording (reading the LM) and then reused."""
        return self.asr.decoder("lm", lm=self.lm)

    def _from_base64(self, data: str) -> None:
        if data:
            self.transcribe_bytes(base64.b64decode(data))

    def _from_upload(self, change) -> None:
        files = change["new"]
        if files:
            self.transcribe_bytes(bytes(files[0]["content"]))

    def transcribe_bytes(self, data: bytes) -> dict:
        """Decode audio file bytes, transcribe greedily and with the LM, align, and redraw."""
        import soundfile as sf

        from dslearn.audio import resample

        try:
            samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as err:
            self.text.value = f"cannot read that audio: {html.escape(str(err))}"
            return {}
        audio = resample(torch.from_numpy(samples.mean(axis=1)), rate, self.asr.sample_rate)
        if audio.numel() < self.asr.sample_rate // 10:
            self.text.value = "the recording is shorter than 0.1 s: nothing to transcribe"
            return {}
        # One pass through the model (in chunks if the recording is long), then both decoders
        # and the alignment on the same posteriors.
        from dslearn.align import align_log_probs, speech_onset, with_speech_onset

        log_probs = self.asr.chunked_emissions(audio)
        padded, lengths = log_probs[None], torch.tensor([log_probs.shape[0]])
        greedy = self.asr.greedy(padded, lengths)[0].text
        lm_text = ""
        if self.lm:
            lm_text = self.lm_decoder(padded, lengths)[0].text
        best = lm_text or greedy
        words = []
        if best:
            asr = self.asr
            words = align_log_probs(log_probs, best, asr.alphabet, asr.frame_shift).words
            words = with_speech_onset(words, speech_onset(audio, self.asr.sample_rate))
        seconds = audio.numel() / self.asr.sample_rate
        self.result = {"greedy": greedy, "lm": lm_text, "words": words, "seconds": seconds}
        with torch.inference_mode():
            lengths = torch.tensor([audio.numel()], device=self.asr.device)
            feats, _ = self.asr.features(audio[None].to(self.asr.device), lengths)
        cfg = self.asr.feature_config
        import matplotlib.pyplot as plt

        fig, (a, b) = plt.subplots(2, 1, figsize=(9, 4.2), layout="constrained", sharex=True)
        plot.waveform(audio, self.asr.sample_rate, ax=a, words=words)
        plot.spectrogram(feats[0].cpu(), cfg.hop_length / cfg.sample_rate, ax=b, words=words)
        self.image.value = plot.to_png(fig)
        self.image.layout.display = None  # shown from the first recording on
        self.text.value = (
            "<table><tr><td>greedy</td>"
            f"<td><code class='dslearn-greedy'>{html.escape(greedy)}</code></td></tr>"
            "<tr><td>with LM</td>"
            f"<td><code class='dslearn-lm'>{html.escape(lm_text)}</code></td></tr></table>"
            f"{seconds:.1f} s of audio"
        )
        return self.result
