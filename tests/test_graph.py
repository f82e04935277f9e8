"""graph: the DOT text of the Value graph, the operation read back from each
node, and the output with and without Graphviz installed."""

import math
import random
import shutil
import xml.etree.ElementTree as ET

import pytest

from microgpt import forward
from microgpt.inspection import value_graph as graph
from microgpt.autograd import Value
from microgpt.cli import main
from microgpt.config import GPTConfig
from microgpt.model import init_weights
from microgpt.tokenizer import Tokenizer


def test_worked_example_dot_has_data_and_grad():
    root, names = graph.worked_example(2.0, 3.0)
    text, n = graph.to_dot(root, names, "example")
    assert n == 4 and text.splitlines()[1].startswith("digraph")
    assert "{a | data 2 | grad 4}" in text  # dL/da = b + 1: two paths add up
    assert "{b | data 3 | grad 2}" in text
    assert "{c = a*b  (*) | data 6 | grad 1}" in text
    assert "{L = c + a  (+) | data 8 | grad 1}" in text
    assert text.count("->") == 4


@pytest.mark.parametrize("make, label", [
    (lambda x, y: x + y, "+"),
    (lambda x, y: x * y, "*"),
    (lambda x, y: Value(1.0) * Value(1.0), "*"),  # local grads (1, 1), as for +, yet data says *
    (lambda x, y: x**-1, "**-1"),
    (lambda x, y: x**-0.5, "**-0.5"),
    (lambda x, y: x.exp(), "exp"),
    (lambda x, y: x.log(), "log"),
    (lambda x, y: x.relu(), "relu"),
    (lambda x, y: (-x).relu(), "relu"),
    (lambda x, y: x.gelu(), "gelu"),
    (lambda x, y: y.gelu(), "gelu"),
    (lambda x, y: Value(0.0).exp(), "exp"),
    (lambda x, y: Value(1.0).log(), "log"),
])
def test_operation_is_read_back(make, label):
    assert graph.op_of(make(Value(1.7), Value(-0.4))) == label


def test_model_graph_is_the_models_loss_and_stays_small():
    tok = Tokenizer("aem")
    config = GPTConfig(tok.vocab_size, n_embd=2, n_head=1, n_layer=1, block_size=4)
    weights = init_weights(config, random.Random(0))
    root, names = graph.model_example(weights, config, tok, "e")
    probs = forward.softmax(forward.sequence_logits(weights, config, [tok.bos])[0])
    assert root.data == pytest.approx(-math.log(probs[tok.stoi["e"]]), rel=1e-12)
    text, n = graph.to_dot(root, names, "tiny")
    assert n < 300
    assert "wte[3][0]" in text and "lm_head[1][1]" in text and "loss = -ln p" in text
    assert 'label="' not in text.split("->", 1)[1]  # too many nodes for edge labels


def test_graph_without_graphviz_writes_dot_and_fails(tmp_path, monkeypatch, capsys):
    """The picture asked for is not drawn: exit 1, one line saying the DOT was written and why not."""
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    out = tmp_path / "g.svg"
    assert main(["graph", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"wrote {tmp_path / 'g.dot'} (4 nodes)"]
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and f"wrote {tmp_path / 'g.dot'}, but not {out}" in err[0]
    assert "dot program is not installed" in err[0]
    assert "\ndigraph" in (tmp_path / "g.dot").read_text() and not out.exists()


def test_graph_too_large_to_draw_fails_after_writing_dot(tmp_path, monkeypatch, capsys):
    """Before: `graph --model M --out g.png` printed 'not rendering' and exited 0 with no g.png."""
    monkeypatch.setattr(graph, "MAX_RENDER_NODES", 3)
    monkeypatch.setattr(graph.shutil, "which", lambda name: "/usr/bin/dot")  # (never run: too many nodes)
    out = tmp_path / "g.png"
    assert main(["graph", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"wrote {tmp_path / 'g.dot'}, but not {out}: 4 nodes is more than 3" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists() and (tmp_path / "g.dot").exists()


def test_graph_tiny_and_model_are_refused_together(tmp_path, capsys):
    assert main(["graph", "--tiny", "--model", str(tmp_path / "m.json"), "--out", str(tmp_path / "g.dot")]) == 2
    assert "give one of them" in capsys.readouterr().err
    assert not (tmp_path / "g.dot").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_graph_renders_with_graphviz(tmp_path, capsys):
    out = tmp_path / "tiny.svg"
    assert main(["graph", "--tiny", "--target", "m", "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {out}"
    assert ET.parse(out).getroot().tag.endswith("svg")
    png = tmp_path / "ex.png"
    assert main(["graph", "-a", "-1.5", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_graph_errors(tmp_path, capsys):
    assert main(["graph", "--tiny", "--target", "z"]) == 2
    assert "--target must be one character" in capsys.readouterr().err
    assert main(["graph", "--out", str(tmp_path / "g.pdf")]) == 2
    assert ".dot" in capsys.readouterr().err
    assert main(["graph", "--out", str(tmp_path / "only.dot")]) == 0
    assert (tmp_path / "only.dot").exists()
