"""Ctrl-C, SIGTERM and SIGHUP in every phase, a closed stdout, streamed samples, and a
resume hint that can be followed verbatim. Each test runs real processes."""

import io
import json
import os
import select
import shlex
import signal
import subprocess
import sys
import time

import pytest

from microgpt.data import read_bundled_names
from microgpt.files import checkpoint

TINY = ["--n-embd", "8", "--n-head", "2", "--block-size", "16"]
MICROGPT = [sys.executable, "-m", "microgpt"]


def env(unbuffered=True):
    e = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "MICROGPT_DATA")}
    if unbuffered:
        e["PYTHONUNBUFFERED"] = "1"
    return e


def start(args, cwd=None, ignore_sigint=True):
    """A microgpt process, started as `cmd &` from a script starts it: SIGINT ignored."""
    pre = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    return subprocess.Popen([*MICROGPT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=cwd, env=env(), preexec_fn=pre)


def wait_for(proc, needle, timeout=60):
    """Read stdout until a line holds `needle`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([proc.stdout], [], [], 0.2)[0]:
            line = proc.stdout.readline()
            if needle in line:
                return
            if not line:
                break
    proc.kill()
    raise AssertionError(f"never printed {needle!r}: {proc.communicate()[1]}")


def stop(proc, sig, timeout=15):
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"{signal.Signals(sig).name} was not honoured") from None
    return proc.returncode, err


@pytest.fixture(scope="module")
def names_path(tmp_path_factory):
    """The 32,033 names shipped with the package, as a file."""
    path = tmp_path_factory.mktemp("names") / "names.txt"
    path.write_text(read_bundled_names(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def names_model(names_path):
    """A model over the names' alphabet (so any name can be scored), trained one step."""
    out = names_path.with_name("m.json")
    subprocess.run([*MICROGPT, "train", "--data", str(names_path), "--steps", "1", *TINY, "--out", str(out),
                    "--samples", "0"], check=True, capture_output=True, env=env())
    return out


def test_sigint_during_the_final_validation_saves_and_exits_130(tmp_path, names_path):
    out = tmp_path / "v.json"
    proc = start(["train", "--data", str(names_path), "--steps", "2", *TINY, "--engine", "scalar",
                  "--val-docs", "25000", "--out", str(out), "--samples", "0"])
    wait_for(proc, "step    2 /    2")  # the last step is done: the validation (~a minute) has begun
    time.sleep(0.3)
    rc, err = stop(proc, signal.SIGINT)
    assert rc == 130, err
    assert len(err.strip().splitlines()) == 1 and "during the final validation; saved" in err
    assert checkpoint.load(out).training.steps == 2  # the trained model is not lost


def test_sigint_during_a_validation_between_steps_stops_the_run_there(tmp_path, names_path):
    out = tmp_path / "e.json"
    proc = start(["train", "--data", str(names_path), "--steps", "50", *TINY, "--engine", "scalar",
                  "--val-docs", "25000", "--eval-every", "1", "--out", str(out), "--samples", "0"])
    wait_for(proc, "| loss")  # step 1 is done: its validation (~a minute) has begun
    time.sleep(0.3)
    rc, err = stop(proc, signal.SIGINT)
    assert rc == 130 and "SIGINT at step 1 of 50; saved" in err, err
    assert checkpoint.load(out).training.steps == 1


@pytest.mark.parametrize("command,ready,sig", [
    (["eval", "{model}", "--data", "{names}", "--engine", "scalar"], "evaluating on", signal.SIGTERM),
    (["sample", "{model}", "-n", "1000000", "--engine", "scalar"], "sample  1:", signal.SIGINT),
    (["score", "{model}", "--file", "{names}", "--brief"], "NLL", signal.SIGINT),
])
def test_other_phases_end_with_one_line(names_model, names_path, command, ready, sig):
    proc = start([a.format(model=names_model, names=names_path) for a in command])
    wait_for(proc, ready)
    rc, err = stop(proc, sig)
    assert rc == 128 + sig, err
    assert err.strip() == f"microgpt {command[0]}: " + ("interrupted" if sig == signal.SIGINT else
                                                        "terminated (SIGTERM)")


def test_a_second_run_is_refused_while_the_first_trains(tmp_path, names_path):
    out = tmp_path / "c.json"
    first = start(["train", "--data", str(names_path), "--steps", "100000", *TINY, "--engine", "scalar",
                   "--out", str(out), "--samples", "0"])
    wait_for(first, "| loss")
    second = subprocess.run([*MICROGPT, "train", "--data", str(names_path), "--steps", "5", *TINY,
                             "--out", str(out)], capture_output=True, text=True, env=env(), timeout=60)
    assert second.returncode == 1 and f"(pid {first.pid})" in second.stderr
    rc, err = stop(first, signal.SIGTERM)
    assert rc == 143 and "SIGTERM at step" in err
    assert checkpoint.load(out).training.steps >= 1
    assert not (tmp_path / "c.json.lock").exists()


def test_sighup_is_sigterm_a_closed_terminal_saves_the_run(tmp_path, names_path):
    out = tmp_path / "h.json"
    proc = start(["train", "--data", str(names_path), "--steps", "100000", *TINY, "--engine", "scalar",
                  "--out", str(out), "--samples", "0"])
    wait_for(proc, "| loss")
    rc, err = stop(proc, signal.SIGHUP)
    assert rc == 129 and "SIGHUP at step" in err and f"saved {out}" in err
    assert checkpoint.load(out).training.steps >= 1


def test_under_nohup_sighup_stays_ignored(tmp_path, names_path):
    out = tmp_path / "n.json"
    proc = subprocess.Popen([*MICROGPT, "train", "--data", str(names_path), "--steps", "40", *TINY,
                             "--out", str(out), "--samples", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env(), preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    wait_for(proc, "| loss")
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert checkpoint.load(out).training.steps == 40


@pytest.mark.parametrize("args", [["train", "--data", "{names}", "--steps", "3", *TINY, "--out", "{out}"],
                                  ["info", "{model}"], ["sample", "{model}", "-n", "2"], ["--version"],
                                  ["eval", "{model}"]])
def test_started_without_stdout_the_command_works_and_says_so(tmp_path, names_model, names_path, args):
    """`cmd >&-`: no traceback; the work is done (train saves); exit 1 and one line on stderr."""
    out = tmp_path / "closed.json"
    argv = [a.format(names=names_path, out=out, model=names_model) for a in args]
    proc = subprocess.run([*MICROGPT, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env=env(), timeout=120, preexec_fn=lambda: os.close(1))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().endswith("stdout was closed: the command ran, its output was not shown")
    if args[0] == "train":
        assert checkpoint.load(out).training.steps == 3


@pytest.mark.parametrize("unbuffered", [True, False])
def test_train_with_its_stdout_closed_trains_on_and_saves(tmp_path, names_path, unbuffered):
    out = tmp_path / "m.json"
    proc = subprocess.Popen([*MICROGPT, "train", "--data", str(names_path), "--steps", "30", *TINY,
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(unbuffered))
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and err == ""
    assert checkpoint.load(out).training.steps == 30


def test_train_piped_into_head(tmp_path, names_path):
    out = tmp_path / "m.json"
    cmd = " ".join(shlex.quote(a) for a in [*MICROGPT, "train", "--data", str(names_path), "--steps", "50",
                                            *TINY, "--out", str(out)])
    p = subprocess.run(["bash", "-c", f"{cmd} | head -1; echo \"status ${{PIPESTATUS[0]}}\" >&2"],
                       capture_output=True, text=True, env=env(False), timeout=120)
    assert p.stdout.startswith("num docs") and len(p.stdout.splitlines()) == 1
    assert p.stderr.strip() == "status 0"
    assert checkpoint.load(out).training.steps == 50


@pytest.mark.parametrize("args", [["info", "{model}"], ["sample", "{model}", "-n", "3"], ["--help"],
                                  ["eval", "{model}"]])
@pytest.mark.parametrize("unbuffered", [True, False])
def test_read_only_commands_end_quietly_when_stdout_closes(names_model, args, unbuffered):
    proc = subprocess.Popen([*MICROGPT, *[a.format(model=names_model) for a in args]], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env(unbuffered))
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "rror" not in err and "Exception" not in err, err


def test_a_long_passage_streams_into_head(tmp_path):
    text = tmp_path / "book.txt"
    text.write_text("the cat sat on the mat and the dog ran after it. " * 40)
    model = tmp_path / "t.json"
    subprocess.run([*MICROGPT, "train", "--text", str(text), "--steps", "1", *TINY, "--out", str(model),
                    "--samples", "0"], check=True, capture_output=True, env=env())
    cmd = " ".join(shlex.quote(a) for a in [*MICROGPT, "sample", str(model), "--chars", "1000000"])
    t0 = time.monotonic()
    p = subprocess.run(["bash", "-c", f"{cmd} | head -c 100; echo \"status ${{PIPESTATUS[0]}}\" >&2"],
                       capture_output=True, env=env(False), timeout=60)
    assert time.monotonic() - t0 < 10  # a million characters take minutes; 100 bytes do not
    assert len(p.stdout) == 100 and p.stdout.startswith(b"--- sample 1 ---")
    assert p.stderr.decode().strip() == "status 0"


def test_the_resume_hint_followed_verbatim_continues_the_log(tmp_path, names_path):
    data = tmp_path / "names.txt"
    data.write_text("\n".join(names_path.read_text().splitlines()[:400]) + "\n")
    proc = start(["train", "--data", "names.txt", "--steps", "30", "--n-embd", "16", "--n-head", "2",
                  "--engine", "scalar", "--out", "r.json", "--log", "r.jsonl", "--eval-every", "10",
                  "--samples", "3"], cwd=tmp_path)
    wait_for(proc, "| loss")
    rc, err = stop(proc, signal.SIGINT)
    assert rc == 130 and len(err.strip().splitlines()) == 1, err
    hint = shlex.split(err.split("Resume with: ")[1])
    assert hint[:2] == ["microgpt", "train"] and "--log" in hint and "--eval-every" in hint
    p = subprocess.run([*MICROGPT, *hint[1:]], cwd=tmp_path, capture_output=True, text=True, env=env(),
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert len([line for line in p.stdout.splitlines() if line.startswith("sample")]) == 3
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss" in r] == list(range(1, 31))  # every step once, in order
    assert [r["step"] for r in records if "val_loss" in r] == [10, 20, 30]


def test_out_of_memory_is_one_line(monkeypatch, capsys):
    from microgpt.cli import main

    def exhausted(path):
        raise MemoryError

    monkeypatch.setattr(checkpoint, "load", exhausted)
    assert main(["info", "m.json"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("microgpt info: error: out of memory") and len(err.splitlines()) == 1


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("command", [["score", "{model}", "--file", "{file}", "--brief"],
                                     ["score", "{model}", "--file", "{file}", "--json"],
                                     ["eval", "{model}", "--data", "{file}"]])
def test_score_and_eval_show_a_bar_on_a_terminal(tmp_path, names_model, names_path, monkeypatch, capsys, command):
    from microgpt.cli import main

    few = tmp_path / "few.txt"
    few.write_text("\n".join(names_path.read_text().splitlines()[:300]) + "\n")
    bar = Terminal()
    monkeypatch.setattr(sys, "stderr", bar)  # stdout stays a pipe: the results go there, the bar to the terminal
    assert main([a.format(model=names_model, file=few) for a in command]) == 0
    assert bar.getvalue().startswith(f"\r{command[0]} ") and bar.getvalue().endswith("\n")
    assert "\r" not in capsys.readouterr().out
