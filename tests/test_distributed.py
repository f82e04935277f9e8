"""torchrun with 2 CPU processes (gloo) equals 1 process on the same global batch.

--batch-size is the global batch: with 2 ranks each takes half of it. A batch
of 3 documents of different lengths puts 2 documents on rank 0 and 1 on rank 1,
so the ranks hold different numbers of tokens; the loss must still be the mean
over all real tokens of the batch (not the mean of the two ranks' means).

Tolerance: 1e-12 absolute on every loss and weight, in float64. The two runs
differ only in how the gradient sums are split and added (gloo adds the two
ranks' halves); after 4 Adam steps they agree to ~1e-16 (seen: at most ~2e-16).
A mean of per-rank means would be off by ~1e-2.
"""

import json
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("this PyTorch has no torch.distributed", allow_module_level=True)

TOL = 1e-12
DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail", "ella", "zo"]
COMMON = ["--engine", "torch", "--device", "cpu", "--dtype", "float64", "--val-docs", "2", "--batch-size", "3",
          "--n-layer", "2", "--block-size", "8", "--samples", "0", "--schedule", "constant"]
# (a constant learning rate: a 2-step run resumed to 4 then has the 4-step run's schedule)


def run(tmp_path, nproc, *args):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    env.pop("RANK", None)
    if nproc == 1:
        cmd = [sys.executable, "-m", "microgpt", "train", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "microgpt", "train", *args]
    p = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def load(path):
    return json.loads(path.read_text())


def max_diff(a, b):
    if isinstance(a, dict):
        return max(max_diff(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return max(max_diff(x, y) for x, y in zip(a, b))
    return abs(a - b)


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(DOCS) + "\n")
    return path


def test_two_ranks_equal_one_process(tmp_path, data):
    one = run(tmp_path, 1, "--data", str(data), "--steps", "4", "--out", "one.json", "--log-file", "one.jsonl",
              *COMMON)
    two = run(tmp_path, 2, "--data", str(data), "--steps", "4", "--out", "two.json", "--log-file", "two.jsonl",
              *COMMON)
    a, b = load(tmp_path / "one.json"), load(tmp_path / "two.json")
    losses_a = [json.loads(line)["loss"] for line in (tmp_path / "one.jsonl").read_text().splitlines()]
    losses_b = [json.loads(line)["loss"] for line in (tmp_path / "two.jsonl").read_text().splitlines()]
    assert len(losses_a) == len(losses_b) == 4  # rank 0 alone wrote the log
    assert max_diff(losses_a, losses_b) <= TOL
    assert max_diff(a["weights"], b["weights"]) <= TOL
    assert max_diff(a["optimizer"]["v"], b["optimizer"]["v"]) <= TOL
    assert two.stdout.count("saved model to") == 1  # only rank 0 speaks
    assert one.stdout.count("val loss") == two.stdout.count("val loss") == 1


@pytest.mark.slow
def test_resume_under_torchrun(tmp_path, data):
    """Stop at step 2 under torchrun (all ranks load the checkpoint, rank 0 alone
    writes), resume to step 4: the same weights as 4 steps in one go."""
    run(tmp_path, 1, "--data", str(data), "--steps", "4", "--out", "one.json", *COMMON)
    a = load(tmp_path / "one.json")
    run(tmp_path, 2, "--data", str(data), "--steps", "2", "--out", "half.json", *COMMON)
    run(tmp_path, 2, "--resume", "half.json", "--steps", "4", "--samples", "0")
    c = load(tmp_path / "half.json")
    assert c["training"]["steps"] == 4
    assert max_diff(a["weights"], c["weights"]) <= TOL


def test_torchrun_needs_the_torch_engine(tmp_path, data):
    env = {**os.environ, "WORLD_SIZE": "2", "RANK": "1"}
    p = subprocess.run([sys.executable, "-m", "microgpt", "train", "--data", str(data), "--steps", "1"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "need --engine torch" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.slow
def test_sigterm_under_torchrun_saves_once_and_resumes(tmp_path, data):
    """SIGTERM to torchrun reaches every rank; they agree to stop after the same
    step, rank 0 alone saves and says how to resume, and the run goes on from there."""
    import signal
    import time

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "microgpt",
           "train", "--data", str(data), "--steps", "100000", "--out", "sig.json", *COMMON]
    p = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in p.stdout:  # wait until training is under way
            if line.startswith("step") and "/ 100000" in line:
                break
        time.sleep(1)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert err.count("Resume with: microgpt train --resume sig.json") == 1
    saved = load(tmp_path / "sig.json")
    steps = saved["training"]["steps"]
    assert 0 < steps < 100000 and saved["training"]["complete"] is False
    run(tmp_path, 2, "--resume", "sig.json", "--steps", str(steps + 2), "--samples", "0")
    assert load(tmp_path / "sig.json")["training"]["steps"] == steps + 2
