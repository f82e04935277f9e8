"""The state a resume goes on from, checked by schema at load.

A hand-edited optimizer or RNG state used to crash --resume, or to train on
nonsense and call it divergence ("try a lower --lr" for a missing Adam v).
Now each is named in one line; the checkpoint cannot be resumed, but its
weights still sample, score and evaluate. Weights themselves must be finite
floats: a JSON integer too large for a float names its matrix.
"""

import copy
import json

import pytest

from microgpt.cli import main
from microgpt.errors import MicroGPTError
from microgpt.files import checkpoint

DOCS = "\n".join(["ab", "ba", "aab", "bba", "abab", "baba", "aa", "bb", "aba", "bab", "abba", "baab"] * 3)


def train(tmp_path, name, *extra):
    (tmp_path / "docs.txt").write_text(DOCS)
    out = tmp_path / name
    assert main(["train", "--data", str(tmp_path / "docs.txt"), "--steps", "2", "--n-embd", "8", "--n-head", "2",
                 "--block-size", "8", "--out", str(out), "--samples", "0", *extra]) == 0
    return out


@pytest.fixture(scope="module")
def adam(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("state")
    return json.loads(train(tmp, "adam.json").read_text())


@pytest.fixture(scope="module")
def sgd(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sgd")
    return json.loads(train(tmp, "sgd.json", "--optimizer", "sgd").read_text())


def edited(d, edit):
    d = copy.deepcopy(d)
    edit(d)
    return d


def setitem(path, value):
    def edit(d):
        *head, last = path
        for k in head:
            d = d[k]
        d[last] = value
    return edit


def delete(path):
    def edit(d):
        *head, last = path
        for k in head:
            d = d[k]
        del d[last]
    return edit


ADAM_CASES = [
    ("v-missing", delete(["optimizer", "v"]), "optimizer.v is missing: the run used Adam"),
    ("m-and-v-missing", lambda d: d["optimizer"].pop("m") and d["optimizer"].pop("v"),
     "optimizer.m and optimizer.v are missing"),
    ("v-negative", setitem(["optimizer", "v", "wte", 0, 1], -0.5), "optimizer.v 'wte' holds -0.5 at [0][1]"),
    ("m-string", setitem(["optimizer", "m", "wpe", 2, 1], "0.1"), "optimizer.m 'wpe' holds a non-number"),
    ("m-nan", setitem(["optimizer", "m", "lm_head", 0, 0], float("nan")), "optimizer.m 'lm_head' holds nan"),
    ("v-shape", setitem(["optimizer", "v", "wte"], [[0.0]]), "optimizer.v 'wte' should have"),
    ("v-huge-int", setitem(["optimizer", "v", "wte", 0, 0], 10**400), "integer of 401 digits"),
    ("t-string", setitem(["optimizer", "t"], "3"), "optimizer.t must be an integer"),
    ("t-negative", setitem(["optimizer", "t"], -1), "optimizer.t must be an integer in [0, 2**53], got -1"),
    ("t-bool", setitem(["optimizer", "t"], True), "optimizer.t must be an integer"),
    ("t-huge", setitem(["optimizer", "t"], 10**30), "optimizer.t must be an integer"),
    ("optimizer-list", setitem(["optimizer"], [1, 2]), "optimizer state must be an object"),
    ("rng-version", setitem(["rng_state", "version"], 2), "rng_state.version must be 3"),
    ("rng-short", lambda d: d["rng_state"]["state"].pop(), "rng_state.state must be a list of 625 integers"),
    ("rng-word", setitem(["rng_state", "state", 5], 2**32), "rng_state.state[5] must be an integer in [0, 2**32)"),
    ("rng-negative", setitem(["rng_state", "state", 0], -1), "rng_state.state[0]"),
    ("rng-float", setitem(["rng_state", "state", 7], 1.5), "rng_state.state[7]"),
    ("rng-position", setitem(["rng_state", "state", 624], 700), "the position in the state"),
    ("rng-gauss", setitem(["rng_state", "gauss_next"], "x"), "rng_state.gauss_next must be null or a finite"),
    ("rng-gauss-inf", setitem(["rng_state", "gauss_next"], float("inf")), "rng_state.gauss_next"),
    ("rng-keys", delete(["rng_state", "gauss_next"]), "rng_state must be an object with"),
    ("rng-not-object", setitem(["rng_state"], "abc"), "rng_state must be an object"),
]


@pytest.mark.parametrize("name, edit, needle", ADAM_CASES, ids=[c[0] for c in ADAM_CASES])
def test_bad_state_is_named_and_stops_only_resume(adam, tmp_path, capsys, name, edit, needle):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(edited(adam, edit)))
    ck = checkpoint.load(path)  # loads: the weights are fine
    assert needle in ck.why_not_resumable()
    with pytest.raises(MicroGPTError, match="it cannot be resumed"):
        ck.check_resumable()
    assert main(["train", "--resume", str(path), "--steps", "4", "--samples", "0"]) == 1
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert "diverged" not in err and "lower --lr" not in err
    assert main(["sample", str(path), "-n", "2"]) == 0  # sampling still works
    capsys.readouterr()
    assert main(["info", str(path)]) == 0
    resumable = [line for line in capsys.readouterr().out.splitlines() if line.startswith("resumable:")]
    assert resumable[0].startswith("resumable: no (") and needle in resumable[0]


def test_a_good_checkpoint_is_resumable(adam, sgd, tmp_path):
    for d in (adam, sgd):
        path = tmp_path / "good.json"
        path.write_text(json.dumps(d))
        ck = checkpoint.load(path)
        assert ck.why_not_resumable() is None
        ck.check_resumable()
    assert checkpoint.load(path).optimizer == {"t": 2}


def test_sgd_keeps_no_moments(sgd, adam, tmp_path):
    d = copy.deepcopy(sgd)
    d["optimizer"]["m"] = adam["optimizer"]["m"]
    path = tmp_path / "sgd_m.json"
    path.write_text(json.dumps(d))
    assert "optimizer.m is there, but the run used SGD" in checkpoint.load(path).why_not_resumable()


def test_a_resume_of_sgd_state_into_an_adam_run_is_named(adam, tmp_path):
    d = copy.deepcopy(adam)
    d["optimizer"] = {"t": 2}
    path = tmp_path / "adam_without_moments.json"
    path.write_text(json.dumps(d))
    assert "optimizer.m and optimizer.v are missing" in checkpoint.load(path).why_not_resumable()


def test_what_loads_is_what_an_engine_can_take(adam, tmp_path):
    """Values come back as floats of the weights' shapes, gauss_next as a float or None."""
    d = copy.deepcopy(adam)
    d["optimizer"]["m"]["wte"][0][0] = 1  # a JSON integer is a number all the same
    d["rng_state"]["gauss_next"] = 1
    path = tmp_path / "ints.json"
    path.write_text(json.dumps(d))
    ck = checkpoint.load(path)
    assert ck.why_not_resumable() is None
    assert ck.optimizer["m"]["wte"][0][0] == 1.0 and isinstance(ck.optimizer["m"]["wte"][0][0], float)
    assert ck.rng_state["gauss_next"] == 1.0


def test_the_old_message_for_a_checkpoint_without_state(adam, tmp_path, capsys):
    d = copy.deepcopy(adam)
    del d["optimizer"], d["rng_state"]
    path = tmp_path / "noopt.json"
    path.write_text(json.dumps(d))
    assert main(["train", "--resume", str(path)]) == 1
    assert "no optimizer or RNG state (saved by an older version?); cannot resume" in capsys.readouterr().err
    assert checkpoint.load(path).why_not_resumable() == "no optimizer state"


def test_a_bad_state_in_a_safetensors_checkpoint(adam, tmp_path):
    pytest.importorskip("safetensors")
    d = edited(adam, setitem(["optimizer", "v", "wte", 0, 1], -0.5))
    (tmp_path / "a.json").write_text(json.dumps(adam))
    ck = checkpoint.load(tmp_path / "a.json")
    ck.optimizer = {"t": 2, "m": d["optimizer"]["m"], "v": d["optimizer"]["v"]}
    ck.save(tmp_path / "a.safetensors")
    assert "optimizer.v 'wte' holds -0.5" in checkpoint.load(tmp_path / "a.safetensors").why_not_resumable()


@pytest.mark.parametrize("value, needle", [
    (10**400, "weight 'wte' holds an integer of 401 digits, too large for a float"),
    (-(10**400), "weight 'wte' holds an integer of 401 digits"),
    (10**300, None),  # large, but a float: loads
])
def test_a_huge_json_integer_weight(adam, tmp_path, capsys, value, needle):
    d = copy.deepcopy(adam)
    d["weights"]["wte"][0][0] = value
    path = tmp_path / "w.json"
    path.write_text(json.dumps(d))
    if needle is None:
        assert checkpoint.load(path).weights["wte"][0][0] == 1e300
        return
    assert main(["sample", str(path)]) == 1
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
