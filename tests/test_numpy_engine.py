"""The numpy engine against the scalar engine, its oracle.

On the same weights and documents, the numpy engine's logits, loss and every
gradient must equal the scalar engine's within TOL (float64), and so must the
weights after several optimizer steps. Only the order of floating-point
additions differs between the two (a matmul sums in its own order), so the
differences seen are ~1e-15; TOL = 1e-9 leaves room for that and nothing else.
"""

import random

import numpy as np
import pytest

from microgpt import forward
from microgpt.config import GPTConfig, TrainConfig
from microgpt.data import read_docs
from microgpt.engines import make_engine
from microgpt.engines.scalar import ScalarEngine
from microgpt.errors import UsageError
from microgpt.model import doc_losses, init_weights, to_values
from microgpt.sample import generate
from microgpt.tokenizer import Tokenizer
from microgpt.training import Trainer

TOL = 1e-9
DOCS = ["emma", "olivia", "ava", "isabellamariagrace", "sophia", "mia", "x"]  # one longer than block_size 8


def setup(n_embd=16, n_head=4, n_layer=1, block_size=16, seed=0):
    tok = Tokenizer.from_docs(DOCS)
    config = GPTConfig(tok.vocab_size, n_embd, n_head, n_layer, block_size)
    return config, init_weights(config, random.Random(seed)), [tok.encode_doc(d) for d in DOCS]


CONFIGS = {
    "default": dict(),
    "3-layer-2-head-block-8": dict(n_embd=8, n_head=2, n_layer=3, block_size=8),
}


def scalar_loss_and_grads(config, weights, batch):
    """The oracle: the Value graph of model.py, mean loss over all real tokens."""
    sd = to_values(weights)
    losses = [loss for tokens in batch for loss in doc_losses(sd, config, tokens)]
    loss = (1 / len(losses)) * sum(losses)
    loss.backward()
    return loss.data, {name: np.array([[p.grad for p in row] for row in mat]) for name, mat in sd.items()}


def max_diff(a, b):
    return max(float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in a)


@pytest.mark.parametrize("cfg", CONFIGS.values(), ids=CONFIGS.keys())
def test_logits_loss_and_every_gradient_match_scalar(cfg):
    """One batched forward with a causal mask equals the scalar engine's
    token-by-token forward with a KV cache, and so does every gradient.

    This is the executable proof that the KV cache needs no causal mask: the
    scalar engine has no mask at all (a position only ever sees the keys
    already in its cache), the numpy engine computes all positions at once and
    must mask the future, and the two agree to 1e-9 on logits, loss and every
    one of the gradients."""
    config, weights, batch = setup(**cfg)
    engine = make_engine("numpy", config, weights)
    # logits, document by document
    for tokens in batch:
        n = min(config.block_size, len(tokens) - 1)
        want = np.array(forward.sequence_logits(weights, config, tokens[:n]))
        assert np.max(np.abs(engine.logits(tokens[:n]) - want)) < TOL
    # loss and gradients of the whole padded batch
    want_loss, want_grads = scalar_loss_and_grads(config, weights, batch)
    got_loss, _ = engine.loss_and_grads(batch)
    assert abs(got_loss - want_loss) < TOL
    got_grads = {name: engine.g[name] for name in want_grads}
    assert set(got_grads) == set(weights)
    assert max_diff(got_grads, want_grads) < TOL
    # the gradients are not trivially zero (every matrix takes part)
    assert all(np.any(g != 0) for g in got_grads.values())


@pytest.mark.parametrize("cfg,tc", [
    (CONFIGS["default"], TrainConfig(steps=10)),
    (CONFIGS["3-layer-2-head-block-8"], TrainConfig(steps=10, weight_decay=0.1, schedule="cosine", warmup_steps=2)),
    (CONFIGS["3-layer-2-head-block-8"], TrainConfig(steps=10, optimizer="sgd", lr=0.5)),
], ids=["adam-default", "adamw-cosine-3-layer", "sgd-3-layer"])
def test_ten_optimizer_steps_match_scalar(cfg, tc):
    from microgpt.optim import learning_rate

    config, weights, docs = setup(**cfg)
    scalar, numpy_engine = ScalarEngine(config, weights, tc), make_engine("numpy", config, weights, tc)
    for step in range(tc.steps):
        batch = [docs[(2 * step + i) % len(docs)] for i in range(3)]  # 3 documents of unequal length
        lr_t = learning_rate(tc, step)
        assert abs(scalar.train_step(batch, lr_t) - numpy_engine.train_step(batch, lr_t)) < TOL
    assert max_diff(numpy_engine.weights(), scalar.weights()) < TOL
    assert max_diff(numpy_engine.weights(), weights) > 1e-3  # the weights did move
    s_state, n_state = scalar.optimizer_state(), numpy_engine.optimizer_state()
    assert s_state["t"] == n_state["t"] == tc.steps
    for key in ("m", "v"):
        if key in s_state:
            assert max_diff(n_state[key], s_state[key]) < TOL


@pytest.mark.parametrize("cfg", CONFIGS.values(), ids=CONFIGS.keys())
def test_kv_cached_decode_matches_scalar_forward(cfg):
    config, weights, batch = setup(**cfg)
    engine = make_engine("numpy", config, weights)
    tokens = batch[3][: config.block_size]
    cache = engine.new_cache()
    got = [engine.next_logits(t, pos, cache) for pos, t in enumerate(tokens)]
    want = forward.sequence_logits(weights, config, tokens)
    assert all(isinstance(x, float) for x in got[0])
    assert np.max(np.abs(np.array(got) - np.array(want))) < TOL


def test_nll_matches_scalar():
    config, weights, batch = setup(**CONFIGS["3-layer-2-head-block-8"])
    s_total, s_count = ScalarEngine(config, weights).nll(batch)
    n_total, n_count = make_engine("numpy", config, weights).nll(batch)
    assert n_count == s_count == sum(min(8, len(t) - 1) for t in batch)
    assert abs(n_total - s_total) < TOL


def test_padding_does_not_change_the_loss():
    """A padded batch's loss and gradients are the token-weighted combination of
    its documents run one at a time (where nothing is padded)."""
    config, weights, batch = setup(**CONFIGS["3-layer-2-head-block-8"])
    engine = make_engine("numpy", config, weights)
    lens = [min(config.block_size, len(t) - 1) for t in batch]
    assert len(set(lens)) > 2  # the batch really is ragged
    total = sum(lens)
    want_loss, want_grad = 0.0, np.zeros_like(engine.grad_flat)
    for tokens, n in zip(batch, lens):
        want_loss += engine.loss_and_grads([tokens])[0] * n / total
        want_grad += engine.grad_flat * n / total
    assert abs(engine.loss_and_grads(batch)[0] - want_loss) < TOL
    assert np.max(np.abs(engine.grad_flat - want_grad)) < TOL


def test_batch_size_one_reproduces_the_original_run(names_path, reference):
    """All 1000 losses of the original microgpt.py to its 4 printed decimals, and its 20 samples."""
    losses, samples = reference
    trainer = Trainer(read_docs(names_path), train_config=TrainConfig(steps=1000), engine="numpy")
    trainer.run()
    got = [f"{x:.4f}" for x in trainer.losses]
    assert got == losses
    assert [generate(trainer.engine, trainer.tokenizer, trainer.rng, 0.5) for _ in range(20)] == samples


def test_optimizer_state_round_trips_across_engines():
    """State saved by the scalar engine resumes in the numpy engine and vice versa."""
    config, weights, docs = setup()
    tc = TrainConfig(steps=6)
    a = ScalarEngine(config, weights, tc)
    for step in range(3):
        a.train_step(docs[step : step + 2], 0.01)
    b = make_engine("numpy", config, a.weights(), tc)
    b.load_optimizer_state(a.optimizer_state())
    for step in range(3, 6):
        assert abs(a.train_step(docs[step : step + 2], 0.01) - b.train_step(docs[step : step + 2], 0.01)) < TOL
    assert max_diff(b.weights(), a.weights()) < TOL


def test_float32_is_close_to_float64():
    config, weights, batch = setup(**CONFIGS["3-layer-2-head-block-8"])
    e64, e32 = make_engine("numpy", config, weights), make_engine("numpy", config, weights, dtype="float32")
    assert e32.flat.dtype == np.float32
    loss64, loss32 = e64.loss_and_grads(batch)[0], e32.loss_and_grads(batch)[0]
    assert abs(loss64 - loss32) < 1e-5  # float32 keeps ~7 significant digits
    assert np.max(np.abs(e32.grad_flat - e64.grad_flat)) < 1e-5
    assert isinstance(e32.weights()["wte"][0][0], float)


def test_unknown_dtype_is_a_usage_error():
    config, weights, _ = setup()
    with pytest.raises(UsageError, match="dtype"):
        make_engine("numpy", config, weights, dtype="float16")
