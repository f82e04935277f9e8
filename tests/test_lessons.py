"""The lessons (lessons/*.py) run from top to bottom without an error.

Each lesson is a jupytext percent-format file: jupytext turns it into a
notebook in memory and nbclient executes it in a fresh kernel (the `python3`
kernel of this interpreter, so the lesson sees the same microgpt). A lesson
checks its own claims with asserts, so a lesson whose prose has drifted from
what the code computes fails here. Each lesson's wall time is printed in the
run's summary (tests/conftest.py; the lessons promise under a minute each).

The coverage table in lessons/README.md maps each of the course's 39 learning
objectives to the lessons that serve it; a test holds it complete.
"""

import importlib
import os
import re
import time
from pathlib import Path

import pytest

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
FILES = sorted(p for p in LESSONS.glob("*.py") if not p.name.startswith("_"))
CELL_TIMEOUT = 120  # seconds; a lesson as a whole aims at under 60
OBJECTIVES = 39


def _need(module):
    """The lesson runner's libraries are in the `test` extra: CI must have them."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(module)
    return pytest.importorskip(module)


def test_there_are_lessons():
    assert len(FILES) >= 18, [p.name for p in FILES]


def execute(path, monkeypatch):
    """Run a percent-format file as a notebook in a fresh kernel; the executed notebook."""
    jupytext = _need("jupytext")
    nbclient = _need("nbclient")
    _need("ipykernel")
    # The kernel starts in lessons/, so a relative PYTHONPATH (PYTHONPATH=src) would name the
    # wrong folder there: make it absolute, so the lesson imports the microgpt under test.
    if os.environ.get("PYTHONPATH"):
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
            str(Path(p).resolve()) for p in os.environ["PYTHONPATH"].split(os.pathsep) if p))
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(LESSONS)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error or failed assert
    return notebook


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_lesson_runs(path, record_property, monkeypatch):
    t0 = time.perf_counter()
    notebook = execute(path, monkeypatch)
    record_property("lesson_wall_s", round(time.perf_counter() - t0, 1))  # tests/conftest.py prints these
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert outputs, f"{path.name} printed nothing"


def test_a_failed_assert_in_a_lesson_fails_the_run(tmp_path, monkeypatch):
    nbclient = _need("nbclient")
    lesson = tmp_path / "99_broken.py"
    lesson.write_text("# %% [markdown]\n# The loss starts at 3.3.\n\n# %%\nloss0 = 2.0\nassert abs(loss0 - 3.3) < 0.1\n")
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="AssertionError"):
        execute(lesson, monkeypatch)


def coverage_rows():
    """(objective number, lesson file names) for each row of the README's table."""
    text = (LESSONS / "README.md").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        m = re.match(r"\|\s*(\d+)\s*\|(.*)\|(.*)\|\s*$", line)
        if m:
            rows.append((int(m.group(1)), re.findall(r"\b(\d\d_[a-z0-9_]+\.py)\b", m.group(3))))
    return rows


def test_coverage_table_serves_every_objective_with_a_lesson():
    rows = coverage_rows()
    numbers = [n for n, _ in rows]
    assert numbers == list(range(1, OBJECTIVES + 1)), numbers
    names = {p.name for p in FILES}
    for n, lessons in rows:
        assert lessons, f"objective {n} names no lesson"
        missing = [name for name in lessons if name not in names]
        assert not missing, f"objective {n} names lessons that do not exist: {missing}"
    served = {name for _, lessons in rows for name in lessons}
    assert served <= names


def test_coverage_parser_reads_a_row():
    row = "| 7 | what a Value stores | [03_value_graph.py](03_value_graph.py); `microgpt exercise 2` |"
    m = re.match(r"\|\s*(\d+)\s*\|(.*)\|(.*)\|\s*$", row)
    assert m and int(m.group(1)) == 7
    assert re.findall(r"\b(\d\d_[a-z0-9_]+\.py)\b", m.group(3)) == ["03_value_graph.py", "03_value_graph.py"]


def test_lesson_table_lists_every_lesson():
    text = (LESSONS / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| \[(\d\d_[a-z0-9_]+\.py)\]\(\1\) \|", text, re.M)
    assert listed == [p.name for p in FILES]


def test_the_open_command_and_the_extras_agree():
    """The command both READMEs give installs the `lessons` extra, and the `test` extra
    has what this module runs the lessons with."""
    command = "pip install -e '.[lessons]' && jupyter lab lessons/"
    for readme in (LESSONS / "README.md", LESSONS.parent / "README.md"):
        assert command in readme.read_text(encoding="utf-8"), readme
    pyproject = (LESSONS.parent / "pyproject.toml").read_text(encoding="utf-8")
    extras = {m.group(1): m.group(2) for m in re.finditer(r'^(\w+) = \[(.*?)\]', pyproject, re.M | re.S)}
    for package in ("jupyterlab", "jupytext", "nbclient", "ipykernel", "matplotlib"):
        assert f'"{package}' in extras["lessons"], package
    for package in ("jupytext", "nbclient", "ipykernel", "numpy", "matplotlib"):
        assert f'"{package}' in extras["test"], package
