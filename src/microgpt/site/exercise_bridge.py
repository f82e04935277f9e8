"""The exercises page's Python, run in the site's worker: the same grader as
`microgpt exercise check`, giving the same report.

The command runs a student's file in a child process under a time budget
(exercises/sandbox.py). A browser has no processes; it has workers. So the page
runs `check` in a worker of its own and keeps the budget itself: when the
worker runs past sandbox.BUDGET it is terminated and replaced, and the fresh
worker writes the report (`stopped`) from the events the first one sent before
it was stopped, exactly as the sandbox writes it from its child's events.

The file is written into a fresh folder of the worker's memory under the stub's
name (exNN_<slug>.py) and checked from there, so the report, which names the
file, reads as the command's for a file of that name: byte for byte, the
student's own prints above it included.
"""

import contextlib
import io
import os
import tempfile
from pathlib import Path

from microgpt import exercises
from microgpt.exercises import grading, sandbox


def catalogue():
    """What the page lists: each exercise's number, title, what it teaches, its file name
    and stub; and the budget a check has, in seconds."""
    return {"budget": sandbox.BUDGET,
            "exercises": [{"n": n, "title": exercises.module(n).TITLE, "teaches": exercises.module(n).TEACHES,
                           "file": exercises.stub_filename(n), "stub": exercises.stub_text(n)}
                          for n in range(1, exercises.count() + 1)]}


def check(n, source, emit):
    """Grade `source` as exercise n: {"text": what the command prints, "passed": bool}.
    Every grading event is also passed to emit as it happens (the page keeps them, in case
    it must stop this worker); a file that cannot run at all is one MicroGPTError."""
    n = int(n)
    checks = exercises.module(n).CHECKS
    folder = Path(tempfile.mkdtemp(prefix="microgpt-grader-"))
    path = folder / exercises.stub_filename(n)
    path.write_text(source, encoding="utf-8")
    grading.compile_file(path)  # not valid Python: one line, before anything runs
    events, printed = [], io.StringIO()

    def record(**event):
        events.append(event)
        emit(event)

    emit({"running": True})  # the page's clock starts here, not while the worker loads
    here = os.getcwd()
    os.chdir(folder)  # a relative path in the student's code touches only this folder
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            sandbox.run_checks(n, path, checks, record)
    finally:
        os.chdir(here)
    text, passed = sandbox.report(events, "done", path, [c.title for c in checks])
    return {"text": _shown(n, printed.getvalue().encode("utf-8", "replace"), text), "passed": passed}


def stopped(n, events):
    """The report for a check the page stopped at the budget, from the events it was sent."""
    n = int(n)
    path = Path(exercises.stub_filename(n))
    text, passed = sandbox.report(events, "timeout", path, [c.title for c in exercises.module(n).CHECKS])
    return {"text": _shown(n, b"", text), "passed": passed}


def _shown(n, printed, text):
    """What `microgpt exercise check N exNN_<slug>.py` prints: the student's output, the heading, the report."""
    return sandbox.student_output(printed) + exercises.heading(n, exercises.stub_filename(n)) + "\n" + text + "\n"
