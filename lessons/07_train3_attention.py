# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 7 — train3: positions, attention, RMSNorm and residuals
#
# Up to train2 the model saw one character. `train3.py` is the first rung that
# sees the whole name so far: it adds a learned vector per *position* (`wpe`),
# one attention head that lets each position gather information from the
# earlier ones, RMSNorm, and residual connections. This lesson reads the
# diff, runs the rung briefly, and then follows one token through a complete
# transformer block of a trained microgpt.
#
# Objectives served: token and position embeddings and how they combine;
# scaled dot-product attention; the data flow through a complete block.

# %%
import math

import microgpt
from microgpt import forward
from microgpt.data import BUNDLED_NAMES
from microgpt.ladder import train2, train3

from _tools import NamesFile, changed_lines, rung_diff

# %% [markdown]
# ## What changed from train2

# %%
diff = rung_diff(train2, train3)
removed, added = changed_lines(diff)
print("\n".join(diff))
print(f"\n{removed} lines removed, {added} added")
assert any('"wpe"' in line for line in diff if line.startswith("+"))
assert any("def rmsnorm" in line for line in diff if line.startswith("+"))

# %% [markdown]
# Read the new `gpt()`: the input is `wte[token] + wpe[pos]`, normalised; the
# attention block normalises again, projects to a query, a key and a value,
# appends the key and value to per-document lists (the KV cache), scores the
# query against every cached key (dot product over √n_embd), softmaxes the
# scores into weights, and takes the weighted average of the cached values;
# its output is projected and *added* to the block's input (the residual).
# The MLP block follows the same pattern. The loops pass `keys, values`
# along, emptied at the start of each document.
#
# ## A brief run
#
# Each step builds a Value graph over attention too, so it is slower than
# train2; twenty steps on the names show it learning.

# %%
with NamesFile() as path:
    result = train3.run(steps=1000, data=path, log=None, stop_after=20)
losses = result["losses"]
print(f"{result['params']:,} parameters; losses: " + " ".join(f"{x:.3f}" for x in losses))
print(f"{result['seconds']:.1f} s for {len(losses)} steps")
assert result["params"] == 4192
assert sum(losses[-5:]) / 5 < losses[0] - 0.1

# %% [markdown]
# The ladder's full run (`microgpt ladder`, and docs/ladder.md's table) shows
# train3 as the first rung to beat the bigram counts: context helps.
#
# ## Embeddings: two tables, one sum
#
# From here on the lesson uses a trained microgpt (the API, the numpy engine,
# a few hundred steps): its `wte` has a learned vector per token and its
# `wpe` a learned vector per position; the model's input at a position is
# their sum. `model.trace` records that sum.

# %% [markdown]
# **Predict:** in "emma", the letter "m" is read at position 2 and again at
# position 3. Does the model receive the same input vector both times?

# %%
run = microgpt.train(data=BUNDLED_NAMES, steps=300, seed=42, engine="numpy", batch_size=16)
model = microgpt.Model.of(run)
w, config, tok = model.checkpoint.weights, model.config, model.tokenizer
t = model.trace("emma")
p2, p3 = t.positions[2], t.positions[3]  # both read an "m", at positions 2 and 3
m = tok.stoi["m"]
assert p2.token == p3.token == "m"
assert p2.stream[0].vector == [a + b for a, b in zip(w["wte"][m], w["wpe"][2])]
assert p3.stream[0].vector == [a + b for a, b in zip(w["wte"][m], w["wpe"][3])]
gap = math.dist(p2.stream[0].vector, p3.stream[0].vector)
print(f"'m' at position 2 and at 3 enter the model as vectors {gap:.3f} apart "
      f"(the distance between wpe[2] and wpe[3])")
assert abs(gap - math.dist(w["wpe"][2], w["wpe"][3])) < 1e-12 and gap > 0

# %% [markdown]
# No: the two inputs differ by exactly the gap between `wpe[2]` and `wpe[3]`,
# so the same letter at two positions enters as two different vectors, and
# the model can tell them apart. Without `wpe` they would be identical
# (lesson 9 zeroes it and watches the order vanish).

# %% [markdown]
# ## One token through a complete block
#
# Position 3 of "emma" (reading the second "m", predicting "a"), step by
# step. `model.trace` records the residual stream at each point the model
# passes it on; the lesson recomputes the block in between with
# `forward.py`'s own functions and checks it lands on the recorded vectors.

# %% [markdown]
# **Predict:** having read "emm", which letter will this model (300 steps of
# training) find most likely next, and will it give that letter more or less
# than half of the probability? And of the MLP's 64 hidden neurons, will a
# few, about a third, or nearly all be active after the ReLU?

# %%
pos = 3
ids = [tok.bos] + tok.encode("emma")
keys, values = forward.empty_cache(config)
for p in range(pos):  # the earlier positions fill the KV cache
    forward.gpt(w, config, ids[p], p, keys, values)
n_cache = len(keys[0])

x = forward.rmsnorm([a + b for a, b in zip(w["wte"][ids[pos]], w["wpe"][pos])])  # the stream starts normalised
assert x == p3.stream[1].vector  # "embed.norm"
# attention block (pre-norm): normalise, project, attend over the cache, project, add
h = forward.rmsnorm(x)
q, k, v = (forward.linear(h, w[f"layer0.attn_w{c}"]) for c in "qkv")
ks, vs = keys[0] + [k], values[0] + [v]
hd = config.head_dim
out = []
for head in range(config.n_head):
    s = slice(head * hd, (head + 1) * hd)
    scores = [forward.fsum(a * b for a, b in zip(q[s], kk[s])) * (hd**0.5) ** -1 for kk in ks]
    att = forward.softmax(scores)
    assert att == p3.attention[0][head]  # the weights trace recorded
    out += [forward.fsum(a * vv[s][j] for a, vv in zip(att, vs)) for j in range(hd)]
x = [a + b for a, b in zip(forward.linear(out, w["layer0.attn_wo"]), x)]
assert x == p3.stream[2].vector  # "layer0.attn"
# MLP block (pre-norm): normalise, expand 4x, ReLU, project back, add
hidden = [max(0, a) for a in forward.linear(forward.rmsnorm(x), w["layer0.mlp_fc1"])]
x = [a + b for a, b in zip(forward.linear(hidden, w["layer0.mlp_fc2"]), x)]
assert x == p3.stream[3].vector  # "layer0.mlp"
logits = forward.linear(x, w["lm_head"])
probs = forward.softmax(logits)
assert probs == p3.probs

shapes = [("input wte[m] + wpe[3]", config.n_embd), ("q, k, v", config.n_embd),
          (f"{config.n_head} heads of", hd), ("keys/values in the cache", n_cache + 1),
          ("MLP hidden", len(hidden)), ("logits", len(logits))]
for name, size in shapes:
    print(f"{name:28s} {size}")
best = max(range(len(probs)), key=probs.__getitem__)
print(f"neurons active after the ReLU: {sum(1 for a in hidden if a > 0)} of {len(hidden)}")
print(f"p('a' next) = {probs[tok.stoi['a']]:.3f}; the most likely next token: {t.vocab[best]!r}")
assert len(hidden) == 4 * config.n_embd and n_cache + 1 == pos + 1
assert t.vocab[best] == "a" and 0.25 < probs[best] < 0.5
assert 0.25 < sum(1 for a in hidden if a > 0) / len(hidden) < 0.4

# %% [markdown]
# "a", with about a third of the probability (0.337): the model has learned
# that "emm" often goes on to "a", as in "emma", but it is far from sure. About
# a third of the MLP's neurons fire (22 of 64); the ReLU zeroes the rest, so
# each token uses its own subset of the MLP.
#
# Every line above is equal, bit for bit, to what the model computed: the
# block is nothing more than these few operations.

# %% [markdown]
# **Break it:** in the cell above, change the line
# `ks, vs = keys[0] + [k], values[0] + [v]` to `ks, vs = keys[0], values[0]`,
# so the position attends over the cache but not over its own key and value.
# Predict: will the model still say "a" after "emm", and will anything else
# change? The cell below reruns the block that way, on the same input.

# %%
def block_output(x, include_self):
    h = forward.rmsnorm(x)
    q, k, v = (forward.linear(h, w[f"layer0.attn_w{c}"]) for c in "qkv")
    ks, vs = (keys[0] + [k], values[0] + [v]) if include_self else (keys[0], values[0])
    out = []
    for head in range(config.n_head):
        s = slice(head * hd, (head + 1) * hd)
        att = forward.softmax([forward.fsum(a * b for a, b in zip(q[s], kk[s])) * (hd**0.5) ** -1 for kk in ks])
        out += [forward.fsum(a * vv[s][j] for a, vv in zip(att, vs)) for j in range(hd)]
    x = [a + b for a, b in zip(forward.linear(out, w["layer0.attn_wo"]), x)]
    hidden = [max(0, a) for a in forward.linear(forward.rmsnorm(x), w["layer0.mlp_fc1"])]
    x = [a + b for a, b in zip(forward.linear(hidden, w["layer0.mlp_fc2"]), x)]
    return forward.softmax(forward.linear(x, w["lm_head"]))


x_in = p3.stream[1].vector
assert block_output(x_in, include_self=True) == probs  # the copy, unbroken, is the block above
blind = block_output(x_in, include_self=False)
top5 = lambda ps: [t.vocab[i] for i in sorted(range(len(ps)), key=lambda i: -ps[i])[:5]]
print(f"without its own key: p('a') {blind[tok.stoi['a']]:.3f} (was {probs[tok.stoi['a']]:.3f}); "
      f"top five {top5(blind)} (were {top5(probs)})")
assert blind != probs and abs(blind[tok.stoi["a"]] - probs[tok.stoi["a"]]) > 0.01

# %% [markdown]
# Still "a", but with another probability (the numbers above): the position
# no longer reads its own value through attention; only the residual carries
# the current letter on. Nothing fails and no shape is wrong, so a cache bug
# of this kind shows up only as a model whose numbers in generation differ
# from those it was trained with, which is why the lesson checks every step
# against `model.trace`.
#
# ## Discussion
#
# train3 has everything a transformer block needs. train4 splits the one head
# into several and stacks blocks; train5 changes only the optimizer. Lessons
# 8–11 take the new pieces one at a time: RMSNorm, attention and positions,
# the causal mask, residuals.
