"""--dropout and --tie-weights in the numpy engine (and, where torch is installed,
the checks both tensor engines share: dropout 0 and the masks' seeding).

The oracles: dropout 0 is the scalar engine (1e-9, float64). With dropout on,
the hand-written backward is checked by central finite differences of the
dropped loss itself: a step's masks depend only on the seed and the step, so
the loss is a fixed function of the weights while t stays put. The share of
zeros is binomial, the masks sit in nanoGPT's places (the draws' shapes, in
forward order), evaluation is the dropout-free model. Tied weights: the scalar
engine's wte + lm_head gradients (with lm_head = wte), the torch engine's
tied training where torch is installed, and the CLI's own checkpoints.
"""

import importlib.util
import json
import math
import random

import numpy as np
import pytest
from conftest import REGULARISATION_DOCS as DOCS  # noqa: E402  (tests/ is on sys.path)

from microgpt.cli import main
from microgpt.config import TrainConfig
from microgpt.engines import make_engine
from microgpt.engines import numpy_layers as L
from microgpt.errors import UsageError
from microgpt.files import checkpoint

TOL = 1e-9


def engine(config, weights, tc=None, **options):
    return make_engine("numpy", config, weights, tc, **options)


def max_diff(a, b):
    return max(float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in a)


HAS_TORCH = importlib.util.find_spec("torch") is not None


BOTH_ENGINES = pytest.mark.parametrize("name,options", [
    ("numpy", {}),
    pytest.param("torch", {"device": "cpu", "dtype": "float64"},
                 marks=pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")),
])


@BOTH_ENGINES
def test_dropout_zero_is_the_scalar_engine(regularisation_model, name, options):
    """Both tensor engines: --dropout 0 trains exactly as the scalar engine."""
    tok, config, weights = regularisation_model
    tc = TrainConfig(steps=4, batch_size=3)
    scalar = make_engine("scalar", config, weights, tc)
    ours = make_engine(name, config, weights, tc, dropout=0.0, **options)
    for step in range(4):
        batch = [tok.encode_doc(DOCS[(3 * step + i) % len(DOCS)]) for i in range(3)]
        assert abs(scalar.train_step(batch, 0.01) - ours.train_step(batch, 0.01)) <= TOL
    assert max_diff(scalar.weights(), ours.weights()) <= TOL


@pytest.mark.parametrize("tie", [False, True])
def test_dropped_gradient_matches_finite_differences(regularisation_model, tie):
    """Central differences of the loss with dropout on, masks held fixed (same
    seed, same step), against the backward, for entries of every matrix. The
    batch is ragged, so the attention's padding and its dropout meet."""
    tok, config, weights = regularisation_model
    batch = [tok.encode_doc(d) for d in ("isabella", "ava", "zoe")]
    e = engine(config, weights, TrainConfig(seed=3), dropout=0.3, tie_weights=tie)
    loss, grads = e.loss_and_grads(batch)
    assert abs(loss - engine(config, weights).loss_and_grads(batch)[0]) > 1e-3  # the masks do act
    rng, h = random.Random(0), 1e-5
    names = [n for n in e.shapes if not (tie and n == "lm_head")]  # tied: wte's entry moves both uses
    for name in names:
        r, c = e.shapes[name]
        for _ in range(3):
            i, j = rng.randrange(r), rng.randrange(c)
            old = e.p[name][i, j]
            diffs = []
            for sign in (1, -1):
                e.p[name][i, j] = old + sign * h
                if tie and name == "wte":
                    e.p["lm_head"][i, j] = old + sign * h
                diffs.append(e.loss_and_grads(batch)[0])
            e.p[name][i, j] = old
            if tie and name == "wte":
                e.p["lm_head"][i, j] = old
            numeric = (diffs[0] - diffs[1]) / (2 * h)
            assert abs(numeric - grads[name][i][j]) <= 1e-7 * max(1.0, abs(numeric)), (name, i, j)
    assert e.loss_and_grads(batch)[0] == loss  # weights restored, same masks


def test_dropout_sits_in_nanogpts_places(regularisation_model, monkeypatch):
    """The masks drawn in one training forward, in order: the embeddings (N, C),
    then per layer the attention weights (B, nh, T, T) and both residual
    branches (N, C); N real tokens of B documents padded to T."""
    tok, config, weights = regularisation_model
    drawn = []
    real = L.dropout_mask

    def spy(rng, shape, p, dtype):
        drawn.append(tuple(shape))
        return real(rng, shape, p, dtype)

    monkeypatch.setattr(L, "dropout_mask", spy)
    batch = [tok.encode_doc(d) for d in ("ava", "sophia")]  # 4 and 7 predicted positions
    e = engine(config, weights, dropout=0.2)
    e.loss_and_grads(batch)
    N, C, nh, T = 4 + 7, config.n_embd, config.n_head, 7
    assert drawn == [(N, C)] + [(2, nh, T, T), (N, C), (N, C)] * config.n_layer
    drawn.clear()
    e.nll(batch), e.logits(batch[0]), e.next_logits(0, 0, e.new_cache())
    assert drawn == []  # nothing drops outside training


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dropout_zeroes_a_binomial_share_and_rescales_the_rest(regularisation_model, dtype):
    _, config, weights = regularisation_model
    p, shape = 0.3, (200, 100)
    mask = engine(config, weights, dtype=dtype, dropout=p)._dropper()(shape)
    n = mask.size
    zeros = int(np.sum(mask == 0))
    assert abs(zeros - n * p) < 5 * math.sqrt(n * p * (1 - p))  # a wrong p (or none) is tens of sigmas off
    assert mask.dtype == np.dtype(dtype)
    assert np.all(mask[mask != 0] == np.asarray(1 / (1 - p), dtype=dtype))


def test_dropout_trains_differently_but_evaluates_the_same(regularisation_model):
    tok, config, weights = regularisation_model
    batch = [tok.encode_doc(d) for d in DOCS[:4]]
    plain, dropped = engine(config, weights), engine(config, weights, dropout=0.5)
    assert abs(plain.loss_and_grads(batch)[0] - dropped.loss_and_grads(batch)[0]) > 1e-3
    assert plain.nll(batch) == pytest.approx(dropped.nll(batch), abs=TOL)
    assert np.max(np.abs(plain.logits(batch[1]) - dropped.logits(batch[1]))) <= TOL
    c1, c2 = plain.new_cache(), dropped.new_cache()
    assert max(abs(a - b) for a, b in zip(plain.next_logits(3, 0, c1), dropped.next_logits(3, 0, c2))) <= TOL


@BOTH_ENGINES
def test_dropout_masks_follow_the_seed_and_step(regularisation_model, name, options):
    """Same seed and step, same masks: a resumed run draws what the uninterrupted
    one would; another step or another seed draws others."""
    tok, config, weights = regularisation_model
    tc = TrainConfig(steps=3, batch_size=3)

    def engine(config, weights, tc, **more):
        return make_engine(name, config, weights, tc, **options, **more)

    batch = [tok.encode_doc(d) for d in DOCS[:3]]
    a, b = engine(config, weights, tc, dropout=0.3), engine(config, weights, tc, dropout=0.3)
    assert a.train_step(batch, 0.01) == b.train_step(batch, 0.01)
    c = engine(config, a.weights(), tc, dropout=0.3)  # a resumed from a's checkpoint, at step 1
    c.load_optimizer_state(a.optimizer_state())
    assert a.loss_and_grads(batch) == c.loss_and_grads(batch)
    at_step_0 = engine(config, a.weights(), tc, dropout=0.3)  # same weights, t = 0
    assert abs(at_step_0.loss_and_grads(batch)[0] - c.loss_and_grads(batch)[0]) > 1e-6
    other_seed = engine(config, a.weights(), TrainConfig(steps=3, batch_size=3, seed=7), dropout=0.3)
    other_seed.load_optimizer_state(a.optimizer_state())
    assert abs(other_seed.loss_and_grads(batch)[0] - c.loss_and_grads(batch)[0]) > 1e-6


def test_tied_gradient_is_the_sum_of_the_scalar_engines_two(regularisation_model):
    tok, config, weights = regularisation_model
    weights = dict(weights, lm_head=[list(row) for row in weights["wte"]])  # untied but equal
    batch = [tok.encode_doc(d) for d in ("ava", "isabella", "mia")]
    loss_s, grads_s = make_engine("scalar", config, weights).loss_and_grads(batch)
    loss_t, grads_t = engine(config, weights, tie_weights=True).loss_and_grads(batch)
    assert abs(loss_s - loss_t) <= TOL
    summed = np.array(grads_s["wte"]) + np.array(grads_s["lm_head"])
    assert np.max(np.abs(summed - grads_t["wte"])) <= TOL and np.max(np.abs(summed - grads_t["lm_head"])) <= TOL
    assert max_diff({k: grads_s[k] for k in grads_s if k not in ("wte", "lm_head")}, grads_t) <= TOL


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_tied_weights_stay_one_matrix_through_training_and_a_checkpoint(regularisation_model, optimizer):
    tok, config, weights = regularisation_model
    tc = TrainConfig(steps=3, batch_size=2, optimizer=optimizer, weight_decay=0.1 if optimizer == "adam" else 0.0)
    tied = engine(config, weights, tc, tie_weights=True)
    assert tied.weights()["lm_head"] == tied.weights()["wte"] == weights["wte"]  # init: wte's draw, not lm_head's
    for step in range(3):
        tied.train_step([tok.encode_doc(DOCS[step]), tok.encode_doc(DOCS[step + 3])], 0.01)
    w, state = tied.weights(), tied.optimizer_state()
    assert w["lm_head"] == w["wte"] != weights["wte"]
    if optimizer == "adam":
        assert state["m"]["lm_head"] == state["m"]["wte"] and state["v"]["lm_head"] == state["v"]["wte"]
    again = engine(config, json.loads(json.dumps(w)), tc, tie_weights=True)  # resumed from the checkpoint's form
    again.load_optimizer_state(json.loads(json.dumps(state)))
    batch = [tok.encode_doc("zoe")]
    assert again.train_step(batch, 0.01) == tied.train_step(batch, 0.01)
    assert again.weights() == tied.weights()
    scalar = make_engine("scalar", config, w)  # any engine reads the tied checkpoint
    assert scalar.nll(batch) == pytest.approx(engine(config, w).nll(batch), abs=TOL)


def test_tied_training_agrees_with_the_torch_engine(regularisation_model):
    """Same weights, dropout 0, tied, float64 AdamW with weight decay: the torch
    engine (autograd, one tied tensor) and this one agree for 3 steps."""
    pytest.importorskip("torch")
    tok, config, weights = regularisation_model
    tc = TrainConfig(steps=3, batch_size=3, weight_decay=0.1)
    ours = engine(config, weights, tc, dropout=0.0, tie_weights=True)
    theirs = make_engine("torch", config, weights, tc, device="cpu", dtype="float64", dropout=0.0, tie_weights=True)
    for step in range(3):
        batch = [tok.encode_doc(DOCS[(3 * step + i) % len(DOCS)]) for i in range(3)]
        assert abs(ours.train_step(batch, 0.01) - theirs.train_step(batch, 0.01)) <= TOL
    assert max_diff(ours.weights(), theirs.weights()) <= TOL
    o, t = ours.optimizer_state(), theirs.optimizer_state()
    assert max_diff(o["m"], t["m"]) <= TOL and max_diff(o["v"], t["v"]) <= TOL


def test_cli_tied_dropout_run_resumes_exactly(tmp_path, tiny_docs, capsys):
    """`train --engine numpy --tie-weights --dropout`, stopped at step 2 and
    resumed to 4, equals the 4-step run (constant learning rate, so the two
    schedules agree); the checkpoint records both options and lm_head = wte."""
    data = tmp_path / "names.txt"
    data.write_text("\n".join(tiny_docs) + "\n")
    common = ["--data", str(data), "--n-embd", "8", "--n-head", "2", "--n-layer", "1", "--block-size", "8",
              "--engine", "numpy", "--schedule", "constant", "--batch-size", "4", "--samples", "0"]
    opts = ["--tie-weights", "--dropout", "0.2"]
    assert main(["train", *common, *opts, "--steps", "4", "--out", str(tmp_path / "a.json")]) == 0
    assert main(["train", *common, *opts, "--steps", "2", "--out", str(tmp_path / "b.json")]) == 0
    assert main(["train", "--resume", str(tmp_path / "b.json"), "--steps", "4", "--samples", "0"]) == 0
    capsys.readouterr()
    a, b = checkpoint.load(tmp_path / "a.json"), checkpoint.load(tmp_path / "b.json")
    assert b.training.steps == 4
    assert b.training.engine_options == {"tie_weights": True, "dropout": 0.2}
    assert a.weights == b.weights and a.optimizer == b.optimizer  # bit for bit
    assert b.weights["lm_head"] == b.weights["wte"]
    assert a.training.recent_losses == b.training.recent_losses  # every step's loss, dropout and all


def test_bad_dropout_is_a_usage_error(regularisation_model):
    _, config, weights = regularisation_model
    for p in (-0.1, 1.0, None, float("nan"), "0.1", True):
        with pytest.raises(UsageError, match="dropout"):
            engine(config, weights, dropout=p)
