"""Nothing is lost: resume is exact, signals save, SIGKILL never tears a file."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from microgpt.cli import main
from microgpt.files import checkpoint

TINY = ["--n-embd", "8", "--n-head", "2", "--n-layer", "2", "--block-size", "8"]


@pytest.fixture
def data_file(tmp_path, tiny_docs):
    p = tmp_path / "names.txt"
    p.write_text("\n".join(tiny_docs * 4) + "\n")
    return p


def losses(log):
    return [json.loads(line)["loss"] for line in log.read_text().splitlines()]


def train(*args, capsys=None):
    assert main(["train", *args]) == 0
    return capsys.readouterr().out if capsys else None


def samples(out):
    return [line for line in out.splitlines() if line.startswith("sample")]


@pytest.mark.parametrize("engine", ["scalar", "fused", "numpy"])
def test_resume_is_bit_identical(tmp_path, data_file, capsys, engine):
    common = ["--data", str(data_file), *TINY, "--steps", "40", "--samples", "5", "--engine", engine]
    straight = train(*common, "--out", str(tmp_path / "a.json"), "--log", str(tmp_path / "a.jsonl"), capsys=capsys)
    # the same run stopped after 20 steps and saved, as an interrupted run is; then resumed from the file
    half = tmp_path / "b.json"
    from microgpt.config import TrainConfig
    from microgpt.data import read_docs
    from microgpt.training import Trainer

    t = Trainer(read_docs(data_file), 8, 2, 2, 8, TrainConfig(steps=40), engine=engine)
    t.run(should_stop=lambda: t.step == 20)
    t.checkpoint(data=str(data_file)).save(half)
    assert checkpoint.load(half).training.complete is False
    resumed = train("--resume", str(half), "--log", str(tmp_path / "c.jsonl"), "--samples", "5", capsys=capsys)
    assert losses(tmp_path / "a.jsonl")[20:] == losses(tmp_path / "c.jsonl")
    a, c = checkpoint.load(tmp_path / "a.json"), checkpoint.load(half)
    assert a.weights == c.weights and a.optimizer == c.optimizer  # bit for bit
    assert samples(straight) == samples(resumed)


def test_resume_refuses_changed_hyperparameters(tmp_path, data_file, capsys):
    ck = tmp_path / "m.json"
    train("--data", str(data_file), *TINY, "--steps", "3", "--out", str(ck), "--samples", "0", capsys=capsys)
    assert main(["train", "--resume", str(ck), "--lr", "0.1"]) == 2
    assert "--lr cannot be changed when resuming" in capsys.readouterr().err
    assert main(["train", "--resume", str(ck), "--block-size", "32"]) == 2
    assert "no position embeddings" in capsys.readouterr().err
    other = tmp_path / "other.txt"
    other.write_text("zed\nyan\nxavier\n" * 10)
    assert main(["train", "--resume", str(ck), "--steps", "5", "--data", str(other)]) == 1
    assert "same --data" in capsys.readouterr().err


def _start(tmp_path, data_file, out, steps=100000, extra=()):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "microgpt", "train", "--data", str(data_file), *TINY,
                             "--steps", str(steps), "--out", str(out), "--samples", "0", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_step(proc, step):
    for line in proc.stdout:
        if line.startswith("step") and int(line.split()[1]) >= step:
            return
    raise AssertionError("training ended early: " + proc.stderr.read())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_and_says_how_to_resume(tmp_path, data_file, sig):
    out = tmp_path / "m.json"
    proc = _start(tmp_path, data_file, out, steps=5000)
    _wait_for_step(proc, 5)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig
    assert f"microgpt train --resume {out}" in err and "Traceback" not in err
    ck = checkpoint.load(out)
    assert 5 <= ck.training.steps < 5000 and ck.training.complete is False


def test_sigkill_never_leaves_a_torn_checkpoint(tmp_path, data_file):
    """Kill training at random moments while it saves every step: the file on
    disk always loads, and its step never goes backwards."""
    rng = random.Random(1)
    out = tmp_path / "m.json"
    last_step = 0
    for trial in range(20):
        if out.exists():  # go on from what the last killed run left
            proc = subprocess.Popen([sys.executable, "-m", "microgpt", "train", "--resume", str(out),
                                     "--save-every", "1", "--samples", "0"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        else:
            proc = _start(tmp_path, data_file, out, steps=100000, extra=["--save-every", "1"])
        time.sleep(0.6 + rng.random() * 0.8)  # startup is ~0.3s; saves happen every few ms after it
        proc.kill()
        proc.wait()
        if proc.stderr:
            proc.stderr.close()
        if proc.stdout:
            proc.stdout.close()
        if not out.exists():
            continue
        ck = checkpoint.load(out)  # raises if torn
        assert ck.training.steps >= last_step
        last_step = ck.training.steps
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".m.json.")]
        for name in leftovers:  # a temp file from a killed save is harmless, but must not be the checkpoint
            assert name.endswith(".tmp")
    assert last_step > 0


def test_divergence_stops_cleanly_and_keeps_last_checkpoint(tmp_path, data_file, capsys):
    out = tmp_path / "m.json"
    rc = main(["train", "--data", str(data_file), *TINY, "--steps", "200", "--lr", "1e6", "--out", str(out),
               "--save-every", "1", "--samples", "0"])
    err = capsys.readouterr().err
    assert rc == 1 and ("diverged" in err or "loss became" in err)
    assert len(err.strip().splitlines()) == 1 and "is kept" in err
    assert checkpoint.load(out).training.steps >= 1  # the last good one loads
