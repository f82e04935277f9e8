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
# # Lesson 16 — What is essential, and what is efficiency
#
# microgpt's algorithm fits in one file of scalar arithmetic. Everything a
# faster implementation adds — bigger graph nodes, arrays, batching, a GPU —
# changes how long a step takes, not what it computes. The project's engines
# make that concrete: `scalar` (one `Value` per operation, the original's
# arithmetic), `fused` (larger nodes on a tape, the same floating-point
# operations in the same order), `numpy` (whole-sequence arrays, explicit
# forward/backward per layer). Same weights, same batch: same loss and
# gradients; a different amount of work, counted below.
#
# Objectives served: essential algorithm versus efficiency; which parts of
# microgpt are which in production systems.

# %%
import random
import time


from microgpt import forward
from microgpt.batches import Documents
from microgpt.config import GPTConfig
from microgpt.data import BUNDLED_NAMES, read_docs
from microgpt.engines import make_engine
from microgpt import model
from microgpt.model import init_weights, num_params, to_values

docs = read_docs(BUNDLED_NAMES)
source = Documents(docs, random.Random(42))
tok = source.tokenizer
config = GPTConfig(tok.vocab_size)
weights = init_weights(config, random.Random(42))
batch = [tok.encode_doc(d) for d in source.train[:2]]

# %% [markdown]
# ## Same numbers
#
# The three engines compute the loss and the gradients of the same batch
# from the same weights.

# %% [markdown]
# **Predict:** will the three losses agree bit for bit, to rounding (about
# 1e-15), or only roughly (about 1e-3)?

# %%
results = {}
for name in ("scalar", "fused", "numpy"):
    engine = make_engine(name, config, weights)
    results[name] = engine.loss_and_grads(batch)
    print(f"{name:6s}: loss {results[name][0]:.15f}")


def max_grad_gap(a, b):
    return max(abs(x - y) for k in a for ra, rb in zip(a[k], b[k]) for x, y in zip(ra, rb))


(ls, gs), (lf, gf), (ln, gn) = results["scalar"], results["fused"], results["numpy"]
print(f"fused vs scalar: loss gap {abs(lf - ls):.1e}, largest gradient gap {max_grad_gap(gf, gs):.1e}")
print(f"numpy vs scalar: loss gap {abs(ln - ls):.1e}, largest gradient gap {max_grad_gap(gn, gs):.1e}")
assert lf == ls and max_grad_gap(gf, gs) == 0.0  # bit for bit
assert abs(ln - ls) < 1e-9 and max_grad_gap(gn, gs) < 1e-9  # arrays sum in another order: rounding only

# %% [markdown]
# The fused engine agrees with the scalar one bit for bit: it does the same
# operations in the same order. The numpy engine agrees to rounding (a gap
# of about 1e-15), because arrays are summed in another order.
#
# ## Different costs
#
# Why the times differ is a count, not a stopwatch: the scalar engine builds
# one `Value` object per arithmetic operation and `backward` visits each of
# them; the fused engine keeps one node per operation on a whole vector (a
# linear layer, a softmax) holding plain floats; numpy hands whole arrays to
# compiled loops. The scalar engine's objects for this batch, counted:

# %%
def seconds_per_step(name, steps):
    engine = make_engine(name, config, weights)
    t0 = time.perf_counter()
    for step in range(steps):
        engine.train_step([tok.encode_doc(source.train[step])], 0.01)
    return (time.perf_counter() - t0) / steps


sd = to_values(weights)
doc_losses = [l for t in batch for l in model.doc_losses(sd, config, t)]
graph = ((1 / len(doc_losses)) * sum(doc_losses)).topological_order()
n_params = num_params(config)
print(f"one scalar step on {len(batch)} names ({len(doc_losses)} predictions): {len(graph):,} Values for "
      f"{n_params:,} parameters, {len(graph) / len(doc_losses):,.0f} per prediction")
assert abs(graph[-1].data - ls) < 1e-12  # the graph counted is the scalar engine's loss for this batch
assert len(graph) > 10 * n_params  # each a Python object, made forward and visited backward, every step

# Times on this machine, as an illustration (they move with the machine and its load; `microgpt bench`
# measures the engines properly)
timing = {"scalar": seconds_per_step("scalar", 3), "fused": seconds_per_step("fused", 10),
          "numpy": seconds_per_step("numpy", 30)}
for name, sec in timing.items():
    print(f"{name:6s}: {1000 * sec:7.1f} ms per step ({timing['scalar'] / sec:5.1f}x scalar)")

# %% [markdown]
# ## One efficiency that is also the model: the KV cache
#
# Generating without a cache means re-running the model over the whole
# prefix for every new token. The cache keeps each position's keys and
# values, so each new token costs one position.

# %% [markdown]
# **Predict:** "isabella" after BOS is 9 positions. With the cache that is 9
# position computations; how many without it? And will the logits differ?

# %%
ids = [tok.bos] + tok.encode("isabella")
with_cache = forward.sequence_logits(weights, config, ids)  # one pass, cache growing
calls = 0
without = []
for n in range(1, len(ids) + 1):  # recompute the whole prefix for each new position
    keys, values = forward.empty_cache(config)
    for pos in range(n):
        logits = forward.gpt(weights, config, ids[pos], pos, keys, values)
        calls += 1
    without.append(logits)
n = len(ids)
print(f"{n} positions: {n} position computations with the cache, {calls} without")
assert without == with_cache and calls == n * (n + 1) // 2
assert (n, calls) == (9, 45)

# %% [markdown]
# 45 = 1 + 2 + … + 9 without the cache against 9 with it, and exactly the
# same logits: for n tokens, n(n + 1)/2 position computations instead of n.

# %% [markdown]
# **Break it:** in the loop without the cache, move the line
# `keys, values = forward.empty_cache(config)` up, before
# `for n in range(1, len(ids) + 1):`, so the cache is emptied once instead of
# for each prefix. Predict: will the logits still match the cached pass? The
# cell below runs that copy.

# %%
stale = []
keys, values = forward.empty_cache(config)  # the moved line: one cache for every prefix
for n_prefix in range(1, len(ids) + 1):
    for pos in range(n_prefix):
        logits = forward.gpt(weights, config, ids[pos], pos, keys, values)
    stale.append(logits)
gap = max(abs(a - b) for x, y in zip(stale, with_cache) for a, b in zip(x, y))
print(f"cache kept across prefixes: {len(keys[0])} keys in it at the end (the name has {n} positions); "
      f"logits off by up to {gap:.2f}")
assert stale[0] == with_cache[0] and gap > 1e-3 and len(keys[0]) == calls

# %% [markdown]
# No: only the first position matches. From the second prefix on, each
# position attends over the keys of every earlier pass as well as its own
# prefix (45 keys by the end, for a 9-position name), so it reads copies of
# positions that are not there. Nothing fails: the cache is correct only
# together with its rule, one cache per sequence, emptied at its start.

# %% [markdown]
# ## Sorting the parts
#
# | part of microgpt | essential (what is computed) | efficiency (how fast) |
# |---|---|---|
# | tokenizer, BOS, next-token task | ✓ | |
# | embeddings, attention, MLP, RMSNorm, residuals | ✓ | |
# | cross-entropy, backprop (the chain rule) | ✓ | |
# | Adam, learning-rate schedule | ✓ (the update rule) | |
# | scalar `Value` per operation | | a teaching device: production frameworks differentiate whole tensor operations |
# | one document per step | | production trains on batches of thousands of tokens at once (lesson 17) |
# | KV cache | the causal order, for free | and the standard way to generate fast |
# | float64 | | production computes in lower precision (lesson 17 measures float32 and bfloat16) |
# | Python loops | | fused GPU kernels (e.g. flash attention; lesson 17 lists more) |
#
# The first four rows are the algorithm; everything below changes only
# speed and memory. `microgpt bench` measures the engines against each other
# on larger configurations.
