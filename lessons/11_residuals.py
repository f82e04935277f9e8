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
# # Lesson 11 — Residual connections and gradient flow
#
# Each block of microgpt *adds* its output to its input: `x = x + block(x)`.
# The sum gives the gradient a direct path: d(x + f(x))/dx = 1 + f'(x), so
# whatever the block does, the gradient arriving from above reaches the
# block's input undiminished, plus the block's own share. Without the
# residual, the gradient has to pass *through* every block, and a product of
# many per-layer factors rarely stays near 1.
#
# This lesson measures gradient norms per layer with and without residuals:
# first in a plain deep stack, then in a deeper microgpt, and then looks at
# the residual stream of a trained model.
#
# Objectives served: how residual connections help gradient flow in deep
# networks (and, again, why normalization matters).

# %%
import gc
import math
import random

import numpy as np
from matplotlib.figure import Figure

import microgpt
from microgpt import model
from microgpt.batches import Documents
from microgpt.config import GPTConfig
from microgpt.data import BUNDLED_NAMES, read_docs
from microgpt.model import init_weights, linear, rmsnorm, softmax, to_values

from _tools import show

# %% [markdown]
# ## A plain deep stack
#
# Twenty layers `h = relu(W h)` (16 wide, weights at microgpt's init scale,
# std 0.08), with and without `h = h + relu(W h)`. The loss is the sum of the
# top layer's outputs; backward by hand, and at each layer the norm of the
# gradient that reaches its input, |dL/dh| — the signal that layer and all
# the layers below it will learn from.

# %% [markdown]
# **Predict:** without residuals, the gradient at the top layer's input is
# about 1. Twenty layers down, at layer 1: about 1, about 1e-3, or below
# 1e-10? And with residuals?

# %%
def stack_grad_norms(residual, depth=20, n=16, std=0.08, seed=0):
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(0, std, (n, n)) for _ in range(depth)]
    h = rng.standard_normal(n)
    pre = []
    for W in Ws:  # forward, keeping what backward needs
        a = W @ h
        pre.append(a)
        h = (h + np.maximum(a, 0)) if residual else np.maximum(a, 0)
    g = np.ones(n)  # d(sum of outputs)/d(output)
    norms = []
    for W, a in zip(reversed(Ws), reversed(pre)):
        ga = g * (a > 0)  # through the ReLU
        g = W.T @ ga + (g if residual else 0)  # the residual path passes g straight through
        norms.append(float(np.linalg.norm(g)))  # dL/dh at this layer's input
    return norms[::-1]  # layer 1 first


plain, res = stack_grad_norms(False), stack_grad_norms(True)
for layer in (1, 5, 10, 20):
    print(f"layer {layer:2d}: |dL/dh| without residuals {plain[layer - 1]:.1e}, with {res[layer - 1]:.1e}")
print(f"first layer / last layer: without {plain[0] / plain[-1]:.1e}, with {res[0] / res[-1]:.2f}")
assert plain[0] / plain[-1] < 1e-6  # vanishes: the first layers get (almost) no signal
assert abs(plain[-1] - 1) < 0.5 and plain[0] < 1e-10 and res[0] > res[-1]
print(f"with residuals, the smallest gradient of any layer is {min(res) / res[-1]:.2f} times the top layer's")
assert min(res) > 0.5 * res[-1]  # with residuals no layer is starved: the sum passes g down, branches add to it

fig = Figure(figsize=(6, 3.2))
ax = fig.add_subplot()
ax.semilogy(range(1, 21), plain, marker="o", label="no residual")
ax.semilogy(range(1, 21), res, marker="o", label="residual")
ax.set_xlabel("layer (1 = nearest the input)")
ax.set_ylabel("|dL/dh| at the layer's input")
ax.legend()
show(fig)

# %% [markdown]
# Below 1e-10 without residuals (4.7e-14): each layer multiplies the gradient
# by a small matrix, and twenty of them leave nothing for the first layers to
# learn from. With residuals the first layer gets *more* than the top one:
# the sum passes the gradient down unchanged, and each branch adds its share.

# %% [markdown]
# **Break it:** keep the residual in the forward pass but forget it in the
# backward one: in `stack_grad_norms`, change the line
# `g = W.T @ ga + (g if residual else 0)` to `g = W.T @ ga`. Predict: with
# the forward still `h = h + relu(W h)`, what will layer 1's gradient be? The
# cell below runs that copy of the backward pass.

# %%
def forgetful_grad_norms(depth=20, n=16, std=0.08, seed=0):
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(0, std, (n, n)) for _ in range(depth)]
    h = rng.standard_normal(n)
    pre = []
    for W in Ws:
        a = W @ h
        pre.append(a)
        h = h + np.maximum(a, 0)  # the forward keeps its residual
    g = np.ones(n)
    norms = []
    for W, a in zip(reversed(Ws), reversed(pre)):
        g = W.T @ (g * (a > 0))  # the broken line: the residual's share of the gradient is dropped
        norms.append(float(np.linalg.norm(g)))
    return norms[::-1]


forgetful = forgetful_grad_norms()
print(f"layer 1's |dL/dh|: right backward {res[0]:.1e}, backward without the residual path {forgetful[0]:.1e}")
assert forgetful[0] < 1e-6 * res[0]

# %% [markdown]
# As small as with no residual at all (its order of magnitude, 1e-14 or
# so): the forward's sum only helps if the backward passes the gradient
# along the same path. Autograd cannot make this mistake — the `+` in the
# forward is what gives the backward its path — which is one more reason
# hand-written backward passes are checked against numbers (lesson 4).
#
# ## A deeper microgpt
#
# Now the real block, four layers deep, on the Value autograd. The lesson's
# `gpt` below is `model.gpt` with one switch, `residual`; with the switch on
# it is checked to give exactly `model.gpt`'s logits.

# %%
def gpt(sd, config, token_id, pos_id, keys, values, residual=True):
    hd = config.head_dim
    x = rmsnorm([t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])])
    for li in range(config.n_layer):
        x_residual = x
        x = rmsnorm(x)
        q, k, v = (linear(x, sd[f"layer{li}.attn_w{c}"]) for c in "qkv")
        keys[li].append(k)
        values[li].append(v)
        x_attn = []
        for h in range(config.n_head):
            s = slice(h * hd, (h + 1) * hd)
            att = softmax([sum(a * b for a, b in zip(q[s], kk[s])) / hd**0.5 for kk in keys[li]])
            x_attn.extend(sum(a * vv[s][j] for a, vv in zip(att, values[li])) for j in range(hd))
        x = linear(x_attn, sd[f"layer{li}.attn_wo"])
        if residual:
            x = [a + b for a, b in zip(x, x_residual)]
        x_residual = x
        x = [xi.relu() for xi in linear(rmsnorm(x), sd[f"layer{li}.mlp_fc1"])]
        x = linear(x, sd[f"layer{li}.mlp_fc2"])
        if residual:
            x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, sd["lm_head"])


docs = read_docs(BUNDLED_NAMES)
source = Documents(docs, random.Random(42))
tok = source.tokenizer
config = GPTConfig(tok.vocab_size, n_layer=4)
weights = init_weights(config, random.Random(1))

sd = to_values(weights)
ids = tok.encode_doc("emma")
k1, v1 = model.empty_cache(config)
k2, v2 = model.empty_cache(config)
for p in range(3):
    ours = [l.data for l in gpt(sd, config, ids[p], p, k1, v1)]
    theirs = [l.data for l in model.gpt(sd, config, ids[p], p, k2, v2)]
    assert ours == theirs

# %%
def layer_grad_norms(residual, names=source.train[:4]):
    sd = to_values(weights)
    losses = []
    for name in names:
        ids = tok.encode_doc(name)
        keys, values = model.empty_cache(config)
        for p in range(config.predicted(ids)):
            probs = softmax(gpt(sd, config, ids[p], p, keys, values, residual))
            losses.append(-probs[ids[p + 1]].log())
    loss = (1 / len(losses)) * sum(losses)
    loss.backward()
    return [math.sqrt(sum(p.grad**2 for key in sd if key.startswith(f"layer{li}.")
                          for row in sd[key] for p in row)) for li in range(config.n_layer)]


gc.disable()  # a Value graph has no cycles: the collector would only cost time
try:
    with_res, without_res = layer_grad_norms(True), layer_grad_norms(False)
finally:
    gc.enable()
for li, (a, b) in enumerate(zip(with_res, without_res)):
    print(f"layer {li}: |grad| with residuals {a:.3f}, without {b:.3f}")
spread = lambda xs: max(xs) / min(xs)
print(f"largest / smallest layer: with {spread(with_res):.2f}, without {spread(without_res):.2f}")
assert spread(with_res) < 1.5  # with residuals, every layer's gradient is about the same size

# %% [markdown]
# With residuals, every layer's gradient is about the same size. Without
# them, the gradient does *not* vanish in this model the way it did in the
# plain stack — each block reads its input through an RMSNorm, which
# rescales activations on the way forward and gradients on the way back —
# but the layers' gradients are now whatever the product of the blocks'
# Jacobians happens to make them. Normalization and residuals are two
# answers to the same problem, and deep transformers use both: the norm keeps
# each block's *input* at a fixed scale, the residual keeps a direct path
# from the loss to every layer.
#
# ## The residual stream of a trained model
#
# Read the model the other way: the residual stream is a running sum that
# every block adds to. `model.trace` records it after each block (a
# four-layer model, 300 steps).

# %% [markdown]
# **Predict:** as the stream passes through the four blocks, will its length
# (norm) grow, shrink, or stay about the same?

# %%
run = microgpt.train(data=BUNDLED_NAMES, steps=300, seed=42, engine="numpy", batch_size=16, n_layer=4)
t = microgpt.Model.of(run).trace("emma")
points = [pt.name for pt in t.positions[0].stream]
fig = Figure(figsize=(7, 3.2))
ax = fig.add_subplot()
for position in t.positions:
    ax.plot(range(len(points)), [pt.norm for pt in position.stream], marker="o", label=f"reading {position.token}")
ax.set_xticks(range(len(points)), points, rotation=30, fontsize=8)
ax.set_ylabel("|residual stream|")
ax.legend(fontsize=7)
show(fig)
grew = sum(1 for position in t.positions if position.stream[-1].norm > position.stream[1].norm)
print(f"the stream ends longer than it started at {grew} of {len(t.positions)} positions")
assert grew == len(t.positions)

# %% [markdown]
# It grows, at every position: each block adds its contribution to the sum
# and nothing normalises the stream itself (the norms act on the copies the
# blocks read), so it ends longer than it started.
