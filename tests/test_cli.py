"""The command line: a small end-to-end run, and bad input giving one-line errors."""

import json
import os
import subprocess
import sys

import pytest

from microgpt.cli import main


def run_cli(*args, cwd=None, env=None):
    """Run `python -m microgpt` in a subprocess: exit code, stdout, stderr."""
    e = dict(os.environ, **(env or {}))
    p = subprocess.run([sys.executable, "-m", "microgpt", *args], capture_output=True, text=True, cwd=cwd, env=e,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture
def data_file(tmp_path, tiny_docs):
    p = tmp_path / "names.txt"
    p.write_text("\n".join(tiny_docs * 3) + "\n")
    return p


@pytest.fixture
def model(tmp_path, data_file):
    out = tmp_path / "m.json"
    code = main(["train", "--data", str(data_file), "--steps", "3", "--n-embd", "8", "--n-head", "2",
                 "--out", str(out), "--samples", "2", "--log", str(tmp_path / "log.jsonl")])
    assert code == 0
    return out


def test_train_writes_model_log_and_samples(tmp_path, data_file, capsys):
    out = tmp_path / "m.json"
    log = tmp_path / "run.jsonl"
    assert main(["train", "--data", str(data_file), "--steps", "4", "--n-embd", "8", "--n-head", "2",
                 "--out", str(out), "--samples", "3", "--log", str(log)]) == 0
    stdout = capsys.readouterr().out
    assert "step    4 /    4 | loss" in stdout and "val loss" in stdout and "sample  3:" in stdout
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert all({"step", "loss", "lr", "elapsed"} <= set(r) for r in records)
    ckpt = json.loads(out.read_text())
    assert ckpt["training"]["steps"] == 4 and ckpt["config"]["n_embd"] == 8


def test_default_name_never_overwrites(tmp_path, data_file):
    args = ["train", "--data", str(data_file), "--steps", "1", "--n-embd", "8", "--n-head", "2", "--samples", "0"]
    assert run_cli(*args, cwd=tmp_path)[0] == 0
    assert run_cli(*args, cwd=tmp_path)[0] == 0
    assert sorted(p.name for p in tmp_path.glob("model_*.json")) == [
        "model_e8_h2_l1_s1.1.json", "model_e8_h2_l1_s1.json"]


def test_sample_and_info(model, capsys):
    assert main(["sample", str(model), "-n", "3", "--seed", "1"]) == 0
    first = capsys.readouterr().out
    assert main(["sample", str(model), "-n", "3", "--seed", "1"]) == 0
    assert capsys.readouterr().out == first  # same seed, same samples
    assert main(["sample", str(model), "-n", "2", "--temperature", "0", "--prefix", "em"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(line.split(": ", 1)[1].startswith("em") for line in lines)
    assert lines[0].split(": ")[1] == lines[1].split(": ")[1]  # greedy is deterministic
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    assert "total:" in out and "mlp_fc1" in out and "steps: 3" in out


def test_info_default_config_counts_4192(names_path, capsys):
    assert main(["parameters", "--data", str(names_path)]) == 0
    assert "total: 4,192 parameters" in capsys.readouterr().out


def test_views(names_path, capsys):
    assert main(["autograd"]) == 0
    out = capsys.readouterr().out
    assert "a.grad = 4.0" in out and "b.grad = 2.0" in out
    assert main(["tokenizer", "emma", "--data", str(names_path)]) == 0
    assert "[26, 4, 12, 12, 0, 26]" in capsys.readouterr().out
    assert main(["dataset", "--data", str(names_path), "-n", "3"]) == 0
    assert "num docs: 32,033" in capsys.readouterr().out
    assert main(["architecture", "em", "--data", str(names_path)]) == 0
    assert "top 5 next tokens" in capsys.readouterr().out


def test_ladder_from_the_cli(names_path, capsys):
    assert main(["ladder", "0", "--data", str(names_path)]) == 0
    out = capsys.readouterr().out
    assert "train0" in out and "bigram counts" in out and "729" in out
    assert main(["ladder", "7", "--data", str(names_path)]) == 2


def test_an_error_naming_a_path_with_control_characters_is_one_line(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "microgpt", "diff", "a\r\nb", "c"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "a\\r\\nb" in r.stderr, r.stderr
