"""Attention in stages and the architecture diagram: the trace's attention
intermediates against an independent forward (tests/attention_reference.py),
and the diagram's blocks against the model's parameter count."""

import json
import math

import attention_reference as reference
import pytest

import microgpt
from microgpt import forward
from microgpt.config import GPTConfig
from microgpt.explore.models import load_models
from microgpt.explore.server import Explorer
from microgpt.explore.views import architecture
from microgpt.model import iter_parameter_shapes, num_params

TOL = 1e-12


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A 2-layer, 4-head names model, trained a few steps so its weights are not the initial draw."""
    docs = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]
    data = tmp_path_factory.mktemp("stages") / "d.txt"
    data.write_text("\n".join(docs))
    run = microgpt.train(data=str(data), steps=10, seed=3, n_embd=16, n_head=4, n_layer=2)
    path = run.save(data.parent / "m.json")
    return microgpt.load(path)


def close(a, b):
    return a == pytest.approx(b, abs=TOL, rel=0)


def test_every_stage_is_the_independent_forwards(model):
    m = model
    t = m.trace("sophia")
    expected = reference.read(m.checkpoint.weights, m.config, m.tokenizer.encode_doc("sophia"))
    assert len(t.positions) == 7
    d = m.config.head_dim
    for pos, (p, (logits, layers)) in enumerate(zip(t.positions, expected)):
        assert close(p.logits, logits)  # the reference is the whole model, not only its attention
        for li, (got, want) in enumerate(zip(p.attention_steps, layers)):
            for name in ("x", "q", "k", "v", "heads", "out"):
                assert len(getattr(got, name)) == m.config.n_embd
                assert close(getattr(got, name), want[name]), (pos, li, name)
            for h in range(m.config.n_head):
                assert len(got.scores[h]) == len(got.scaled[h]) == pos + 1
                assert close(got.scores[h], want["scores"][h]) and close(got.scaled[h], want["scaled"][h])
                assert close(p.attention[li][h], want["weights"][h])
                # the keys a query meets are the earlier positions' own, as cached
                for j in range(pos + 1):
                    k_j = t.positions[j].attention_steps[li].k
                    dot = math.fsum(a * b for a, b in zip(got.q[h * d:(h + 1) * d], k_j[h * d:(h + 1) * d]))
                    assert close(got.scores[h][j], dot)


def test_the_steps_are_the_forwards_own_numbers(model):
    """Not recomputed: each stage is bit for bit what forward.gpt passed along,
    and the block's output is what the stream gained."""
    m = model
    t = m.trace("mia")
    for p in t.positions:
        for li, s in enumerate(p.attention_steps):
            before = p.stream[1 + 2 * li].vector  # embed.norm, or the last layer's MLP point
            after = p.stream[2 + 2 * li].vector
            assert after == [a + b for a, b in zip(s.out, before)]
            assert s.x == forward.rmsnorm(before)
            assert s.out == forward.linear(s.heads, m.checkpoint.weights[f"layer{li}.attn_wo"])
            for h in range(m.config.n_head):
                assert p.attention[li][h] == forward.softmax(s.scaled[h])


def test_recording_gives_the_same_logits_and_names_each_stage(model):
    m = model
    tokens = m.tokenizer.encode_doc("ava")
    plain, recorded = forward.empty_cache(m.config), forward.empty_cache(m.config)
    for pos, tok in enumerate(tokens):
        record = {}
        assert forward.gpt(m.checkpoint.weights, m.config, tok, pos, *plain) == \
            forward.gpt(m.checkpoint.weights, m.config, tok, pos, *recorded, record=record)
        for li in range(2):
            assert {k for k in record if k.startswith(f"layer{li}.attn.")} == \
                {f"layer{li}.attn.{n}" for n in ("x", "q", "k", "v", "scores", "scaled", "heads", "out")}


def test_ablated_heads_and_layers(model):
    m = model
    intact = m.trace("emma")
    zeroed = m.ablate("head:1.2").trace("emma")
    skipped = m.ablate("attn:0").trace("emma")
    d = m.config.head_dim
    for p, q in zip(intact.positions, zeroed.positions):
        assert q.attention_steps[1].heads[2 * d:3 * d] == [0.0] * d
        assert q.attention_steps[0] == p.attention_steps[0]  # layer 0 is untouched
    assert all(p.attention_steps[0] is None and p.attention_steps[1] is not None for p in skipped.positions)
    assert json.loads(json.dumps(skipped.to_dict()))["positions"][0]["attention_steps"][0] is None


@pytest.mark.parametrize("shape", [{"n_embd": 16, "n_head": 4, "n_layer": 2, "block_size": 16},
                                   {"n_embd": 8, "n_head": 2, "n_layer": 1, "block_size": 8},
                                   {"n_embd": 24, "n_head": 3, "n_layer": 3, "block_size": 32, "activation": "gelu"}])
def test_the_diagrams_counts_sum_to_the_models(shape):
    config = GPTConfig(vocab_size=27, **shape)
    a = architecture(config)
    assert [(b["kind"], b["layer"], b["params"]) for b in a["blocks"]] == reference.block_params(config)
    assert sum(b["params"] for b in a["blocks"]) == a["params"] == num_params(config)
    owned = [mat["name"] for b in a["blocks"] for mat in b["matrices"]]
    assert sorted(owned) == sorted(name for name, _ in iter_parameter_shapes(config))  # each matrix once
    assert {b["view"] for b in a["blocks"]} == {"embeddings", "forward", "stages", "read"}


def test_the_card_carries_the_diagram(model):
    explorer = Explorer(load_models([str(model.path)]), [])
    status, _, body = explorer.answer("/api/card")
    assert status == 200
    assert json.loads(body)["architecture"] == architecture(model.config)
