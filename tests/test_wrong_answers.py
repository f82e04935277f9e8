"""Answers that were wrong with exit 0, each with the case that showed it.

score from another folder said "no" for a training name (a relative --data
was looked up from the cwd); on a --text model it said "no" for text in the
training text and scored BOS rows a text model never saw; plot drew NaN/inf
losses as nothing and could not read a log cut by kill -9; sample --chars on a
names model was ignored; a temperature of 1e-320 ended in OverflowError.
"""

import json
import os

import pytest

from microgpt import api, forward, provenance, sample
from microgpt.cli import main
from microgpt.errors import UsageError
from microgpt.files import checkpoint

DOCS = ["ab", "ba", "aab", "bba", "abab", "baba", "aa", "bb", "aba", "bab", "abba", "baab"] * 3


def train(argv, cwd, capsys=None):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        assert main(["train", "--steps", "2", "--n-embd", "8", "--n-head", "2", "--block-size", "8",
                     "--samples", "0", *argv]) == 0
    finally:
        os.chdir(old)
    if capsys:
        capsys.readouterr()


def score(capsys, cwd, *argv):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        capsys.readouterr()
        assert main(["score", *argv, "--brief"]) == 0
        return capsys.readouterr().out
    finally:
        os.chdir(old)


# ---- the data path a checkpoint records


def test_score_finds_a_relative_data_path_from_another_folder(tmp_path, capsys):
    """Trained with --data docs.txt in one folder, saved into another, scored from a third."""
    (tmp_path / "work").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "work" / "docs.txt").write_text("\n".join(DOCS))
    train(["--data", "docs.txt", "--out", "../models/m.json"], tmp_path / "work", capsys)
    recorded = checkpoint.load(tmp_path / "models" / "m.json").training.data
    assert recorded == str(tmp_path / "work" / "docs.txt")  # absolute, found from anywhere
    out = score(capsys, tmp_path / "elsewhere", "../models/m.json", "abab")
    assert "in training data: yes" in out and "unknown" not in out


def test_an_old_relative_record_is_still_found_from_here_or_beside_the_model(tmp_path, capsys):
    (tmp_path / "docs.txt").write_text("\n".join(DOCS))
    train(["--data", "docs.txt", "--out", "m.json"], tmp_path, capsys)
    d = json.loads((tmp_path / "m.json").read_text())
    d["training"]["data"] = "docs.txt"  # as microgpt recorded it before
    (tmp_path / "m.json").write_text(json.dumps(d))
    (tmp_path / "sub").mkdir()
    assert "in training data: yes" in score(capsys, tmp_path / "sub", "../m.json", "abab")  # beside the model
    assert "in training data: yes" in score(capsys, tmp_path, "m.json", "abab")  # from the cwd


def test_the_bundled_names_are_still_recorded_by_name(tmp_path):
    from microgpt.data import BUNDLED_NAMES, recorded_path

    assert recorded_path(BUNDLED_NAMES) == BUNDLED_NAMES
    assert recorded_path("x/docs.txt") == os.path.abspath("x/docs.txt")


# ---- a --text model: no BOS, and which part of the text


def book():
    """Train part 'ab' * 450, held-out part 'cd' * 50: the last 10% is all c and d."""
    return "ab" * 450 + "cd" * 50


@pytest.fixture
def text_model(tmp_path, capsys):
    (tmp_path / "book.txt").write_text(book())
    train(["--text", "book.txt", "--out", "t.json"], tmp_path, capsys)
    return tmp_path / "t.json"


def test_text_score_has_no_bos_rows_and_matches_the_windows_loss(text_model):
    model = api.load(text_model, engine="scalar")
    s = model.score("abab")
    assert [(pos, before, nxt) for pos, before, nxt, _ in s.rows] == [(1, "a", "b"), (2, "ab", "a"), (3, "aba", "b")]
    ids = model.tokenizer.encode("abab")
    total, count = model.engine.nll([ids])  # a training window: the first token is context
    assert count == s.n == 3 and s.total == pytest.approx(total, rel=1e-12)


def test_text_score_says_which_part_of_the_text(text_model, capsys):
    out = score(capsys, text_model.parent, str(text_model), "abab", "cdcd", "bc", "ac", "dc")
    lines = {line.split(":")[0]: line for line in out.splitlines()}
    assert "yes, in the training part of the text" in lines["'abab'"]
    assert "yes, only in the held-out part of the text" in lines["'cdcd'"]
    assert "yes, across the training and held-out parts" in lines["'bc'"]
    assert lines["'ac'"].endswith("in training data: no")
    assert "held-out" in lines["'dc'"]


def test_text_score_refusals(text_model, capsys):
    assert main(["score", str(text_model), "a"]) == 2
    assert "at least 2 characters" in capsys.readouterr().err
    assert main(["score", str(text_model), "ab" * 5]) == 2  # 9 predictions, a context of 8
    assert "the model's context holds 8" in capsys.readouterr().err
    assert main(["score", str(text_model), "ab" * 4 + "a"]) == 0  # 8 predictions: fits


def test_a_text_models_text_is_found_from_another_folder(text_model, tmp_path, capsys):
    (tmp_path / "elsewhere").mkdir()
    out = score(capsys, tmp_path / "elsewhere", str(text_model), "abab")
    assert "yes, in the training part" in out
    found = provenance.find_text(checkpoint.load(text_model))
    assert found.exact and found.train == "ab" * 450 and found.val == "cd" * 50


# ---- sampling flags that were silently ignored or crashed


def test_chars_is_refused_for_a_names_model(tmp_path, capsys, text_model):
    (tmp_path / "docs.txt").write_text("\n".join(DOCS))
    train(["--data", "docs.txt", "--out", "m.json"], tmp_path, capsys)
    assert main(["sample", str(tmp_path / "m.json"), "--chars", "50"]) == 2
    err = capsys.readouterr().err
    assert "--chars is for models trained with --text" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(UsageError, match="--chars"):
        api.load(tmp_path / "m.json").sample(2, chars=10)
    assert main(["sample", str(tmp_path / "m.json"), "-n", "2"]) == 0  # without it: as before
    assert main(["sample", str(text_model), "-n", "1", "--chars", "20"]) == 0
    assert len(capsys.readouterr().out.splitlines()[-1]) == 21  # the newline prefix and 20 characters


@pytest.mark.parametrize("t", [1e-320, 5e-324, 1e-305])
def test_a_temperature_too_small_for_a_float_is_refused(t):
    with pytest.raises(UsageError, match="use 0 for greedy"):
        sample.check_temperature(t)


@pytest.mark.parametrize("t", [0.0, 1e-300, 1e-10, 0.5, 3.0])
def test_usable_temperatures_still_pass(t):
    sample.check_temperature(t)


def test_logits_beyond_the_headroom_give_probabilities_not_nan():
    probs = sample.next_token_probs([1e300, 0.0, -1e300], 1e-300)
    assert probs == [1.0, 0.0, 0.0]
    same = sample.next_token_probs([2.0, 1.0, 0.5], 0.7)  # ordinary logits: exactly the original's arithmetic
    assert same == forward.softmax([2.0 * 0.7**-1, 1.0 * 0.7**-1, 0.5 * 0.7**-1])


def test_cli_tiny_temperature(tmp_path, capsys, text_model):
    (tmp_path / "docs.txt").write_text("\n".join(DOCS))
    train(["--data", "docs.txt", "--out", "m.json"], tmp_path, capsys)
    for argv in (["sample", str(tmp_path / "m.json"), "--temperature", "1e-320"],
                 ["sample", str(text_model), "--temperature", "1e-320"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "too small" in err and "use 0 for greedy" in err and len(err.strip().splitlines()) == 1


def test_plot_next_tiny_temperature(tmp_path, capsys, text_model):
    pytest.importorskip("matplotlib")
    assert main(["plot", str(text_model), "--next", "a", "--temperature", "1e-320",
                 "--out", str(tmp_path / "n.png")]) == 2
    assert "use 0 for greedy" in capsys.readouterr().err


# ---- plot: non-finite losses and a log cut short


def test_plot_counts_and_marks_non_finite_losses(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from microgpt.inspection.plots.loss import loss_figure
    from microgpt.inspection.plots.runs import read_runs

    log = tmp_path / "run.jsonl"
    log.write_text('{"step": 1, "loss": 3.3}\n{"step": 2, "loss": NaN}\n{"step": 3, "loss": Infinity}\n'
                   '{"step": 4, "loss": 3.0}\n{"step": 4, "val_loss": NaN}\n')
    (run,) = read_runs(log)
    assert run.nonfinite_steps == [2, 3] and run.nonfinite_val_steps == [4]
    fig = loss_figure([run])
    marked = [line for line in fig.axes[0].get_lines() if line.get_marker() == "x"]
    assert len(marked) == 1 and list(marked[0].get_xdata()) == [2, 3, 4]
    assert main(["plot", str(log), "--out", str(tmp_path / "loss.png")]) == 0
    out = capsys.readouterr().out
    assert "2 of 4 step losses and 1 of 1 validation losses are NaN, infinite or not numbers" in out
    assert "(first at step 2)" in out and (tmp_path / "loss.png").exists()


def test_plot_skips_a_torn_last_line(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    log = tmp_path / "killed.jsonl"
    log.write_text('{"step": 1, "loss": 3.3}\n{"step": 2, "loss": 3.1}\n{"step": 3, "lo')
    assert main(["plot", str(log), "--out", str(tmp_path / "loss.png")]) == 0
    assert "skipped its last line 3, which was cut short" in capsys.readouterr().out
    # a bad line anywhere else is still an error: it is not a --log file
    log.write_text('{"step": 1, "loss": 3.3}\n{"step": 2, "lo\n{"step": 3, "loss": 3.1}\n')
    assert main(["plot", str(log), "--out", str(tmp_path / "loss.png")]) == 1
    assert "line 2 is not JSON" in capsys.readouterr().err


def test_plot_of_only_non_finite_losses_still_draws(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    log = tmp_path / "nan.jsonl"
    log.write_text('{"step": 1, "loss": NaN}\n{"step": 2, "loss": NaN}\n')
    assert main(["plot", str(log), "--out", str(tmp_path / "loss.png")]) == 0
    assert "2 of 2 step losses" in capsys.readouterr().out


# ---- finite but extreme weights: a probability of exactly 0, logits that overflow


@pytest.fixture
def sharp_model(tmp_path, capsys):
    """lm_head scaled by 1e4: logit gaps of thousands, so some probabilities underflow to 0."""
    (tmp_path / "docs.txt").write_text("\n".join(DOCS))
    train(["--data", "docs.txt", "--out", "m.json"], tmp_path, capsys)
    d = json.loads((tmp_path / "m.json").read_text())
    d["weights"]["lm_head"] = [[x * 1e4 for x in row] for row in d["weights"]["lm_head"]]
    (tmp_path / "sharp.json").write_text(json.dumps(d))
    return tmp_path / "sharp.json"


def test_a_zero_probability_is_infinite_surprise_not_a_traceback(sharp_model, capsys):
    s = api.load(sharp_model, engine="scalar").score("abab")
    assert any(p == 0.0 for *_, p in s.rows)
    assert s.total == float("inf") and s.perplexity == float("inf")
    assert main(["score", str(sharp_model), "abab", "ba"]) == 0
    assert "perplexity inf" in capsys.readouterr().out
    assert main(["eval", str(sharp_model)]) == 0
    assert "val loss inf" in capsys.readouterr().out
    assert main(["architecture", "--model", str(sharp_model), "ab"]) == 0


def test_graph_of_a_target_with_probability_zero_is_one_line(sharp_model, tmp_path, capsys):
    from microgpt import forward as fwd
    from microgpt.files import checkpoint

    ck = checkpoint.load(sharp_model)
    probs = fwd.softmax(fwd.sequence_logits(ck.weights, ck.config, [ck.tokenizer.bos])[0])
    zero = [c for c in ck.tokenizer.chars if probs[ck.tokenizer.stoi[c]] == 0.0]
    if not zero:
        pytest.skip("no character underflowed after BOS")
    assert main(["graph", "--model", str(sharp_model), "--target", zero[0], "--out", str(tmp_path / "g.dot")]) == 1
    assert "probability of exactly 0" in capsys.readouterr().err


def test_logits_that_are_not_finite_are_one_line():
    from microgpt.errors import MicroGPTError
    from microgpt.tokenizer import Tokenizer

    class Overflowed:
        name = "torch"

        class config:
            block_size = 4

        def new_cache(self):
            return None

        def next_logits(self, token_id, pos_id, cache):
            return [float("inf"), 0.0, float("nan")]

    for draw in (lambda: sample.generate(Overflowed(), Tokenizer("ab"), None, 0.5),
                 lambda: sample.generate_text(Overflowed(), Tokenizer("ab"), None, 5, 0.5, prefix="a")):
        with pytest.raises(MicroGPTError, match="logits are not finite numbers.*--engine fused"):
            draw()


# ---- a flag given where it does nothing is refused, not silently ignored


@pytest.mark.parametrize("argv, needle", [
    (["graph", "--tiny", "-a", "3"], "-a and -b set the worked example"),
    (["graph", "--model", "{model}", "-b", "1"], "-a and -b set the worked example"),
    (["graph", "--target", "a"], "--target goes with --model or --tiny"),
    (["graph", "--model", "{model}", "--seed", "3"], "--seed draws the fresh weights of --tiny"),
    (["graph", "--seed", "3"], "--seed draws the fresh weights of --tiny"),
    (["parameters", "--model", "{model}", "--n-embd", "64"], "--n-embd describes a fresh model"),
    (["architecture", "--model", "{model}", "--seed", "3"], "--seed describes a fresh model"),
    (["architecture", "--model", "{model}", "--data", "{docs}"], "--data describes a fresh model"),
    (["tokenizer", "--model", "{model}", "--data", "{docs}"], "give one of them"),
    (["plot", "{model}", "--bigram", "--smooth", "3"], "--smooth goes with run logs"),
    (["sample", "{text_model}", "--data", "{docs}"], "a --text model's passages are not marked"),
])
def test_a_flag_that_would_be_ignored_is_refused(tmp_path, capsys, text_model, argv, needle):
    (tmp_path / "docs.txt").write_text("\n".join(DOCS))
    train(["--data", "docs.txt", "--out", "m.json"], tmp_path, capsys)
    paths = {"model": tmp_path / "m.json", "docs": tmp_path / "docs.txt", "text_model": text_model}
    out = tmp_path / "g.dot"
    args = [a.format(**paths) for a in argv] + (["--out", str(out)] if argv[0] == "graph" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_the_flags_still_work_where_they_belong(tmp_path, capsys):
    (tmp_path / "docs.txt").write_text("\n".join(DOCS))
    assert main(["graph", "--tiny", "--seed", "3", "--target", "e", "--out", str(tmp_path / "t.dot")]) == 0
    assert main(["graph", "-a", "-1", "-b", "4", "--out", str(tmp_path / "w.dot")]) == 0
    assert "a = -1, b = 4" in (tmp_path / "w.dot").read_text()
    assert main(["architecture", "--data", str(tmp_path / "docs.txt"), "--n-embd", "8", "--n-head", "2",
                 "--seed", "1", "ab"]) == 0
    assert main(["parameters", "--data", str(tmp_path / "docs.txt")]) == 0
    assert "total: " in capsys.readouterr().out
