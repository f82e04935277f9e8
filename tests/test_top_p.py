"""Top-p (nucleus) sampling: the distribution checked against an independent
nucleus, the draws of the API, the command line and the explorer's view agreeing,
and every bad value refused in one line."""

import json
import math
import random

import pytest

import microgpt
from microgpt.cli import main
from microgpt.errors import UsageError
from microgpt.explore import views
from microgpt.explore.models import load_models
from microgpt.explore.server import Explorer
from microgpt.sample import next_token_probs


def oracle(logits, temperature, top_k, top_p):
    """The nucleus, computed another way: the softmax at the temperature, the top-k
    renormalised, then for ever larger m the m most likely tokens until their
    probabilities sum to at least p, renormalised."""
    m = max(logits)
    exps = [math.exp((x - m) / temperature) for x in logits]
    z = math.fsum(exps)
    probs = [e / z for e in exps]
    order = sorted(range(len(probs)), key=lambda i: (-probs[i], i))
    if top_k is not None:
        kept = math.fsum(probs[i] for i in order[:top_k])
        probs = [probs[i] / kept if i in order[:top_k] else 0.0 for i in range(len(probs))]
    for size in range(1, len(order) + 1):
        if math.fsum(probs[i] for i in order[:size]) >= top_p:
            break
    nucleus = set(order[:size])
    mass = math.fsum(probs[i] for i in nucleus)
    return [probs[i] / mass if i in nucleus else 0.0 for i in range(len(probs))]


def normalised(weights):
    total = math.fsum(weights)
    return [w / total for w in weights]


def test_a_hand_made_nucleus():
    logits = [math.log(p) for p in (0.15, 0.5, 0.05, 0.3)]  # softmax gives back these probabilities

    def kept(p):
        return [i for i, w in enumerate(next_token_probs(logits, 1.0, None, p)) if w > 0]

    assert kept(0.4) == [1]  # 0.5 alone reaches 0.4
    assert kept(0.7) == [1, 3]  # 0.5 + 0.3
    assert kept(0.9) == [0, 1, 3]  # + 0.15
    assert kept(0.99) == kept(1.0) == [0, 1, 2, 3]
    assert kept(0.7) == [i for i, w in enumerate(oracle(logits, 1.0, None, 0.7)) if w > 0]
    # after top-k 2 the nucleus is taken of the renormalised pair: 0.5/0.8 = 0.625
    assert [i for i, w in enumerate(next_token_probs(logits, 1.0, 2, 0.6)) if w > 0] == [1]
    assert [i for i, w in enumerate(next_token_probs(logits, 1.0, 2, 0.65)) if w > 0] == [1, 3]


def test_the_nucleus_is_the_oracles_on_random_distributions():
    rng = random.Random(3)
    for _ in range(500):
        n = rng.randint(2, 30)
        logits = [rng.gauss(0, 3) for _ in range(n)]
        t = rng.choice([0.3, 0.5, 1.0, 2.0])
        k = rng.choice([None, rng.randint(1, n)])
        p = rng.uniform(0.01, 1.0)
        got = normalised(next_token_probs(logits, t, k, p))
        want = oracle(logits, t, k, p)
        assert [g > 0 for g in got] == [w > 0 for w in want], (logits, t, k, p)
        assert all(abs(g - w) < 1e-12 for g, w in zip(got, want))


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    d = tmp_path_factory.mktemp("top_p")
    run = microgpt.train(steps=30, seed=2, n_embd=8, n_head=2)
    return run.save(d / "m.json")


def test_api_and_command_line_draw_the_same_names(model_path, capsys):
    model = microgpt.load(model_path)
    names = model.sample(6, seed=7, top_p=0.9)
    assert main(["sample", str(model_path), "-n", "6", "--seed", "7", "--top-p", "0.9"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ", 1)[1].split("  (")[0] for line in lines] == names
    assert names != model.sample(6, seed=7)  # the nucleus changes the draws of this model
    # p = 1 keeps every token: the same draws as no top-p; a tiny p keeps the most likely: greedy
    assert model.sample(6, seed=7, top_p=1.0) == model.sample(6, seed=7)
    assert model.sample(3, seed=7, top_p=1e-9) == model.sample(3, seed=7, temperature=0)


def test_the_explorers_draw_is_the_apis(model_path):
    explorer = Explorer(load_models([str(model_path)]), [])
    status, _, body = explorer.answer("/api/sample?seed=7&temperature=0.5&top_k=5&top_p=0.8")
    assert status == 200, body
    s = json.loads(body)
    assert s["text"] == microgpt.load(model_path).sample(1, seed=7, top_k=5, top_p=0.8)[0]
    assert s["top_p"] == 0.8
    drawn = [st for st in s["steps"] if not st["forced"]]
    assert all(0 < sum(p > 0 for p in st["probs"]) <= 5 for st in drawn)
    for bad in ("0", "1.5", "-1", "nan", "abc"):
        status, _, body = explorer.answer(f"/api/sample?seed=7&top_p={bad}")
        assert status == 400 and json.loads(body)["error"].count("top") == 1, body


@pytest.mark.parametrize("bad", [0, 0.0, -0.5, 1.0001, 2, float("nan"), float("inf"), "0.9", True, [0.9]])
def test_bad_top_p_is_a_usage_error_in_the_api(model_path, bad):
    model = microgpt.load(model_path)
    with pytest.raises(UsageError, match="top-p") as e:
        model.sample(1, top_p=bad)
    assert "\n" not in str(e.value)
    with pytest.raises(UsageError, match="top-p"):
        views.sample_steps(load_models([str(model_path)])[0], 7, 0.5, None, "", bad)


@pytest.mark.parametrize("bad", ["0", "-0.1", "1.5", "nan", "inf", "abc", ""])
def test_bad_top_p_is_one_line_in_the_command_line(model_path, capsys, bad):
    try:
        code = main(["sample", str(model_path), "--top-p", bad])
    except SystemExit as e:  # argparse refuses what is not a finite number, as the command does
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "top-p" in err and "Traceback" not in err, err
