"""The course where students run it: a fresh environment that only installs the built wheel.

Hosted Jupyter services (Google Colab and the like) have no clone of the repository: the first
cell of every chapter pip-installs dslearn. This builds the wheel (``python -m build``), checks
that it carries the pretrained model and language model, installs it into a new virtual
environment, and runs chapter 00 there from a folder outside the repository.

The new environment takes its third-party dependencies (torch alone is 5.5 GB) from the test's
own environment through a ``.pth`` path entry; dslearn itself comes only from the wheel, and the
test proves it by asking the kernel where it imported dslearn from.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("dslearn-*.whl")
    return path


def test_the_wheel_carries_the_pretrained_model_and_language_model(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("model.safetensors", "lm.arpa", "lm.arpa.tuned.json"):
        assert f"dslearn/assets/pretrained/{needed}" in names, needed
    assert "dslearn/exercises/ctc.py" in names and "dslearn/course.py" in names
    assert not any(n.startswith(("tests/", "notebooks/")) for n in names)


def test_chapter_00_runs_from_a_fresh_venv_with_only_the_wheel_installed(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # Dependencies from this environment, after the new venv's own site-packages (so the wheel's
    # dslearn wins over the editable install the test suite runs from).
    (Path(site) / "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    # A student's folder: the chapter alone, nothing of the repository around it.
    student = tmp_path / "student"
    student.mkdir()
    nb = json.loads((ROOT / "notebooks" / "00_quickstart.ipynb").read_text())
    where = "print('IMPORTED-FROM', dslearn.__file__)"
    nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None,
                        "outputs": [], "source": where})  # fmt: skip
    (student / "00_quickstart.ipynb").write_text(json.dumps(nb))
    env = {**os.environ, "DSLEARN_QUICK": "1", "DSLEARN_WORK": str(student / "work"),
           "MPLBACKEND": "agg", "PYTHONPATH": ""}  # fmt: skip
    env.pop("DSLEARN_MODE", None)
    subprocess.run(
        [str(python), "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
         "--ExecutePreprocessor.timeout=600", "00_quickstart.ipynb"],
        cwd=student, env=env, check=True, capture_output=True,
    )  # fmt: skip
    executed = json.loads((student / "00_quickstart.ipynb").read_text())
    printed = "".join(
        "".join(out.get("text", ""))
        for cell in executed["cells"]
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    )
    errors = [
        o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"
    ]
    assert not errors, errors[0]["evalue"]
    assert "mode:     quick" in printed
    imported = printed.split("IMPORTED-FROM", 1)[1].split()[0]
    assert imported.startswith(str(venv)), imported
