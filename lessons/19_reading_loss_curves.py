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
# # Lesson 19 — Reading loss curves
#
# A loss is a number; a run is a curve of them, and there are two curves
# that matter: the loss on the names the model trains on, and the loss on
# held-out names it never sees. This lesson places three landmarks on the
# names (what 3.30, 2.46 and 2.38 each mean), draws the training and
# validation loss of one run, and then over-fits a model on purpose, to see
# what memorising looks like.
#
# Objectives served: reading loss values as training goes.

# %%
import math
import random
from collections import Counter
from itertools import pairwise

from matplotlib.figure import Figure

import microgpt
from microgpt.batches import Documents
from microgpt.config import GPTConfig, TrainConfig
from microgpt.data import BUNDLED_NAMES, read_docs
from microgpt.engines.numpy_engine import NumpyEngine
from microgpt.model import init_weights
from microgpt.optim import learning_rate

from _tools import show

source = Documents(read_docs(BUNDLED_NAMES), random.Random(42))  # the split every run of the package uses
tok = source.tokenizer
config = GPTConfig(tok.vocab_size)
val = [tok.encode_doc(d) for d in source.val]

# %% [markdown]
# ## Three landmarks
#
# Every loss below is the mean of −ln p(the token that came next) over the
# 1,000 held-out names. A model that knows nothing spreads its probability
# evenly over the 27 tokens and scores ln 27 ≈ 3.30 everywhere.

# %% [markdown]
# **Predict:** where will the bigram count table of lesson 1 (the next letter
# from the previous one) land between 3.30 and 0? And microgpt after its
# default 1000 steps, one name per step: below the table, or above it?

# %%
uniform = math.log(tok.vocab_size)

counts = [[1] * tok.vocab_size for _ in range(tok.vocab_size)]  # add-one smoothing, as train0
for d in source.train:
    t = tok.encode_doc(d)
    for a, b in pairwise(t):
        counts[a][b] += 1
nll, n = 0.0, 0
for t in val:
    for a, b in list(pairwise(t))[: config.block_size]:
        nll, n = nll - math.log(counts[a][b] / sum(counts[a])), n + 1
bigram = nll / n

default_run = microgpt.train(data=BUNDLED_NAMES, steps=1000, seed=42, engine="numpy")  # batch 1: one name a step
for name, loss in (("uniform guess", uniform), ("bigram counts", bigram), ("microgpt, 1000 steps", default_run.val_loss)):
    print(f"{name:21s} loss {loss:.4f}   perplexity {math.exp(loss):5.2f}")
assert abs(uniform - 3.2958) < 1e-4 and abs(bigram - 2.46) < 0.005 and abs(default_run.val_loss - 2.38) < 0.005
assert default_run.val_loss < bigram < uniform
assert (round(math.exp(bigram)), round(math.exp(default_run.val_loss))) == (12, 11)

# %% [markdown]
# The table lands at 2.46 and microgpt, after 1000 names, just below it at
# 2.38. Read as perplexities: the uniform guess is as unsure as a fair choice
# among 27 tokens, the table among about 12, microgpt among about 11. The
# table is the best any model can do *that sees one letter*; falling below
# it means the model uses more of the name. It does so only a little here:
# 1000 steps of one name each have shown the model 1000 of the 31,033
# training names.
#
# ## Training and validation loss of one run
#
# Now a longer look: 16 names a step for 1000 steps (the numpy engine,
# batched), measuring every 100 steps the loss on 1000 of the training
# names and on the 1000 held-out names.

# %%
def train_curve(names, steps, batch_size, every):
    """Train a fresh model on `names`, cycling through them; at the start and every
    `every` steps: (step, loss on up to 1000 of those names, loss on the held-out names)."""
    tc = TrainConfig(steps=steps, batch_size=batch_size)
    engine = NumpyEngine(config, init_weights(config, random.Random(42)), tc)
    docs = [tok.encode_doc(d) for d in names]
    curve = [(0, *(total / count for total, count in (engine.nll(docs[:1000]), engine.nll(val))))]
    for step in range(steps):
        engine.train_step([docs[(step * batch_size + b) % len(docs)] for b in range(batch_size)],
                          learning_rate(tc, step))
        if (step + 1) % every == 0:
            (tr, tn), (va, vn) = engine.nll(docs[:1000]), engine.nll(val)
            curve.append((step + 1, tr / tn, va / vn))
    return curve


def plot(ax, curve, title):
    steps, train_loss, val_loss = zip(*curve)
    ax.plot(steps, train_loss, marker="o", label="training names")
    ax.plot(steps, val_loss, marker="o", label="held-out names")
    ax.axhline(uniform, color="k", linestyle="--", linewidth=1, label="ln 27 (uniform)")
    ax.axhline(bigram, color="gray", linestyle=":", linewidth=1, label="bigram counts")
    ax.set_xlabel("step")
    ax.set_ylabel("mean loss")
    ax.set_title(title)
    ax.legend(fontsize=8)

# %% [markdown]
# **Predict:** will the validation loss end far above the training loss,
# about the same, or below it?

# %%
curve = train_curve(source.train, steps=1000, batch_size=16, every=100)
for step, tr, va in curve:
    print(f"step {step:4d}: training names {tr:.4f} | held-out names {va:.4f} | gap {va - tr:+.4f}")
gaps = [va - tr for step, tr, va in curve if step > 0]
assert all(0 < g < 0.04 for g in gaps)  # about the same, validation a little above
assert all(b[2] < a[2] for a, b in pairwise(curve))  # and still falling at every measurement

fig = Figure(figsize=(6, 3.2))
plot(fig.add_subplot(), curve, "31,033 training names, 16 a step")
show(fig)

# %% [markdown]
# About the same: the held-out loss ends at most 0.04 above the training
# loss, and both are still falling at the last measurement. This is a
# healthy run. The model has 4,192 parameters and has seen each of the
# 16,000 names it trained on once, so it cannot memorise them; what it
# learns about the training names holds for new names too. A curve still
# falling says more steps would help; a small gap says the model is not yet
# the limit.
#
# ## Over-fitting on purpose
#
# Now give the same model only 20 names, and train on all 20 at every step.

# %% [markdown]
# **Predict:** over 300 steps, what happens to the loss on the 20 training
# names? And to the loss on the held-out names: will it fall, stay, or rise?
# Could it end above 3.30, worse than the uniform guess?

# %%
few = source.train[:20]
overfit = train_curve(few, steps=300, batch_size=20, every=10)
for step, tr, va in overfit[:7] + overfit[-1:]:
    print(f"step {step:3d}: the 20 training names {tr:.4f} | held-out names {va:.4f}")
best_step, _, best_val = min(overfit, key=lambda c: c[2])
print(f"held-out loss is lowest at step {best_step} ({best_val:.2f}), then rises to {overfit[-1][2]:.2f}")

# The lowest training loss any model that reads the whole prefix can reach on these 20 names:
# after each prefix, the next token's own frequencies among the names that share that prefix.
follows = {}
for d in few:
    t = tok.encode_doc(d)
    for p in range(config.predicted(t)):
        follows.setdefault(tuple(t[: p + 1]), Counter())[t[p + 1]] += 1
floor = sum(-c * math.log(c / sum(nexts.values())) for nexts in follows.values() for c in nexts.values())
floor /= sum(sum(nexts.values()) for nexts in follows.values())
firsts = Counter(d[0] for d in few)
print(f"training loss {overfit[-1][1]:.4f}; the floor computed from the names themselves {floor:.4f} "
      f"(their {len(few)} first letters take {len(firsts)} values)")
assert abs(overfit[-1][1] - floor) < 0.01 and abs(overfit[-1][1] - 0.40) < 0.005  # memorised, to the floor
assert 0 < best_step <= 20 and overfit[-1][2] > uniform + 5  # held-out loss turns early, then climbs past ln 27

fig = Figure(figsize=(6, 3.2))
plot(fig.add_subplot(), overfit, "20 training names, all 20 every step")
show(fig)

# %% [markdown]
# The training loss falls to 0.40 and stays there: the model has memorised
# the 20 names. It cannot go lower, because from BOS alone nothing tells
# which of the 20 names comes, so the first letter stays a guess among the
# names' first letters; the floor computed from the names themselves says
# exactly where the curve must stop. The held-out loss falls at first (what
# the 20 names share with all names is learned first), then, within 20
# steps, turns and climbs past 3.30: the model is
# now *confidently wrong* about new names, worse than knowing nothing. That
# widening gap between the two curves is over-fitting.

# %% [markdown]
# **Break it:** in the cell above, change the line `few = source.train[:20]`
# to `few = source.train[:2000]`. Predict: where will the training loss stop,
# and will the held-out loss still rise? The cell below runs that copy
# (batches of 20, 300 steps, as above).

# %%
more = train_curve(source.train[:2000], steps=300, batch_size=20, every=100)
for step, tr, va in more:
    print(f"step {step:3d}: 2,000 training names {tr:.4f} | held-out names {va:.4f}")
assert more[-1][1] > overfit[-1][1] + 1.0  # nowhere near memorised
assert more[-1][2] < overfit[-1][2] - 3 and more[-1][2] < uniform  # held-out loss no longer climbs past ln 27
assert more[-1][2] - more[-1][1] < 0.2  # the two curves stay close

# %% [markdown]
# Far higher, and the held-out loss falls with it instead of rising: 300
# steps of 20 names see each of the 2,000 names three times at most, too few
# for 4,192 parameters to memorise them, so what the model learns is what
# names share. The same model over-fits or not depending on how much data it
# has per parameter and how often it sees it.
#
# ## Reading a curve
#
# * Start near ln 27 ≈ 3.30: a fresh model; far from it, a bug before any
#   learning (lesson 6).
# * Below 2.46 on the names: the model uses more than the previous letter.
# * Validation close to training, both falling: train longer or bigger.
# * Validation flat or rising while training falls: over-fitting; more data,
#   a smaller model or fewer steps (stop at the validation minimum).
# * The training loss's floor is set by the data: the names' own ambiguity.
