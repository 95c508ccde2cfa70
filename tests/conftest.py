"""Session hooks of the test suite (helpers live in fsdd_stand_in.py, imported by name)."""

from fsdd_stand_in import remove_stand_ins


def pytest_sessionfinish(session, exitstatus) -> None:
    remove_stand_ins()
