"""Chapters 00-01 of the course: the signal exercises agree with torch.stft and frame_lengths, and
the figures they draw (power spectrogram in Hz/dB, one clip through the pipeline) are labelled."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from dslearn import plot  # noqa: E402
from dslearn.exercises import signals  # noqa: E402
from dslearn.features import frame_lengths  # noqa: E402
from dslearn.text import Alphabet  # noqa: E402


@pytest.mark.parametrize("n, n_fft, hop", [(16000, 400, 160), (1000, 255, 64), (999, 512, 100)])
def test_frame_count_agrees_with_torch_stft_and_frame_lengths(n, n_fft, hop):
    x = torch.randn(n, dtype=torch.float64)
    assert signals.frame_count(n, n_fft, hop) == signals.stft(x, n_fft, hop).shape[0]
    assert signals.frame_count(n, n_fft, hop) == int(frame_lengths(torch.tensor([n]), hop, n_fft))
    plain = torch.stft(x, n_fft, hop, window=torch.hann_window(n_fft, dtype=x.dtype),
                       center=False, return_complex=True)  # fmt: skip
    assert signals.frame_count(n, n_fft, hop, center=False) == plain.shape[1]


def test_alias_frequency_matches_the_samples_of_the_tone():
    rate = 8000
    n = np.arange(64)
    for f in [1000.0, 5000.0, 9000.0, 12345.0]:
        alias = signals.alias_frequency(f, rate)
        assert 0 <= alias <= rate / 2
        np.testing.assert_allclose(
            np.cos(2 * np.pi * f * n / rate), np.cos(2 * np.pi * alias * n / rate), atol=1e-6
        )


def test_power_spectrogram_has_hz_axis_and_colour_bar():
    db = torch.randn(50, 201) * 10 - 40
    ax = plot.power_spectrogram(
        db, 16000, 160, max_hz=4000, title="t", words=[{"word": "a", "start": 0.1, "end": 0.2}]
    )
    assert ax.get_ylabel() == "frequency (kHz)" and ax.get_ylim() == (0, 4.0)
    assert len(ax.figure.axes) == 2  # the image and its colour bar
    plt.close(ax.figure)


def test_pipeline_figure_has_four_rows_and_the_greedy_text():
    alphabet = Alphabet()
    ids = alphabet.encode("hi")
    log_probs = torch.full((10, len(alphabet)), -10.0)
    log_probs[:, 0] = 0.0
    log_probs[2, ids[0]], log_probs[2, 0] = 0.0, -10.0
    log_probs[5, ids[1]], log_probs[5, 0] = 0.0, -10.0
    fig = plot.pipeline(torch.zeros(3200), torch.zeros(21, 80), log_probs.log_softmax(-1), alphabet)
    assert len(fig.axes) == 4
    assert '"hi"' in fig.axes[3].get_title(loc="left")
    plt.close(fig)
