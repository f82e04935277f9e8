"""`microgpt diff` and inspection/differences.py: logs written by hand with a known first
difference, real runs whose divergence step is known from how training works,
and checkpoints whose weight differences are recomputed from their JSON."""

import json
import math
import shutil

import pytest

import microgpt
from microgpt.cli import main
from microgpt.errors import MicroGPTError, UsageError
from microgpt.inspection.differences import diff_models, diff_runs


def write_log(path, losses, val=None):
    """A --log file: {"step", "loss"} per step, {"step", "val_loss"} where `val` says."""
    lines = [json.dumps({"step": i + 1, "loss": x, "lr": 0.01}) for i, x in enumerate(losses)]
    for step, v in (val or {}).items():
        lines.insert(step, json.dumps({"step": step, "val_loss": v}))  # after that step's record
    path.write_text("\n".join(lines) + "\n")
    return path


LOSSES = [3.3 - 0.05 * i for i in range(10)]


def test_hand_written_logs_first_differ_at_step_7(tmp_path, capsys):
    b_losses = LOSSES[:6] + [x + 0.25 for x in LOSSES[6:]]
    b_losses[8] += 0.25  # the largest difference, 0.5, at step 9
    a = write_log(tmp_path / "a.jsonl", LOSSES, {5: 2.9, 10: 2.8})
    b = write_log(tmp_path / "b.jsonl", b_losses, {5: 2.9, 10: 2.7})
    d = diff_runs(a, b)
    assert (d.loss.first.step, d.loss.first.a, d.loss.first.b) == (7, LOSSES[6], b_losses[6])
    assert d.loss.largest.step == 9 and d.loss.largest.delta == pytest.approx(0.5)
    assert d.loss.compared == 10 and (d.loss.final_a.loss, d.loss.final_b.loss) == (LOSSES[-1], b_losses[-1])
    assert d.val.first.step == 10 and d.val.compared == 2 and not d.same
    assert main(["diff", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "loss: first differs at step 7" in out and "val loss: first differs at step 10" in out
    assert main(["diff", str(a), str(b), "--tol", "0.6"]) == 0  # every difference is at most 0.5
    assert "same: the runs agree within 0.6" in capsys.readouterr().out
    assert main(["diff", str(a), str(b), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["loss"]["first"]["step"] == 7


def test_identical_logs_are_the_same_and_a_shorter_run_is_not(tmp_path, capsys):
    a = write_log(tmp_path / "a.jsonl", LOSSES)
    assert main(["diff", str(a), str(shutil.copy(a, tmp_path / "b.jsonl"))]) == 0
    assert "all 10 steps both runs hold agree exactly" in capsys.readouterr().out
    short = write_log(tmp_path / "short.jsonl", LOSSES[:8])
    d = diff_runs(a, short)
    assert d.loss.first is None and d.loss.only_a == [9, 10] and not d.same
    assert main(["diff", str(a), str(short)]) == 1
    assert "loss: 2 steps only in A (steps 9..10)" in capsys.readouterr().out


def test_a_diverged_step_agrees_with_itself_not_with_a_number(tmp_path):
    nan_losses = LOSSES[:2] + [math.nan] + LOSSES[3:]
    a = tmp_path / "a.jsonl"
    a.write_text("\n".join(json.dumps({"step": i + 1, "loss": x}) for i, x in enumerate(nan_losses)) + "\n")
    assert diff_runs(a, a).same
    d = diff_runs(a, write_log(tmp_path / "b.jsonl", LOSSES))
    assert d.loss.first.step == 3 and d.loss.first.delta == math.inf


def test_a_resumed_log_that_repeats_steps_is_read_by_its_later_records(tmp_path):
    a = write_log(tmp_path / "a.jsonl", LOSSES)
    b = write_log(tmp_path / "b.jsonl", LOSSES[:8] + [9.0, 9.0])  # a first try, stopped and resumed from step 8
    with open(b, "a") as f:
        f.write("".join(json.dumps({"step": s, "loss": LOSSES[s - 1]}) + "\n" for s in (9, 10)))
    d = diff_runs(a, b)
    assert d.same and any("2 loss records repeat an earlier step" in n for n in d.notes)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three real runs of one tiny config: two identical, one with another learning rate; and one of them
    trained on from 4 to 8 steps."""
    tmp = tmp_path_factory.mktemp("diff")
    (tmp / "d.txt").write_text("\n".join(["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper",
                                          "evelyn", "abigail", "ella", "zoe", "luna", "aria"]))
    common = dict(data=str(tmp / "d.txt"), n_embd=8, n_head=2, seed=3, val_docs=4, eval_every=2)
    for name, lr in (("a", 0.01), ("b", 0.01), ("c", 0.03)):
        microgpt.train(steps=4, lr=lr, out=str(tmp / f"{name}.json"), log=str(tmp / f"{name}.jsonl"), **common).save(
            tmp / f"{name}.json")
    microgpt.train(resume=str(tmp / "a.json"), steps=8, out=str(tmp / "a8.json")).save(tmp / "a8.json")
    return tmp


def test_two_runs_of_one_config_are_the_same_and_another_lr_differs_from_step_2(runs, capsys):
    # the run is deterministic: the same config logs the same losses (elapsed times differ, and are not compared)
    assert main(["diff", str(runs / "a.jsonl"), str(runs / "b.jsonl")]) == 0
    # step 1's loss is computed before the first update, so the learning rate shows from step 2 on
    d = diff_runs(runs / "a.jsonl", runs / "c.jsonl")
    assert d.loss.first.step == 2 and d.loss.compared == 4 and d.val.first.step == 2


def weights_of(path):
    return json.loads(path.read_text())["weights"]


def test_model_diff_of_one_run_at_two_steps(runs, capsys):
    a, b = runs / "a.json", runs / "a8.json"
    d = diff_models(a, b)
    wa, wb = weights_of(a), weights_of(b)
    for m in d.matrices:  # recomputed from the two files' JSON
        want = max(abs(x - y) for ra, rb in zip(wa[m.name], wb[m.name]) for x, y in zip(ra, rb))
        assert m.max_abs_diff == want > 0
    assert [m.name for m in d.matrices][:3] == ["wte", "wpe", "lm_head"] and d.first_matrix == "wte"
    assert d.config == [] and d.tokenizer_same and d.steps == (4, 8) and not d.same
    assert d.val_loss == (microgpt.load(a).evaluate(), microgpt.load(b).evaluate())
    assert main(["diff", str(a), str(b), "--no-eval"]) == 1
    out = capsys.readouterr().out
    assert "trained steps: 4 vs 8" in out and "weights: 9 of 9 matrices differ; the first is wte" in out
    assert "val loss" not in out
    assert main(["diff", str(a), str(shutil.copy(a, runs / "copy.json"))]) == 0
    assert "same: the models agree exactly" in capsys.readouterr().out


def test_model_diff_names_the_config_and_training_differences(runs, tmp_path):
    other = microgpt.train(data=str(runs / "d.txt"), n_embd=8, n_head=4, steps=2, val_docs=4, lr=0.03)
    path = other.save(tmp_path / "h4.json")
    d = diff_models(runs / "a.json", path, evaluate=False)
    assert ("n_head", 2, 4) in d.config and ("lr", 0.01, 0.03) in d.train_config
    assert not d.same and d.first_matrix == "wte"  # same shapes, other numbers: n_head does not shape a matrix


def test_trouble_is_exit_2_in_one_line(runs, tmp_path, capsys):
    assert main(["diff", str(runs / "a.json"), str(runs / "a.jsonl")]) == 2
    assert main(["diff", str(runs / "a.jsonl"), str(tmp_path / "none.jsonl")]) == 2
    assert main(["diff", str(runs / "a.jsonl"), str(runs / "b.jsonl"), "--no-eval"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("microgpt diff: error:") for line in err)
    with pytest.raises(UsageError):
        diff_runs(runs / "a.jsonl", runs / "b.jsonl", tol=-1)
    with pytest.raises(MicroGPTError):
        diff_runs(runs / "a.json", runs / "b.jsonl")
