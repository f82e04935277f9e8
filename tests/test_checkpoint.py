"""Checkpoints: a round trip gives identical logits; bad files give clean errors."""

import json
import random

import pytest

from microgpt import forward
from microgpt.config import GPTConfig
from microgpt.errors import MicroGPTError
from microgpt.files import checkpoint
from microgpt.model import init_weights
from microgpt.tokenizer import Tokenizer


@pytest.fixture
def ckpt(tiny_docs):
    tok = Tokenizer.from_docs(tiny_docs)
    config = GPTConfig(tok.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=8)
    return checkpoint.Checkpoint(config, tok, init_weights(config, random.Random(1)), {"steps": 0})


def test_round_trip_identical_logits(ckpt, tmp_path):
    path = tmp_path / "m.json"
    ckpt.save(path)
    back = checkpoint.load(path)
    assert back.config == ckpt.config and back.tokenizer.chars == ckpt.tokenizer.chars
    tokens = ckpt.tokenizer.encode_doc("emma")
    assert forward.sequence_logits(back.weights, back.config, tokens) == forward.sequence_logits(
        ckpt.weights, ckpt.config, tokens)
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temp file left behind


def _corrupt(ckpt, tmp_path, mutate):
    d = json.loads(json.dumps(ckpt.to_dict()))
    mutate(d)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    return path


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d.update(version=99), "newer"),
    (lambda d: d.pop("format"), "not a microgpt checkpoint"),
    (lambda d: d["config"].update(n_head=3), "divisible"),
    (lambda d: d["weights"]["wte"].pop(), "rows"),
    (lambda d: d["weights"]["lm_head"][0].append(0.5), "columns"),
    (lambda d: d["weights"].pop("wpe"), "lack"),
    (lambda d: d["weights"]["wte"][0].__setitem__(0, "x"), "non-number"),
    (lambda d: d["tokenizer"].update(chars="ab"), "tokens"),
    (lambda d: d["config"].update(block_size=4), "rows"),
])
def test_bad_checkpoints(ckpt, tmp_path, mutate, message):
    with pytest.raises(MicroGPTError, match=message):
        checkpoint.load(_corrupt(ckpt, tmp_path, mutate))


def test_nan_weight_rejected(ckpt, tmp_path):
    path = tmp_path / "nan.json"
    d = ckpt.to_dict()
    d["weights"]["wte"][0][0] = float("nan")
    path.write_text(json.dumps(d))  # json writes NaN, Python's json reads it back
    with pytest.raises(MicroGPTError, match="NaN"):
        checkpoint.load(path)


def test_truncated_and_missing(ckpt, tmp_path):
    path = tmp_path / "m.json"
    ckpt.save(path)
    path.write_text(path.read_text()[:-100])
    with pytest.raises(MicroGPTError, match="not valid JSON"):
        checkpoint.load(path)
    with pytest.raises(MicroGPTError, match="not found"):
        checkpoint.load(tmp_path / "none.json")


def test_nesting_bomb(tmp_path):
    path = tmp_path / "bomb.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(MicroGPTError):
        checkpoint.load(path)


def test_oversized_for_its_config(ckpt, tmp_path):
    d = ckpt.to_dict()
    d["training"]["padding"] = "x" * 5_000_000
    path = tmp_path / "big.json"
    path.write_text(json.dumps(d))
    with pytest.raises(MicroGPTError, match="far more than its config"):
        checkpoint.load(path)
