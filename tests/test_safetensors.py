"""--out NAME.safetensors: the same checkpoint, bit for bit, without JSON's text."""

import json

import pytest

pytest.importorskip("safetensors")
pytest.importorskip("numpy")

from microgpt.cli import main  # noqa: E402
from microgpt.errors import MicroGPTError  # noqa: E402
from microgpt.files import checkpoint  # noqa: E402

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "zoe", "abigail"]


def test_same_checkpoint_as_json_and_resumable(tmp_path):
    data = tmp_path / "d.txt"
    data.write_text("\n".join(DOCS) + "\n")
    common = ["train", "--data", str(data), "--steps", "3", "--batch-size", "2", "--val-docs", "1", "--samples", "0"]
    assert main([*common, "--out", str(tmp_path / "m.json")]) == 0
    assert main([*common, "--out", str(tmp_path / "m.safetensors")]) == 0
    a, b = checkpoint.load(tmp_path / "m.json"), checkpoint.load(tmp_path / "m.safetensors")
    assert a.weights == b.weights and a.optimizer == b.optimizer  # float64: exact
    assert a.tokenizer.chars == b.tokenizer.chars and a.config == b.config and a.rng_state == b.rng_state
    assert (tmp_path / "m.safetensors").read_bytes()[8:9] == b"{"  # a JSON header, raw numbers after it
    assert main(["train", "--resume", str(tmp_path / "m.safetensors"), "--steps", "4", "--samples", "0"]) == 0
    assert main(["train", "--resume", str(tmp_path / "m.json"), "--steps", "4", "--samples", "0"]) == 0
    assert checkpoint.load(tmp_path / "m.safetensors").weights == checkpoint.load(tmp_path / "m.json").weights


def test_damaged_file_is_one_error(tmp_path):
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(MicroGPTError, match="safetensors"):
        checkpoint.load(bad)
    bad.write_bytes(json.dumps({"a": 1}).encode())
    with pytest.raises(MicroGPTError):
        checkpoint.load(bad)
