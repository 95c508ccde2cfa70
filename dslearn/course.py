"""What the notebooks share: quick vs full mode, where they write, and the data they make.

``DSLEARN_QUICK=1`` (set by the tests) shrinks data and training so that the whole course runs in
minutes on two CPU cores; without it the notebooks train for real, on a GPU when there is one.
Everything a notebook generates goes under ``work_dir()`` (``DSLEARN_WORK``, default ``_work``
beside the notebook), so re-running a notebook reuses what an earlier run made.
"""

from __future__ import annotations

import os
from pathlib import Path

QUICK = os.environ.get("DSLEARN_QUICK", "") not in ("", "0")


def quick_or_full(quick, full):
    """``quick`` in quick mode, else ``full``: ``steps = quick_or_full(60, 5000)``."""
    return quick if QUICK else full


def work_dir(name: str = "") -> Path:
    """A folder for generated data and runs (created on first use)."""
    path = Path(os.environ.get("DSLEARN_WORK", "_work")) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def device() -> str:
    """The device the notebooks train on: "cuda" when a GPU is present, else "cpu"."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def synthetic_corpus(hours: float | None = None, seed: int = 0) -> Path:
    """The embedded synthetic corpus (``dslearn synth``), generated once and then reused.

    Default size: 0.05 h in quick mode (about 60 utterances, seconds to make), 10 h otherwise.
    """
    from dslearn.synth import generate_corpus

    hours = hours if hours is not None else quick_or_full(0.05, 10.0)
    out = work_dir(f"synth-{hours:g}h-seed{seed}")
    if not (out / "corpus.json").exists():
        generate_corpus(out, hours=hours, seed=seed, overwrite=True, progress=not QUICK)
    return out


def fsdd_root() -> Path | None:
    """The Free Spoken Digit Dataset folder: ``DSLEARN_FSDD``, else ``../shared/fsdd`` above the
    repository, else None."""
    candidates = [os.environ.get("DSLEARN_FSDD", "")]
    here = Path.cwd().resolve()
    candidates += [str(p / "shared" / "fsdd") for p in [here, *here.parents][:4]]
    for candidate in candidates:
        if candidate and (Path(candidate) / "recordings").is_dir():
            return Path(candidate)
    return None
