"""The whole GPT's gradients against finite differences, and the float forward
pass against the Value one."""

import random

import pytest

from microgpt import forward
from microgpt.config import GPTConfig
from microgpt.errors import UsageError
from microgpt.model import (
    doc_losses,
    empty_cache,
    gpt,
    init_weights,
    num_params,
    parameter_shapes,
    to_values,
)
from microgpt.tokenizer import Tokenizer


def tiny_model(docs, n_embd=8, n_head=2, n_layer=2, block_size=8, seed=3):
    tok = Tokenizer.from_docs(docs)
    config = GPTConfig(tok.vocab_size, n_embd, n_head, n_layer, block_size)
    # a larger std than training's 0.08 so attention and the MLP are far from linear
    return tok, config, init_weights(config, random.Random(seed), std=0.5)


def test_default_param_count_is_4192():
    assert num_params(GPTConfig(vocab_size=27)) == 4192


@pytest.mark.parametrize("bad", [dict(n_embd=10, n_head=4), dict(n_embd=0), dict(n_layer=-1), dict(block_size=0)])
def test_config_validated(bad):
    with pytest.raises(UsageError):
        GPTConfig(vocab_size=27, **bad)


def test_gpt_gradients_match_finite_differences(tiny_docs):
    tok, config, weights = tiny_model(tiny_docs)
    tokens = tok.encode_doc("isabella")  # 9 positions: longer than block_size 8, so truncation is exercised
    sd = to_values(weights)
    losses = doc_losses(sd, config, tokens)
    loss = (1 / len(losses)) * sum(losses)
    loss.backward()

    def f(w):
        s, n = forward.doc_nll(w, config, tokens)
        return s / n

    assert loss.data == pytest.approx(f(weights), rel=1e-12)
    h, worst = 1e-5, 0.0
    for name, (rows, cols) in parameter_shapes(config).items():
        for r in range(rows):
            for c in range(cols):
                x = weights[name][r][c]
                weights[name][r][c] = x + h
                up = f(weights)
                weights[name][r][c] = x - h
                dn = f(weights)
                weights[name][r][c] = x
                numeric = (up - dn) / (2 * h)
                worst = max(worst, abs(numeric - sd[name][r][c].grad))
    assert worst < 1e-7, worst  # seen: ~1e-10


def test_some_gradients_are_nonzero_everywhere(tiny_docs):
    """Guards the test above against a model where most gradients are trivially 0."""
    tok, config, weights = tiny_model(tiny_docs)
    sd = to_values(weights)
    losses = doc_losses(sd, config, tok.encode_doc("sophia"))
    ((1 / len(losses)) * sum(losses)).backward()
    for name, mat in sd.items():
        assert any(p.grad != 0 for row in mat for p in row), name


def test_float_forward_is_bit_identical_to_value_forward(tiny_docs):
    tok, config, weights = tiny_model(tiny_docs, n_embd=12, n_head=3, n_layer=2, block_size=10)
    sd = to_values(weights)
    tokens = tok.encode_doc("abigail")
    keys, values = empty_cache(config)
    fkeys, fvalues = forward.empty_cache(config)
    for pos, t in enumerate(tokens[:-1]):
        v_logits = [v.data for v in gpt(sd, config, t, pos, keys, values)]
        f_logits = forward.gpt(weights, config, t, pos, fkeys, fvalues)
        assert v_logits == f_logits
