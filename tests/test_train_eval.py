"""`microgpt train` with --eval-every, --keep-best and --dtype (numpy engine)."""

import json

import pytest

from microgpt.cli import main
from microgpt.files import checkpoint

pytest.importorskip("numpy")


@pytest.fixture
def docs_file(tmp_path, tiny_docs):
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(tiny_docs * 5) + "\n")
    return path


def train(tmp_path, docs_file, *flags):
    return main(["train", "--data", str(docs_file), "--engine", "numpy", "--val-docs", "10", "--samples", "0",
                 "--n-embd", "8", "--n-head", "2", "--block-size", "8", "--out", str(tmp_path / "m.json"),
                 *flags])


def test_eval_every_prints_and_logs_val_loss(tmp_path, docs_file, capsys):
    log = tmp_path / "log.jsonl"
    assert train(tmp_path, docs_file, "--steps", "7", "--batch-size", "4", "--eval-every", "3",
                 "--log", str(log)) == 0
    out = capsys.readouterr().out
    assert [line.split(":")[0] for line in out.splitlines() if "val loss" in line and line.startswith("step")] \
        == ["step 3", "step 6", "step 7"]  # every 3 steps, and at the end
    records = [json.loads(line) for line in log.read_text().splitlines()]
    vals = [r for r in records if "val_loss" in r]
    assert [r["step"] for r in vals] == [3, 6, 7]
    assert all(isinstance(r["val_loss"], float) and r["val_loss"] > 0 for r in vals)
    assert sum("loss" in r for r in records) == 7  # the per-step records are still there
    assert not (tmp_path / "m.best.json").exists()  # only --keep-best writes it


def test_keep_best_saves_the_best_model(tmp_path, docs_file, capsys):
    assert train(tmp_path, docs_file, "--steps", "6", "--batch-size", "4", "--lr", "0.02", "--eval-every", "2",
                 "--keep-best", "--log", str(tmp_path / "log.jsonl")) == 0
    vals = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    vals = [r for r in vals if "val_loss" in r]
    best = min(vals, key=lambda r: r["val_loss"])
    ckpt = checkpoint.load(tmp_path / "m.best.json")
    assert ckpt.training.steps == best["step"]
    assert ckpt.training.best_val_loss == pytest.approx(best["val_loss"])
    assert checkpoint.load(tmp_path / "m.json").training.steps == 6


def test_float32_training_runs_and_saves(tmp_path, docs_file):
    assert train(tmp_path, docs_file, "--steps", "3", "--batch-size", "4", "--dtype", "float32") == 0
    assert checkpoint.load(tmp_path / "m.json").training.steps == 3


@pytest.mark.parametrize("flags,message", [
    (["--keep-best"], "--keep-best needs --eval-every"),
    (["--eval-every", "2", "--val-docs", "0"], "--eval-every needs validation data"),
    (["--engine", "scalar", "--dtype", "float32"], "--dtype is an option of --engine"),
])
def test_bad_flag_combinations_are_one_line(tmp_path, docs_file, capsys, flags, message):
    assert train(tmp_path, docs_file, "--steps", "2", *flags) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
