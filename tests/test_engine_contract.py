"""One contract, every engine: base.Engine's promises, checked on each registered engine.

The scalar engine is the oracle (the original's arithmetic, one Value per
operation): every engine, in float64, agrees with it to TOL on losses,
gradients and the weights after a resume. Within one engine a save and load
changes nothing at all, so there the checks are exact. The tests are
parametrised over engine_names(), so an engine added to the registry is
checked here without a new line of test code.
"""

import functools
import importlib.util
import inspect
import json
import math
import os
import random
import subprocess
import sys

import pytest

from microgpt.config import GPTConfig, TrainConfig
from microgpt.engines import engine_class, engine_names, engines_taking, make_engine, option_names
from microgpt.engines.base import Engine
from microgpt.errors import UsageError
from microgpt.model import init_weights, parameter_shapes
from microgpt.optim import learning_rate
from microgpt.tokenizer import Tokenizer

TOL = 1e-9  # float64 engines add in other orders than scalar: they differ by ~1e-15
DOCS = ["emma", "olivia", "ava", "isabella", "mia", "x"]  # "isabella" is longer than block_size: truncated
TOK = Tokenizer.from_docs(DOCS)
CONFIG = GPTConfig(TOK.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=6)
WEIGHTS = init_weights(CONFIG, random.Random(0), std=0.3)  # above the default 0.08: far from linear
BATCHES = [[TOK.encode_doc(DOCS[(2 * s + i) % len(DOCS)]) for i in range(2)] for s in range(4)]  # ragged
OPTIMIZERS = {
    "adam": TrainConfig(steps=4, batch_size=2, weight_decay=0.1),  # decoupled weight decay on: AdamW
    "sgd": TrainConfig(steps=4, batch_size=2, optimizer="sgd", lr=0.5),
}


@pytest.fixture(params=engine_names())
def name(request):
    missing = [lib for lib in engine_class(request.param).REQUIRES if importlib.util.find_spec(lib) is None]
    if missing:
        why = f"engine {request.param!r} needs {', '.join(missing)}, which is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}, and CI=true requires every engine")
        pytest.skip(why)
    return request.param


@pytest.fixture(params=OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def tc(request):
    return request.param


def build(name, weights=WEIGHTS, tc=None):
    """float64 (and the CPU, so a run repeats bit for bit) where the engine has such options."""
    options = {k: v for k, v in {"dtype": "float64", "device": "cpu"}.items() if k in option_names(name)}
    return make_engine(name, CONFIG, weights, tc or OPTIMIZERS["adam"], **options)


def train(engine, steps):
    return [engine.train_step(BATCHES[s], learning_rate(engine.train_config, s)) for s in steps]


@functools.lru_cache(maxsize=None)
def oracle_after_four_steps(optimizer):
    engine = build("scalar", tc=OPTIMIZERS[optimizer])
    train(engine, range(4))
    return engine.weights(), engine.optimizer_state()


def json_round_trip(x):
    return json.loads(json.dumps(x))


def max_diff(a, b):
    """Largest absolute difference between two nests of dicts and lists of floats."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        return max((max_diff(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, list):
        assert len(a) == len(b)
        return max((max_diff(x, y) for x, y in zip(a, b)), default=0.0)
    return abs(a - b)


def assert_like_weights(named_rows):
    """{name: rows of floats} with every matrix of parameter_shapes, in its shape."""
    shapes = parameter_shapes(CONFIG)
    assert named_rows.keys() == shapes.keys()
    for key, (rows, cols) in shapes.items():
        assert len(named_rows[key]) == rows
        assert all(len(row) == cols and all(type(x) is float for x in row) for row in named_rows[key]), key


# ---- the contract itself


def test_is_an_engine_with_the_contracts_signatures(name):
    engine = build(name)
    assert isinstance(engine, Engine)
    assert engine.name == name
    assert engine.config == CONFIG and engine.train_config == OPTIMIZERS["adam"]
    for method in Engine.__abstractmethods__:
        want = list(inspect.signature(getattr(Engine, method)).parameters)
        assert list(inspect.signature(getattr(type(engine), method)).parameters) == want, method


# ---- training, gradients and scoring, against the scalar oracle


def test_train_step_returns_the_loss_and_moves_the_weights(name, tc):
    engine, oracle = build(name, tc=tc), build("scalar", tc=tc)
    loss = engine.train_step(BATCHES[0], 0.01)
    assert type(loss) is float and math.isfinite(loss)
    assert abs(loss - oracle.train_step(BATCHES[0], 0.01)) < TOL
    assert max_diff(engine.weights(), WEIGHTS) > 1e-4
    assert max_diff(engine.weights(), oracle.weights()) < TOL


def test_loss_and_grads_match_scalar_and_move_nothing(name):
    engine = build(name)
    train(engine, [0])  # so the optimizer has moments a careless loss_and_grads could disturb
    before, state = engine.weights(), engine.optimizer_state()
    loss, grads = engine.loss_and_grads(BATCHES[1])
    want_loss, want_grads = build("scalar", weights=before).loss_and_grads(BATCHES[1])
    assert type(loss) is float and abs(loss - want_loss) < TOL
    assert_like_weights(grads)
    assert max_diff(grads, want_grads) < TOL
    assert all(any(x != 0 for row in g for x in row) for g in grads.values())  # every matrix takes part
    assert engine.weights() == before and engine.optimizer_state() == state
    # and the next step is the one it would have been (no gradient left behind)
    twin = build(name, weights=before)
    twin.load_optimizer_state(state)
    assert engine.train_step(BATCHES[2], 0.01) == twin.train_step(BATCHES[2], 0.01)
    assert engine.weights() == twin.weights()


def test_nll_matches_scalar(name):
    total, count = build(name).nll(BATCHES[0] + BATCHES[1])
    want_total, want_count = build("scalar").nll(BATCHES[0] + BATCHES[1])
    assert type(total) is float and type(count) is int
    assert count == want_count == sum(min(CONFIG.block_size, len(t) - 1) for t in BATCHES[0] + BATCHES[1])
    assert abs(total - want_total) < TOL


# ---- the checkpoint's form: weights, optimizer state, resume


def test_weights_round_trip(name):
    engine = build(name)
    train(engine, [0])
    weights = engine.weights()
    assert_like_weights(weights)
    again = build(name, weights=json_round_trip(weights))
    assert again.weights() == weights
    tokens = BATCHES[0][1][: CONFIG.block_size]
    caches = engine.new_cache(), again.new_cache()
    for pos, token in enumerate(tokens):
        logits = engine.next_logits(token, pos, caches[0])
        assert len(logits) == CONFIG.vocab_size and all(type(x) is float for x in logits)
        assert again.next_logits(token, pos, caches[1]) == logits


def test_optimizer_state_round_trip_is_exact(name, tc):
    """Stop after two steps, save through JSON, load into a new engine: its next
    step is bit for bit the step of the engine that never stopped."""
    first = build(name, tc=tc)
    train(first, [0, 1])
    state = first.optimizer_state()
    assert state["t"] == 2 and json_round_trip(state) == state
    if tc.optimizer != "sgd":
        assert_like_weights(state["m"])
        assert_like_weights(state["v"])
    second = build(name, weights=json_round_trip(first.weights()), tc=tc)
    second.load_optimizer_state(json_round_trip(state))
    assert second.optimizer_state() == state
    assert train(second, [2]) == train(first, [2])
    assert second.weights() == first.weights()
    assert second.optimizer_state() == first.optimizer_state()


def test_resume_across_engines(name, tc):
    """Two steps in this engine, two more in scalar from its checkpoint, and the
    other way round: both end where four scalar steps do."""
    want_weights, want_state = oracle_after_four_steps(tc.optimizer)
    for a, b in ((name, "scalar"), ("scalar", name)):
        first = build(a, tc=tc)
        train(first, [0, 1])
        second = build(b, weights=json_round_trip(first.weights()), tc=tc)
        second.load_optimizer_state(json_round_trip(first.optimizer_state()))
        train(second, [2, 3])
        assert max_diff(second.weights(), want_weights) < TOL, (a, b)
        assert max_diff(second.optimizer_state(), want_state) < TOL, (a, b)  # t, and Adam's m and v


# ---- the registry: options and names


def test_declared_options_are_taken_and_others_refused(name):
    cls = engine_class(name)
    params = inspect.signature(cls.__init__).parameters
    assert list(params)[:4] == ["self", "config", "weights", "train_config"]
    assert tuple(list(params)[4:]) == option_names(name) == tuple(cls.OPTIONS)  # declared once, and all of them
    for option in option_names(name):
        assert name in engines_taking(option)
        make_engine(name, CONFIG, WEIGHTS, **{option: params[option].default})
    others = {o for n in engine_names() for o in option_names(n)} - set(option_names(name))
    for option in sorted(others) + ["no_such_option"]:
        assert name not in engines_taking(option)
        with pytest.raises(UsageError, match=f"engine {name!r} has no option {option!r}") as e:
            make_engine(name, CONFIG, WEIGHTS, **{option: None})
        assert "\n" not in str(e.value)


def test_unknown_engine_is_a_usage_error():
    message = f"unknown engine 'gpu9000'; choose one of: {', '.join(engine_names())}"
    for call in (lambda: make_engine("gpu9000", CONFIG, WEIGHTS), lambda: option_names("gpu9000")):
        with pytest.raises(UsageError) as e:
            call()
        assert str(e.value) == message


@pytest.mark.parametrize("engine", [n for n in engine_names() if engine_class(n).REQUIRES])
def test_a_missing_library_is_named(engine, monkeypatch):
    library = engine_class(engine).REQUIRES[0]
    monkeypatch.setitem(sys.modules, library, None)  # what `import library` meets when it is not installed
    with pytest.raises(UsageError) as e:
        make_engine(engine, CONFIG, WEIGHTS)
    assert str(e.value) == (f"engine {engine!r} needs {library}, which is not installed; "
                            f"install it with: pip install 'microgpt[{engine}]'")


def test_options_are_known_without_any_engines_library():
    """The CLI names the engine an option belongs to even where torch and numpy
    are not installed: the registry must read OPTIONS without importing them."""
    blocked = sorted({lib for n in engine_names() for lib in engine_class(n).REQUIRES})
    code = (f"import sys; sys.modules.update(dict.fromkeys({blocked!r}))\n"
            "from microgpt.engines import engine_names, engines_taking, option_names\n"
            "print(repr([(n, option_names(n)) for n in engine_names()]))\n"
            "print(repr(engines_taking('device')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.splitlines() == [repr([(n, option_names(n)) for n in engine_names()]), repr(engines_taking("device"))]
    assert engines_taking("device") == ["torch"] and engines_taking("dtype") == ["numpy", "torch"]


# ---- training dynamics (train --log-stats): what a step did to each matrix


def _norm(rows):
    return math.sqrt(math.fsum(x * x for row in rows for x in row))


def test_step_stats_are_the_steps_weights_gradient_and_update(name, tc):
    """Against an independent account of the same step: the weights read before and
    after it, and the gradient from loss_and_grads (another code path than the step's)."""
    engine = build(name, tc=tc)
    for s in range(3):
        lr_t = learning_rate(tc, s)
        before = engine.weights()
        _, grads = engine.loss_and_grads(BATCHES[s])
        _, stats = engine.train_step_with_stats(BATCHES[s], lr_t)
        after = engine.weights()
        assert stats.keys() == parameter_shapes(CONFIG).keys()
        for key, st in stats.items():
            update = [[a - b for a, b in zip(ra, rb)] for ra, rb in zip(after[key], before[key])]
            want = {"weight_norm": _norm(before[key]), "grad_norm": _norm(grads[key]),
                    "update_ratio": _norm(update) / _norm(before[key])}
            if tc.optimizer == "sgd":  # the whole update is lr * gradient
                assert math.isclose(st["update_ratio"], lr_t * st["grad_norm"] / st["weight_norm"], rel_tol=1e-9)
            for field, value in want.items():
                assert math.isclose(st[field], value, rel_tol=1e-9), (key, field, st[field], value)


def test_step_stats_agree_with_the_scalar_engine_and_change_nothing(name, tc):
    """Every float64 engine's stats are the scalar engine's to 1e-9; a step that
    measures moves the weights exactly as a plain step does."""
    engine, oracle, plain = build(name, tc=tc), build("scalar", tc=tc), build(name, tc=tc)
    for s in range(4):
        lr_t = learning_rate(tc, s)
        loss, stats = engine.train_step_with_stats(BATCHES[s], lr_t)
        want_loss, want = oracle.train_step_with_stats(BATCHES[s], lr_t)
        assert loss == plain.train_step(BATCHES[s], lr_t)
        assert math.isclose(loss, want_loss, rel_tol=TOL)
        for key in want:
            for field in want[key]:
                assert math.isclose(stats[key][field], want[key][field], rel_tol=TOL), (key, field)
    assert engine.weights() == plain.weights()
    assert engine.last_grads is None and not engine.keep_grads  # nothing kept between steps
