"""What the course's chapters share: the mode they run in, where they write, the data they make.

Three modes size every chapter's data and training:

- ``quick``: the continuous-integration run; the whole course in minutes on two CPU cores. Every
  training chapter still shows learning, on an easier task or a smaller corpus.
- ``laptop``: the CPU default. Each training chapter finishes in about ten minutes on two cores.
- ``full``: the default on a GPU. The real corpus sizes and models.

The mode comes from ``set_mode()`` (which works at any time, also after import), else the
``DSLEARN_MODE`` environment variable, else ``DSLEARN_QUICK=1`` (the tests' switch, meaning quick),
else ``full`` where CUDA is present and ``laptop`` elsewhere. Everything a chapter generates goes
under ``work_dir()`` (``DSLEARN_WORK``, default ``_work`` beside the notebook), so re-running a
chapter reuses what an earlier run made.
"""

from __future__ import annotations

import os
from pathlib import Path

MODES = ("quick", "laptop", "full")
_DESCRIPTIONS = {
    "quick": "small data and short training, for continuous integration",
    "laptop": "the CPU default: about ten minutes per training chapter on two cores",
    "full": "the GPU default: real corpus sizes and models",
}
_chosen: str | None = None  # set by set_mode(); wins over the environment


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def mode() -> str:
    """The mode the chapters run in now: "quick", "laptop" or "full" (see the module docstring)."""
    if _chosen is not None:
        return _chosen
    named = os.environ.get("DSLEARN_MODE", "").strip().lower()
    if named:
        if named not in MODES:
            raise ValueError(f"DSLEARN_MODE={named!r}: choose one of {', '.join(MODES)}")
        return named
    if os.environ.get("DSLEARN_QUICK", "") not in ("", "0"):
        return "quick"
    return "full" if _has_cuda() else "laptop"


def set_mode(name: str) -> str:
    """Run the following cells in mode ``name`` ("quick", "laptop" or "full"); returns it.

    Every helper of this module reads the mode when it is called, so cells run after this one
    follow the new mode. The choice is also put in ``DSLEARN_MODE`` for child processes.
    """
    global _chosen
    name = name.strip().lower()
    if name not in MODES:
        raise ValueError(f"mode {name!r}: choose one of {', '.join(MODES)}")
    _chosen = name
    os.environ["DSLEARN_MODE"] = name
    return name


def is_quick() -> bool:
    """True in quick mode (small data, few steps, no progress bars)."""
    return mode() == "quick"


def by_mode(quick, laptop, full=None):
    """The value for the current mode: ``steps = by_mode(quick=150, laptop=600, full=5000)``.

    ``full`` defaults to ``laptop``'s value.
    """
    return {"quick": quick, "laptop": laptop, "full": laptop if full is None else full}[mode()]


def device() -> str:
    """The device the chapters train on: "cuda" when a GPU is present, else "cpu"."""
    return "cuda" if _has_cuda() else "cpu"


def start(chapter: str, minutes: dict[str, float]) -> None:
    """Print what a chapter's first cell says: mode, device, expected time and how to change it.

    ``minutes`` maps each mode to the chapter's expected wall-clock minutes (``quick`` and
    ``laptop`` measured on two CPU cores, ``full`` on one GPU).
    """
    import torch

    current = mode()
    dev = device()
    where = (
        torch.cuda.get_device_name(0)
        if dev == "cuda"
        else f"cpu, {torch.get_num_threads()} threads"
    )
    expected = minutes.get(current)
    others = ", ".join(f"{m} {_fmt_minutes(minutes[m])}" for m in MODES if m in minutes)
    print(f"dslearn {_version()} · chapter {chapter}")
    print(f"mode:     {current} ({_DESCRIPTIONS[current]})")
    print(f"device:   {dev} ({where})")
    if expected is not None:
        print(f"expected: about {_fmt_minutes(expected)} in this mode ({others})")
    print(
        'change:   dslearn.course.set_mode("quick" | "laptop" | "full"), then run the cells below'
    )


def _fmt_minutes(m: float) -> str:
    return f"{m:g} min" if m >= 1 else f"{round(m * 60)} s"


def _version() -> str:
    from dslearn import __version__

    return __version__


def work_dir(name: str = "") -> Path:
    """A folder for generated data and runs (created on first use)."""
    path = Path(os.environ.get("DSLEARN_WORK", "_work")) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def synthetic_corpus(hours: float | None = None, seed: int = 0, **config) -> Path:
    """The embedded synthetic corpus (``dslearn synth``), generated once and then reused.

    Default size by mode: 0.05 h in quick mode (about 60 utterances, seconds to make), 1 h in
    laptop mode (about 1,300 utterances, under a minute), 10 h in full mode. ``config`` passes
    further ``dslearn.synth.SynthConfig`` fields (e.g. ``digits_weight=1.0``); the folder name
    records them, so different corpora never share a folder.
    """
    from dslearn.synth import generate_corpus

    hours = hours if hours is not None else by_mode(quick=0.05, laptop=1.0, full=10.0)
    extra = "".join(
        f"-{k}{v:g}" if isinstance(v, float) else f"-{k}{v}" for k, v in sorted(config.items())
    )
    out = work_dir(f"synth-{hours:g}h-seed{seed}{extra}")
    if not (out / "corpus.json").exists():
        generate_corpus(
            out, hours=hours, seed=seed, overwrite=True, progress=not is_quick(), **config
        )
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


def check(name: str, fn):
    """Test a learner's function against the library's reference: ``check("collapse", fn)``.

    Runs fixed and random cases and returns a result that reads as a message: which case failed
    and why, or how many passed. ``dslearn.exercises.list_exercises()`` names them all.
    """
    from dslearn.exercises import run_check

    return run_check(name, fn)
