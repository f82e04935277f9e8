"""Model.trace: each of its numbers checked against an independent oracle (score,
the attention picture's weights, the Value GPT, a hand computation)."""

import json
import math
from types import SimpleNamespace

import pytest

import microgpt
from microgpt import forward
from microgpt import model as value_model
from microgpt.config import GPTConfig
from microgpt.errors import UsageError
from microgpt.files.checkpoint import Checkpoint
from microgpt.inspection.plots.attention import attention_weights
from microgpt.inspection.score import score
from microgpt.model import parameter_shapes, to_values
from microgpt.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def names_model(tmp_path_factory):
    docs = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]
    data = tmp_path_factory.mktemp("trace") / "d.txt"
    data.write_text("\n".join(docs))
    run = microgpt.train(data=str(data), steps=3, seed=1, n_embd=8, n_head=2, n_layer=2, batch_size=2)
    return microgpt.Model.of(run)


def test_probs_and_totals_are_score_exactly(names_model):
    m = names_model
    t, s = m.trace("emma"), m.score("emma")
    assert t.tokens == ["BOS", "e", "m", "m", "a", "BOS"]
    assert [p.p_next for p in t.positions] == [r[3] for r in s.rows]
    assert [p.surprise for p in t.positions] == [-math.log(r[3]) for r in s.rows]
    assert (t.total, t.mean, t.perplexity) == (s.total, s.mean, s.perplexity)
    tokens = m.tokenizer.encode_doc("emma")
    keys, values = forward.empty_cache(m.config)
    for pos, p in enumerate(t.positions):  # the full distribution, from the plain forward
        assert p.probs == forward.softmax(forward.gpt(m.checkpoint.weights, m.config, tokens[pos], pos, keys, values))
        assert (p.token, p.next) == (t.tokens[pos], t.tokens[pos + 1])
        assert len(p.probs) == m.config.vocab_size
    assert t.positions[-1].next == "BOS"


def test_attention_is_the_pictures_and_rows_sum_to_one(names_model):
    m = names_model
    t = m.trace("ava")
    _, grid = attention_weights(m.checkpoint.weights, m.config, m.tokenizer, "ava")
    for layer in range(m.config.n_layer):
        for head in range(m.config.n_head):
            rows = [p.attention[layer][head] for p in t.positions]
            assert rows == grid[layer][head]
            for pos, r in enumerate(rows):
                assert len(r) == pos + 1 and math.fsum(r) == pytest.approx(1.0, abs=1e-12)


def test_last_lens_is_the_models_prediction_and_the_stream_gives_the_logits(names_model):
    m = names_model
    w = m.checkpoint.weights
    t = m.trace("mia")
    tokens = m.tokenizer.encode_doc("mia")
    keys, values = forward.empty_cache(m.config)
    for pos, p in enumerate(t.positions):
        logits = forward.gpt(w, m.config, tokens[pos], pos, keys, values)
        last = p.stream[-1]
        assert last.name == f"layer{m.config.n_layer - 1}.mlp" and last.norm_scale is None
        assert forward.linear(last.vector, w["lm_head"]) == logits
        best = sorted(range(len(p.probs)), key=lambda i: -p.probs[i])[:5]
        assert last.lens == [{"token": t.vocab[i], "p": p.probs[i]} for i in best]
        assert [q.name for q in p.stream] == ["embed", "embed.norm", "layer0.attn", "layer0.mlp",
                                              "layer1.attn", "layer1.mlp"]
        for q in p.stream:
            assert q.norm == pytest.approx(math.sqrt(sum(x * x for x in q.vector)), rel=1e-12)
            assert q.norm_scale is None or q.norm_scale == pytest.approx(
                1 / math.sqrt(sum(x * x for x in q.vector) / len(q.vector) + 1e-5), rel=1e-12)
        for mlp in p.mlp:
            assert len(mlp.hidden) == 4 * m.config.n_embd and min(mlp.hidden) == 0.0
            assert mlp.active == [j for j, h in enumerate(mlp.hidden) if h > 0]


def test_each_layers_residual_is_the_value_gpts(names_model):
    """The Value GPT cut after L layers returns lm_head @ (the residual after
    layer L-1's MLP): the trace's point, through lm_head, must be it bit for bit.
    Cut after 0 layers, it is lm_head @ embed.norm."""
    m = names_model
    w = m.checkpoint.weights
    sd = to_values(w)
    t = m.trace("ava")
    tokens = m.tokenizer.encode_doc("ava")
    for n_layer in range(m.config.n_layer + 1):
        # a stand-in config: GPTConfig refuses n_layer=0, and gpt() reads only these
        config = SimpleNamespace(n_layer=n_layer, n_head=m.config.n_head, head_dim=m.config.head_dim,
                                 activation=m.config.activation)
        name = f"layer{n_layer - 1}.mlp" if n_layer else "embed.norm"
        keys, values = value_model.empty_cache(config)
        for pos, p in enumerate(t.positions):
            v_logits = [v.data for v in value_model.gpt(sd, config, tokens[pos], pos, keys, values)]
            (x,) = [q.vector for q in p.stream if q.name == name]
            assert forward.linear(x, w["lm_head"]) == v_logits


# ---- a model small enough to compute by hand (as in test_inspect.py): attention
# and MLP add nothing (wo and fc2 are zero), so every point after the embedding is
# rmsnorm(wte + wpe); fc1 is set so the hidden activations can be checked.
WTE = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
WPE = [[0.0, 0.0], [0.0, 0.5], [0.0, 1.0], [0.0, 1.5]]
LM_HEAD = [[2.0, -1.0], [0.5, 1.0], [-1.0, 0.0]]
FC1 = [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [1.0, 1.0], [-1.0, -1.0], [0.5, -2.0], [0.0, 0.0]]


@pytest.fixture
def hand_model(tmp_path):
    config = GPTConfig(vocab_size=3, n_embd=2, n_head=1, n_layer=1, block_size=4)
    weights = {n: [[0.0] * c for _ in range(r)] for n, (r, c) in parameter_shapes(config).items()}
    weights.update(wte=WTE, wpe=WPE, lm_head=LM_HEAD)
    weights["layer0.mlp_fc1"] = FC1
    path = tmp_path / "hand.json"
    Checkpoint(config, Tokenizer("ab"), weights).save(path)
    return microgpt.load(path)


def hand_rmsnorm(v):
    scale = 1 / math.sqrt(sum(x * x for x in v) / len(v) + 1e-5)
    return scale, [x * scale for x in v]


def test_stream_norms_and_mlp_by_hand(hand_model):
    t = hand_model.trace("ab")
    for pos, token in enumerate([2, 0, 1]):  # BOS, a, b
        p = t.positions[pos]
        embed = [WTE[token][0] + WPE[pos][0], WTE[token][1] + WPE[pos][1]]
        scale, x = hand_rmsnorm(embed)
        points = {q.name: q for q in p.stream}
        assert points["embed"].vector == embed
        assert points["embed"].norm == pytest.approx(math.hypot(*embed), rel=1e-12)
        assert points["embed"].norm_scale == pytest.approx(scale, rel=1e-12)
        for name in ("embed.norm", "layer0.attn", "layer0.mlp"):
            assert points[name].vector == pytest.approx(x, rel=1e-12)
        attn_scale, x_mlp_in = hand_rmsnorm(x)  # the MLP's norm reads the (unchanged) stream
        assert points["embed.norm"].norm_scale == pytest.approx(attn_scale, rel=1e-12)
        assert points["layer0.attn"].norm_scale == pytest.approx(attn_scale, rel=1e-12)
        hidden = [max(0.0, r[0] * x_mlp_in[0] + r[1] * x_mlp_in[1]) for r in FC1]
        assert p.mlp[0].hidden == pytest.approx(hidden, rel=1e-12, abs=1e-15)
        assert p.mlp[0].active == [j for j, h in enumerate(hidden) if h > 0]
        exps = [math.exp(r[0] * x[0] + r[1] * x[1]) for r in LM_HEAD]
        probs = [e / sum(exps) for e in exps]
        assert p.probs == pytest.approx(probs, rel=1e-12)
        lens = points["embed.norm"].lens
        assert [d["token"] for d in lens] == [["a", "b", "BOS"][i] for i in sorted(range(3), key=lambda i: -probs[i])]
        assert [d["p"] for d in lens] == pytest.approx(sorted(probs, reverse=True), rel=1e-12)
    assert [p.next for p in t.positions] == ["a", "b", "BOS"]


def test_text_model_has_no_bos(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("the cat sat on the mat. " * 4)
    run = microgpt.train(text=str(path), steps=3, seed=1, n_embd=8, n_head=2, n_layer=1, block_size=8, batch_size=2)
    m = microgpt.Model.of(run)
    assert m.is_text
    t, s = m.trace("the cat"), m.score("the cat")
    assert "BOS" not in t.tokens and t.tokens == list("the cat")
    assert [p.token for p in t.positions] == list("the ca") and [p.next for p in t.positions] == list("he cat")
    assert [p.p_next for p in t.positions] == [r[3] for r in s.rows]
    assert t.total == s.total and t.is_text


def test_result_round_trips_through_json(names_model):
    d = names_model.trace("emma").to_dict()
    again = json.loads(json.dumps(d, allow_nan=False))
    assert again == d
    assert set(d) == {"text", "is_text", "vocab", "tokens", "positions", "total", "mean", "perplexity", "chars",
                      "bits_per_char"}
    assert d["positions"][0]["stream"][0]["layer"] is None and d["positions"][0]["stream"][2]["layer"] == 0


def test_an_impossible_token_is_none_in_json(hand_model):
    t = hand_model.trace("a")
    t.positions[0].surprise = t.perplexity = math.inf  # as when a probability underflows to 0
    d = json.loads(json.dumps(t.to_dict(), allow_nan=False))
    assert d["positions"][0]["surprise"] is None and d["perplexity"] is None


@pytest.mark.parametrize("text", ["a?", "abab"])  # not in the vocabulary; 5 predictions, context 4
def test_bad_input_is_scores_error(hand_model, text):
    m = hand_model
    with pytest.raises(UsageError) as expected:
        score(m.checkpoint.weights, m.config, m.tokenizer, text)
    with pytest.raises(UsageError) as got:
        m.trace(text)
    assert str(got.value) == str(expected.value) and "\n" not in str(got.value)


def test_recording_does_not_change_the_logits(names_model):
    m = names_model
    tokens = m.tokenizer.encode_doc("sophia")
    plain, recorded = forward.empty_cache(m.config), forward.empty_cache(m.config)
    for pos, tok in enumerate(tokens[: m.config.block_size]):
        record = {}
        a = forward.gpt(m.checkpoint.weights, m.config, tok, pos, *plain)
        b = forward.gpt(m.checkpoint.weights, m.config, tok, pos, *recorded, record=record)
        stream = {k for k in record if ".attn." not in k}  # the attention's own stages: test_attention_steps.py
        assert a == b and stream == {"embed", "embed.norm", "layer0.attn", "layer0.mlp_hidden", "layer0.mlp",
                                     "layer1.attn", "layer1.mlp_hidden", "layer1.mlp"}
