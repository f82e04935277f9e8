"""The lessons (lessons/*.py) run from top to bottom without an error.

Each lesson is a jupytext percent-format file: jupytext turns it into a
notebook in memory and nbclient executes it in a fresh kernel (the `python3`
kernel of this interpreter, so the lesson sees the same microgpt). A lesson
checks its own claims with asserts, so a lesson whose prose has drifted from
what the code computes fails here. Each lesson's wall time is printed in the
run's summary (tests/conftest.py; the lessons promise under a minute each).

Each lesson also runs as a plain script (`python lessons/NN_*.py`), as the
lessons README promises. A markdown cell holds prose only: a line of code
there is shown as text and never run, so the checks below refuse code-like
lines outside fenced or indented code blocks. Every lesson asks before it
tells: at least two `**Predict:**` cells, each followed by the code cell that
answers it; and every lesson but the listed exemptions has a `**Break it:**`
cell, followed by the code cell that runs the broken variant.

The coverage table in lessons/README.md maps each of the course's 39 learning
objectives to the lessons that serve it; a test holds it complete.
"""

import ast
import importlib
import os
import re
import subprocess
import sys
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


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_lesson_runs_as_a_plain_script(path):
    env = dict(os.environ, MPLBACKEND="Agg")
    if env.get("PYTHONPATH"):  # the script starts in lessons/: a relative entry would name the wrong folder
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep) if p)
    done = subprocess.run([sys.executable, path.name], cwd=LESSONS, env=env, capture_output=True, text=True, check=False,
                          timeout=CELL_TIMEOUT * 2)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip(), f"{path.name} printed nothing"


def is_code(line):
    """Whether a line of text is a Python statement (an import, an assert, a call, an
    assignment, the head of a block) rather than prose: prose does not parse."""
    text = line.strip()
    for candidate in (text, text + " pass") if text.endswith(":") else (text,):
        try:
            tree = ast.parse(candidate)
        except SyntaxError:
            continue
        plain = (ast.Name, ast.Constant, ast.UnaryOp, ast.Attribute)
        return bool(tree.body) and not (isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, plain))
    return False


def code_in_markdown(source):
    """The code-like lines of a markdown cell's text, fenced (```) and indented blocks left out."""
    found, fenced = [], False
    for line in source.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and not line.startswith("    ") and is_code(line):
            found.append(line)
    return found


def markdown_cells(path):
    jupytext = _need("jupytext")
    return [cell for cell in jupytext.read(path).cells if cell.cell_type == "markdown"]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_markdown_cells_hold_no_code(path):
    found = [line for cell in markdown_cells(path) for line in code_in_markdown(cell.source)]
    assert not found, f"{path.name}: code in a markdown cell (shown as text, never run): {found}"


def test_the_markdown_check_catches_code(tmp_path):
    """Lesson 02 once had an assert inside its prose; the check sees that, and lets prose,
    fenced and indented code through."""
    lesson = tmp_path / "99_prose.py"
    lesson.write_text("# %% [markdown]\n# parameters grow (with n_embd = 16\n"
                      "assert GPTConfig(tok.vocab_size).n_embd == n_embd  # the default width\n"
                      "# here), and each prediction is a choice.\n\n# %%\nn_embd = 16\n")
    cells = markdown_cells(lesson)
    assert [line for cell in cells for line in code_in_markdown(cell.source)] == [
        "assert GPTConfig(tok.vocab_size).n_embd == n_embd  # the default width"]
    for code in ("import numpy as np", "print(loss)", "x = x + 1", "for p in range(3):", "from a import b"):
        assert code_in_markdown(code) == [code]
    prose = ("The loss is 3.3 = ln 27.\nFor names, characters are a fine choice:\nL = a·b + a. The gradient\n"
             "Row = the character just read, column = the next one.\nwith the cache, on the same weights:\n"
             "    x = x + attention(rmsnorm(x))\n```\nimport torch\n```\n* `lr = 0.01` is the default.")
    assert code_in_markdown(prose) == []


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_lesson_asks_before_it_tells(path):
    """Two or more markdown cells start with **Predict:**, each followed by a code cell
    (the one whose output answers it), never placed after the answer's code."""
    cells = _need("jupytext").read(path).cells
    asks = [i for i, cell in enumerate(cells) if cell.cell_type == "markdown"
            and cell.source.lstrip().startswith("**Predict:**")]
    assert len(asks) >= 2, f"{path.name} asks {len(asks)} predictions"
    for i in asks:
        assert i + 1 < len(cells) and cells[i + 1].cell_type == "code", \
            f"{path.name}: the prediction {cells[i].source[:60]!r} is not followed by a code cell"
        assert "?" in cells[i].source, f"{path.name}: the prediction {cells[i].source[:60]!r} asks no question"


# Lessons with no `**Break it:**` task, and why: each other lesson has at least one.
NOTHING_TO_BREAK = {
    "18_micrograd_makemore_nanogpt": "a map of sibling projects onto this one's files: it runs no mechanism of "
                                     "its own that one changed line could break",
}


def break_it_problems(cells, name):
    """What is wrong with a lesson's **Break it:** tasks (cells as jupytext reads them); [] if nothing."""
    tasks = [i for i, cell in enumerate(cells) if cell.cell_type == "markdown"
             and cell.source.lstrip().startswith("**Break it:**")]
    if name in NOTHING_TO_BREAK:
        return [f"{name} has a Break it task: drop it from NOTHING_TO_BREAK"] if tasks else []
    if not tasks:
        return [f"{name} has no **Break it:** cell (or list it in NOTHING_TO_BREAK with the reason)"]
    problems = []
    for i in tasks:
        text = cells[i].source
        if "`" not in text or "?" not in text:
            problems.append(f"{name}: {text[:60]!r} quotes no line or asks no question")
        if i + 1 == len(cells) or cells[i + 1].cell_type != "code":
            problems.append(f"{name}: the break {text[:60]!r} is not followed by the code cell that runs it")
    return problems


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_lesson_has_a_break_it_task(path):
    """A markdown cell starts with **Break it:**, quotes the line to change (in backticks),
    asks for a prediction, and the code cell right after it runs the broken variant."""
    assert break_it_problems(_need("jupytext").read(path).cells, path.stem) == []


def test_the_break_it_check_catches_a_task_with_nothing_to_run(tmp_path):
    jupytext = _need("jupytext")
    lesson = tmp_path / "99_broken.py"
    lesson.write_text("# %% [markdown]\n# **Break it:** change `x = 1` to `x = 2`. What happens?\n\n"
                      "# %% [markdown]\n# The answer, with no code to show it.\n")
    assert break_it_problems(jupytext.read(lesson).cells, "99_broken") == [
        "99_broken: the break '**Break it:** change `x = 1` to `x = 2`. What happens?' is not followed by "
        "the code cell that runs it"]
    lesson.write_text("# %% [markdown]\n# **Break it:** make it worse.\n\n# %%\nx = 2\n")
    assert "quotes no line" in break_it_problems(jupytext.read(lesson).cells, "99_broken")[0]
    lesson.write_text("# %% [markdown]\n# Nothing to break here.\n")
    assert "has no **Break it:** cell" in break_it_problems(jupytext.read(lesson).cells, "99_broken")[0]


def test_no_lesson_mentions_break_it_outside_its_own_cell():
    """A Break it task in the middle of a prose cell has no code cell of its own to run it."""
    for path in FILES:
        for cell in markdown_cells(path):
            assert "**Break it:**" not in cell.source or cell.source.lstrip().startswith("**Break it:**"), path.name


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
