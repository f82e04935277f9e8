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
# # Lesson 9 — Attention, and why it needs positions
#
# Attention is how one position reads the others: its query is scored against
# every key (a dot product, divided by √head_dim), the scores go through a
# softmax, and the output is the weighted average of the values. This lesson
# computes one head's attention by hand on a trained model, draws the
# weights, and then shows what attention cannot see on its own: order.
#
# Objectives served: tracing scaled dot-product attention; why position
# information is necessary.

# %%
import copy
import math
import random

import microgpt
from microgpt import forward
from microgpt.config import GPTConfig
from microgpt.data import BUNDLED_NAMES
from microgpt.inspection.plots.attention import attention_figure
from microgpt.model import init_weights

from _tools import show

run = microgpt.train(data=BUNDLED_NAMES, steps=600, seed=42, engine="numpy", batch_size=16)
model = microgpt.Model.of(run)
w, config, tok = model.checkpoint.weights, model.config, model.tokenizer
print(f"trained: validation loss {run.val_loss:.4f}; {config.n_layer} layer, {config.n_head} heads "
      f"of {config.head_dim} dimensions")

# %% [markdown]
# ## One head, by hand
#
# Position 4 of "emma" reads the "a". Its query meets the keys of positions
# 0..4 (BOS, e, m, m, a), all taken from the KV cache; head 0 uses the first
# `head_dim` numbers of each.

# %%
ids = [tok.bos] + tok.encode("emma")
keys, values = forward.empty_cache(config)
recorded = []
for pos, t in enumerate(ids):
    recorded = []
    forward.gpt(w, config, t, pos, keys, values, attn=recorded)
# recompute position 4's query from the stream it read
x = forward.rmsnorm(forward.rmsnorm([a + b for a, b in zip(w["wte"][ids[4]], w["wpe"][4])]))
q = forward.linear(x, w["layer0.attn_wq"])
hd = config.head_dim
q0 = q[:hd]
scores = [sum(a * b for a, b in zip(q0, k[:hd])) / math.sqrt(hd) for k in keys[0]]
weights = [math.exp(s - max(scores)) for s in scores]
weights = [v / sum(weights) for v in weights]
out = [sum(a * v[j] for a, v in zip(weights, values[0])) for j in range(hd)]
labels = ["BOS", "e", "m", "m", "a"]
for lab, s, a in zip(labels, scores, weights):
    print(f"key {lab:3s}: score q.k/sqrt({hd}) = {s:+.3f} -> weight {a:.3f}")
print("head 0's output (weighted average of the values):", [round(v, 3) for v in out])
layer, head, model_weights = recorded[0]
assert (layer, head) == (0, 0)
assert max(abs(a - b) for a, b in zip(weights, model_weights)) < 1e-12
assert abs(sum(weights) - 1) < 1e-12

# %% [markdown]
# Why divide by √head_dim? Take q and k of d random numbers, each of standard
# deviation 1.

# %% [markdown]
# **Predict:** for d = 256, what is the standard deviation of q·k: about 1,
# about 16, or about 256?

# %%
rng = random.Random(0)
for d in (4, 64, 256):
    dots = [sum(rng.gauss(0, 1) * rng.gauss(0, 1) for _ in range(d)) for _ in range(1000)]
    sd = math.sqrt(sum(v * v for v in dots) / len(dots))
    print(f"d = {d:4d}: std of q.k = {sd:6.2f} (sqrt d = {math.sqrt(d):5.2f}); after dividing: {sd / math.sqrt(d):.2f}")
    assert abs(sd / math.sqrt(d) - 1) < 0.1

# %% [markdown]
# About 16 = √256: a sum of d independent products, each of variance 1, has
# variance d. Dividing by √head_dim keeps the scores' spread independent of
# the head's width, which keeps the softmax from saturating (one weight near
# 1, the rest near 0) as heads get wider.
#
# All heads, as pictures (row = the position reading, column = the position
# read; the upper triangle is the future, which no position sees):

# %%
show(attention_figure(w, config, tok, "emma", "attention weights reading 'emma'"))

# %% [markdown]
# **Break it:** in the "one head, by hand" cell, change the line
# `scores = [sum(a * b for a, b in zip(q0, k[:hd])) / math.sqrt(hd) for k in keys[0]]`
# to leave out the `/ math.sqrt(hd)`. Predict: will head 0's weights at
# position 4 get flatter or sharper? The cell below recomputes them that way.

# %%
unscaled = [sum(a * b for a, b in zip(q0, k[:hd])) for k in keys[0]]
sharp = [math.exp(s - max(unscaled)) for s in unscaled]
sharp = [v / sum(sharp) for v in sharp]
entropy = lambda ws: -sum(v * math.log(v) for v in ws if v > 0)
print(f"largest weight: {max(weights):.3f} scaled, {max(sharp):.3f} unscaled; "
      f"entropy {entropy(weights):.3f} vs {entropy(sharp):.3f} nats")
assert max(sharp) > max(weights) and entropy(sharp) < entropy(weights)

# %% [markdown]
# Sharper: without the division every score is √head_dim = 2 times larger, the
# gaps between them too, and softmax gives more weight to the largest. With
# head_dim 4 the change is modest; with head_dim 256 (the √256 = 16 above) the
# softmax would put nearly all its weight on one key from the start, and
# gradients through the other weights would all but vanish.

# %% [markdown]
# ## Attention alone does not know order
#
# Look at what the output at the last position depends on: the query of the
# current token, and the set of (key, value) pairs of the earlier ones. A sum
# weighted by a softmax does not care in which order its terms come. So if
# nothing in a key or a value says *where* its token was, the last position
# cannot tell "emma" from "mema". In microgpt that "where" is `wpe`. Below,
# the last position's logits for "emma", "mema" and "mmea" (the same letters,
# the same last letter), with `wpe` and with `wpe` zeroed.

# %% [markdown]
# **Predict:** with `wpe` zeroed, will the three orders give different
# next-letter logits, or the same ones?

# %%
def last_logits(weights, text, cfg=config):
    return forward.sequence_logits(weights, cfg, [tok.bos] + tok.encode(text))[-1]


no_wpe = copy.deepcopy(w)
no_wpe["wpe"] = [[0.0] * config.n_embd for _ in range(config.block_size)]
orders = ["emma", "mema", "mmea"]  # the same earlier letters, the same last letter "a"
for name, ws in (("with wpe", w), ("wpe zeroed", no_wpe)):
    ref = last_logits(ws, orders[0])
    diffs = [max(abs(a - b) for a, b in zip(ref, last_logits(ws, o))) for o in orders[1:]]
    print(f"{name:10s}: largest change of the last position's logits when the order changes: {max(diffs):.1e}")
    if name == "wpe zeroed":
        assert max(diffs) < 1e-12  # the same, up to the order floating-point sums are taken in
    else:
        assert min(diffs) > 1e-3

# %% [markdown]
# The same: with `wpe` the model tells the orders apart; without it, it cannot (the
# tiny difference left is rounding: the same numbers added in another
# order). Only positions' *order* is lost: which letters came, and how
# often, still reach the last position.
#
# One caveat, checked below: this exact invariance holds for one layer. In a
# stack of causal layers, an earlier position's own output depends on what
# came before *it*, so order leaks in through the layers even with no
# position embedding — a way models without positional embeddings learn
# some notion of position. With two layers (random weights suffice to show
# it) the outputs change with the order:

# %%
cfg2 = GPTConfig(tok.vocab_size, n_layer=2)
w2 = init_weights(cfg2, random.Random(1))
w2["wpe"] = [[0.0] * cfg2.n_embd for _ in range(cfg2.block_size)]
ref = last_logits(w2, orders[0], cfg2)
diff2 = max(max(abs(a - b) for a, b in zip(ref, last_logits(w2, o, cfg2))) for o in orders[1:])
print(f"two layers, wpe zeroed: the last position's logits change by up to {diff2:.1e}")
assert diff2 > 1e-9

# %% [markdown]
# Try it: `microgpt exercise 8` (an attention head with a KV cache).
