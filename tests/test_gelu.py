"""`--activation gelu`: GPT-2's GELU in the MLP, in every engine.

The oracles: the closed-form derivative against central finite differences,
and the formula against PyTorch's own tanh-form GELU; then every engine
against the scalar engine on a GELU model, as for ReLU: the fused engine and
the float forward bit for bit, numpy and torch within 1e-9 in float64.
Last, the setting's life in a checkpoint and on the command line.
"""

import importlib.util
import json
import math
import random

import pytest
from test_fused import fused_loss_and_grads, scalar_loss_and_grads

from microgpt import forward
from microgpt.autograd import Value, gelu_and_slope
from microgpt.cli import main
from microgpt.config import GPTConfig, TrainConfig
from microgpt.engines import make_engine
from microgpt.errors import MicroGPTError, UsageError
from microgpt.files import checkpoint
from microgpt.model import gpt, init_weights, to_values
from microgpt.tokenizer import Tokenizer
from microgpt.training import Trainer

DOCS = ["emma", "olivia", "ava", "isabellamaria", "sophia", "mia", "x", "zoe"]  # one longer than block_size 8
XS = [-6.0, -3.1, -1.7, -0.9, -0.35, -1e-3, 0.0, 2e-3, 0.4, 0.75, 1.3, 2.2, 4.5, 7.0]


def gelu_model(n_embd=8, n_head=2, n_layer=2, block_size=8, std=0.5, seed=0):
    """A small GELU model whose large init puts MLP inputs on both sides of 0, far from linear."""
    tok = Tokenizer.from_docs(DOCS)
    config = GPTConfig(tok.vocab_size, n_embd, n_head, n_layer, block_size, activation="gelu")
    weights = init_weights(config, random.Random(seed), std)
    return config, weights, [tok.encode_doc(d) for d in DOCS]


def test_slope_is_the_derivative():
    h = 1e-6
    for x in XS:
        numeric = (gelu_and_slope(x + h)[0] - gelu_and_slope(x - h)[0]) / (2 * h)
        assert gelu_and_slope(x)[1] == pytest.approx(numeric, abs=1e-8), x


def test_formula_is_gpt2s_gelu():
    torch = pytest.importorskip("torch")
    t = torch.tensor(XS, dtype=torch.float64)
    ref = torch.nn.functional.gelu(t, approximate="tanh").tolist()
    ours = [gelu_and_slope(x)[0] for x in XS]
    assert ours == pytest.approx(ref, abs=1e-15)
    # and the tanh form is close to the exact x * Phi(x), as GPT-2 meant it
    for x, y in zip(XS, ours):
        assert y == pytest.approx(0.5 * x * (1 + math.erf(x / math.sqrt(2))), abs=1e-3)


def test_value_gelu_backward():
    for x in XS:
        v = Value(x)
        y = v.gelu() * 3.0
        y.backward()
        assert y.data == 3.0 * gelu_and_slope(x)[0]
        assert v.grad == 3.0 * gelu_and_slope(x)[1]


def test_model_uses_the_activation():
    """The same weights give other logits as a GELU model than as a ReLU one
    (so the setting reaches the forward), in the scalar and the float forward alike."""
    config, weights, docs = gelu_model()
    relu = GPTConfig(config.vocab_size, 8, 2, 2, 8)
    logits = {}
    for c in (config, relu):
        keys, values = forward.empty_cache(c)
        logits[c.activation] = forward.gpt(weights, c, docs[0][0], 0, keys, values)
        keys, values = [[] for _ in range(c.n_layer)], [[] for _ in range(c.n_layer)]
        assert [v.data for v in gpt(to_values(weights), c, docs[0][0], 0, keys, values)] == logits[c.activation]
    assert max(abs(a - b) for a, b in zip(logits["gelu"], logits["relu"])) > 1e-3


def test_fused_matches_scalar_bit_for_bit():
    for seed, dims in enumerate([(8, 2, 2, 8), (12, 3, 1, 8), (8, 1, 3, 6)]):
        config, weights, docs = gelu_model(*dims, seed=seed)
        for batch in (docs[:1], docs[1:4], docs[4:]):
            s_loss, s_grads = scalar_loss_and_grads(config, weights, batch)
            f_loss, f_grads = fused_loss_and_grads(config, weights, batch)
            assert f_loss == s_loss and f_grads == s_grads
            # negative MLP inputs pass gradient too (unlike ReLU): every matrix gets some
            assert all(any(g) for g in f_grads.values())


def test_fused_training_and_forward_match_scalar():
    config, weights, docs = gelu_model()
    tc = TrainConfig(steps=4, batch_size=3, lr=0.05)
    scalar, fused = make_engine("scalar", config, weights, tc), make_engine("fused", config, weights, tc)
    for step in range(4):
        batch = docs[step : step + 3]
        assert fused.train_step(batch, 0.05) == scalar.train_step(batch, 0.05)
    assert fused.weights() == scalar.weights()
    assert fused.nll(docs) == scalar.nll(docs)


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_tensor_engines_match_scalar(engine):
    pytest.importorskip(engine)
    if engine == "torch":
        import torch

        torch.set_num_threads(1)
    config, weights, docs = gelu_model()
    s_loss, s_grads = make_engine("scalar", config, weights).loss_and_grads(docs)
    t_loss, t_grads = make_engine(engine, config, weights, dtype="float64").loss_and_grads(docs)
    assert t_loss == pytest.approx(s_loss, abs=1e-9)
    for name, rows in s_grads.items():
        got = [x for row in t_grads[name] for x in row]
        want = [x for row in rows for x in row]
        assert got == pytest.approx(want, abs=1e-9), name
    scalar, tensor = make_engine("scalar", config, weights), make_engine(engine, config, weights, dtype="float64")
    assert tensor.nll(docs)[0] == pytest.approx(scalar.nll(docs)[0], abs=1e-9)
    s_cache, t_cache = scalar.new_cache(), tensor.new_cache()  # sampling's one-position forward, KV cache and all
    for pos, token_id in enumerate(docs[3][: config.block_size]):
        want = scalar.next_logits(token_id, pos, s_cache)
        assert tensor.next_logits(token_id, pos, t_cache) == pytest.approx(want, abs=1e-9)


def test_checkpoint_keeps_the_activation(tmp_path):
    tc = TrainConfig(steps=4, batch_size=2)
    gelu = Trainer(DOCS, n_embd=8, n_head=2, n_layer=1, train_config=tc, activation="gelu")
    relu = Trainer(DOCS, n_embd=8, n_head=2, n_layer=1, train_config=tc)
    for trainer, name in ((gelu, "g.json"), (relu, "r.json")):
        trainer.run()
        trainer.checkpoint().save(tmp_path / name)
    assert checkpoint.load(tmp_path / "g.json").config.activation == "gelu"
    assert checkpoint.load(tmp_path / "r.json").config.activation == "relu"
    # a ReLU model's file is the one earlier versions wrote: no activation key
    assert "activation" not in json.loads((tmp_path / "r.json").read_text())["config"]
    assert json.loads((tmp_path / "g.json").read_text())["config"]["activation"] == "gelu"


def test_unknown_activation_is_refused(tmp_path):
    with pytest.raises(UsageError, match="activation must be one of relu, gelu"):
        GPTConfig(27, activation="swish")
    Trainer(DOCS, n_embd=8, n_head=2, train_config=TrainConfig(steps=1)).checkpoint().save(tmp_path / "m.json")
    d = json.loads((tmp_path / "m.json").read_text())
    d["config"]["activation"] = "swish"
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(MicroGPTError, match="activation must be one of"):
        checkpoint.load(tmp_path / "bad.json")


def test_cli_trains_resumes_and_samples_gelu(tmp_path, capsys):
    data = tmp_path / "names.txt"
    data.write_text("\n".join(DOCS) + "\n")
    out = tmp_path / "m.json"
    common = ["--data", str(data), "--n-embd", "8", "--n-head", "2", "--samples", "0"]
    assert main(["train", *common, "--activation", "gelu", "--steps", "3", "--out", str(out)]) == 0
    assert checkpoint.load(out).config.activation == "gelu"
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    (config_line,) = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("config:")]
    assert config_line.endswith(", activation gelu")
    # resuming keeps it; trying to change it is refused in one line
    assert main(["train", "--resume", str(out), "--data", str(data), "--steps", "5", "--samples", "0"]) == 0
    assert checkpoint.load(out).config.activation == "gelu"
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--data", str(data), "--steps", "7", "--activation", "relu"]) != 0
    assert "--activation cannot be changed when resuming" in capsys.readouterr().err
    # every engine samples the same names from it (the same logits, the same draws)
    seen = set()
    for engine in ("scalar", "fused", "numpy", "torch"):
        extra = ["--dtype", "float64"] if engine in ("numpy", "torch") else []
        if extra and importlib.util.find_spec(engine) is None:
            continue
        assert main(["sample", str(out), "--engine", engine, "-n", "5", "--seed", "1", *extra]) == 0
        seen.add(capsys.readouterr().out)
    assert len(seen) == 1


def test_cli_refuses_an_unknown_activation(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--activation", "swish", "--steps", "1"])
    assert e.value.code == 2
    assert "invalid choice: 'swish'" in capsys.readouterr().err
