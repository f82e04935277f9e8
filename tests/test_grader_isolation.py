"""The grader runs the student's code in a child process (exercises/sandbox.py):
whatever the code does, the grader answers within its budget with a report,
never a pass it did not earn, never a traceback, and the student's folder stays
as it was.

Each case is exercise 12's reference solution with something added; the budget
is one second here (the command's is ten) so the endless cases stay quick.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from microgpt import exercises
from microgpt.cli import main
from microgpt.errors import MicroGPTError

SOLUTION = exercises.solution_path(12).read_text(encoding="utf-8")
BUDGET = 1.0
N_CHECKS = len(exercises.module(12).CHECKS)

# what the student's file adds to a correct solution -> what the report must say
ENDLESS = {
    "a loop that catches BaseException": ("def learning_rate(step, num_steps, lr):\n    while True:\n"
                                          "        try:\n            pass\n        except BaseException:\n"
                                          "            pass\n"),
    "SIGALRM and SIGTERM ignored": ("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                                    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                    "def learning_rate(step, num_steps, lr):\n    while True:\n        pass\n"),
    "a cancelled timer": ("import signal\ndef learning_rate(step, num_steps, lr):\n"
                          "    signal.setitimer(signal.ITIMER_REAL, 0)\n    while True:\n        pass\n"),
}


def student_file(folder, extra, name="ex12_lr_decay.py"):
    path = folder / name
    path.write_text(SOLUTION + "\n\n" + extra, encoding="utf-8")
    return path


def grade(path, budget=BUDGET):
    start = time.monotonic()
    text, passed = exercises.grade(12, path, budget=budget)
    return text, passed, time.monotonic() - start


@pytest.mark.parametrize("case", sorted(ENDLESS))
def test_code_that_will_not_stop_is_stopped_within_the_budget(case, tmp_path):
    text, passed, seconds = grade(student_file(tmp_path, ENDLESS[case]))
    assert not passed and seconds < BUDGET + 5
    assert f"ran past {BUDGET:g} s and were stopped" in text and text.endswith(f"0 of {N_CHECKS} checks passed")


def test_a_loop_at_import_time_is_one_line(tmp_path):
    path = student_file(tmp_path, "while True:\n    pass\n")
    start = time.monotonic()
    with pytest.raises(MicroGPTError) as e:
        exercises.grade(12, path, budget=BUDGET)
    assert time.monotonic() - start < BUDGET + 5
    assert "did not finish within 1 s" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("ending", ["import sys\n    sys.exit(0)", "import os\n    os._exit(0)"])
def test_ending_the_process_is_a_failed_check_not_a_pass(ending, tmp_path):
    code = "def learning_rate(step, num_steps, lr):\n    " + ending + "\n"
    text, passed, _ = grade(student_file(tmp_path, code))
    assert not passed and text.endswith(f"0 of {N_CHECKS} checks passed")
    assert "sys.exit(0)" in text or "the process ended (exit 0)" in text


def test_sys_exit_at_import_time_is_one_line(tmp_path, capsys):
    path = student_file(tmp_path, "import sys\nsys.exit(0)\n")
    assert main(["exercise", "check", "12", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "SystemExit" in err and len(err.strip().splitlines()) == 1


def test_a_thread_that_never_ends_does_not_hold_the_grade(tmp_path):
    code = "import threading, time\nthreading.Thread(target=time.sleep, args=(1000,)).start()\n"
    text, passed, seconds = grade(student_file(tmp_path, code), budget=10)
    assert passed and seconds < 5, text


def test_the_students_folder_is_left_as_it_was(tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")
    code = "import os\nfor name in os.listdir('.'):\n    os.remove(name)\nopen('litter.txt', 'w').write('x')\n"
    path = student_file(tmp_path, code)
    before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.chdir(tmp_path)
    text, passed, _ = grade(path.name)
    assert passed, text
    assert sorted(p.name for p in tmp_path.iterdir()) == before and (tmp_path / "notes.txt").read_text() == "mine"


def test_an_exception_whose_str_raises_is_reported(tmp_path):
    code = ("class Odd(Exception):\n    def __str__(self):\n        raise ValueError('no')\n"
            "def learning_rate(step, num_steps, lr):\n    raise Odd()\n")
    text, passed, _ = grade(student_file(tmp_path, code))
    assert not passed and "raised:   Odd: <a Odd whose str() raised ValueError>" in text


def test_closing_stdout_harms_nothing_and_prints_still_show(tmp_path, capsys):
    code = "import os, sys\nprint('hello from the student')\nsys.stdout.flush()\nsys.stdout.close()\nos.close(1)\n"
    assert main(["exercise", "check", "12", str(student_file(tmp_path, code))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("hello from the student\n") and f"all {N_CHECKS} checks passed" in out


def test_a_grader_without_stdout_is_a_line_and_exit_1(tmp_path):
    path = exercises.solution_path(12)
    proc = subprocess.run(f"{sys.executable} -m microgpt exercise check 12 {path} >&-", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(
                              Path(exercises.__file__).resolve().parents[2])})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "microgpt exercise: stdout was closed: the command ran, its output was not shown"
