"""The course as a reader meets it: every chapter's size, math, stored figures and first cell.

Counts come from the committed notebook JSON (markdown cells; equations removed before counting
words), the way a reader on GitHub sees the chapters without running anything.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from dslearn import course

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
DISPLAY = re.compile(r"\$\$.*?\$\$", flags=re.S)
INLINE = re.compile(r"(?<!\$)\$[^$\n]+\$(?!\$)")


def _notebook(path: Path) -> dict:
    return json.loads(path.read_text())


def prose_stats(path: Path) -> tuple[int, int, int]:
    """(words of prose, equations, stored PNG figures) of one chapter."""
    nb = _notebook(path)
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    equations = len(DISPLAY.findall(md)) + len(INLINE.findall(md))
    words = len(INLINE.sub(" ", DISPLAY.sub(" ", md)).split())
    figures = sum(
        "image/png" in out.get("data", {})
        for cell in nb["cells"]
        for out in cell.get("outputs", [])
    )
    return words, equations, figures


def test_the_course_is_a_textbook_twenty_thousand_words_sixty_equations_figures_in_every_chapter():
    stats = {p.stem: prose_stats(p) for p in CHAPTERS}
    for name, (words, equations, figures) in stats.items():
        print(f"{name:<40} {words:6d} words {equations:4d} equations {figures:3d} figures")
    total_words = sum(w for w, _, _ in stats.values())
    total_equations = sum(e for _, e, _ in stats.values())
    print(f"{'all chapters':<40} {total_words:6d} words {total_equations:4d} equations")
    assert len(CHAPTERS) >= 16, [p.name for p in CHAPTERS]
    thin = {n: w for n, (w, _, _) in stats.items() if w < 1200}
    assert not thin, f"chapters under 1,200 words: {thin}"
    assert total_words >= 20_000
    assert total_equations >= 60
    bare = [n for n, (_, _, f) in stats.items() if f == 0]
    assert not bare, f"chapters committed without their figures: {bare}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_opens_with_mode_and_time_and_ends_with_summary_questions_exercises(path):
    nb = _notebook(path)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    first = "".join(code[0]["source"])
    assert "except ImportError" in first and "%pip install" in first, "installs where missing"
    assert "course.start(" in first, "prints mode, device and expected time"
    assert re.search(r'"quick":.*"laptop":.*"full":', first), "gives the time in each mode"
    headings = " ".join(
        line.lower()
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
        for line in "".join(c["source"]).splitlines()
        if line.startswith("#")
    )
    for part in ("summary", "questions", "exercises"):
        assert part in headings, f"{path.name} has no {part} section"
    assert any("NBVAL_CHECK_OUTPUT" in "".join(c["source"]) for c in code), (
        "no cell whose output nbval compares"
    )


def test_set_mode_is_honoured_after_import(monkeypatch):
    # set_mode writes DSLEARN_MODE itself: record the variable first so that monkeypatch puts it
    # back afterwards (otherwise "full" leaks into every later test and notebook kernel).
    monkeypatch.setenv("DSLEARN_MODE", "")
    monkeypatch.setenv("DSLEARN_QUICK", "1")
    monkeypatch.setattr(course, "_chosen", None)
    assert course.mode() == "quick" and course.by_mode(quick=1, laptop=2, full=3) == 1
    course.set_mode("laptop")
    assert course.mode() == "laptop" and course.by_mode(quick=1, laptop=2) == 2
    assert os.environ["DSLEARN_MODE"] == "laptop"
    course.set_mode("full")
    assert course.by_mode(quick=1, laptop=2) == 2 and course.by_mode(quick=1, laptop=2, full=3) == 3
    with pytest.raises(ValueError, match="quick, laptop, full"):
        course.set_mode("fast")
    monkeypatch.setattr(course, "_chosen", None)
    monkeypatch.setenv("DSLEARN_MODE", "laptop")
    assert course.mode() == "laptop"


def test_start_prints_the_mode_the_device_the_time_and_how_to_change(capsys, monkeypatch):
    monkeypatch.setattr(course, "_chosen", "quick")
    course.start("05 · training", minutes={"quick": 2.5, "laptop": 9, "full": 20})
    out = capsys.readouterr().out
    assert "chapter 05 · training" in out and "mode:     quick" in out
    assert "device:   cpu" in out or "device:   cuda" in out
    assert "about 2.5 min in this mode (quick 2.5 min, laptop 9 min, full 20 min)" in out
    assert 'set_mode("quick" | "laptop" | "full")' in out
