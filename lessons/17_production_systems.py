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
# # Lesson 17 — What production systems add
#
# A production GPT runs the same algorithm as microgpt, plus a list of
# additions that make it trainable at scale, faster, or better. Some are in
# this project (batching, float32, warmup and cosine schedules, weight decay,
# the torch engine); others are shown here in a few lines of NumPy. Where a
# claim can be measured cheaply, it is.
#
# Objectives served: what production systems add beyond the core algorithm;
# which parts are efficiency.

# %%
import random
import time

import numpy as np

from matplotlib.figure import Figure

from microgpt.batches import Documents
from microgpt.config import GPTConfig, TrainConfig
from microgpt.data import BUNDLED_NAMES, read_docs
from microgpt.engines import make_engine
from microgpt.model import init_weights, num_params
from microgpt.optim import learning_rate

from _tools import show

docs = read_docs(BUNDLED_NAMES)
source = Documents(docs, random.Random(42))
tok = source.tokenizer
config = GPTConfig(tok.vocab_size)
weights = init_weights(config, random.Random(42))

# %% [markdown]
# ## 1. Batching
#
# microgpt trains on one name per step. Production trains on many sequences
# at once: the same arithmetic, in larger matrix products that hardware runs
# far more efficiently. Names have different lengths, so a batch is padded to
# the longest and the padding is masked out of the loss; the numpy engine
# does this (`--batch-size`). Check: the loss of a padded batch is the
# token-weighted mean of the names' own losses. Then the speed it buys, timed
# on whatever machine runs the lesson (a timing depends on the machine and
# its load, so it is printed, not asserted; `microgpt bench` measures the
# engines properly).

# %%
engine = make_engine("numpy", config, weights)
names = source.train[:4]
own = [engine.loss_and_grads([tok.encode_doc(n)])[0] for n in names]
counts = [config.predicted(tok.encode_doc(n)) for n in names]
padded = engine.loss_and_grads([tok.encode_doc(n) for n in names])[0]
expected = sum(l * c for l, c in zip(own, counts)) / sum(counts)
print(f"names {names} ({counts} predictions): padded batch loss {padded:.12f}, weighted mean {expected:.12f}")
assert abs(padded - expected) < 1e-12


def tokens_per_second(batch_size, steps=30):
    e = make_engine("numpy", config, weights)
    tokens = 0
    t0 = time.perf_counter()
    for step in range(steps):
        batch = [tok.encode_doc(source.train[(step * batch_size + b) % len(source.train)]) for b in range(batch_size)]
        tokens += sum(config.predicted(t) for t in batch)
        e.train_step(batch, 0.01)
    return tokens / (time.perf_counter() - t0)


one, many = tokens_per_second(1), tokens_per_second(32)
print(f"numpy engine, on this machine now: {one:,.0f} tokens/s one name a step, "
      f"{many:,.0f} tokens/s with 32 ({many / one:.0f}x)")

# %% [markdown]
# ## 2. Lower precision
#
# float64 is microgpt's (Python's) number; GPUs train in float32, bfloat16 or
# less, which halves or quarters memory traffic. The loss barely moves:

# %%
batch = [tok.encode_doc(n) for n in names]
l64 = make_engine("numpy", config, weights).loss_and_grads(batch)[0]
l32 = make_engine("numpy", config, weights, dtype="float32").loss_and_grads(batch)[0]
print(f"loss in float64 {l64:.10f}, in float32 {l32:.10f} (gap {abs(l64 - l32):.1e})")
assert 0 < abs(l64 - l32) < 1e-4
assert np.dtype(np.float64).itemsize == 2 * np.dtype(np.float32).itemsize == 4 * np.dtype(np.float16).itemsize

# %% [markdown]
# ## 3. Dropout
#
# During training, zero a random fraction p of activations and scale the rest
# by 1 / (1 − p); at inference, do nothing. It keeps a large model from
# leaning on any single unit (regularisation). microgpt is too small to need
# it.

# %% [markdown]
# **Predict:** with p = 0.1, a million activations go through dropout. Is
# their mean absolute value afterwards about 10% lower, or about the same?

# %%
rng = np.random.default_rng(0)
h = rng.standard_normal(1_000_000)
p = 0.1
dropped = h * (rng.random(h.size) >= p) / (1 - p)
print(f"mean |h| {np.abs(h).mean():.4f}; after dropout {np.abs(dropped).mean():.4f}; "
      f"zeroed {np.mean(dropped == 0):.1%}")
assert abs(np.abs(dropped).mean() / np.abs(h).mean() - 1) < 0.01 and abs(np.mean(dropped == 0) - p) < 0.01

# %% [markdown]
# About the same: 10% of the values are gone, but the survivors are scaled by
# 1 / 0.9, so the expected value is unchanged. That is why inference can skip
# dropout without rescaling anything: the next layer sees inputs of the same
# size in training and in use.

# %% [markdown]
# ## 4. Weight tying and a bigger vocabulary
#
# `wte` (token → vector) and `lm_head` (vector → token scores) have the same
# shape; GPT-2 uses one matrix for both. With a subword vocabulary of 50,257
# tokens the saving is large. The project's parameter count, at GPT-2 small's
# sizes (n_embd 768, 12 layers, 1024 positions), untied and tied, against
# the published 124,439,808 (which also counts biases and LayerNorm gains,
# which microgpt does not have).

# %% [markdown]
# **Predict:** what share of GPT-2 small's (tied) parameters is the token
# embedding alone: about 1%, about 10% or about 30%? And of microgpt's?

# %%
for name, cfg in (("microgpt", config), ("GPT-2 small", GPTConfig(50257, 768, 12, 12, 1024))):
    untied = num_params(cfg)
    tied = untied - cfg.vocab_size * cfg.n_embd
    share = cfg.vocab_size * cfg.n_embd / tied
    print(f"{name:11s}: {untied:>12,} untied, {tied:>12,} tied ({1 - tied / untied:.1%} saved); "
          f"the token embedding is {share:.0%} of the tied model")
gpt2 = GPTConfig(50257, 768, 12, 12, 1024)
tied = num_params(gpt2) - 50257 * 768
assert num_params(config) == 4192
assert abs(tied - 124_439_808) / 124_439_808 < 0.001
assert abs(50257 * 768 / tied - 0.31) < 0.005 and abs(27 * 16 / (num_params(config) - 27 * 16) - 0.11) < 0.005

# %% [markdown]
# About 30% for GPT-2 small (31%) and about 10% for microgpt (11%): with
# 50,257 subword tokens, the vocabulary is a large part of a mid-sized
# model, which is why tying the two matrices saves so much there (23.7%),
# and why microgpt, with 27 tokens, would gain little.

# %% [markdown]
# ## 5. LayerNorm, RMSNorm and their variants
#
# GPT-2 normalises with LayerNorm: subtract the mean, divide by the standard
# deviation, then a learned gain and bias. RMSNorm (microgpt, LLaMA) skips
# the mean and the bias: it is LayerNorm of a vector whose mean is already
# zero. Checked on a random vector (no gain, no bias, the same ε):

# %%
x = rng.standard_normal(16) + 3.0
eps = 1e-5
layernorm = (x - x.mean()) / np.sqrt(x.var() + eps)
rms = lambda v: v / np.sqrt(np.mean(v * v) + eps)
print(f"max |LayerNorm(x) - RMSNorm(x - mean x)| = {np.abs(layernorm - rms(x - x.mean())).max():.1e}; "
      f"|LayerNorm(x) - RMSNorm(x)| up to {np.abs(layernorm - rms(x)).max():.2f}")
assert np.allclose(layernorm, rms(x - x.mean()), atol=1e-12)

# %% [markdown]
# ## 6. Flash attention
#
# Attention over T positions computes a T × T matrix of scores. Flash
# attention never stores it: it walks the keys in tiles, keeping for each
# query a running maximum, a running sum of exponentials, and a running
# weighted sum of values, rescaling them when the maximum grows (an "online
# softmax"). Same result, memory linear in T:

# %%
T, d, tile = 256, 16, 32
q, k, v = (rng.standard_normal((T, d)) for _ in range(3))
mask = np.triu(np.full((T, T), -np.inf), 1)
s = q @ k.T / np.sqrt(d) + mask
full = np.exp(s - s.max(1, keepdims=True))
full = (full / full.sum(1, keepdims=True)) @ v

out = np.zeros((T, d))
m = np.full(T, -np.inf)
z = np.zeros(T)
for start in range(0, T, tile):
    kt, vt = k[start:start + tile], v[start:start + tile]
    st = q @ kt.T / np.sqrt(d) + mask[:, start:start + tile]  # (T, tile): only one tile of scores at a time
    m_new = np.maximum(m, st.max(1))
    rescale = np.exp(m - m_new)  # what the old sums were measured against, moved to the new maximum
    pt = np.exp(st - m_new[:, None])
    z = z * rescale + pt.sum(1)
    out = out * rescale[:, None] + pt @ vt
    m = m_new
out /= z[:, None]
print(f"largest difference from full attention: {np.abs(out - full).max():.1e}; "
      f"scores held at once: {T * T:,} (full) vs {T * tile:,} (one tile)")
assert np.abs(out - full).max() < 1e-12

# %% [markdown]
# **Break it:** set `tile = 7` in the cell above, which does not divide 256.
# Predict: does the tiled result still match full attention? Then delete the
# line `z = z * rescale + pt.sum(1)`'s `* rescale` and predict again.
#
# (A real kernel also tiles the queries and keeps tiles in the GPU's fast
# on-chip memory; the arithmetic is this.)
#
# ## 7. Schedules, weight decay, clipping
#
# Production runs warm the learning rate up from near zero over the first
# steps (the optimizer's averages and the model are unsettled), then decay it
# (here: cosine); AdamW shrinks every weight a little each step (decoupled
# weight decay); gradient clipping caps the gradient's norm against rare
# spikes. This project has the first two (`--warmup-steps`, `--schedule
# cosine`, `--weight-decay`) and the torch engine the third (`--grad-clip`).

# %% [markdown]
# **Predict:** 100 warmup steps to lr = 1e-3, then cosine decay over the
# remaining 900. At step 550, half-way through the decay, what is the
# learning rate: about 1e-3, about 5e-4, or about 1e-4?

# %%
tc = TrainConfig(steps=1000, lr=1e-3, warmup_steps=100, schedule="cosine")
lrs = [learning_rate(tc, s) for s in range(1000)]
print(f"lr at steps 1, 50, 100, 550, 1000: " + ", ".join(f"{lrs[s - 1]:.2e}" for s in (1, 50, 100, 550, 1000)))
assert lrs[0] < lrs[49] < lrs[99] == tc.lr and lrs[549] < tc.lr and lrs[-1] < 1e-6
assert abs(lrs[549] - tc.lr / 2) < 0.01 * tc.lr  # half-way through a cosine is half the peak
linear = [learning_rate(TrainConfig(steps=1000, lr=1e-3), s) for s in range(1000)]  # microgpt's default

fig = Figure(figsize=(6, 2.5))
ax = fig.add_subplot()
ax.plot(lrs, label="warmup 100 + cosine")
ax.plot(linear, label="linear decay (microgpt)")
ax.set_xlabel("step")
ax.set_ylabel("learning rate")
ax.legend()
show(fig)

# %% [markdown]
# About 5e-4: the cosine is symmetric about its midpoint, so half-way
# through the decay the rate is half the peak, as linear decay would give
# too. The two differ at the ends: cosine stays near the peak longer at the
# start and flattens out near zero at the end, and the warmup starts from
# almost nothing (1e-5 at step 1).

# %% [markdown]
# ## 8. And beyond one machine
#
# * **Scale**: parameters in the billions, context windows of thousands of
#   tokens, trained on trillions of tokens; the loop is the same.
# * **Many devices**: data parallelism (each device a slice of the batch,
#   gradients averaged — `torchrun` with this project's torch engine), and
#   model, tensor and pipeline parallelism when the model itself no longer
#   fits one device.
# * **Better blocks**: GELU or SwiGLU instead of ReLU, rotary position
#   embeddings instead of a learned `wpe`, grouped-query attention to shrink
#   the KV cache.
# * **After pre-training**: fine-tuning on instructions and on human
#   preferences turns a text continuer into an assistant — a different
#   objective on the same network.
