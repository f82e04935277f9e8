"""The Python API: the README's example runs as written, and it is the CLI's own
code path (same arguments, same checkpoint)."""

import json
import re
import shutil
from pathlib import Path

import pytest

import microgpt
import microgpt.training
from microgpt.cli import main
from microgpt.errors import MicroGPTError, UsageError

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example():
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- api-example -->\s*```python\n(.*?)```", text, re.S)
    assert m, "README.md has no <!-- api-example --> python block"
    return m.group(1)


def test_readme_example_runs_as_written(names_path, tmp_path, monkeypatch):
    shutil.copy(names_path, tmp_path / "names.txt")
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(readme_example(), "README.md", "exec"), scope)  # noqa: S102 - our own README's example
    model = scope["model"]
    names = model.sample(5, temperature=0.5, seed=1)
    assert len(names) == 5 and all(isinstance(n, str) and n for n in names)
    assert names == model.sample(5, temperature=0.5, seed=1)  # the seed decides
    s = model.score("emma")
    assert [r[3] for r in s.rows] and s.total == pytest.approx(sum(-__import__("math").log(r[3]) for r in s.rows))
    assert model.evaluate() == scope["run"].val_loss  # rebuilt held-out split, bit for bit


def train_both(tmp_path, cli_args, **api_args):
    a, b = tmp_path / "cli.json", tmp_path / "api.json"
    assert main(["train", *cli_args, "--out", str(a), "--samples", "0"]) == 0
    microgpt.train(**api_args).save(b)
    ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
    for j in (ja, jb):
        j["training"].pop("seconds")  # wall-clock time: the one field two runs cannot share
    return ja, jb


def test_cli_and_api_write_the_same_checkpoint(tmp_path, tiny_docs):
    data = tmp_path / "d.txt"
    data.write_text("\n".join(tiny_docs * 2))
    ja, jb = train_both(tmp_path, ["--data", str(data), "--steps", "7", "--seed", "3", "--n-embd", "8",
                                         "--n-head", "2", "--batch-size", "2"],
                        data=str(data), steps=7, seed=3, n_embd=8, n_head=2, batch_size=2)
    assert ja == jb
    assert ja["training"]["engine"] == "fused"  # the CLI's default engine is the API's


def test_cli_and_api_agree_on_text_runs(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat and the dog ran far\n" * 40)
    ja, jb = train_both(tmp_path, ["--text", str(text), "--steps", "5", "--block-size", "8"],
                        text=str(text), steps=5, block_size=8)
    assert ja == jb and ja["training"]["format"] == "text"


def test_resume_through_the_api_equals_one_run(tmp_path, tiny_docs):
    data = tmp_path / "d.txt"
    data.write_text("\n".join(tiny_docs * 2))
    straight = microgpt.train(data=str(data), steps=6, n_embd=8, n_head=2)
    half = microgpt.training.plan(data=str(data), steps=6, n_embd=8, n_head=2).train(until=3)
    assert half.trainer.step == 3 and half.val_loss is None
    half.save(tmp_path / "half.json")
    resumed = microgpt.train(resume=str(tmp_path / "half.json"))
    assert resumed.trainer.losses[-3:] == straight.trainer.losses[-3:]
    assert resumed.checkpoint().weights == straight.checkpoint().weights


def test_model_of_a_run_and_loaded_model_agree(tmp_path, tiny_docs):
    data = tmp_path / "d.txt"
    data.write_text("\n".join(tiny_docs * 2))
    run = microgpt.train(data=str(data), steps=4, n_embd=8, n_head=2)
    path = run.save(tmp_path / "m.json")
    loaded = microgpt.load(path)
    live = microgpt.Model.of(run)
    assert loaded.sample(4, seed=2) == live.sample(4, seed=2)
    assert loaded.score("emma").total == live.score("emma").total
    assert loaded.evaluate() == run.val_loss
    assert loaded.training_data().exact


def test_api_errors_are_the_cli_errors(tmp_path):
    with pytest.raises(UsageError, match="unknown setting 'stepz'"):
        microgpt.train(data="x.txt", stepz=3)
    with pytest.raises(MicroGPTError, match="not found"):
        microgpt.train(data=str(tmp_path / "none.txt"))
    with pytest.raises(MicroGPTError, match="not found"):
        microgpt.load(tmp_path / "none.json")
