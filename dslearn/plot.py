"""Figures: waveforms, spectrograms, posteriors, the CTC trellis, alignments, training curves.

Every function draws on a matplotlib ``Axes`` (``ax=None`` makes a new figure) and returns it, so
figures can be combined; times on x axes are in seconds unless the axis says frames. Inputs follow
the library's conventions: audio ``(samples,)``, features ``(frames, bins)``, log-probs
``(frames, classes)``.

``LiveTraining`` is a ``Trainer`` callback that redraws loss and WER curves, and the posteriors of
one fixed utterance, while a notebook trains.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import numpy as np
import torch

from dslearn.text import Alphabet

BLANK_SYMBOL = "_"  # how the CTC blank is printed in figures and paths
SPACE_SYMBOL = "␣"  # how the space is printed


def _axes(ax=None, figsize=(9, 2.5)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x)


def symbol(alphabet: Alphabet, index: int) -> str:
    """A class index as printed in figures: ``_`` for the blank, ``␣`` for the space."""
    if index == alphabet.blank_id:
        return BLANK_SYMBOL
    token = alphabet.tokens[index]
    return SPACE_SYMBOL if token == " " else token


def waveform(audio, sample_rate: int = 16000, ax=None, words=None, title: str | None = None):
    """``(samples,)`` audio against time in seconds; ``words`` (with ``.word/.start/.end`` or
    dicts) are shaded and labelled."""
    ax = _axes(ax)
    samples = _numpy(audio).reshape(-1)
    ax.plot(np.arange(samples.size) / sample_rate, samples, lw=0.5, color="C0")
    ax.set_xlim(0, samples.size / sample_rate)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if words:
        _shade_words(ax, words)
    if title:
        ax.set_title(title)
    return ax


def _word_tuple(w) -> tuple[str, float, float]:
    if isinstance(w, dict):
        return w["word"], w["start"], w["end"]
    return w.word, w.start, w.end


def _shade_words(ax, words) -> None:
    top = ax.get_ylim()[1]
    for i, w in enumerate(words):
        word, start, end = _word_tuple(w)
        ax.axvspan(start, end, color=f"C{1 + i % 2}", alpha=0.25, lw=0)
        ax.text((start + end) / 2, top, word, ha="center", va="bottom", fontsize=9)


def spectrogram(
    feats,
    frame_shift: float = 0.01,
    ax=None,
    title: str | None = None,
    ylabel: str = "mel bin",
    words=None,
):
    """``(frames, bins)`` features as an image; x in seconds (``frame_shift`` s per frame)."""
    ax = _axes(ax)
    image = _numpy(feats).T
    extent = (0, image.shape[1] * frame_shift, 0, image.shape[0])
    ax.imshow(image, origin="lower", aspect="auto", extent=extent, cmap="magma")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(ylabel)
    if words:
        for w in words:
            _, start, end = _word_tuple(w)
            ax.axvline(start, color="w", lw=0.8, alpha=0.7)
            ax.axvline(end, color="w", lw=0.8, ls=":", alpha=0.7)
    if title:
        ax.set_title(title)
    return ax


def posteriors(
    log_probs,
    alphabet: Alphabet,
    frame_shift: float = 0.02,
    ax=None,
    title: str | None = None,
    min_prob: float = 0.2,
):
    """``(frames, classes)`` log-probs as one curve per class that ever exceeds ``min_prob``.

    A trained CTC model is *peaky*: the blank holds most frames, and each character spikes for a
    frame or two. An untrained one is flat. Characters are labelled at their peaks.
    """
    ax = _axes(ax)
    probs = np.exp(_numpy(log_probs))
    t = np.arange(probs.shape[0]) * frame_shift
    ax.plot(t, probs[:, alphabet.blank_id], color="0.75", lw=1, label="blank")
    for c in range(probs.shape[1]):
        if c == alphabet.blank_id or probs[:, c].max() < min_prob:
            continue
        ax.plot(t, probs[:, c], lw=1)
        # Label each local peak of this class above min_prob.
        p = probs[:, c]
        peaks = np.flatnonzero((p >= min_prob) & (p >= np.roll(p, 1)) & (p > np.roll(p, -1)))
        for f in peaks:
            ax.text(t[f], p[f] + 0.02, symbol(alphabet, c), ha="center", fontsize=9)
    ax.set_ylim(0, 1.12)
    ax.set_xlim(0, max(t[-1], frame_shift) if t.size else 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("probability")
    if title:
        ax.set_title(title)
    return ax


def trellis(
    log_probs,
    targets: Sequence[int],
    alphabet: Alphabet,
    path: Sequence[int] | None = None,
    ax=None,
    title: str | None = None,
):
    """The CTC trellis: frames across, the blank-extended target ``_ y1 _ y2 ... _`` down.

    Each cell shows the probability of that state's label at that frame (``exp(log_probs)``);
    ``path`` (one state index per frame, as ``trellis_path`` returns) is drawn on top.
    """
    from dslearn.ctc import extend_with_blanks

    ax = _axes(ax, figsize=(9, 3))
    ext = extend_with_blanks(list(targets), alphabet.blank_id)
    probs = np.exp(_numpy(log_probs))[:, ext].T  # (states, frames)
    ax.imshow(probs, origin="upper", aspect="auto", cmap="Blues", vmin=0, vmax=1)
    ax.set_yticks(range(len(ext)), [symbol(alphabet, s) for s in ext])
    ax.set_xlabel("frame")
    ax.set_ylabel("state")
    if path is not None:
        ax.plot(range(len(path)), list(path), color="C3", marker="o", ms=3, lw=1.5)
    if title:
        ax.set_title(title)
    return ax


def trellis_path(labels: Sequence[int], blank: int = 0) -> list[int]:
    """Rows of the CTC trellis that a frame-level alignment ``labels`` passes through.

    ``labels`` is one class per frame (e.g. from ``dslearn.ctc.alignments`` or ``forced_align``);
    row ``2k`` is the blank after ``k`` labels, row ``2k - 1`` the ``k``-th label. A label starts
    anew when the frame before holds something else (a blank or another label).
    """
    rows, k = [], 0
    for t, label in enumerate(labels):
        if label == blank:
            rows.append(2 * k)
            continue
        if t == 0 or labels[t - 1] != label:
            k += 1
        rows.append(2 * k - 1)
    return rows


def alignment(audio, alignment, sample_rate: int = 16000, feats=None, feat_shift: float = 0.01):
    """Word segments over the waveform (and over the features when given): one figure."""
    import matplotlib.pyplot as plt

    rows = 2 if feats is not None else 1
    fig, axes = plt.subplots(rows, 1, figsize=(9, 2.3 * rows), layout="constrained", sharex=True)
    axes = np.atleast_1d(axes)
    waveform(audio, sample_rate, ax=axes[0], words=alignment.words)
    if feats is not None:
        spectrogram(feats, feat_shift, ax=axes[1], words=alignment.words)
    return fig


def training_curves(records: Sequence[dict], axes=None):
    """Loss per logged step and dev WER/CER per evaluation, from ``metrics.jsonl`` records."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 2.8), layout="constrained")
    loss_ax, wer_ax = axes
    train = [r for r in records if r.get("split") == "train"]
    valid = [r for r in records if r.get("split") == "valid"]
    loss_ax.plot([r["step"] for r in train], [r["loss"] for r in train], lw=1)
    loss_ax.set_yscale("log")
    loss_ax.set_xlabel("step")
    loss_ax.set_ylabel("CTC loss")
    wer_ax.plot([r["step"] for r in valid], [r["wer"] for r in valid], marker="o", label="WER")
    wer_ax.plot([r["step"] for r in valid], [r["cer"] for r in valid], marker="o", label="CER")
    wer_ax.set_ylim(0, max([1.0] + [r["wer"] for r in valid]))
    wer_ax.set_xlabel("step")
    wer_ax.set_ylabel("dev error rate")
    if valid:
        wer_ax.legend()
    return axes


def to_png(fig) -> bytes:
    """A figure as PNG bytes (for ``ipywidgets.Image``), closing it so it is not shown twice."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


class LiveTraining:
    """A ``Trainer`` callback that redraws curves, and one utterance's posteriors, as training runs.

    >>> trainer = Trainer(cfg)
    >>> trainer.callbacks.append(LiveTraining(trainer, "clip.wav", every=100))
    >>> trainer.fit()

    Every ``every`` steps the figure shows the loss, dev WER/CER so far, and the model's current
    posteriors for ``audio``: watch them go from flat to peaky. Works in Jupyter (one display,
    updated in place) and in a terminal (does nothing visible). ``records`` keeps every record.
    """

    def __init__(self, trainer, audio=None, every: int = 100) -> None:
        self.trainer, self.every = trainer, every
        self.records: list[dict] = []
        self.audio = None
        if audio is not None:
            from dslearn import audio as audio_io

            is_path = isinstance(audio, str | os.PathLike)
            self.audio = audio_io.load(audio) if is_path else torch.as_tensor(audio).float()
        self._handle = None
        self._last_drawn = -1

    def __call__(self, record: dict) -> None:
        self.records.append(record)
        step = record.get("step", 0)
        if record.get("split") == "valid" or step // self.every > self._last_drawn // self.every:
            self._last_drawn = step
            self.draw()

    def figure(self):
        import matplotlib.pyplot as plt

        rows = 2 if self.audio is not None else 1
        fig = plt.figure(figsize=(9, 2.8 * rows), layout="constrained")
        grid = fig.add_gridspec(rows, 2)
        training_curves(
            self.records, axes=[fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])]
        )
        if self.audio is not None:
            log_probs = self.current_posteriors()
            step = self.records[-1]["step"] if self.records else 0
            title = f"posteriors of one dev utterance at step {step}"
            ax = fig.add_subplot(grid[1, :])
            posteriors(
                log_probs, self.trainer.alphabet, self.trainer.frame_shift, ax=ax, title=title
            )
        return fig

    @torch.no_grad()
    def current_posteriors(self) -> torch.Tensor:
        """``(frames, classes)`` log-probs of the tracked utterance under the current weights."""
        trainer = self.trainer
        model = trainer.model  # the bare module, also under DDP
        was_training = model.training
        model.eval()
        audio = self.audio.to(trainer.device)[None]
        lengths = torch.tensor([audio.shape[1]], device=trainer.device)
        feats, frames = trainer.features(audio, lengths)
        log_probs, out_lengths = model(feats, frames)
        model.train(was_training)
        return log_probs[0, : int(out_lengths[0])].float().cpu()

    def draw(self) -> None:
        import matplotlib.pyplot as plt

        fig = self.figure()
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # pragma: no cover - plain Python without IPython
            plt.close(fig)
            return
        if get_ipython() is None:
            plt.close(fig)
            return
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)


__all__ = [
    "LiveTraining",
    "alignment",
    "posteriors",
    "spectrogram",
    "symbol",
    "to_png",
    "training_curves",
    "trellis",
    "trellis_path",
    "waveform",
]
