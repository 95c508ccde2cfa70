"""The course in a real browser: JupyterLab on 127.0.0.1 driven by headless Chromium (Playwright).

Opens chapters 03 (CTC), 06 (decoding) and 00 (quickstart), runs them, checks that their figures
are drawn, moves a slider and checks that the dependent figure/text changed; then records from
Chromium's fake microphone (playing a synthetic utterance) with the record widget of the
quickstart and checks the transcript, and again with a real person's recording (a held-out
telephone prompt from Debian's Asterisk sounds) as the microphone. Screenshots are saved under
``DSLEARN_ARTIFACTS`` (default ``test-artifacts/``).

Needs Debian's Chromium (``.ci/run`` installs it; browsers cannot be downloaded here).
"""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ARTIFACTS = Path(
    os.environ.get("DSLEARN_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts")
)
SPOKEN = "set a timer for ten minutes"
ASTERISK = Path("/usr/share/asterisk/sounds/en")
# A held-out Asterisk prompt (its name and transcript as ``dslearn data prepare asterisk`` reads
# them from core-sounds-en.txt): one real woman's voice over a telephone-band channel.
REAL_PROMPT, REAL_TEXT = "vm-torerecord.wav", "press three to rerecord your message"
# Measured 2026-12-07 through the browser (MediaRecorder's Opus, 48 kHz): greedy CER 0.33-0.36 in
# three runs with the stage-8 model ('pres tore to re rheco to meseg'; read directly: 0.25), 0.28
# with stage 7 (directly 0.19), and directly 0.50 with stage 6, which heard no person. One of the
# 55 held-out prompts (their mean CER is 0.48): chosen as a short, clear one, not as a typical
# one. The bound sits between the models that heard people and the one that did not.
REAL_GREEDY_CER = 0.45

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on the notebooks folder, quick mode, with throwaway settings."""
    tmp = tmp_path_factory.mktemp("lab")
    settings = tmp / "settings"
    notification = (
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    )
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Render every cell: JupyterLab 4 otherwise leaves cells outside the view empty (windowing),
    # and their prompts could not show that they ran.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    env = {
        **os.environ,
        "DSLEARN_QUICK": "1",
        "DSLEARN_MODE": "quick",
        "DSLEARN_WORK": str(tmp / "work"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        # The kernels draw inline, as a learner's do: notebooks/conftest.py sets MPLBACKEND=agg for
        # nbval in this same pytest process, and agg would leave the page without a figure.
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp / "lab.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", "--allow-root", f"--ServerApp.root_dir={NOTEBOOKS}"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(
                    f"JupyterLab did not start: {(tmp / 'lab.log').read_text()}"
                ) from None
            time.sleep(0.3)
    yield url, token
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def fake_microphone(tmp_path_factory) -> tuple[Path, float]:
    """A WAV of SPOKEN with silence around it, for Chromium's fake audio capture."""
    from dslearn import synth

    audio, _ = synth.synthesize(SPOKEN, voice="en-us+m3", seed=0, sample_rate=48000)
    silence = np.zeros(int(0.8 * 48000), dtype=np.float32)
    clip = np.concatenate([silence, audio, silence, silence])
    path = tmp_path_factory.mktemp("mic") / "spoken.wav"
    sf.write(path, clip, 48000, subtype="PCM_16")
    return path, len(clip) / 48000


@pytest.fixture(scope="module")
def real_microphone(tmp_path_factory) -> tuple[Path, float]:
    """A real person's recording for the fake microphone: REAL_PROMPT, one of the Asterisk
    prompts that ``dslearn data prepare asterisk`` holds out for testing (never trained on), as
    the 8 kHz file is, resampled to Chromium's 48 kHz, with silence around it."""
    from dslearn import audio

    source = ASTERISK / REAL_PROMPT
    if not source.is_file():
        pytest.skip(f"{source} is missing: install asterisk-core-sounds-en-wav (make test does)")
    samples = audio.load(source, sample_rate=48000).numpy()
    silence = np.zeros(int(0.8 * 48000), dtype=np.float32)
    clip = np.concatenate([silence, samples, silence, silence])
    path = tmp_path_factory.mktemp("real-mic") / REAL_PROMPT
    sf.write(path, clip, 48000, subtype="PCM_16")
    return path, len(clip) / 48000


@pytest.fixture(scope="module")
def playwright():
    with playwright_api.sync_playwright() as p:
        yield p


def _launch(playwright, microphone: Path):
    """Headless Chromium whose microphone plays ``microphone`` (a WAV, looped)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-audio-capture={microphone}"],
    )  # fmt: skip


@pytest.fixture(scope="module")
def chromium(playwright, fake_microphone):
    browser = _launch(playwright, fake_microphone[0])
    yield browser
    browser.close()


def run_notebook(chromium, lab, name: str):
    """Open a notebook in JupyterLab, Run All, and wait until every code cell has run."""
    url, token = lab
    page = chromium.new_page(viewport={"width": 1300, "height": 1700})
    page.context.grant_permissions(["microphone"], origin=url)
    for _attempt in range(3):
        page.goto(f"{url}/lab/tree/{name}?reset&token={token}")  # reset: only this notebook open
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']:visible").first
        idle.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)  # JupyterLab may restart a kernel that just came up idle
        dialog = page.locator(".jp-Dialog button.jp-mod-accept")
        if dialog.count():
            dialog.first.click()
        idle.wait_for(timeout=60_000)
        # The chapters are committed with outputs: clear them (and their execution counts) so
        # that a numbered prompt below means the cell ran now.
        page.locator("li.lm-MenuBar-item:has-text('Edit')").click()
        page.locator("li.lm-Menu-item:has-text('Clear Outputs of All Cells')").first.click()
        page.locator("li.lm-MenuBar-item:has-text('Run')").click()
        page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
        if _wait_all_ran(page, timeout=300):
            return page
    shot(page, f"{name}_run_all_failed")
    prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
    raise AssertionError(f"{name}: Run All did not finish; cell prompts: {prompts}")


def _wait_all_ran(page, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        if prompts and all(re.fullmatch(r"\[\d+\]:", p.strip()) for p in prompts):
            errors = page.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
            )
            tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
            assert not tracebacks, tracebacks[0][-2000:]
            return True
        page.wait_for_timeout(500)
    return False


def figures_shown(page, name: str, minimum: int) -> int:
    """Count the figures (PNG images) the chapter drew in the browser; save a shot of the first."""
    images = page.locator(".jp-OutputArea-output img[src^='data:image/png'], .jp-RenderedImage img")
    count = images.count()
    assert count >= minimum, f"{name}: {count} figures shown, expected at least {minimum}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    images.first.scroll_into_view_if_needed()
    images.first.screenshot(path=str(ARTIFACTS / f"{name}_first_figure.png"))
    return count


def slider_handle(page, label: str):
    slider = page.locator(".widget-slider", has=page.locator(f".widget-label:text-is('{label}')"))
    return slider.locator(".noUi-handle").first


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def wait_until(read, condition, timeout: float = 60.0):
    """Poll ``read()`` until ``condition(value)`` holds (each key press may redraw on its own)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        now = read()
        if condition(now):
            return now
        time.sleep(0.25)
    raise AssertionError(f"still {now!r}"[:500])


def test_ctc_explorer_redraws_when_the_path_slider_moves(chromium, lab):
    page = run_notebook(chromium, lab, "03_ctc_from_scratch.ipynb")
    figures_shown(page, "03_ctc_from_scratch", minimum=4)
    explorer = page.locator(".widget-vbox", has=page.locator(".widget-label:text-is('path')")).last
    explorer.scroll_into_view_if_needed()
    text = explorer.locator(".widget-html-content").first
    image = explorer.locator("img").first
    assert "valid alignments of 'cat' in 5 frames" in text.inner_text()
    before_text, before_src = text.inner_text(), image.get_attribute("src")
    shot(page, "ctc_explorer_before")
    handle = slider_handle(page, "path")
    handle.focus()
    handle.press("ArrowRight")
    handle.press("ArrowRight")
    wait_until(text.inner_text, lambda t: "Path 3:" in t and t != before_text)
    wait_until(lambda: image.get_attribute("src"), lambda src: src != before_src)
    explorer.screenshot(path=str(ARTIFACTS / "ctc_explorer_after.png"))
    page.close()


def test_decoding_explorer_updates_hypotheses_when_the_beam_narrows(chromium, lab):
    page = run_notebook(chromium, lab, "06_decoding.ipynb")
    figures_shown(page, "06_decoding", minimum=2)
    wer = page.locator(".dslearn-beam-wer").last
    wer.scroll_into_view_if_needed()
    before = wer.inner_text()
    shot(page, "decoding_explorer_before")
    handle = slider_handle(page, "beam")
    handle.focus()
    for _ in range(15):  # beam 16 -> 1: the search keeps one prefix, so the LM can rescue less
        handle.press("ArrowLeft")
    wait_until(wer.inner_text, lambda now: float(now) > float(before))
    page.locator(".widget-vbox", has=wer).last.screenshot(
        path=str(ARTIFACTS / "decoding_explorer_after.png")
    )
    page.close()


def record_in_quickstart(browser, lab, seconds: float, screenshot: str) -> tuple[str, str]:
    """Run 00 in ``browser``, record ``seconds`` with its widget: (greedy, LM) transcripts."""
    page = run_notebook(browser, lab, "00_quickstart.ipynb")
    figures_shown(page, "00_quickstart", minimum=1)
    button = page.locator("button.dslearn-record").last
    button.scroll_into_view_if_needed()
    button.click()
    page.locator(".dslearn-record-status:has-text('recording')").wait_for(timeout=20_000)
    page.wait_for_timeout(int(1000 * (seconds - 0.4)))  # one pass of the clip, not its loop
    button.click()
    lm = page.locator("code.dslearn-lm").last
    lm.wait_for(timeout=120_000)
    greedy = page.locator("code.dslearn-greedy").last.inner_text().strip()
    with_lm = lm.inner_text().strip()
    page.locator(".widget-vbox", has=button).last.screenshot(path=str(ARTIFACTS / screenshot))
    page.close()
    return greedy, with_lm


def test_record_widget_transcribes_the_fake_microphone(chromium, lab, fake_microphone):
    from dslearn.metrics import wer

    greedy, transcript = record_in_quickstart(chromium, lab, fake_microphone[1], "recorder.png")
    assert wer(SPOKEN, transcript) <= 0.2, (transcript, greedy)


def test_record_widget_transcribes_a_real_voice(playwright, lab, real_microphone):
    from dslearn.metrics import cer

    browser = _launch(playwright, real_microphone[0])
    try:
        greedy, transcript = record_in_quickstart(
            browser, lab, real_microphone[1], "recorder-real-voice.png"
        )
    finally:
        browser.close()
    assert cer(REAL_TEXT, greedy) <= REAL_GREEDY_CER, (greedy, transcript)
