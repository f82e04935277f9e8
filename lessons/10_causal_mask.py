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
# # Lesson 10 — The causal mask: what happens when attention sees the future
#
# A language model is trained to predict each next token from the ones
# before it, and generates text the same way, one token at a time. If during
# training a position could attend to *later* positions, it could simply read
# the answer. The causal mask forbids that.
#
# microgpt itself needs no mask: it processes a document one position at a
# time, and the KV cache holds only the positions seen so far. The `numpy`
# engine computes all positions at once, so it needs an explicit mask
# (`numpy_layers.causal_mask`: −∞ above the diagonal). This lesson first
# checks that the two give the same numbers, then removes the mask, trains,
# and measures both the training loss and the quality of what the model
# generates.
#
# Objective served: the purpose of causal masking.

# %%
import math
import random

import numpy as np

from microgpt import forward, sample
from microgpt.batches import Documents
from microgpt.config import GPTConfig, TrainConfig
from microgpt.data import BUNDLED_NAMES, read_docs
from microgpt.engines.numpy_engine import NumpyEngine
from microgpt.engines.numpy_layers import causal_mask
from microgpt.model import init_weights
from microgpt.optim import learning_rate

docs = read_docs(BUNDLED_NAMES)
source = Documents(docs, random.Random(42))
tok = source.tokenizer
config = GPTConfig(tok.vocab_size)
print(causal_mask(4, np.float64))

# %% [markdown]
# ## The mask and the KV cache agree
#
# All positions at once with the mask (numpy) against one position at a time
# with the cache (`forward.py`), on the same weights:

# %%
weights = init_weights(config, random.Random(1))
ids = tok.encode_doc("isabella")
all_at_once = NumpyEngine(config, weights).logits(ids)
one_at_a_time = forward.sequence_logits(weights, config, ids)
gap = float(np.max(np.abs(all_at_once - np.array(one_at_a_time))))
print(f"largest difference over {len(one_at_a_time)} positions: {gap:.1e}")
assert gap < 1e-12

# %% [markdown]
# **Break it:** in `numpy_layers.causal_mask`, change the line
# `return np.triu(np.full((T, T), -np.inf, dtype=dtype), k=1)` to `k=0`, so
# the mask hides the diagonal too: each position sees only the positions
# before it, not itself. Predict: what will the logits at position 0 (reading
# BOS) be? The cell below runs an engine with that mask, on the same weights.

# %%
class PastOnly(NumpyEngine):
    def _mask(self, T):
        return np.triu(np.full((T, T), -np.inf, dtype=self.dtype), k=0)  # the broken line: k=0


with np.errstate(invalid="ignore"):  # numpy would warn about the nan it makes
    past_only = PastOnly(config, weights).logits(ids)
broken_rows = [p for p in range(len(past_only)) if not np.isfinite(past_only[p]).all()]
print(f"positions whose logits are not numbers: {broken_rows}; position 0's first logits: {past_only[0][:3]}")
assert broken_rows == [0] and np.isnan(past_only[0]).all()

# %% [markdown]
# Not numbers (nan). Position 0 has no earlier position, so every score in
# its row is −∞; softmax then divides 0 by 0. The other positions still get
# numbers here (this model has one layer), but the loss of every name would be
# nan from its first prediction, and one nan in a gradient spreads to every
# weight at the next step. The diagonal is what keeps every row of the mask
# with at least one position open.

# %% [markdown]
# ## Remove the mask, train
#
# An engine identical to numpy's but whose mask hides nothing. Two models,
# same initial weights, same batches (16 names a step, 300 steps).

# %% [markdown]
# **Predict:** the masked model's training loss ends near 2.3. Will the
# model without the mask end higher, about the same, or far lower?

# %%
class NoMask(NumpyEngine):
    def _mask(self, T):
        return np.zeros((T, T), dtype=self.dtype)  # every position sees every other, the future too


def train(engine_class, steps=300, batch_size=16):
    tc = TrainConfig(steps=steps, batch_size=batch_size)
    engine = engine_class(config, init_weights(config, random.Random(1)), tc)
    losses = []
    for step in range(steps):
        batch = [tok.encode_doc(source.train[(step * batch_size + b) % len(source.train)])
                 for b in range(batch_size)]
        losses.append(engine.train_step(batch, learning_rate(tc, step)))
    return engine, sum(losses[-50:]) / 50


masked, masked_train = train(NumpyEngine)
peeking, peeking_train = train(NoMask)
print(f"training loss (mean of the last 50 steps): with the mask {masked_train:.3f}, "
      f"without {peeking_train:.3f}")
assert peeking_train < 0.2 < 2.0 < masked_train  # without the mask the training loss collapses
assert abs(masked_train - 2.3) < 0.05 and abs(peeking_train - 0.022) < 0.001

# %% [markdown]
# Far lower: without the mask, the training loss collapses toward zero
# (0.022). Each position attends to the next one and copies the answer. It has learned to read, not
# to predict.
#
# ## Now generate
#
# Generation cannot peek: the next token does not exist yet. Both models are
# now used the only way a generator can use them, one position at a time
# (the same weights, run through `forward.py`'s KV cache). Two measures:
# the held-out loss computed that way (what the model really knows about the
# next letter), and the samples themselves, scored by the masked model (how
# name-like they are: a lower surprise per character is more name-like).

# %% [markdown]
# **Predict:** the model without the mask has the far better training loss.
# Generating one letter at a time, what will its samples look like: better
# names, worse names, or something stranger?

# %%
val = [tok.encode_doc(d) for d in source.val]


def causal_val_loss(engine):
    total, count = NumpyEngine(config, engine.weights()).nll(val)  # the masked forward: no peeking
    return total / count


def samples(engine, n=200):
    rng = random.Random(7)
    return [sample.generate(engine, tok, rng, temperature=1.0) for _ in range(n)]


def surprise_per_char(names, judge):
    w = judge.weights()
    total, count = 0.0, 0
    for name in names:
        s, k = forward.doc_nll(w, config, tok.encode_doc(name))
        total, count = total + s, count + k
    return total / count


results = {}
for label, engine in (("with the mask", masked), ("without", peeking)):
    names = samples(NumpyEngine(config, engine.weights()))
    results[label] = (causal_val_loss(engine), surprise_per_char(names, masked), names)
    v, s, names = results[label]
    print(f"{label:14s}: held-out loss {v:6.3f} | samples' surprise per character (scored by the masked "
          f"model) {s:.3f} | e.g. {names[:6]}")
(mv, ms, m_names), (pv, ps, p_names) = results["with the mask"], results["without"]
empty = {label: sum(1 for n in r[2] if not n) / len(r[2]) for label, r in results.items()}
print(f"empty samples (the model ends the name at once): with the mask {empty['with the mask']:.0%}, "
      f"without {empty['without']:.0%}")
assert empty["without"] > empty["with the mask"]
assert empty["without"] == 1.0  # every sample empty
assert pv > mv + 1.0  # what it knows about the next letter, when it cannot peek, is far worse
assert ps > ms + 0.3  # and its samples are less name-like

# %% [markdown]
# Stranger: every one of its samples is empty. At the first position it never
# learned to predict (it always had the answer in view), and what it does
# put first is the end of the name. The numbers tell the story: a training
# loss near zero, and a model worse
# than a uniform guess (ln 27 ≈ 3.30) the moment it has to predict for real.
#
# ## Discussion
#
# The mask makes training match generation: during training every position
# sees exactly what it will see when generating — itself and the past. With
# a KV cache this comes for free, because the future has not been computed
# yet; computing all positions at once (as every efficient implementation
# does) needs the explicit mask.

# %%
assert pv > math.log(27)
