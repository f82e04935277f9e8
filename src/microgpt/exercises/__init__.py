"""Exercises with an autograder: write one piece of microgpt yourself, and check it.

Thirteen exercises, simplest to richest, each one idea of the project:

    ex01_bigram.py ... ex13_sampling.py   the checks and hints of each exercise
    stubs/       what `microgpt exercise start N` writes: a docstring saying what to
                 write, and a body that raises NotImplementedError
    solutions/   reference solutions (the tests grade them; `start` never writes them)
    grading.py   loading a student's file, running checks, the TA's report
    sandbox.py   the student's code run in a child process: its own folder, one time budget

Every exercise module has TITLE, TEACHES (one line), OBJECTIVES (the numbers of
the course objectives it serves, see docs/exercises.md) and CHECKS, a list of
functions that take the student's loaded file and raise grading.Failed (or let
the student's error through) when something is wrong.
"""

import importlib
from pathlib import Path

from microgpt.errors import UsageError
from microgpt.exercises import sandbox

HERE = Path(__file__).resolve().parent

NAMES = (
    "ex01_bigram",
    "ex02_mul",
    "ex03_exp_log",
    "ex04_backward",
    "ex05_softmax",
    "ex06_cross_entropy",
    "ex07_rmsnorm",
    "ex08_attention",
    "ex09_multihead",
    "ex10_mlp",
    "ex11_adam",
    "ex12_lr_decay",
    "ex13_sampling",
)


def count():
    return len(NAMES)


def name(n):
    """'ex05_softmax' for 5; a number with no exercise is a usage error."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(NAMES):
        raise UsageError(f"no exercise {n}: they are numbered 1 to {len(NAMES)} (see: microgpt exercise list)")
    return NAMES[n - 1]


def module(n):
    return importlib.import_module(f"microgpt.exercises.{name(n)}")


def stub_filename(n):
    return f"{name(n)}.py"


def stub_text(n):
    return (HERE / "stubs" / stub_filename(n)).read_text(encoding="utf-8")


def solution_path(n):
    return HERE / "solutions" / stub_filename(n)


def heading(n, shown_path):
    """The line above a report: which exercise, and which file was checked (the CLI's and the site's)."""
    return f"exercise {n}: {module(n).TITLE} -- checking {shown_path}"


def grade(n, path, budget=sandbox.BUDGET):
    """(report text, passed) for the file at path as an answer to exercise n, its code
    run in a child process under a time budget (sandbox.py)."""
    return sandbox.grade(n, path, [check.title for check in module(n).CHECKS], budget)
