"""`microgpt exercise`: write one piece of microgpt yourself, and have it checked.

    microgpt exercise list                   the exercises, simplest to richest
    microgpt exercise start N [--dir D]      write the stub exNN_<slug>.py (never over an existing file
                                             unless --force)
    microgpt exercise check N [FILE]         grade FILE (default: the stub's name, here); exit 0 when
                                             every check passes, 1 otherwise

The exercises, their checks and hints live in microgpt/exercises/.
"""

import argparse
import ast
import stat
from pathlib import Path

from microgpt import exercises
from microgpt.errors import MicroGPTError, UsageError


def exercise_number(s):
    try:
        n = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an exercise number from 1 to {exercises.count()}, "
                                         f"got {s!r}") from None
    if not 1 <= n <= exercises.count():
        raise argparse.ArgumentTypeError(f"no exercise {n}: they are numbered 1 to {exercises.count()}")
    return n


def cmd_list(args):
    print(f"{exercises.count()} exercises, simplest to richest (docs/exercises.md says what each teaches):")
    for n in range(1, exercises.count() + 1):
        ex = exercises.module(n)
        here = "  (started here)" if Path(exercises.stub_filename(n)).exists() else ""
        print(f"  {n:2d}  {exercises.stub_filename(n):24s} {ex.TITLE}{here}")
    print("start one with: microgpt exercise start N; check it with: microgpt exercise check N")
    return 0


def _functions(text):
    return [node.name + "()" for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)]


def cmd_start(args):
    n = args.n
    folder = Path(args.dir) if args.dir is not None else Path(".")
    if not folder.exists():
        raise MicroGPTError(f"--dir {folder}: the folder does not exist")
    if not folder.is_dir():
        raise MicroGPTError(f"--dir {folder}: not a folder")
    path = folder / exercises.stub_filename(n)
    text = exercises.stub_text(n)
    shown = str(path) if args.dir is not None else path.name
    check_cmd = f"microgpt exercise check {n}" + (f" {shown}" if args.dir is not None else "")
    if path.exists() or path.is_symlink():
        if path.is_dir() or not stat.S_ISREG(path.lstat().st_mode):
            raise UsageError(f"{shown} exists and is not a regular file; nothing was written")
        if not args.force:
            raise UsageError(f"{shown} already exists and may hold your work: check it with `{check_cmd}`, "
                             "or add --force to replace it with a fresh stub")
    with open(path, "w" if args.force else "x", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {shown}: write {', '.join(_functions(text))} in it (its docstring says what), then run: "
          f"{check_cmd}")
    return 0


def cmd_check(args):
    n = args.n
    if args.file is None:
        path = Path(exercises.stub_filename(n))
        if not path.exists():
            raise MicroGPTError(f"{path} not found in this folder: start with `microgpt exercise start {n}`, "
                                f"or name your file: microgpt exercise check {n} FILE")
    else:
        path = Path(args.file)
    text, passed = exercises.grade(n, path)  # a file that cannot be run is one line, before any output
    print(exercises.heading(n, path))
    print(text)
    return 0 if passed else 1


def register(sub):
    p = sub.add_parser("exercise", help="exercises with an autograder: write a piece of microgpt, check it",
                       description="Exercises with an autograder: write one piece of microgpt yourself (softmax, "
                                   "backward, attention, Adam, ...) and check it against the project's own code.")
    p.set_defaults(func=cmd_list)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    lp = actions.add_parser("list", help="the exercises, simplest to richest")
    lp.set_defaults(func=cmd_list)
    sp = actions.add_parser("start", help="write exercise N's stub file into the current folder (or --dir)")
    sp.add_argument("n", metavar="N", type=exercise_number, help=f"the exercise, 1 to {exercises.count()}")
    sp.add_argument("--dir", metavar="D", help="the folder to write the stub into (default: the current one)")
    sp.add_argument("--force", action="store_true", help="replace an existing file of that name (your work in it "
                                                         "is lost)")
    sp.set_defaults(func=cmd_start)
    cp = actions.add_parser("check", help="grade your answer to exercise N")
    cp.add_argument("n", metavar="N", type=exercise_number, help=f"the exercise, 1 to {exercises.count()}")
    cp.add_argument("file", metavar="FILE", nargs="?",
                    help="your file (default: the stub's name, exNN_<slug>.py, in the current folder)")
    cp.set_defaults(func=cmd_check)
    for q in (lp, sp, cp):
        q.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback on errors")
