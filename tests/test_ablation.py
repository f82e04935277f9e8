"""Ablation (ablation.py, forward.gpt's ablate=): each part switched off is checked
against an independent oracle: the intact model with the matching weights set to
zero, a hand computation, the intact model's own residual stream, attention's
indifference to order once positions are gone, and the numpy engine."""

import json
import math
import random

import pytest

import microgpt
from microgpt import forward
from microgpt.ablation import Ablation
from microgpt.cli import main
from microgpt.config import GPTConfig
from microgpt.errors import UsageError
from microgpt.files.checkpoint import Checkpoint
from microgpt.model import init_weights
from microgpt.tokenizer import Tokenizer

TOKENIZER = Tokenizer("abcdef")


def random_model(n_layer=1, n_head=2, n_embd=8, seed=0):
    config = GPTConfig(vocab_size=TOKENIZER.vocab_size, n_embd=n_embd, n_head=n_head, n_layer=n_layer, block_size=8)
    return config, init_weights(config, random.Random(seed), std=0.5)  # big weights: every part matters


def logits(weights, config, tokens, spec=None, record=None):
    ab = None if spec is None else Ablation.parse(spec, config)
    keys, values = forward.empty_cache(config)
    out = []
    for pos, t in enumerate(tokens):
        rec = {}
        out.append(forward.gpt(weights, config, t, pos, keys, values, record=rec, ablate=ab))
        if record is not None:
            record.append(rec)
    return out


TOKENS = [6, 0, 3, 1, 1, 4, 2]  # BOS, then characters


def test_empty_ablation_is_the_intact_model_bit_for_bit(tmp_path):
    config, w = random_model(n_layer=2)
    assert not Ablation.parse("", config)
    assert logits(w, config, TOKENS, "") == logits(w, config, TOKENS)
    path = tmp_path / "m.json"
    Checkpoint(config, TOKENIZER, w).save(path)
    m = microgpt.load(path)
    same = m.ablate(" , ")
    assert same.score("abca").rows == m.score("abca").rows
    assert same.trace("abca").to_dict() == m.trace("abca").to_dict()
    assert same.sample(3, seed=1) == m.sample(3, seed=1)


@pytest.mark.parametrize("n_layer, layer", [(1, 0), (2, 1), (2, 0)])
def test_every_head_zeroed_is_the_attention_skipped(n_layer, layer):
    config, w = random_model(n_layer=n_layer)
    assert logits(w, config, TOKENS, f"head:{layer}.*") == logits(w, config, TOKENS, f"attn:{layer}")
    assert logits(w, config, TOKENS, f"attn:{layer}") != logits(w, config, TOKENS)


def zero_rows(matrix, start, stop):
    return [[0.0] * len(r) if start <= i < stop else r for i, r in enumerate(matrix)]


def zeroed(w, name, start=0, stop=None):
    out = dict(w)
    out[name] = zero_rows(w[name], start, len(w[name]) if stop is None else stop)
    return out


@pytest.mark.parametrize("spec, edit", [
    ("head:0.1", lambda w: zeroed(w, "layer0.attn_wv", 4, 8)),  # head 1 reads values 4..7: all zero
    ("head:1.0", lambda w: zeroed(w, "layer1.attn_wv", 0, 4)),
    ("attn:1", lambda w: zeroed(w, "layer1.attn_wo")),  # an attention whose output is 0 adds nothing
    ("mlp:0", lambda w: zeroed(w, "layer0.mlp_fc2")),
    ("wpe", lambda w: zeroed(w, "wpe")),
    ("head:0.0,mlp:1,wpe", lambda w: zeroed(zeroed(zeroed(w, "layer0.attn_wv", 0, 4), "layer1.mlp_fc2"), "wpe")),
])
def test_ablation_is_the_intact_model_with_those_weights_zeroed(spec, edit):
    config, w = random_model(n_layer=2)
    assert logits(w, config, TOKENS, spec) == logits(edit(w), config, TOKENS)
    assert logits(w, config, TOKENS, spec) != logits(w, config, TOKENS)


def test_every_sublayer_skipped_leaves_lm_head_of_the_normed_embedding():
    config, w = random_model(n_layer=2)
    got = logits(w, config, TOKENS, "attn:*,mlp:*")
    for pos, t in enumerate(TOKENS):  # by hand: lm_head @ rmsnorm(wte[t] + wpe[pos])
        e = [a + b for a, b in zip(w["wte"][t], w["wpe"][pos])]
        s = 1 / math.sqrt(sum(x * x for x in e) / len(e) + 1e-5)
        want = [sum(r * x * s for r, x in zip(row, e)) for row in w["lm_head"]]
        assert got[pos] == pytest.approx(want, abs=1e-12)


def test_a_dropped_residual_leaves_the_sublayer_output_alone():
    config, w = random_model(n_layer=2)
    intact, cut_attn, cut_mlp = [], [], []
    logits(w, config, TOKENS, record=intact)
    logits(w, config, TOKENS, "resid-attn:0", record=cut_attn)
    logits(w, config, TOKENS, "resid-mlp:1", record=cut_mlp)
    for i, c, m in zip(intact, cut_attn, cut_mlp):
        # what the sublayer added in the intact model is, alone, what the cut stream holds
        added = [a - b for a, b in zip(i["layer0.attn"], i["embed.norm"])]
        assert c["layer0.attn"] == pytest.approx(added, abs=1e-12)
        added = [a - b for a, b in zip(i["layer1.mlp"], i["layer1.attn"])]
        assert m["layer1.mlp"] == pytest.approx(added, abs=1e-12)
    assert cut_attn[-1]["layer0.attn"] != pytest.approx(intact[-1]["layer0.attn"], abs=1e-6)


def test_without_positions_one_layer_of_attention_ignores_word_order():
    config, w = random_model(n_layer=1)
    first, swapped = [6, 0, 1, 2, 3, 4], [6, 3, 1, 0, 2, 4]  # same tokens before the last, in another order
    assert logits(w, config, swapped, "wpe")[-1] == pytest.approx(logits(w, config, first, "wpe")[-1], abs=1e-12)
    # the check can fail: with positions the order shows, ...
    assert logits(w, config, swapped)[-1] != pytest.approx(logits(w, config, first)[-1], abs=1e-6)
    # ... and so it does with a second layer: each earlier position's own context changed with the order
    config, w = random_model(n_layer=2)
    assert logits(w, config, swapped, "wpe")[-1] != pytest.approx(logits(w, config, first, "wpe")[-1], abs=1e-6)


SPECS = ["", "head:0.1", "head:1.*", "attn:0", "mlp:1", "resid-attn:1", "resid-mlp:0", "wpe",
         "head:0.0,attn:1,resid-mlp:1,wpe"]


@pytest.mark.parametrize("spec", SPECS)
def test_numpy_ablated_loss_is_the_pure_python_one(spec):
    pytest.importorskip("numpy")
    from microgpt.engines.numpy_engine import NumpyEngine

    config, w = random_model(n_layer=2)
    rng = random.Random(1)
    batch = [[6] + [rng.randrange(6) for _ in range(rng.randrange(1, 10))] + [6] for _ in range(7)]  # padded, cut
    ab = Ablation.parse(spec, config)
    want = [forward.doc_nll(w, config, t, ab) for t in batch]
    total, count = NumpyEngine(config, w).ablated_nll(batch, ab)
    assert count == sum(n for _, n in want)
    assert total == pytest.approx(sum(s for s, _ in want), rel=1e-9, abs=1e-9)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ablation")
    docs = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail", "ella",
            "zoe", "luna", "aria", "nora", "lily", "chloe", "ivy", "grace", "ruby"]
    (tmp / "d.txt").write_text("\n".join(docs))
    run = microgpt.train(data=str(tmp / "d.txt"), steps=3, seed=1, n_embd=8, n_head=2, n_layer=2, val_docs=6)
    return run.save(tmp / "m.json")


def test_model_ablate_evaluates_scores_and_traces_the_ablated_model(trained):
    m = microgpt.load(trained)
    a = m.ablate("attn:1,mlp:0")
    held = m.evaluation().held_out.batch
    total = sum(forward.doc_nll(m.checkpoint.weights, m.config, t, a.ablation)[0] for t in held)
    count = sum(m.config.predicted(t) for t in held)
    assert a.evaluate() == pytest.approx(total / count, rel=1e-12)
    assert a.evaluate() != pytest.approx(m.evaluate(), rel=1e-6)
    assert a.score("emma").total == pytest.approx(a.trace("emma").total, rel=1e-12)
    t = a.trace("emma").positions[2]
    assert t.attention[1] == [None, None] and t.attention[0][0] is not None
    assert t.mlp[0].active == [] and t.mlp[1].active
    assert t.stream[-1].lens[0]["p"] == max(t.probs)  # the last lens is the ablated model's own prediction
    assert m.ablate("head:0.0").ablate("wpe").ablation == Ablation.parse("head:0.0,wpe")
    pytest.importorskip("numpy")
    fast = microgpt.load(trained, engine="numpy").ablate("attn:1,mlp:0")
    assert fast.engine.name == "numpy" and a.engine.name == "python"
    assert fast.evaluate() == pytest.approx(a.evaluate(), rel=1e-9)


def test_spec_round_trips_and_reads_stars():
    config, _ = random_model(n_layer=2, n_head=2)
    ab = Ablation.parse(" wpe, mlp:1 ,head:1.*, resid-attn:0", config)
    assert str(ab) == "head:1.0,head:1.1,mlp:1,resid-attn:0,wpe"
    assert Ablation.parse(str(ab), config) == ab
    assert ab.heads == {(1, 0), (1, 1)} and ab.mlp == {1} and ab.resid_attn == {0} and ab.wpe


@pytest.mark.parametrize("spec, words", [
    ("head:2.0", "the model has 2 layers (0..1), there is no layer 2"),
    ("head:0.5", "each layer has 2 heads (0..1), there is no head 5"),
    ("head:0", "head:LAYER.HEAD"),
    ("attn:one", "must be a number"),
    ("mlp:-1", "must be a number"),
    ("mlp", "must be a number"),
    ("ffn:0", "unknown ablation 'ffn:0'; the parts are"),
    ("wpe:0", "wpe takes no layer"),
    ("attn:1,resid-attn:1", "a skipped sublayer has no output"),
    (7, "a string like"),
])
def test_bad_specs_are_one_line_usage_errors(spec, words):
    config, _ = random_model(n_layer=2, n_head=2)
    with pytest.raises(UsageError) as e:
        Ablation.parse(spec, config)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_eval_and_score_print_the_ablated_numbers_beside_the_intact(trained, capsys):
    m = microgpt.load(trained)
    a = m.ablate("head:0.1")
    assert main(["eval", str(trained), "--ablate", "head:0.1"]) == 0
    out = capsys.readouterr().out.splitlines()
    intact, ablated = (float(line.split()[2]) for line in out if line.startswith("val loss"))
    assert intact == pytest.approx(m.evaluate(), abs=5e-5) and ablated == pytest.approx(a.evaluate(), abs=5e-5)
    change = next(line for line in out if line.startswith("change:"))
    assert float(change.split()[3]) == pytest.approx(a.evaluate() - m.evaluate(), abs=5e-7)
    assert main(["score", str(trained), "emma", "--ablate", "head:0.1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ablation"] == "head:0.1" and d["total"] == m.score("emma").total
    assert d["ablated"]["total"] == a.score("emma").total
    assert main(["score", str(trained), "emma", "--ablate", "head:0.1"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip()[:1].isdigit()]
    for r, (_, _, _, p), (*_, q) in zip(rows, m.score("emma").rows, a.score("emma").rows):
        assert float(r[-1]) == pytest.approx(-math.log(q) + math.log(p), abs=5e-4)
