"""The student's code runs in a child process, never in the grader's own.

A file can do anything when it runs: loop forever at import time, catch
BaseException around a loop so that no signal ends it, start a thread that never
finishes, call sys.exit(0) or os._exit(0) (which would read as a pass), close
stdout, delete files in the current folder. So `grade` compiles the file here
(a syntax error is one line at once), then runs it and every check in a child:

* in a fresh temporary folder, so a relative path in the student's code touches
  nothing of theirs, with no standard input;
* in a process group of its own, killed as a whole (SIGKILL, which nothing can
  ignore) when import and checks together run past one budget of BUDGET seconds;
* with its standard output and error captured, and shown before the report (so
  a student's prints still appear, and closing them harms nothing here).

The child writes one JSON line per event to a results file the grader reads:
the file loaded (or why not), each check as it starts and as it ends. When the
child stops early, by the budget or by ending itself, the report says which
check it was in, and the checks after it are counted as failed.

    python -m microgpt.exercises N FILE RESULTS   (the child: __main__.py; grade() starts it)
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from microgpt.errors import MicroGPTError
from microgpt.exercises import grading

BUDGET = 10.0  # seconds for import and every check together; a correct answer needs well under one
SHOWN_OUTPUT = 8192  # bytes of the student's own prints shown before the report
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding microgpt/, for the child's imports


# ---- the child


def child(n, path, results, checks):
    """Run `checks` (exercise n's) on the file at path, writing events to `results`; never returns."""
    out = open(results, "w", encoding="utf-8")

    def emit(**event):
        out.write(json.dumps(event) + "\n")
        out.flush()

    run_checks(n, path, checks, emit)
    out.close()
    os._exit(0)  # not sys.exit: no student thread or atexit handler may keep the child alive


def run_checks(n, path, checks, emit):
    """Load the file at path and run `checks` on it, telling emit(**event) each step: the
    file loaded (or why not), each check as it starts and as it ends, and the end. The
    child runs this; so does the site's grading worker (site/exercise_bridge.py), which
    has no child process and is stopped by its page instead."""
    try:
        student = grading.load(path, n)
    except MicroGPTError as e:
        emit(error=str(e))
        return
    emit(loaded=True)
    unwritten = set()
    for check in checks:
        emit(start=check.title)
        err = grading.run_check(check, student)
        lines = None if err is None else grading.failure_lines(err, student.path, unwritten)
        emit(title=check.title, lines=lines)
    emit(done=True)


# ---- the grader


def grade(n, path, checks, budget=BUDGET):
    """(report text, passed) for the file at path as exercise n, whose checks have these titles.
    The file runs in a child process (see above); a file that cannot run is one MicroGPTError."""
    path = Path(path)
    grading.compile_file(path)  # not valid Python, not a file, not UTF-8: one line, before any child
    with tempfile.TemporaryDirectory(prefix="microgpt-grader-") as tmp:
        tmp = Path(tmp)
        work, results, output = tmp / "work", tmp / "results.jsonl", tmp / "output.txt"
        work.mkdir()
        events, ended = _run_child(n, path.resolve(), work, results, output, budget)
        printed = student_output(output.read_bytes())
    if printed:
        sys.stdout.write(printed)
    return report(events, ended, path, checks, budget)


def _run_child(n, path, work, results, output, budget):
    """The child's events, and how it ended: 'done', 'timeout' or 'exit N'."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join([str(PACKAGE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    argv = [sys.executable, "-m", "microgpt.exercises", str(n), str(path), str(results)]
    with open(output, "wb") as out:
        proc = subprocess.Popen(argv, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + budget
            while True:
                last = (_events(results) or [{}])[-1]
                if "done" in last or "error" in last:
                    ended = "done"
                    break
                if proc.poll() is not None:
                    ended = f"exit {proc.returncode}"
                    break
                if time.monotonic() > deadline:
                    ended = "timeout"
                    break
                time.sleep(0.01)
        finally:  # the whole group: a thread, a forked child or a handler cannot outlive the grade
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
    return _events(results), ended


def _events(results):
    """The complete lines of the results file, parsed (a line being written is left for next time)."""
    try:
        text = results.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return []
    events = []
    for line in text.split("\n")[:-1]:
        try:
            events.append(json.loads(line))
        except ValueError:
            break
    return events


def student_output(raw):
    """The student's own prints (bytes) as shown before the report: at most SHOWN_OUTPUT bytes."""
    text = raw[:SHOWN_OUTPUT].decode("utf-8", "replace")
    if len(raw) > SHOWN_OUTPUT:
        text += f"\n... ({len(raw) - SHOWN_OUTPUT:,} more bytes of output not shown)\n"
    return text if not text or text.endswith("\n") else text + "\n"


def report(events, ended, path, checks, budget=BUDGET):
    """(report text, passed) from the events of run_checks and how the run ended ('done',
    'timeout' or 'exit N'); a file that could not run at all is one MicroGPTError."""
    errors = [e["error"] for e in events if "error" in e]
    if errors:
        raise MicroGPTError(errors[0])
    why = (f"import and checks together ran past {budget:g} s and were stopped: an endless loop?"
           if ended == "timeout" else
           f"the process ended ({ended}) while being checked: does the code call sys.exit() or os._exit()?")
    if not any("loaded" in e for e in events):
        if ended == "timeout":
            raise MicroGPTError(f"{path.name}: running the file did not finish within {budget:g} s (an endless "
                                "loop at import time? a file should only define functions)")
        raise MicroGPTError(f"{path.name}: running the file ended the process ({ended}) before any check; "
                            "a file should only define functions")
    finished = {e["title"]: e["lines"] for e in events if "title" in e}
    started = [e["start"] for e in events if "start" in e]
    lines, passed = [], 0
    for title in checks:
        if title in finished:
            passed += finished[title] is None
            lines += grading.check_lines(title, finished[title])
        elif started and title == started[-1]:
            lines += grading.check_lines(title, [why])
        else:
            lines += grading.check_lines(title, ["not run: the grading stopped at an earlier check"])
    lines.append(grading.summary(passed, len(checks)))
    return "\n".join(lines), passed == len(checks)
