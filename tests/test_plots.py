"""plot: what each picture is computed from, checked by hand; every picture
rendered from a tiny model into tmp_path and checked to be a real image; and
the one-line message when matplotlib is missing."""

import json
import math
import sys
import xml.etree.ElementTree as ET

import pytest

from microgpt import forward
from microgpt.data import fingerprint
from microgpt.cli import main
from microgpt.config import TrainConfig
from microgpt.errors import MicroGPTError, UsageError
from microgpt.inspection.plots.attention import attention_weights
from microgpt.inspection.plots.bigram import bigram_counts
from microgpt.inspection.plots.next_char import next_probs
from microgpt.inspection.plots.runs import read_runs, smooth
from microgpt.tokenizer import Tokenizer
from microgpt.training import Trainer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000


def assert_svg(path):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg") and len(list(root.iter())) > 20


@pytest.fixture
def data_file(tmp_path, tiny_docs):
    p = tmp_path / "names.txt"
    p.write_text("\n".join(tiny_docs) + "\n")
    return p


@pytest.fixture
def tiny_model(tmp_path, tiny_docs, data_file):
    """Two layers of two heads, so the attention picture has a grid of panels."""
    trainer = Trainer(tiny_docs, n_embd=4, n_head=2, n_layer=2, block_size=8,
                      train_config=TrainConfig(steps=2), val_docs=4)
    trainer.run()
    path = tmp_path / "tiny.json"
    trainer.checkpoint(data=str(data_file), data_sha256=fingerprint(tiny_docs)).save(path)
    return path, trainer


@pytest.fixture
def run_log(tmp_path):
    path = tmp_path / "run.jsonl"
    lines = [{"step": s, "loss": 3.3 - 0.01 * s, "lr": 0.01, "elapsed": 0.1 * s, "tokens": 6} for s in range(1, 61)]
    lines.insert(30, {"step": 30, "val_loss": 3.1})
    lines.append({"step": 60, "val_loss": 2.8})
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    return path


# ---- the numbers behind the pictures


def test_run_log_is_read_with_validation_points(run_log):
    (run,) = read_runs(run_log)
    assert run.label == "run" and run.steps == list(range(1, 61)) and run.losses[0] == pytest.approx(3.29)
    assert run.val_steps == [30, 60] and run.val_losses == [3.1, 2.8]


def test_ladder_json_in_its_shapes(tmp_path):
    rung = {"rung": 0, "idea": "bigram counts", "losses": [3.0, 2.9, float("nan")], "val_loss": 2.5}
    for i, doc in enumerate([rung, [rung, dict(rung, rung=1)], {"rungs": [rung, dict(rung, rung=1)]}]):
        path = tmp_path / f"ladder{i}.json"
        path.write_text(json.dumps(doc))
        runs = read_runs(path)
        assert runs[0].label == "train0: bigram counts" and runs[0].val_steps == [3]
        assert runs[0].losses[:2] == [3.0, 2.9] and math.isnan(runs[0].losses[2])  # a gap, not a crash
        assert len(runs) == (1 if i == 0 else 2)


def test_run_inputs_that_are_not_runs(tmp_path, tiny_model):
    with pytest.raises(UsageError, match="is a model checkpoint"):
        read_runs(tiny_model[0])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"step": 1, "loss": 3}\nnot json\n')
    with pytest.raises(MicroGPTError, match="line 2 is not JSON"):
        read_runs(bad)
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    with pytest.raises(MicroGPTError, match="no run"):
        read_runs(empty)


def test_smooth_is_a_trailing_mean():
    assert smooth([1.0, 3.0, 5.0, float("nan"), 7.0], 2) == [1.0, 2.0, 4.0, 4.0, 6.0]


def test_bigram_counts_by_hand():
    tok = Tokenizer("ab")  # a=0, b=1, BOS=2
    counts = bigram_counts(tok, ["ab", "b", "zz"])  # "zz" has no ids in this vocabulary: skipped
    assert counts == [[0, 1, 0], [0, 0, 2], [1, 1, 0]]


def test_attention_rows_are_distributions_over_the_past(tiny_model):
    path, trainer = tiny_model
    weights, config, tok = trainer.engine.weights(), trainer.config, trainer.tokenizer
    ids, grid = attention_weights(weights, config, tok, "emma")
    assert ids == [tok.bos] + tok.encode("emma")
    assert len(grid) == 2 and len(grid[0]) == 2
    for layer in grid:
        for head in layer:
            assert [len(row) for row in head] == [1, 2, 3, 4, 5]  # query q sees keys 0..q
            assert all(sum(row) == pytest.approx(1.0) for row in head)
            assert head[0] == [1.0]
    # collecting the weights does not change a single bit of the logits
    plain = forward.sequence_logits(weights, config, ids)
    keys, values = forward.empty_cache(config)
    watched = [forward.gpt(weights, config, t, p, keys, values, attn=[]) for p, t in enumerate(ids)]
    assert watched == plain


def test_next_probs_at_temperatures(tiny_model):
    _, trainer = tiny_model
    args = trainer.engine.weights(), trainer.config, trainer.tokenizer, "em"
    base, sharp = next_probs(*args, 0.5)
    assert sum(base) == pytest.approx(1.0) and sum(sharp) == pytest.approx(1.0)
    top = max(range(len(base)), key=base.__getitem__)
    assert sharp[top] > base[top]  # a lower temperature moves mass to the favourite
    _, greedy = next_probs(*args, 0.0)
    assert greedy[top] == 1.0 and sum(greedy) == 1.0


# ---- the pictures themselves

needs_matplotlib = pytest.mark.skipif(
    __import__("importlib").util.find_spec("matplotlib") is None, reason="matplotlib (the plot extra) not installed")


@needs_matplotlib
def test_every_plot_renders_png_and_svg(tmp_path, tiny_model, run_log, capsys, monkeypatch):
    model = str(tiny_model[0])
    ladder = tmp_path / "ladder.json"
    ladder.write_text(json.dumps([{"rung": 0, "idea": "counts", "losses": [3.0] * 30, "val_loss": 2.6}]))
    cases = [
        (["plot", str(run_log)], "loss.png"),
        (["plot", str(run_log), str(ladder)], "loss.svg"),
        (["plot", model, "--attention", "emma"], "attention.png"),
        (["plot", model, "--bigram"], "bigram.svg"),
        (["plot", model, "--next", "em", "--temperature", "0.7"], "next.png"),
        (["plot", model, "--next", ""], "next0.svg"),
    ]
    for argv, name in cases:
        out = tmp_path / name
        assert main(argv + ["--out", str(out)]) == 0, argv
        assert capsys.readouterr().out.strip() == f"wrote {out}"
        assert_png(out) if name.endswith(".png") else assert_svg(out)
    # without --out, into the current folder under a name that says what it is
    monkeypatch.chdir(tmp_path)
    assert main(["plot", model, "--attention", "ava"]) == 0
    assert capsys.readouterr().out.strip() == "wrote attention_ava.png"
    assert_png(tmp_path / "attention_ava.png")


def test_plot_argument_errors(tmp_path, tiny_model, run_log, capsys):
    model = str(tiny_model[0])
    for argv, code, text in [
        (["plot", str(run_log), "--out", str(tmp_path / "x.pdf")], 2, ".png or .svg"),
        (["plot", model], 2, "is a model checkpoint"),
        (["plot", model, "--bigram", "--next", "a"], 2, "pick one view"),
        (["plot", model, str(run_log), "--bigram"], 2, "exactly one MODEL"),
        (["plot", model, "--attention", "Q"], 2, "not in the model's vocabulary"),
        (["plot", model, "--next", "emmaemma"], 2, "context is 8"),
        (["plot", str(tmp_path / "missing.jsonl")], 1, "not found"),
        (["plot", model, "--attention", "ava", "--temperature", "2"], 2, "goes with --next"),
        (["plot", str(run_log), "--data", str(run_log)], 2, "goes with --bigram"),
    ]:
        assert main(argv) == code, argv
        err = capsys.readouterr().err
        assert text in err and err.count("\n") == 1, (argv, err)


def test_missing_matplotlib_is_one_line_naming_the_extra(run_log, monkeypatch, capsys):
    # Simulate an environment without the plot extra, whether or not it is installed here.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["plot", str(run_log)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'microgpt[plot]'" in err


def test_bigram_needs_the_data(tmp_path, tiny_model, capsys):
    ckpt = json.loads(tiny_model[0].read_text())
    ckpt["training"]["data"] = str(tmp_path / "gone.txt")
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(ckpt))
    assert main(["plot", str(moved), "--bigram"]) == 2
    assert "needs the training data" in capsys.readouterr().err
