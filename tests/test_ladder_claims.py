"""The ladder checks the lecture's claims against its numbers, and says when one fails.

The claim logic is tested on made-up results (each number chosen so one
comparison flips); the runner is tested with stand-in rungs that return such
results at once, so the printing, the steps column and --json are checked in
milliseconds; margin, spread and the within-the-noise verdict on made-up
per-seed numbers. Real runs: the --class preset (slow), its plumbing at tiny
sizes (three seeds, 5 steps, 10 validation names) and one pooled rung.
"""
import json
import math
import types
from pathlib import Path

import pytest

import microgpt.ladder as ladder
from microgpt.ladder import claims, train0, train5

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
    steps = {0: 31033, 1: 600, 2: 600, 3: 600, 4: 600, 5: 600}
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
                                        "600 steps, one seed (train5 2.4200 vs train4 2.4100, 0.0100 apart)")
    assert v["margin"] == pytest.approx(-0.01) and v["spread"] is None


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


@pytest.mark.parametrize("margins, holds", [
    ([0.030, 0.031, 0.029], True),     # mean 0.030, range 0.002: far beyond twice the range
    ([-0.030, -0.031, -0.029], False),  # reversed as far
    ([0.006, -0.002, 0.011], None),    # mean 0.005, range 0.013: within the noise
    ([0.010, 0.012, 0.011, 0.009], True),  # four seeds: mean 0.0105 > 2 x 0.003
    ([0.010, 0.020, 0.015], None),     # mean 0.015 < 2 x 0.010: every seed agrees, but the mean is not clear of it
    ([0.004, 0.006, 0.005], True),     # mean 0.005 > 2 x 0.002
])
def test_judge_margin_against_spread(margins, holds):
    margin, spread, verdict_ = claims.judge(margins)
    assert margin == pytest.approx(sum(margins) / len(margins))
    assert spread == pytest.approx(max(margins) - min(margins))
    assert verdict_ is holds


def test_judge_needs_the_margin_to_exceed_twice_the_spread():
    assert claims.judge([0.01, 0.02, 0.03])[2] is None  # margin 0.02 is exactly 2 x spread 0.01: not beyond it
    assert claims.judge([0.0, 0.0, 0.0])[2] is None  # no difference at all is not a win for either side


def seeded(seed, **changes):
    """story() at one seed, with rK=val changes."""
    return {res["rung"]: dict(res, seed=seed) for res in story(**changes)}


def test_repeats_turn_a_comparison_into_margin_and_spread():
    # Adam below SGD by 0.010, 0.002 and 0.015 at three seeds: mean 0.009, range 0.013 -> within the noise
    repeats = [seeded(42, r5=2.400), seeded(43, r5=2.408), seeded(44, r5=2.395)]
    v = verdict(claims.check(story(), repeats=repeats), "adam_beats_sgd")
    assert v["holds"] is None and claims.within_noise(v) and not claims.unrun(v)
    assert v["margin"] == pytest.approx(0.009) and v["spread"] == pytest.approx(0.013)
    assert [p["seed"] for p in v["per_seed"]] == [42, 43, 44]
    assert claims.format_verdict(v) == (
        "claim: Adam beats SGD in the same number of steps — within the noise at 600 steps: margin 0.0090, spread "
        "0.0130 (seeds 42, 43, 44: mean train5 2.4010 vs train4 2.4100, per-seed margins +0.0100, +0.0020, +0.0150)")
    # the same mean with seeds that agree: 0.009, 0.008, 0.010 -> range 0.002, holds
    repeats = [seeded(42, r5=2.401), seeded(43, r5=2.402), seeded(44, r5=2.400)]
    assert verdict(claims.check(story(), repeats=repeats), "adam_beats_sgd")["holds"] is True
    # Adam above SGD at every seed by about as much -> does not hold
    repeats = [seeded(42, r5=2.419), seeded(43, r5=2.418), seeded(44, r5=2.420)]
    assert verdict(claims.check(story(), repeats=repeats), "adam_beats_sgd")["holds"] is False
    summary = claims.summary(claims.check(story(), repeats=[seeded(42, r5=2.4), seeded(43, r5=2.408),
                                                            seeded(44, r5=2.395)]))
    assert summary == "claims: 8 hold, 0 do not hold, 1 within the noise"


def test_thresholds_enter_the_per_seed_margin():
    # "approaches the floor": train1 within 0.1 of train0; at 0.085 above it the margin is 0.015
    repeats = [seeded(42, r1=2.545), seeded(43, r1=2.540), seeded(44, r1=2.550)]
    v = verdict(claims.check(story(), repeats=repeats), "mlp_near_bigram")
    assert [p["margin"] for p in v["per_seed"]] == pytest.approx([0.015, 0.02, 0.01])
    assert v["holds"] is None  # mean 0.015, range 0.010


def test_repeats_at_unequal_steps_or_too_few_seeds():
    repeats = [seeded(s) for s in (42, 43, 44)]
    repeats[1][5] = dict(repeats[1][5], steps=700)
    v = verdict(claims.check(story(), repeats=repeats), "adam_beats_sgd")
    assert v["holds"] is None and "the claim is about the same steps" in v["detail"] and not claims.within_noise(v)
    two = [seeded(42), seeded(43)]  # fewer than MIN_SEEDS: the table's own seed, said to be one seed
    v = verdict(claims.check(story(), repeats=two), "adam_beats_sgd")
    assert v["spread"] is None and ", one seed" in claims.format_verdict(v)


def test_val_names_scores_the_first_held_out_names(tmp_path):
    data = subset(tmp_path)
    everything = train0.run(data=data, log=None)
    assert train0.run(data=data, log=None, val_names=100)["val_loss"] == everything["val_loss"]  # 100 held out
    first_ten = train0.run(data=data, log=None, val_names=10)
    assert first_ten["val_loss"] != everything["val_loss"]
    assert first_ten["train_loss"] == everything["train_loss"]  # the split, and so the counts, are unchanged


@pytest.fixture
def stand_ins(monkeypatch):
    """Rungs that return story() results at once, recording the steps they were asked for."""
    asked = []

    def module(rung):
        def run(steps, seed, data, log, log_every, val_names, **options):
            asked.append((rung, steps, seed, val_names, options))
            result = story(r5=2.43)[rung]
            return dict(result, steps=31033 if steps is None else steps, seed=seed)
        return types.SimpleNamespace(IDEA=f"idea{rung}", DEFAULT_STEPS=1000, run=run,
                                     load_docs=lambda data: ["a"] * 10)
    monkeypatch.setattr(ladder, "load", module)
    return asked


def test_runner_prints_steps_and_every_verdict(stand_ins, tmp_path, capsys):
    data = tmp_path / "d.txt"
    data.write_text("a\n" * 10)
    out = tmp_path / "ladder.json"
    assert ladder.main(["--class", "--jobs", "1", "--data", str(data), "--json", str(out)]) == 0
    seeds = [42 + i for i in range(ladder.CLASS_SEEDS)]
    steps, val_names = ladder.CLASS_STEPS, ladder.CLASS_VAL_NAMES
    unchecked = {"check_gradients": False}  # train1's reruns skip the gradient check: only the train1 run's is read
    asked = sorted(stand_ins, key=repr)
    assert asked == sorted([(k, steps[k], 42, val_names, {}) for k in range(6)] + [(1, steps[2], 42, val_names, unchecked)]
                           + [(k, steps[k], s, val_names, {}) for s in seeds[1:] for k in ladder.REPEATED]
                           + [(1, steps[3], s, val_names, unchecked) for s in seeds], key=repr)
    printed = capsys.readouterr().out
    header, _, *rows = printed.splitlines()[:8]
    assert header.split()[4] == "steps"  # after "rung", "new idea", "params"
    assert [row.split()[3] for row in rows] == ["31033"] + [str(ladder.CLASS_STEPS[k]) for k in range(1, 6)]
    # every seed's stand-in results are the same: spread 0, so any nonzero margin decides
    assert (f"claim: Adam beats SGD in the same number of steps — does not hold at {steps[5]} steps: margin -0.0200, "
            "spread 0.0000 (seeds 42, 43, 44: mean train5 2.4300 vs train4 2.4100, per-seed margins -0.0200, "
            "-0.0200, -0.0200)") in printed
    assert "claims: 8 hold, 1 do not hold" in printed
    saved = json.loads(out.read_text())
    assert saved["preset"] == "class" and saved["steps_by_rung"]["train1"] == ladder.CLASS_STEPS[1]
    assert saved["seeds"] == seeds and saved["val_names"] == val_names and "range" in saved["spread_is"]
    adam = verdict(saved["claims"], "adam_beats_sgd")
    assert adam["holds"] is False and adam["spread"] == 0 and [p["seed"] for p in adam["per_seed"]] == seeds
    mlp = verdict(saved["claims"], "attention_beats_mlp")  # train1 at train3's steps stands in for train2
    assert mlp["steps"] == steps[3] and f"train1's at {steps[3]} steps" in mlp["detail"]
    assert verdict(saved["claims"], "mlp_near_bigram")["spread"] is None  # train1@4000 runs at one seed
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
    """The full preset on the names: every claim gets a verdict, and each rung ran its preset steps
    (measured: six claims hold, three are within the noise; docs/ladder.md, "Class runs")."""
    if not NAMES.exists():
        pytest.skip(f"{NAMES} is missing")
    out = tmp_path / "class.json"
    assert ladder.main(["--class", "--data", str(NAMES), "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    n_train = len(train0.split([line for line in NAMES.read_text().splitlines() if line.strip()])[0])
    assert saved["steps_by_rung"] == {f"train{k}": n_train if k == 0 else ladder.CLASS_STEPS[k] for k in range(6)}
    assert not any(v["holds"] is None and not claims.within_noise(v) for v in saved["claims"])  # all checked
    holds = {v["key"]: v["holds"] for v in saved["claims"]}
    for key in ladder.CLASS_HOLDS:
        assert holds[key] is True, key
    for key in ladder.CLASS_WITHIN_NOISE:
        v = verdict(saved["claims"], key)
        assert claims.within_noise(v) and [p["seed"] for p in v["per_seed"]] == [42, 43, 44], key


def test_class_like_run_at_tiny_sizes_measures_over_seeds(tmp_path, monkeypatch):
    """The --class plumbing on real rungs, at 5 steps and 10 validation names: three seeds side by side."""
    data = subset(tmp_path)
    monkeypatch.setattr(ladder, "CLASS_STEPS", {0: None, 1: 20, 2: 5, 3: 5, 4: 5, 5: 5})
    monkeypatch.setattr(ladder, "CLASS_VAL_NAMES", 10)
    out = tmp_path / "class.json"
    assert ladder.main(["0", "3", "4", "5", "--class", "--data", data, "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["seeds"] == [42, 43, 44] and saved["val_names"] == 10
    for key in ("attention_beats_bigram", "multihead_helps", "adam_beats_sgd"):
        v = verdict(saved["claims"], key)
        assert [p["seed"] for p in v["per_seed"]] == [42, 43, 44], key
        margins = [p["margin"] for p in v["per_seed"]]
        assert v["margin"] == pytest.approx(sum(margins) / 3) and v["spread"] == pytest.approx(max(margins) - min(margins))
        expected = True if v["margin"] > 2 * v["spread"] else False if v["margin"] < -2 * v["spread"] else None
        assert v["holds"] is expected, key
    # oracle: seed 43's train5 run again here, alone
    again = train5.run(steps=5, seed=43, data=data, log=None, val_names=10)["val_loss"]
    assert verdict(saved["claims"], "adam_beats_sgd")["per_seed"][1]["train5"] == again
    assert saved["results"][3]["seed"] == 42  # the table is the --seed run
