"""Property-based tests: arbitrary bytes and arbitrary JSON give a result or the
clean error (MicroGPTError), never anything else."""

import json
import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microgpt.config import GPTConfig
from microgpt.data import read_docs
from microgpt.errors import MicroGPTError
from microgpt.files import checkpoint
from microgpt.model import init_weights
from microgpt.tokenizer import Tokenizer

# MICROGPT_FUZZ_EXAMPLES raises the budget for a longer local run.
FUZZ = settings(max_examples=int(os.environ.get("MICROGPT_FUZZ_EXAMPLES", "300")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.lists(st.text(min_size=1), min_size=1), st.text())
def test_tokenizer_round_trip_or_clean_error(docs, text):
    tok = Tokenizer.from_docs(docs)
    try:
        ids = tok.encode_doc(text)
    except MicroGPTError:
        assert any(ch not in tok.stoi for ch in text)
        return
    assert ids[0] == ids[-1] == tok.bos and all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == text
    assert Tokenizer.from_dict(json.loads(json.dumps(tok.to_dict()))).chars == tok.chars


@FUZZ
@given(st.binary(max_size=2000))
def test_data_loader_on_arbitrary_bytes(tmp_path, raw):
    p = tmp_path / "d.txt"
    p.write_bytes(raw)
    try:
        docs = read_docs(p)
    except MicroGPTError:
        return
    assert docs and all(d and d == d.strip() and "\n" not in d for d in docs)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=40,
)


def _valid():
    tok = Tokenizer(list("abc"))
    config = GPTConfig(tok.vocab_size, n_embd=4, n_head=2, n_layer=1, block_size=4)
    return checkpoint.Checkpoint(config, tok, init_weights(config, random.Random(0)), {"steps": 1}).to_dict()


@FUZZ
@given(json_values)
def test_checkpoint_loader_on_arbitrary_json(value):
    try:
        checkpoint.from_dict(value)
    except MicroGPTError:
        pass


@FUZZ
@given(st.sampled_from(["format", "version", "config", "tokenizer", "weights", "training", "optimizer"]), json_values)
def test_checkpoint_loader_on_a_valid_file_with_one_field_replaced(key, value):
    d = _valid()
    d[key] = value
    try:
        ck = checkpoint.from_dict(d)
    except MicroGPTError:
        return
    assert ck.config.n_embd == 4  # whatever loads is still a well-formed model


@FUZZ
@given(st.binary(max_size=3000))
def test_checkpoint_loader_on_arbitrary_bytes(tmp_path, raw):
    p = tmp_path / "c.json"
    p.write_bytes(raw)
    try:
        checkpoint.load(p)
    except MicroGPTError:
        pass
