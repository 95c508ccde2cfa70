"""Every exercise of the course: its worked solution passes its check, typical wrong answers fail.

Solutions live in ``notebooks/solutions/NN_*.py`` (a function named like the exercise); wrong
answers in ``tests/wrong_answers/*.py`` (a ``WRONG`` dict: exercise name -> [(why, fn), ...]).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from dslearn.course import check
from dslearn.exercises import list_exercises

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = list_exercises()


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"_sol_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _solution(name: str, chapter: str):
    files = sorted((ROOT / "notebooks" / "solutions").glob(f"{chapter}_*.py"))
    for f in files:
        module = _load(f)
        if hasattr(module, name):
            return getattr(module, name)
    raise AssertionError(f"no solution {name}() in notebooks/solutions/{chapter}_*.py")


def _wrong_answers() -> dict:
    wrong: dict = {}
    for f in sorted((ROOT / "tests" / "wrong_answers").glob("*.py")):
        for name, answers in _load(f).WRONG.items():
            wrong.setdefault(name, []).extend(answers)
    return wrong


WRONG = _wrong_answers()


def test_the_course_has_at_least_fifteen_exercises_in_its_chapters():
    print({e.chapter: [x.name for x in EXERCISES if x.chapter == e.chapter] for e in EXERCISES})
    assert len(EXERCISES) >= 15, [e.name for e in EXERCISES]


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.name)
def test_worked_solution_passes_its_check(ex):
    result = check(ex.name, _solution(ex.name, ex.chapter))
    assert result.passed, result.message
    assert result.message.startswith("✓") and result.cases_run >= 5


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.name)
def test_typical_wrong_answers_are_rejected_with_the_failing_case_named(ex):
    answers = WRONG.get(ex.name, [])
    assert answers, f"tests/wrong_answers has no wrong answer for {ex.name!r}"
    for why, fn in answers:
        result = check(ex.name, fn)
        assert not result.passed, f"{ex.name}: the wrong answer that {why} passed"
        assert result.message.startswith("✗") and "case" in result.message, result.message


def test_an_unwritten_exercise_says_so_and_an_unknown_name_lists_the_exercises():
    def todo(*args, **kwargs):
        raise NotImplementedError

    assert "not written yet" in check("collapse", todo).message
    assert "returned nothing" in check("collapse", lambda path, blank=0: None).message
    with pytest.raises(KeyError, match="collapse"):
        check("colapse", todo)


def test_a_crash_in_the_learners_function_names_the_case_and_the_error():
    from dslearn.ctc import collapse

    result = check("collapse", lambda path, blank=0: collapse(path, blank) if path else [path[0]])
    assert not result.passed
    assert "IndexError" in result.message and "empty path" in result.message
