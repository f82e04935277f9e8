"""train --log-stats N: the run log gains each weight matrix's weight norm, gradient
norm and update-to-weight ratio every N steps, without changing the run; the log
stays a recognised run log, the plot and explorer reader reads the numbers back,
and bad values are one line. (That the engines compute the numbers right, and
agree, is tests/test_engine_contract.py's.)"""

import json
import math

import pytest

import microgpt
from microgpt.cli import main
from microgpt.errors import UsageError
from microgpt.files.runlog import is_run_log
from microgpt.inspection.plots.runs import read_runs
from microgpt.model import parameter_shapes
from microgpt.training import plan

TINY = dict(steps=6, n_embd=8, n_head=2, block_size=8, seed=3)


def records(log):
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def data(tmp_path, tiny_docs):
    p = tmp_path / "names.txt"
    p.write_text("\n".join(tiny_docs * 3) + "\n")
    return p


def test_every_nth_step_logs_each_matrix_and_the_run_is_unchanged(tmp_path, data):
    log, plain_log = tmp_path / "stats.jsonl", tmp_path / "plain.jsonl"
    run = microgpt.train(data, out=tmp_path / "a.json", log=log, log_stats=2, eval_every=3, **TINY)
    plain = microgpt.train(data, out=tmp_path / "b.json", log=plain_log, eval_every=3, **TINY)
    recs = records(log)
    assert [r["step"] for r in recs if "stats" in r] == [2, 4, 6]
    matrices = parameter_shapes(run.trainer.config).keys()
    for r in recs:
        if "stats" in r:
            assert r["stats"].keys() == matrices
            for st in r["stats"].values():
                assert st.keys() == {"weight_norm", "grad_norm", "update_ratio"}
                assert st["weight_norm"] > 0 and st["grad_norm"] >= 0 and 0 < st["update_ratio"] < 1
    # the same losses, bit for bit, and the same weights: measuring changes nothing
    strip = lambda rs: [{k: v for k, v in r.items() if k not in ("stats", "elapsed")} for r in rs]  # noqa: E731
    assert strip(recs) == strip(records(plain_log))
    assert run.checkpoint().weights == plain.checkpoint().weights
    assert is_run_log(log)


def test_the_reader_gives_back_the_logged_numbers(tmp_path, data):
    log = tmp_path / "run.jsonl"
    microgpt.train(data, out=tmp_path / "m.json", log=log, log_stats=3, **TINY)
    (run,) = read_runs(log)
    logged = [r for r in records(log) if "stats" in r]
    assert run.stats_steps == [r["step"] for r in logged] == [3, 6]
    assert run.steps == list(range(1, 7))
    for name, columns in run.stats.items():
        for field, values in columns.items():
            assert values == [r["stats"][name][field] for r in logged]


def test_a_stats_record_with_a_missing_matrix_reads_as_a_gap(tmp_path):
    log = tmp_path / "run.jsonl"
    st = {"weight_norm": 1.0, "grad_norm": 0.5, "update_ratio": None}
    lines = [{"step": 1, "loss": 3.0, "stats": {"wte": st}}, {"step": 2, "loss": 2.9, "stats": {"wpe": st}}]
    log.write_text("".join(json.dumps(r) + "\n" for r in lines))
    (run,) = read_runs(log)
    assert run.stats["wte"]["weight_norm"][0] == 1.0 and math.isnan(run.stats["wte"]["weight_norm"][1])
    assert math.isnan(run.stats["wpe"]["grad_norm"][0]) and run.stats["wpe"]["grad_norm"][1] == 0.5
    assert all(math.isnan(x) for x in run.stats["wte"]["update_ratio"])  # null: a matrix of zeros
    log.write_text(json.dumps({"step": 1, "loss": 3.0, "stats": [1, 2]}) + "\n")
    with pytest.raises(microgpt.errors.MicroGPTError, match="stats"):
        read_runs(log)


def test_a_log_with_an_unknown_field_is_not_a_run_log(tmp_path):
    log = tmp_path / "x.jsonl"
    log.write_text(json.dumps({"step": 1, "loss": 3.0, "stats": {}}) + "\n")
    assert is_run_log(log)
    log.write_text(json.dumps({"step": 1, "loss": 3.0, "statz": {}}) + "\n")
    assert not is_run_log(log)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_log_stats_is_a_usage_error(tmp_path, data, bad):
    with pytest.raises(UsageError, match="--log-stats"):
        microgpt.train(data, out=tmp_path / "m.json", log=tmp_path / "r.jsonl", log_stats=bad, **TINY)
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "r.jsonl").exists()


def test_log_stats_needs_a_log(tmp_path, data):
    with pytest.raises(UsageError, match="--log FILE"):
        microgpt.train(data, out=tmp_path / "m.json", log_stats=2, **TINY)


def test_the_command_line(tmp_path, data, capsys):
    log = tmp_path / "run.jsonl"
    args = ["train", "--data", str(data), "--steps", "4", "--n-embd", "8", "--n-head", "2", "--samples", "0",
            "--out", str(tmp_path / "m.json"), "--log", str(log), "--engine", "fused"]
    assert main(args + ["--log-stats", "2"]) == 0
    assert [r["step"] for r in records(log) if "stats" in r] == [2, 4]
    capsys.readouterr()
    for bad in ("0", "x"):
        try:
            code = main(args + ["--log-stats", bad, "--force"])
        except SystemExit as e:
            code = e.code
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "--log-stats" in err
    assert main(args[:-4] + ["--log-stats", "2"]) == 2
    assert "--log FILE" in capsys.readouterr().err


def test_a_resumed_run_goes_on_measuring_at_the_same_steps(tmp_path, data):
    log, out = tmp_path / "run.jsonl", tmp_path / "m.json"
    run = plan(data=data, out=out, log=log, log_stats=2, **TINY)
    run.train(until=3)
    run.save()
    microgpt.train(resume=out, log=log, log_stats=2)
    assert [r["step"] for r in records(log) if "loss" in r] == [1, 2, 3, 4, 5, 6]
    assert [r["step"] for r in records(log) if "stats" in r] == [2, 4, 6]
