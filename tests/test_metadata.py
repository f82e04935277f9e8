"""The checkpoint's training metadata as a typed record: what train writes reads
back the same, a newer version's keys survive, and a hand-edited wrong value is
one line naming the field, in every command that reads it."""

import json
import subprocess
import sys

import pytest

from microgpt.cli import main
from microgpt.errors import MicroGPTError
from microgpt.files import checkpoint
from microgpt.files.metadata import TrainingRecord


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("meta")
    data = tmp / "d.txt"
    data.write_text("\n".join(["emma", "olivia", "ava", "mia", "zoe", "ivy", "luna", "nora", "aria", "lily"] * 2))
    out = tmp / "m.json"
    assert main(["train", "--data", str(data), "--steps", "3", "--n-embd", "8", "--n-head", "2", "--val-docs", "4",
                 "--out", str(out), "--samples", "0"]) == 0
    return out


def test_what_train_writes_reads_back_the_same(trained):
    raw = json.loads(trained.read_text())["training"]
    record = TrainingRecord.from_dict(raw)
    assert record.to_dict() == raw
    assert record.steps == 3 and record.complete is True and record.train_config.steps == 3
    assert record.n_val == 4 and record.engine == "fused" and len(record.data_sha256) == 64


def test_unknown_keys_from_a_newer_version_are_kept(trained, tmp_path):
    d = json.loads(trained.read_text())
    d["training"]["made_by_a_future_version"] = {"x": [1, 2]}
    path = tmp_path / "future.json"
    path.write_text(json.dumps(d))
    ckpt = checkpoint.load(path)
    ckpt.save(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text())["training"]["made_by_a_future_version"] == {"x": [1, 2]}


BAD = [
    ("steps", "ten", "steps must be an integer"),
    ("steps", -4, "steps must be an integer >= 0"),
    ("seed", 1.5, "seed must be an integer"),
    ("complete", "yes", "complete must be true or false"),
    ("train_config", {"steps": 3, "lr": "fast"}, "training config is malformed"),
    ("train_config", [1, 2], "train_config must be an object"),
    ("n_val", -1, "n_val must be an integer >= 0"),
    ("seconds", "soon", "seconds must be a finite number"),
    ("recent_losses", ["low"], "recent_losses must be a finite number"),
    ("recent_losses", 3, "recent_losses must be a list"),
    ("data", 5, "data must be a string"),
    ("data_sha256", "abc", "data_sha256 must be 64 hexadecimal digits"),
    ("engine_options", {"dtype": "float8"}, "engine_options.dtype must be one of"),
    ("engine_options", {"turbo": True}, "engine_options must be made of"),
    ("format", "poem", "format must be"),
    ("val_loss", "nan", "val_loss must be a finite number"),
]


@pytest.mark.parametrize("field,value,message", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_a_wrong_field_is_named(trained, tmp_path, field, value, message):
    d = json.loads(trained.read_text())
    d["training"][field] = value
    with pytest.raises(MicroGPTError, match=message.replace("(", r"\(")):
        checkpoint.from_dict(d)


@pytest.mark.parametrize("command", [["info"], ["eval"], ["sample"], ["score", "{m}", "emma"],
                                     ["train", "--resume"]])
def test_commands_say_one_line_on_bad_metadata(trained, tmp_path, command):
    d = json.loads(trained.read_text())
    d["training"]["steps"] = "many"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    argv = [a.replace("{m}", str(bad)) for a in command]
    if "{m}" not in " ".join(command):
        argv.append(str(bad))
    p = subprocess.run([sys.executable, "-m", "microgpt", *argv], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stderr
    assert p.stderr.count("\n") == 1 and "steps must be an integer" in p.stderr and "Traceback" not in p.stderr
