"""The ladder checks the lecture's claims against its numbers, and says when one fails.

The claim logic is tested on made-up results (each number chosen so one
comparison flips); the runner is tested with stand-in rungs that return such
results at once, so the printing, the steps column and --json are checked in
milliseconds. Real runs: the --class preset (slow) and one pooled rung.
"""
import json
import math
import types
from pathlib import Path

import pytest

import microgpt.ladder as ladder
from microgpt.ladder import claims, train0

NAMES = Path(__file__).resolve().parents[2] / "shared" / "data" / "names.txt"


def fake(rung, val, steps=600, params=4192, losses=None):
    result = {"rung": rung, "idea": f"idea{rung}", "params": params, "steps": steps, "val_loss": val,
              "val_ppl": math.exp(val), "seconds": 0.0, "losses": losses or [3.0, 2.9], "train_loss": val}
    if rung == 1:
        result["grad_check"] = {"max_abs_diff": 7e-11, "loss": 3.3, "doc": "x"}
    return result


def story(**changes):
    """Six results for which every claim holds; keyword rK=val changes rung K's val loss."""
    vals = {0: 2.46, 1: 2.49, 2: 2.49, 3: 2.42, 4: 2.41, 5: 2.40}
    vals.update({int(k[1]): v for k, v in changes.items()})
    steps = {0: 31033, 1: 4000, 2: 4000, 3: 600, 4: 600, 5: 600}
    return [fake(k, vals[k], steps[k], params=2912 if k in (1, 2) else 4192) for k in range(6)]


def verdict(verdicts, key):
    (v,) = [v for v in verdicts if v["key"] == key]
    return v


def test_every_claim_holds_on_a_story_that_tells_it():
    verdicts = claims.check(story())
    assert len(verdicts) == 9
    assert all(v["holds"] is True for v in verdicts), [claims.format_verdict(v) for v in verdicts]


@pytest.mark.parametrize("change, key", [
    ({"r5": 2.42}, "adam_beats_sgd"),              # Adam above SGD
    ({"r4": 2.43}, "multihead_helps"),             # four heads above one
    ({"r3": 2.47}, "attention_beats_bigram"),      # attention above the counts
    ({"r1": 2.445, "r2": 2.445, "r3": 2.45}, "attention_beats_mlp"),  # attention above the MLP, below the counts
    ({"r1": 2.60, "r2": 2.60}, "mlp_near_bigram"),  # MLP undertrained: 0.14 nats above the counts
    ({"r1": 2.43, "r2": 2.43}, "mlp_not_below_bigram"),  # MLP 0.03 below the counts: more than noise
])
def test_one_changed_number_fails_exactly_its_claim(change, key):
    verdicts = claims.check(story(**change))
    failed = [v["key"] for v in verdicts if v["holds"] is False]
    assert failed == [key]


def test_a_failing_claim_names_its_steps_and_numbers():
    v = verdict(claims.check(story(r5=2.42)), "adam_beats_sgd")
    assert claims.format_verdict(v) == ("claim: Adam beats SGD in the same number of steps — does not hold at "
                                        "600 steps (train5 2.4200 vs train4 2.4100, 0.0100 apart)")


def test_rungs_at_different_steps_name_both():
    v = verdict(claims.check(story()), "attention_beats_bigram")
    assert "train3 2.4200 after 600 steps vs train0 2.4600 after 31,033 names counted" in claims.format_verdict(v)


def test_same_steps_claims_are_not_checked_across_different_steps():
    results = story()
    results[5]["steps"] = 700
    v = verdict(claims.check(results), "adam_beats_sgd")
    assert v["holds"] is None and "not checked" in claims.format_verdict(v)


def test_autograd_claim_uses_train1_at_train2s_steps():
    results = story()
    results[2]["steps"] = 100
    results[2]["losses"] = [3.3, 3.2]
    v = verdict(claims.check(results), "autograd_same")
    assert v["holds"] is None  # no twin: train1 ran 4000 steps, train2 100
    twin = fake(1, 2.49, steps=100, losses=[3.3, 3.2 + 1e-15])
    assert verdict(claims.check(results, twin=twin), "autograd_same")["holds"] is True
    twin["losses"] = [3.3, 3.21]
    assert verdict(claims.check(results, twin=twin), "autograd_same")["holds"] is False


def test_wrong_gradients_and_missing_rungs():
    results = story()
    results[1]["grad_check"]["max_abs_diff"] = 1e-4
    assert verdict(claims.check(results), "grad_check")["holds"] is False
    partial = claims.check([fake(3, 2.4), fake(4, 2.3)])
    assert verdict(partial, "multihead_helps")["holds"] is True
    assert verdict(partial, "adam_beats_sgd")["holds"] is None
    assert claims.summary(partial) == "claims: 2 hold, 0 do not hold, 7 not checked (7 need rungs that were not run)"
    assert claims.unrun(verdict(partial, "adam_beats_sgd"))


@pytest.fixture
def stand_ins(monkeypatch):
    """Rungs that return story() results at once, recording the steps they were asked for."""
    asked = []

    def module(rung):
        def run(steps, seed, data, log, log_every):
            asked.append((rung, steps))
            result = story(r5=2.43)[rung]
            return dict(result, steps=31033 if steps is None else steps)
        return types.SimpleNamespace(IDEA=f"idea{rung}", DEFAULT_STEPS=1000, run=run,
                                     load_docs=lambda data: ["a"] * 10)
    monkeypatch.setattr(ladder, "load", module)
    return asked


def test_runner_prints_steps_and_every_verdict(stand_ins, tmp_path, capsys):
    data = tmp_path / "d.txt"
    data.write_text("a\n" * 10)
    out = tmp_path / "ladder.json"
    assert ladder.main(["--class", "--jobs", "1", "--data", str(data), "--json", str(out)]) == 0
    assert sorted(stand_ins) == sorted([(k, ladder.CLASS_STEPS[k]) for k in range(6)] + [(1, ladder.CLASS_STEPS[2])])
    printed = capsys.readouterr().out
    header, _, *rows = printed.splitlines()[:8]
    assert header.split()[4] == "steps"  # after "rung", "new idea", "params"
    assert [row.split()[3] for row in rows] == ["31033"] + [str(ladder.CLASS_STEPS[k]) for k in range(1, 6)]
    steps = ladder.CLASS_STEPS[5]
    assert (f"claim: Adam beats SGD in the same number of steps — does not hold at {steps} steps "
            "(train5 2.4300 vs train4 2.4100, 0.0200 apart)") in printed
    assert "claims: 8 hold, 1 do not hold" in printed
    saved = json.loads(out.read_text())
    assert saved["preset"] == "class" and saved["steps_by_rung"]["train1"] == ladder.CLASS_STEPS[1]
    assert verdict(saved["claims"], "adam_beats_sgd")["holds"] is False
    assert saved["train1_at_train2_steps"]["steps"] == ladder.CLASS_STEPS[2]


def test_class_and_steps_together_is_a_usage_error(capsys):
    assert ladder.main(["--class", "--steps", "5"]) == 2
    assert ladder.main(["--jobs", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "drop --steps" in err and "--jobs must be at least 1" in err


def subset(tmp_path):
    if not NAMES.exists():
        pytest.skip(f"{NAMES} is missing")
    path = tmp_path / "names_subset.txt"
    path.write_text("\n".join(NAMES.read_text(encoding="utf-8").splitlines()[::32]) + "\n", encoding="utf-8")
    return str(path)


def test_pooled_rung_equals_the_rung_run_here(tmp_path):
    data = subset(tmp_path)
    out = tmp_path / "r.json"
    assert ladder.main(["0", "--steps", "200", "--jobs", "2", "--data", data, "--json", str(out)]) == 0
    pooled = json.loads(out.read_text())["results"][0]
    here = train0.run(steps=200, data=data, log=None)
    assert pooled["val_loss"] == here["val_loss"] and pooled["samples"] == here["samples"]


@pytest.mark.slow
def test_class_preset_tells_the_story(tmp_path):
    """The full preset on the names: every claim gets a verdict, and each rung ran its preset steps."""
    if not NAMES.exists():
        pytest.skip(f"{NAMES} is missing")
    out = tmp_path / "class.json"
    assert ladder.main(["--class", "--data", str(NAMES), "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    n_train = len(train0.split([line for line in NAMES.read_text().splitlines() if line.strip()])[0])
    assert saved["steps_by_rung"] == {f"train{k}": n_train if k == 0 else ladder.CLASS_STEPS[k] for k in range(6)}
    assert all(v["holds"] is not None for v in saved["claims"])
    holds = {v["key"]: v["holds"] for v in saved["claims"]}
    for key in ladder.CLASS_HOLDS:
        assert holds[key], key
