"""--dropout and --tie-weights in the torch engine.

Dropout off must change nothing (the scalar engine is the oracle, 1e-9 in
float64); dropout on is random, so it is checked statistically: the share of
zeroed values is binomial, the survivors are scaled by 1 / (1 - p), and the
attention's dropout leaves each output's mean where it was. Evaluation never
drops. Tied weights are checked against the scalar engine too: with lm_head
equal to wte, the one tied matrix's gradient is the sum of the scalar engine's
two. Dropout 0 against the scalar engine and the masks' seeding are checked
for both tensor engines in tests/test_numpy_regularisation.py.
"""

import math

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from microgpt.config import TrainConfig  # noqa: E402
from microgpt.engines import make_engine  # noqa: E402
from microgpt.engines import torch_model as M  # noqa: E402

from conftest import REGULARISATION_DOCS as DOCS  # noqa: E402  (tests/ is on sys.path)

TOL = 1e-9


def engine(config, weights, tc=None, **options):
    return make_engine("torch", config, weights, tc, device="cpu", dtype="float64", **options)


def max_diff(a, b):
    if isinstance(a, dict):
        return max(max_diff(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return max((max_diff(x, y) for x, y in zip(a, b)), default=0.0)
    return abs(a - b)


def test_dropout_zeroes_a_binomial_share_and_rescales_the_rest():
    p, n = 0.3, 20_000
    block = M.Block(8, 2, dropout=p).train()
    x = torch.ones(n, dtype=torch.float64)
    y = block.drop(x)
    zeros = int((y == 0).sum())
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(zeros - n * p) < 5 * sigma  # a wrong p (or none) is tens of sigmas off
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / (1 - p)))
    assert torch.equal(block.eval().drop(x), x)  # evaluation: untouched


@pytest.mark.parametrize("dtype", ["float64", "bfloat16"])  # (bfloat16 on a CPU: the written-out attention)
def test_attention_dropout_keeps_the_mean(dtype):
    """q = k = 0: every position weighs its t + 1 visible values equally; with v = 1
    each output is 1 without dropout, and its mean stays 1 with it (inverted dropout),
    while single outputs scatter."""
    p, B, nh, T, hs = 0.5, 64, 4, 16, 8
    torch.manual_seed(0)
    q = k = torch.zeros(B, nh, T, hs, dtype=getattr(torch, dtype))
    v = torch.ones(B, nh, T, hs, dtype=getattr(torch, dtype))
    assert torch.allclose(M.causal_attention(q, k, v), v)
    y = M.causal_attention(q, k, v, dropout_p=p)[..., 0].double()  # (B, nh, T)
    last = y[:, :, -1].flatten()  # position T-1: a mean of T dropped weights, std sqrt(p/(1-p)/T)
    se = math.sqrt(p / (1 - p) / T) / math.sqrt(last.numel())
    assert abs(last.mean().item() - 1) < 5 * se
    assert last.std().item() > 0.1


def test_dropout_trains_differently_but_evaluates_the_same(regularisation_model):
    tok, config, weights = regularisation_model
    batch = [tok.encode_doc(d) for d in DOCS[:4]]
    plain, dropped = engine(config, weights, dropout=0.0), engine(config, weights, dropout=0.5)
    assert abs(plain.loss_and_grads(batch)[0] - dropped.loss_and_grads(batch)[0]) > 1e-3
    assert plain.nll(batch) == pytest.approx(dropped.nll(batch), abs=TOL)
    c1, c2 = plain.new_cache(), dropped.new_cache()
    assert max_diff(plain.next_logits(3, 0, c1), dropped.next_logits(3, 0, c2)) <= TOL


def test_tied_gradient_is_the_sum_of_the_scalar_engines_two(regularisation_model):
    tok, config, weights = regularisation_model
    weights = dict(weights, lm_head=[list(row) for row in weights["wte"]])  # untied but equal
    batch = [tok.encode_doc(d) for d in ("ava", "isabella", "mia")]
    loss_s, grads_s = make_engine("scalar", config, weights).loss_and_grads(batch)
    tied = engine(config, weights, tie_weights=True)
    loss_t, grads_t = tied.loss_and_grads(batch)
    assert abs(loss_s - loss_t) <= TOL
    summed = [[a + b for a, b in zip(r1, r2)] for r1, r2 in zip(grads_s["wte"], grads_s["lm_head"])]
    assert max_diff(summed, grads_t["wte"]) <= TOL and max_diff(summed, grads_t["lm_head"]) <= TOL
    assert max_diff(grads_s["layer1.mlp_fc2"], grads_t["layer1.mlp_fc2"]) <= TOL


def test_tied_weights_stay_one_matrix_through_training_and_a_checkpoint(regularisation_model):
    tok, config, weights = regularisation_model
    tc = TrainConfig(steps=3, batch_size=2)
    tied = engine(config, weights, tc, tie_weights=True)
    assert tied.weights()["lm_head"] == tied.weights()["wte"] == weights["wte"]  # init: wte's draw
    for step in range(3):
        tied.train_step([tok.encode_doc(DOCS[step]), tok.encode_doc(DOCS[step + 3])], 0.01)
    w, state = tied.weights(), tied.optimizer_state()
    assert w["lm_head"] == w["wte"] != weights["wte"]
    assert state["m"]["lm_head"] == state["m"]["wte"]
    again = engine(config, w, tc, tie_weights=True)  # resumed from the checkpoint's form
    again.load_optimizer_state(state)
    batch = [tok.encode_doc("zoe")]
    assert again.train_step(batch, 0.01) == pytest.approx(tied.train_step(batch, 0.01), abs=TOL)
    assert max_diff(again.weights(), tied.weights()) <= TOL
    scalar = make_engine("scalar", config, w)  # any engine reads the tied checkpoint
    assert scalar.nll(batch) == pytest.approx(engine(config, w).nll(batch), abs=TOL)


def test_bad_dropout_is_a_usage_error(regularisation_model):
    from microgpt.errors import UsageError

    _, config, weights = regularisation_model
    for p in (-0.1, 1.0, None):
        with pytest.raises(UsageError, match="dropout"):
            engine(config, weights, dropout=p)
