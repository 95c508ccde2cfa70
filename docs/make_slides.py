"""Slides from the course's chapters: reveal.js decks through nbconvert (``make slides``).

Every chapter becomes one deck, from its committed outputs (nothing is executed). Cells are
tagged for slides by their headings, so the chapters need no hand-kept slide metadata:

- a markdown cell that opens with ``#`` or ``##`` starts a new slide;
- one that opens with ``###`` starts a sub-slide (below the slide, reveal.js's vertical axis);
- a cell that already carries ``slideshow.slide_type`` keeps it (a teacher's own choice wins);
- code cells whose outputs hold a figure stay on the slide with their code; other code cells and
  long prose cells (over ``--notes-words``) become speaker notes (press ``s`` in the deck).

Usage: python docs/make_slides.py --out build/slides [--reveal-prefix URL] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def slide_type(cell, notes_words: int) -> str:
    """The reveal.js role of one cell: "slide", "subslide", "-" (same slide) or "notes"."""
    text = "".join(cell.source).lstrip()
    if cell.cell_type == "markdown":
        if text.startswith("### "):
            return "subslide"
        if text.startswith("# ") or text.startswith("## "):
            return "slide"
        return "notes" if len(text.split()) > notes_words else "-"
    has_figure = any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    return "-" if has_figure else "notes"


def tag(nb, notes_words: int = 120):
    """A copy of a notebook with every cell's ``slideshow.slide_type`` set (see module doc)."""
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):
        show = cell.metadata.setdefault("slideshow", {})
        if "slide_type" not in show:
            show["slide_type"] = "slide" if i == 0 else slide_type(cell, notes_words)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    parser.add_argument("--reveal-prefix", default=None, help="reveal.js location (default: CDN)")
    parser.add_argument("--notes-words", type=int, default=120)
    args = parser.parse_args(argv)
    chapters = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    tagged_dir = args.out / "_tagged"
    tagged_dir.mkdir(parents=True, exist_ok=True)
    for path in chapters:
        nb = tag(nbformat.read(path, as_version=4), args.notes_words)
        nbformat.write(nb, tagged_dir / path.name)
        cmd = [sys.executable, "-m", "nbconvert", "--to", "slides", "--output-dir", str(args.out),
               str(tagged_dir / path.name)]  # fmt: skip
        if args.reveal_prefix:
            cmd.append(f"--SlidesExporter.reveal_url_prefix={args.reveal_prefix}")
        subprocess.run(cmd, check=True, capture_output=True)
        print(f"{path.name} -> {args.out / (path.stem + '.slides.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
