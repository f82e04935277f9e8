"""score, eval, sample novelty: numbers checked against a hand computation and
against what `microgpt train` itself recorded."""

import json
import math

import pytest

from microgpt import forward
from microgpt import provenance as training_data
from microgpt.cli import main
from microgpt.config import GPTConfig, TrainConfig
from microgpt.data import fingerprint
from microgpt.engines import make_engine
from microgpt.evaluation import encode_all, evaluate
from microgpt.files.checkpoint import Checkpoint, load
from microgpt.inspection.novelty import summary
from microgpt.inspection.score import score
from microgpt.model import parameter_shapes
from microgpt.tokenizer import Tokenizer
from microgpt.training import Trainer

# ---- a model small enough to compute by hand

# Vocabulary "ab" + BOS (id 2). Every attention and MLP output matrix is zero, so
# each block adds nothing to the residual stream and the logits are
#   lm_head @ rmsnorm(wte[token] + wpe[pos]).
WTE = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
WPE = [[0.0, 0.0], [0.0, 0.5], [0.0, 1.0], [0.0, 1.5]]
LM_HEAD = [[2.0, -1.0], [0.5, 1.0], [-1.0, 0.0]]


def hand_probs(token, pos):
    v = [WTE[token][0] + WPE[pos][0], WTE[token][1] + WPE[pos][1]]
    inv_rms = 1 / math.sqrt((v[0] ** 2 + v[1] ** 2) / 2 + 1e-5)
    x = [v[0] * inv_rms, v[1] * inv_rms]
    exps = [math.exp(r[0] * x[0] + r[1] * x[1]) for r in LM_HEAD]
    return [e / sum(exps) for e in exps]


@pytest.fixture
def hand_model(tmp_path):
    config = GPTConfig(vocab_size=3, n_embd=2, n_head=1, n_layer=1, block_size=4)
    weights = {n: [[0.0] * c for _ in range(r)] for n, (r, c) in parameter_shapes(config).items()}
    weights.update(wte=WTE, wpe=WPE, lm_head=LM_HEAD)
    weights["layer0.attn_wq"] = [[0.3, -0.2], [0.1, 0.4]]  # nonzero, yet irrelevant: wo is zero
    path = tmp_path / "hand.json"
    Checkpoint(config, Tokenizer("ab"), weights).save(path)
    return path


def test_score_matches_hand_computation(hand_model):
    ckpt = load(hand_model)
    s = score(ckpt.weights, ckpt.config, ckpt.tokenizer, "ab")
    # BOS -> a at position 0, a -> b at 1, b -> BOS (the end) at 2
    expected = [hand_probs(2, 0)[0], hand_probs(0, 1)[1], hand_probs(1, 2)[2]]
    assert [r[3] for r in s.rows] == pytest.approx(expected, rel=1e-12)
    assert [r[2] for r in s.rows] == ["a", "b", None]
    assert s.total == pytest.approx(-sum(math.log(p) for p in expected), rel=1e-12)
    assert s.perplexity == pytest.approx(math.exp(s.total / 3), rel=1e-12)
    # and the total is exactly the training loss of that document
    assert s.total == forward.doc_nll(ckpt.weights, ckpt.config, ckpt.tokenizer.encode_doc("ab"))[0]


def test_score_cli_table_and_unknown_data(hand_model, capsys):
    assert main(["score", str(hand_model), "ab", "b"]) == 0
    out = capsys.readouterr().out
    assert "in-training-data is unknown" in out and "(in training data: unknown)" in out
    p_end = hand_probs(1, 2)[2]
    assert f"(end)  {p_end:>8.4f}  {-math.log(p_end):>7.3f}" in out
    assert "2 strings: NLL" in out


def test_score_errors_are_one_line(hand_model, capsys):
    assert main(["score", str(hand_model), "abc"]) == 2
    assert "'c' is not in the model's vocabulary" in capsys.readouterr().err
    assert main(["score", str(hand_model), "abab"]) == 2  # 5 predictions, context 4
    assert "context holds 4" in capsys.readouterr().err
    assert main(["score", str(hand_model)]) == 2


# ---- a trained model and its data


@pytest.fixture
def data_file(tmp_path, tiny_docs):
    p = tmp_path / "names.txt"
    p.write_text("\n".join(tiny_docs) + "\n")
    return p


@pytest.fixture
def trained(tmp_path, data_file, capsys):
    out = tmp_path / "m.json"
    assert main(["train", "--data", str(data_file), "--steps", "3", "--n-embd", "4", "--n-head", "1",
                 "--val-docs", "6", "--out", str(out), "--samples", "0"]) == 0
    return out, capsys.readouterr().out


def test_split_is_rebuilt_exactly(tiny_docs, data_file):
    trainer = Trainer(tiny_docs, n_embd=4, n_head=1, train_config=TrainConfig(steps=2, seed=7), val_docs=5,
                      engine="scalar")
    ckpt = trainer.checkpoint(data=str(data_file), data_sha256=fingerprint(tiny_docs))
    data = training_data.find(ckpt)
    assert data.exact and data.train == trainer.train_docs and data.val == trainer.val_docs
    assert data.where(trainer.train_docs[0]) == "train" and data.where(trainer.val_docs[-1]) == "val"
    assert data.where("zzz") is None
    # another seed is another split: the rebuild really depends on the recorded seed
    ckpt.training.seed = 8
    assert training_data.find(ckpt).val != trainer.val_docs


def test_changed_data_is_not_trusted_for_the_split(tiny_docs, data_file, tmp_path):
    trainer = Trainer(tiny_docs, n_embd=4, n_head=1, val_docs=5, engine="scalar")
    ckpt = trainer.checkpoint(data=str(data_file), data_sha256=fingerprint(tiny_docs))
    other = tmp_path / "other.txt"
    other.write_text("\n".join(reversed(tiny_docs)))
    data = training_data.find(ckpt, other)
    assert not data.exact and data.where("emma") == "data" and "not the ones" in data.note
    ckpt.training.data = str(tmp_path / "moved.txt")
    assert training_data.find(ckpt) is None


def test_eval_equals_the_val_loss_train_printed(trained, capsys):
    model, train_out = trained
    printed = next(line for line in train_out.splitlines() if line.startswith("val loss"))
    assert main(["eval", str(model)]) == 0
    out = capsys.readouterr().out
    assert "6 held-out documents" in out
    ours = next(line for line in out.splitlines() if line.startswith("val loss"))
    assert ours.split(" (")[0] == printed.split(" (")[0]
    # and bit for bit what was stored
    ckpt = load(model)
    data = training_data.find(ckpt)
    loss, _, _ = evaluate(make_engine("scalar", ckpt.config, ckpt.weights), encode_all(ckpt.tokenizer, data.val))
    assert loss == ckpt.training.val_loss


def test_eval_on_a_file_and_when_the_split_is_lost(trained, data_file, tmp_path, tiny_docs, capsys):
    model, _ = trained
    assert main(["eval", str(model), "--data", str(data_file)]) == 0
    out = capsys.readouterr().out
    assert "all 20 documents" in out and "loss " in out
    ckpt = json.loads(model.read_text())
    ckpt["training"]["data"] = str(tmp_path / "gone.txt")
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(ckpt))
    assert main(["eval", str(moved)]) == 2
    assert "not readable" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("emma\nZoë\n")
    assert main(["eval", str(model), "--data", str(bad)]) == 1
    assert "document 2" in capsys.readouterr().err


def test_sample_marks_copies_and_new(trained, tmp_path, capsys):
    model, _ = trained
    assert main(["sample", str(model), "-n", "6", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 6
    assert all(line.endswith(("  (new)", "  (in train)", "  (in val)")) for line in lines)
    assert "novelty:" in captured.err and "of 6 samples" in captured.err
    # names the model copies are marked as such: a file holding every sample as a document
    names = [line.split(": ", 1)[1].rsplit("  (", 1)[0] for line in lines]
    copies = tmp_path / "copies.txt"
    copies.write_text("\n".join(names) + "\n")
    assert main(["sample", str(model), "-n", "6", "--seed", "3", "--data", str(copies)]) == 0
    captured = capsys.readouterr()
    assert all(line.endswith("  (in data)") for line in captured.out.splitlines())
    assert "copy rate 100%" in captured.err


def test_novelty_summary():
    line = summary(["new", "new", "in train", "in val"])
    assert line == "novelty: 2 new, 1 in train, 1 in val of 4 samples (copy rate 50%)"
    assert summary(["new", "in train"]) == "novelty: 1 new, 1 in train, 0 in val of 2 samples (copy rate 50%)"
    assert summary(["in data", "new"], exact=False) == "novelty: 1 new, 1 in data of 2 samples (copy rate 50%)"


def test_sample_without_data_keeps_the_plain_lines(trained, tmp_path, capsys):
    model, _ = trained
    ckpt = json.loads(model.read_text())
    del ckpt["training"]["data"]
    moved = tmp_path / "nodata.json"
    moved.write_text(json.dumps(ckpt))
    assert main(["sample", str(moved), "-n", "2"]) == 0
    captured = capsys.readouterr()
    assert all("(" not in line for line in captured.out.splitlines())
    assert "novelty: unknown" in captured.err


def test_score_says_which_split(trained, capsys):
    model, _ = trained
    data = training_data.find(load(model))
    assert main(["score", str(model), data.train[0], data.val[0], "zz", "--brief"]) == 0
    out = capsys.readouterr().out
    assert "in training data: yes, train split" in out
    assert "in training data: yes, validation split" in out
    assert "in training data: no" in out


def test_eval_bar_draws_only_on_a_terminal():
    import io

    from microgpt.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    quiet, live = io.StringIO(), Tty()
    for stream in (quiet, live):
        bar = Progress(12, stream=stream, label="eval", lines=False)
        bar.update(12, 2.5)
    assert quiet.getvalue() == ""
    assert live.getvalue().startswith("\reval 12/12 " + "█" * 24) and "loss 2.5000" in live.getvalue()


def test_relative_data_path_is_found_beside_the_checkpoint(tmp_path, tiny_docs, monkeypatch):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "names.txt").write_text("\n".join(tiny_docs))
    trainer = Trainer(tiny_docs, n_embd=4, n_head=1, val_docs=5, engine="scalar")
    ckpt = trainer.checkpoint(data="names.txt", data_sha256=fingerprint(tiny_docs))
    monkeypatch.chdir(tmp_path)  # "names.txt" does not exist here
    assert training_data.find(ckpt) is None
    data = training_data.find(ckpt, model_path=folder / "m.json")
    assert data.exact and data.val == trainer.val_docs
