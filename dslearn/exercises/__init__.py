"""Self-checking exercises: a learner's function against the library's reference.

Each chapter's exercises live in one module of this package (``signals``, ``ctc``, ...). An
exercise is a name, the chapter that sets it, the signature the learner writes, a reference
implementation (usually the library's own function) and a list of cases: fixed ones that each
probe one rule (a doubled letter, an empty input, a frame count that does not divide evenly),
then random ones from a fixed seed. ``run_check`` runs them in order and stops at the first case
whose answer differs, saying which case, what was expected, what came back, and a hint.

>>> from dslearn.course import check
>>> check("collapse", lambda path, blank=0: path)
✗ collapse: case 'repeats merge: a a b -> a b' failed ...
"""

from __future__ import annotations

import copy
import importlib
import math
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass
class Case:
    """One input of an exercise: ``fn(*args, **kwargs)`` must equal the reference's answer."""

    name: str  # what the case probes, in words: shown when it fails
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    hint: str = ""  # the usual reason a function fails this case


@dataclass
class Exercise:
    name: str  # what the learner passes to check(): "ctc_forward"
    chapter: str  # two digits: "03"; its solution is in notebooks/solutions/03_*.py
    signature: str  # "ctc_forward(log_probs, target, blank=0) -> float"
    reference: Callable
    cases: Callable[[], list[Case]]  # fixed cases first, then random ones (seeded)
    # compares the reference's answer with the learner's: None when they agree, else what differs
    compare: Callable[[object, object], str | None]


@dataclass
class CheckResult:
    """What ``check`` found. ``bool(result)`` is True when every case passed; it reads as text."""

    name: str
    passed: bool
    message: str
    cases_run: int

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.message

    __str__ = __repr__


REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    if exercise.name in REGISTRY:
        raise ValueError(f"exercise {exercise.name!r} registered twice")
    REGISTRY[exercise.name] = exercise
    return exercise


def load_all() -> dict[str, Exercise]:
    """Import every exercise module of this package; returns the registry (name -> Exercise)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return REGISTRY


def list_exercises(chapter: str | None = None) -> list[Exercise]:
    """Every exercise (of one chapter, if given), in chapter order."""
    return sorted(
        (e for e in load_all().values() if chapter is None or e.chapter == chapter),
        key=lambda e: (e.chapter, e.name),
    )


def run_check(name: str, fn: Callable) -> CheckResult:
    """Run every case of exercise ``name`` through ``fn`` and the reference; see the module doc."""
    exercises = load_all()
    if name not in exercises:
        known = ", ".join(sorted(exercises))
        raise KeyError(f"no exercise named {name!r}; the exercises are: {known}")
    ex = exercises[name]
    cases = ex.cases()
    for i, case in enumerate(cases, 1):
        expected = ex.reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
        try:
            got = fn(*args, **kwargs)
        except NotImplementedError:
            return _fail(ex, i, len(cases), "is not written yet (it raised NotImplementedError)")
        except Exception as err:  # the learner's bug, reported with the case that found it
            problem = f"raised {type(err).__name__}: {err}"
            return _fail(ex, i, len(cases), problem, case)
        if got is None or got is Ellipsis:
            return _fail(ex, i, len(cases), "returned nothing: is the function written yet?", case)
        difference = ex.compare(expected, got)
        if difference is not None:
            return _fail(ex, i, len(cases), difference, case)
    message = f"✓ {ex.name}: all {len(cases)} cases pass (fixed and random), well done."
    return CheckResult(ex.name, True, message, len(cases))


def _fail(ex: Exercise, i: int, n: int, problem: str, case: Case | None = None) -> CheckResult:
    lines = [f"✗ {ex.name}({ex.signature.split('(', 1)[1]}"]
    if case is None:
        lines.append(f"  {problem}")
    else:
        lines.append(f"  case {i} of {n}, {case.name!r}: {problem}")
        shown = [describe(a) for a in case.args] + [
            f"{k}={describe(v)}" for k, v in case.kwargs.items()
        ]
        lines.append(f"  input: {', '.join(shown)}")
        if case.hint:
            lines.append(f"  hint: {case.hint}")
    return CheckResult(ex.name, False, "\n".join(lines), i)


# --- describing inputs and comparing answers ----------------------------------------------------


def describe(value, limit: int = 80) -> str:
    """A short description of a value for messages: small values in full, arrays by shape."""
    if isinstance(value, torch.Tensor):
        if value.numel() <= 8:
            values = [round(v, 4) for v in value.flatten().tolist()]
            return f"tensor({values}, shape {tuple(value.shape)})"
        return (
            f"tensor of shape {tuple(value.shape)}, dtype {str(value.dtype).replace('torch.', '')}"
        )
    if isinstance(value, np.ndarray):
        if value.size <= 8:
            return f"array({np.round(value, 4).tolist()})"
        return f"array of shape {value.shape}, dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_array(value) -> np.ndarray | None:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.is_complex():
            return value.numpy()
        return value.double().numpy()
    if isinstance(value, np.ndarray):
        return value
    return None


def close(rtol: float = 1e-4, atol: float = 1e-5) -> Callable[[object, object], str | None]:
    """A comparer for numbers, arrays and tensors (nested in lists/tuples too), within tolerance."""

    def compare(expected, got, where: str = "") -> str | None:
        at = f" at {where}" if where else ""
        exp_arr, got_arr = _as_array(expected), _as_array(got)
        if exp_arr is not None:
            if got_arr is None:
                try:
                    got_arr = np.asarray(got)
                except Exception:  # noqa: BLE001 - report what came back instead
                    return f"expected an array or tensor{at}, got {describe(got)}"
            if got_arr.shape != exp_arr.shape:
                return f"shape {got_arr.shape}{at}, expected {exp_arr.shape}"
            if not np.allclose(got_arr, exp_arr, rtol=rtol, atol=atol, equal_nan=True):
                diff = np.abs(got_arr - exp_arr)
                diff = np.where(np.isnan(diff), np.inf, diff)
                worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
                return (f"values differ{at}: at index {tuple(int(i) for i in worst)} expected "
                        f"{_num(exp_arr[worst])}, got {_num(got_arr[worst])} "
                        f"(largest difference {_num(diff[worst])})")  # fmt: skip
            return None
        if isinstance(expected, (list, tuple)):
            if not isinstance(got, (list, tuple, np.ndarray, torch.Tensor)):
                return f"expected a sequence{at}, got {describe(got)}"
            if len(got) != len(expected):
                return (f"length {len(got)}{at}, expected {len(expected)}: "
                        f"got {describe(got)}, expected {describe(expected)}")  # fmt: skip
            for j, (e, g) in enumerate(zip(expected, got)):
                problem = compare(e, g, f"{where}[{j}]")
                if problem:
                    return problem
            return None
        if isinstance(expected, (int, float)) and not isinstance(expected, bool):
            try:
                g = float(got)
            except (TypeError, ValueError):
                return f"expected a number{at}, got {describe(got)}"
            if math.isinf(expected) and expected == g:
                return None
            if not math.isclose(g, expected, rel_tol=rtol, abs_tol=atol):
                return f"got {_num(g)}{at}, expected {_num(expected)}"
            return None
        return equal(expected, got, where)

    return compare


def equal(expected, got, where: str = "") -> str | None:
    """A comparer for exact answers (lists of ids, strings, counts, tuples of them)."""
    at = f" at {where}" if where else ""
    if isinstance(got, (torch.Tensor, np.ndarray)):
        got = got.tolist()
    if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
        if len(got) != len(expected):
            return (f"got {describe(got)}{at}, expected {describe(expected)} "
                    f"(length {len(got)}, expected {len(expected)})")  # fmt: skip
        for j, (e, g) in enumerate(zip(expected, got)):
            if equal(e, g) is not None:
                return (f"got {describe(got)}{at}, expected {describe(expected)} "
                        f"(first difference at index {j})")  # fmt: skip
        return None
    if expected != got:
        return f"got {describe(got)}{at}, expected {describe(expected)}"
    return None


def _num(x) -> str:
    x = complex(x) if np.iscomplexobj(x) else float(x)
    if isinstance(x, complex):
        return f"{x.real:.5g}{x.imag:+.5g}j"
    return f"{x:.6g}"


def random_log_probs(rng: torch.Generator, frames: int, classes: int) -> torch.Tensor:
    """``(frames, classes)`` log-softmax rows, for CTC and decoding cases."""
    return torch.randn(frames, classes, generator=rng, dtype=torch.float64).log_softmax(-1)


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def ids(seq: Sequence[int]) -> list[int]:
    return [int(i) for i in seq]
