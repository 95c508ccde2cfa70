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


# --- CTC chapters (03, 14): the forward/backward tables and the lattices of other models ---------


def trellis_heatmap(
    log_values,
    targets: Sequence[int],
    alphabet: Alphabet,
    ax=None,
    title: str | None = None,
    floor: float = -40.0,
    label: str = "log-probability (nats)",
):
    """A ``(T, S)`` table over the CTC trellis (``log alpha``, ``log beta``, ``log gamma``) as an
    image: output frames across, the states of ``l' = _ l1 _ l2 ... _`` down (only the labels
    named when there are many; the blank rows lie between them), a colour bar in
    log-probability. Values below ``floor`` (and ``-inf``: unreachable cells) are drawn white."""
    import matplotlib.pyplot as plt

    from dslearn.ctc import extend_with_blanks

    ax = _axes(ax, figsize=(10, 4))
    ext = extend_with_blanks(list(targets), alphabet.blank_id)
    image = np.ma.masked_less(_numpy(log_values).astype(np.float64).T, floor)  # (S, T)
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    shown = ax.imshow(image, origin="upper", aspect="auto", cmap=cmap, vmin=floor, vmax=0,
                      interpolation="nearest")  # fmt: skip
    if len(ext) <= 25:
        ax.set_yticks(range(len(ext)), [symbol(alphabet, s) for s in ext])
    else:  # too many rows to name them all: name the labels, leave the blank rows between
        ax.set_yticks(range(1, len(ext), 2), [symbol(alphabet, s) for s in ext[1::2]], fontsize=8)
    ax.set_xlabel("output frame t")
    ax.set_ylabel("state s of l'")
    ax.figure.colorbar(shown, ax=ax, label=label, pad=0.01)
    if title:
        ax.set_title(title)
    return ax


def _grid_path(ax, points, color="C3") -> None:
    xs, ys = zip(*points)
    ax.plot(xs, ys, color=color, lw=2, marker="o", ms=5, zorder=3)


def ctc_lattice(labels: str, n_frames: int, path: Sequence[int] | None = None, ax=None):
    """A drawing of the CTC trellis of ``labels``: one node per (frame, state of ``l'``), the
    allowed moves (stay, step, skip a blank between different labels) as grey edges, and
    ``path`` (one state index per frame) in red. Every move advances one frame: CTC emits exactly
    one symbol (label or blank) per frame."""
    ax = _axes(ax, figsize=(5, 4))
    ext = ["_"]
    for ch in labels:
        ext += [ch, "_"]
    for t in range(n_frames - 1):
        for s in range(len(ext)):
            for nxt in (s, s + 1, s + 2):
                if nxt >= len(ext) or (nxt == s + 2 and (ext[nxt] == "_" or ext[nxt] == ext[s])):
                    continue
                ax.plot([t, t + 1], [s, nxt], color="0.8", lw=0.7, zorder=1)
    grid_t, grid_s = np.meshgrid(range(n_frames), range(len(ext)))
    ax.scatter(grid_t, grid_s, s=14, color="0.5", zorder=2)
    if path is not None:
        _grid_path(ax, list(enumerate(path)))
    ax.set_yticks(range(len(ext)), [SPACE_SYMBOL if c == " " else c for c in ext])
    ax.set_ylim(len(ext) - 0.5, -0.5)
    ax.set_xlabel("frame t (one output per frame)")
    ax.set_ylabel("state of l'")
    ax.set_title(f"CTC: '{labels}' in {n_frames} frames")
    return ax


def transducer_lattice(labels: str, n_frames: int, path: Sequence[str] | None = None, ax=None):
    """A drawing of the RNN-T lattice: node ``(t, u)`` = ``u`` labels emitted after reading
    ``t + 1`` frames. A label moves up (``u + 1``, same frame: several labels may share a frame),
    a blank moves right (next frame). ``path`` is a string of moves, ``"b"`` for blank and ``"l"``
    for a label, ending with the blank that leaves the last frame."""
    ax = _axes(ax, figsize=(5, 4))
    n_labels = len(labels)
    for t in range(n_frames):
        for u in range(n_labels + 1):
            if u < n_labels:
                ax.annotate("", (t, u + 1), (t, u), arrowprops={"arrowstyle": "->", "color": "0.8"})
            if t < n_frames - 1:
                ax.annotate("", (t + 1, u), (t, u), arrowprops={"arrowstyle": "->", "color": "0.8"})
    grid_t, grid_u = np.meshgrid(range(n_frames), range(n_labels + 1))
    ax.scatter(grid_t, grid_u, s=14, color="0.5", zorder=2)
    if path is not None:
        t, u, points = 0, 0, [(0, 0)]
        for move in path:
            if move == "l":
                u += 1
            elif t < n_frames - 1:
                t += 1
            else:
                break
            points.append((t, u))
        _grid_path(ax, points)
    ax.set_xticks(range(n_frames))
    ax.set_yticks(range(n_labels + 1), ["∅"] + [SPACE_SYMBOL if c == " " else c for c in labels])
    ax.set_xlabel("frame t (blank = move right)")
    ax.set_ylabel("labels emitted so far u")
    ax.set_title(f"RNN-T: '{labels}' in {n_frames} frames")
    return ax


def timeline(events: Sequence[tuple[float, str, str]], ax=None, title: str | None = None):
    """Milestones ``(year, label, family)`` on a time axis, one colour per family, labels
    staggered above and below so they do not overlap."""
    ax = _axes(ax, figsize=(10, 3.6))
    families = list(dict.fromkeys(f for _, _, f in events))
    ax.axhline(0, color="0.3", lw=1)
    for i, (year, label, family) in enumerate(sorted(events)):
        color = f"C{families.index(family)}"
        height = (1 + i % 3) * (1 if i % 2 == 0 else -1)
        ax.plot([year, year], [0, height], color=color, lw=1)
        ax.scatter([year], [0], color=color, zorder=3)
        ax.text(year, height, label, ha="center", va="bottom" if height > 0 else "top",
                fontsize=8, color=color)  # fmt: skip
    for family in families:
        ax.scatter([], [], color=f"C{families.index(family)}", label=family)
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    years = [year for year, _, _ in events]
    ax.set_xlim(min(years) - 4, max(years) + 3)
    ax.set_ylim(-4.2, 4.2)
    ax.set_yticks([])
    ax.set_xlabel("year")
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    return ax


__all__ += ["ctc_lattice", "timeline", "transducer_lattice", "trellis_heatmap"]


def edit_table(ref: Sequence[str], hyp: Sequence[str], ax=None, title: str | None = None):
    """The edit-distance table of ``ref`` (rows) against ``hyp`` (columns), with the walk back.

    Each cell ``(i, j)`` shows ``D[i][j]`` (``dslearn.metrics.edit_table``), coloured by cost; the
    path that ``dslearn.metrics.align_tokens`` walks back is outlined, each step labelled: ``=``
    hit, ``S`` substitution, ``D`` deletion (down), ``I`` insertion (right).
    """
    from dslearn.metrics import align_tokens, alignment_path
    from dslearn.metrics import edit_table as _table

    table = np.array(_table(ref, hyp))
    counts = align_tokens(ref, hyp)
    path = alignment_path(counts)
    ax = _axes(ax, figsize=(1.0 + 0.6 * table.shape[1], 0.8 + 0.5 * table.shape[0]))
    im = ax.imshow(table, cmap="Blues", vmin=0, vmax=max(1, table.max()) * 1.4)
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            ax.text(j, i, str(table[i, j]), ha="center", va="center", fontsize=9)
    ys, xs = zip(*path)
    ax.plot(xs, ys, color="tab:red", lw=2, alpha=0.7)
    ax.scatter(xs, ys, s=260, facecolors="none", edgecolors="tab:red", lw=1.5)
    for (i0, j0), (i1, j1), (r, h) in zip(path, path[1:], counts.alignment):
        tag = "D" if h is None else "I" if r is None else "=" if r == h else "S"
        ax.annotate(tag, ((j0 + j1) / 2, (i0 + i1) / 2), color="tab:red", fontsize=9,
                    fontweight="bold", ha="center", va="center",
                    xytext=(7, 7), textcoords="offset points")  # fmt: skip
    ax.set_xticks(range(len(hyp) + 1), ["∅", *hyp], rotation=45, ha="right")
    ax.set_yticks(range(len(ref) + 1), ["∅", *ref])
    ax.set_xlabel("hypothesis: first j words")
    ax.set_ylabel("reference: first i words")
    ax.figure.colorbar(im, ax=ax, label="edits D[i, j]", shrink=0.8)
    ax.set_title(title or f"edit distance {table[-1, -1]}: red = the walk back")
    return ax


__all__ += ["edit_table"]


# --- chapters 00 and 01: spectrograms in Hz and dB, one clip through the pipeline ---------------


def power_spectrogram(
    db,
    sample_rate: int = 16000,
    hop_length: int = 160,
    ax=None,
    title: str | None = None,
    words=None,
    max_hz: float | None = None,
    vmin: float | None = None,
):
    """``(frames, n_fft // 2 + 1)`` power in dB as an image: seconds across, kHz up, a colour bar.

    Bin ``k`` is ``k * sample_rate / n_fft`` Hz; ``max_hz`` crops the frequency axis; ``vmin``
    (dB) sets the colour floor (default: 80 dB under the peak). Words are marked as by
    ``spectrogram``.
    """
    ax = _axes(ax, figsize=(9, 3))
    image = _numpy(db).T  # (bins, frames)
    top_khz = sample_rate / 2000
    extent = (0, image.shape[1] * hop_length / sample_rate, 0, top_khz)
    vmax = float(image.max())
    im = ax.imshow(
        image, origin="lower", aspect="auto", extent=extent, cmap="magma",
        vmin=vmax - 80 if vmin is None else vmin, vmax=vmax, interpolation="nearest",
    )  # fmt: skip
    # nearest: a smoothed image (matplotlib's default) makes the stored PNG several times larger
    ax.set_ylim(0, (max_hz / 1000) if max_hz else top_khz)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (kHz)")
    ax.figure.colorbar(im, ax=ax, label="power (dB)", pad=0.01)
    if words:
        for w in words:
            word, start, end = _word_tuple(w)
            ax.axvline(start, color="w", lw=0.8, alpha=0.7)
            ax.text((start + end) / 2, ax.get_ylim()[1], word, ha="center", va="bottom", fontsize=9)
    if title:
        ax.set_title(title, pad=14 if words else None)
    return ax


def pipeline(
    audio,
    feats,
    log_probs,
    alphabet: Alphabet,
    sample_rate: int = 16000,
    feat_shift: float = 0.01,
    out_shift: float = 0.02,
    words=None,
    figsize=(10, 7.5),
):
    """One utterance through the recognizer, four rows on one time axis: the waveform, the
    ``(frames, F)`` log-mel features, the ``(T', K)`` posteriors, and the greedy frame labels
    with the text they collapse to. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        4, 1, figsize=figsize, layout="constrained", sharex=True,
        gridspec_kw={"height_ratios": [1, 1.4, 1.4, 0.6]},
    )  # fmt: skip
    waveform(audio, sample_rate, ax=axes[0], words=words)
    axes[0].set_title("1. waveform s[n]: 16,000 numbers per second", loc="left", pad=14)
    spectrogram(feats, feat_shift, ax=axes[1])
    axes[1].images[0].set_interpolation("nearest")  # a smoothed image makes the PNG much larger
    axes[0].set_xlabel("")
    axes[1].set_xlabel("")
    axes[1].set_title("2. log-mel features x_t: 80 numbers every 10 ms", loc="left")
    posteriors(log_probs, alphabet, out_shift, ax=axes[2])
    axes[2].set_title("3. posteriors y^t_k: spikes of letters in a sea of blank", loc="left")
    axes[2].set_xlabel("")
    best = _numpy(log_probs).argmax(-1)
    text_ax = axes[3]
    previous = None
    for t, k in enumerate(best):
        if k != alphabet.blank_id and k != previous:
            text_ax.text(t * out_shift, 0.5, symbol(alphabet, int(k)), ha="center", va="center",
                         fontsize=10, family="monospace")  # fmt: skip
        previous = k
    from dslearn.ctc import collapse

    text = alphabet.decode(collapse(best.tolist(), alphabet.blank_id))
    text_ax.set_yticks([])
    text_ax.set_ylim(0, 1)
    text_ax.set_xlabel("time (s)")
    text_ax.set_title(f'4. greedy text: "{text}"', loc="left")
    return fig


__all__ += ["pipeline", "power_spectrogram"]


def attention(weights, frame_shift: float, ax=None, title: str | None = None):
    """One attention map ``(T', T')`` (row: the output frame that looks; column: the frame it
    looks at), axes in seconds (``frame_shift``: seconds per frame)."""
    ax = _axes(ax, figsize=(4.2, 3.6))
    w = _numpy(weights)
    span = w.shape[0] * frame_shift
    im = ax.imshow(w, origin="lower", aspect="auto", cmap="magma", extent=(0, span, 0, span),
                   vmin=0, vmax=max(float(w.max()), 1e-9))  # fmt: skip
    ax.set_xlabel("attended frame (s)")
    ax.set_ylabel("output frame (s)")
    ax.figure.colorbar(im, ax=ax, label="attention weight")
    if title:
        ax.set_title(title)
    return ax
