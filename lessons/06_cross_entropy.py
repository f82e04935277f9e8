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
# # Lesson 6 — Cross-entropy at every position, and the 3.3 starting loss
#
# The model outputs one score (logit) per token of the vocabulary. Softmax
# turns the scores into probabilities, and the loss at one position is
# −ln p(the token that actually came next): the cross-entropy between the
# model's distribution and the data's one-hot answer. This lesson follows one
# position from logits to loss by hand, explains why a fresh model's loss is
# about 3.3, and looks at why every position contributes.
#
# Objectives served: what cross-entropy measures; logits → softmax → loss;
# why the loss is taken at every position; reading loss values.

# %%
import math
import random

from matplotlib.figure import Figure

import microgpt
from microgpt import forward
from microgpt.batches import Documents
from microgpt.config import GPTConfig
from microgpt.data import BUNDLED_NAMES, read_docs
from microgpt.model import INIT_STD, init_weights

from _tools import show

docs = read_docs(BUNDLED_NAMES)
source = Documents(docs, random.Random(42))
tok = source.tokenizer

# %% [markdown]
# ## One position, by hand
#
# A fresh model (the default config, weights drawn with std 0.08) reads BOS
# and must predict the first letter of "emma".

# %% [markdown]
# **Predict:** before any training, how much probability does the fresh model
# give to "e" as the first letter: about 1/2, about 1/10, or about 1/27? And
# so, roughly what loss −ln p?

# %%
config = GPTConfig(tok.vocab_size)
weights = init_weights(config, random.Random(42))
assert INIT_STD == 0.08
ids = tok.encode_doc("emma")
logits = forward.sequence_logits(weights, config, ids)[0]  # after reading BOS at position 0
top = max(logits)
exps = [math.exp(l - top) for l in logits]  # shifting by the max changes nothing but avoids overflow
probs = [e / sum(exps) for e in exps]
target = ids[1]
loss0 = -math.log(probs[target])
print(f"logits range from {min(logits):+.3f} to {max(logits):+.3f}")
print(f"p('e') = {probs[target]:.4f}; loss = -ln p = {loss0:.4f}; ln 27 = {math.log(27):.4f}")
assert abs(sum(probs) - 1) < 1e-12 and max(map(abs, logits)) < 1
total, n = forward.doc_nll(weights, config, ids)  # the project's own loss for the whole name
per_position = [-math.log(forward.softmax(lg)[ids[p + 1]])
                for p, lg in enumerate(forward.sequence_logits(weights, config, ids)[: n])]
assert n == len("emma") + 1 and abs(per_position[0] - loss0) < 1e-12
assert abs(sum(per_position) - total) < 1e-12
assert abs(probs[target] - 1 / 27) < 0.01  # the answer to the prediction

# %% [markdown]
# About 1/27: p('e') = 0.040 against 1/27 = 0.037, so the loss is close to
# ln 27. The untrained model has no favourite letter.

# %% [markdown]
# **Break it:** in the cell above, change the line
# `weights = init_weights(config, random.Random(42))` to
# `weights = init_weights(config, random.Random(42), std=1.0)`. Predict: will
# the loss of "emma" be nearer 3.3 or far from it? The cell below runs that
# copy; `weights` keeps the real initialization.

# %%
wild = init_weights(config, random.Random(42), std=1.0)
wild_logits = forward.sequence_logits(wild, config, ids)
wild_total, wild_n = forward.doc_nll(wild, config, ids)
print(f"std 1.0: logits from {min(wild_logits[0]):+.1f} to {max(wild_logits[0]):+.1f}; "
      f"loss of 'emma' {wild_total / wild_n:.2f} per prediction (std 0.08: {total / n:.2f}, ln 27 = 3.30)")
assert max(map(abs, wild_logits[0])) > 10 * max(map(abs, logits))
assert abs(wild_total / wild_n - math.log(27)) > 1.0

# %% [markdown]
# Far from it: a loss in the hundreds. With std 1.0 each of the products
# from embedding to logits is over ten times larger, so the logits spread over
# hundreds of units; softmax then puts nearly all the probability on one
# letter before the model has learned anything, and −ln p of a letter it
# all but ruled out is huge. A first loss far from ln 27 is the sign of
# this bug (see below).
#
# Cross-entropy rewards probability on the right answer and nothing else: a
# model that puts p = 1 on the right token has loss 0, p = 1/2 costs ln 2,
# and a small p costs a lot (−ln p grows without bound as p → 0).
#
# ## Why a fresh model starts at about 3.3
#
# With weights this small the logits all stay within about ±1 of 0, so softmax gives
# every token nearly the same probability, 1/27, and the loss at every
# position is close to ln 27 = 3.2958. Measured over held-out names:

# %%
held_out = [tok.encode_doc(d) for d in source.val[:300]]
nll, count = 0.0, 0
for t in held_out:
    s, k = forward.doc_nll(weights, config, t)
    nll, count = nll + s, count + k
start_loss = nll / count
print(f"untrained model: mean loss {start_loss:.4f} over {count:,} predictions (ln 27 = {math.log(27):.4f})")
assert abs(math.log(27) - 3.2958) < 1e-4
assert abs(start_loss - math.log(27)) < 0.1

# %% [markdown]
# A first training step that prints a loss far from 3.3 means something is
# wrong before any learning happened (a bad initialization scale, a bug in
# softmax, the wrong target). The default run's first printed loss (its first
# name, after one forward pass) is in the same range:

# %%
run = microgpt.train(data=BUNDLED_NAMES, steps=300, seed=42, engine="numpy", batch_size=16)
print(f"first step's loss {run.trainer.losses[0]:.4f}; after 300 steps of 16 names: "
      f"validation loss {run.val_loss:.4f} (perplexity {math.exp(run.val_loss):.2f})")
assert abs(run.trainer.losses[0] - math.log(27)) < 0.3
assert run.val_loss < start_loss - 0.8

# %% [markdown]
# ## Every position is a training example
#
# A name of n letters is n + 1 predictions: the first letter from BOS, each
# next letter from the letters so far, and the closing BOS ("the name ends
# here"). One forward pass over the name computes all of them (each position
# reuses the keys and values of the earlier ones), and the step's loss is
# their mean. Training on only the last position would throw most of that
# signal away: per name, the model would learn one thing instead of n + 1.

# %%
lengths = [len(d) for d in source.train]
predictions = sum(min(config.block_size, n + 1) for n in lengths)
print(f"{len(lengths):,} training names hold {predictions:,} predictions "
      f"({predictions / len(lengths):.2f} per name)")
assert predictions > 6 * len(lengths)

# %% [markdown]
# The positions are not equally hard. Below, the mean loss at each position,
# measured on the held-out names with the model trained above.

# %% [markdown]
# **Predict:** which position has the highest mean loss? And does the loss
# fall steadily from each position to the next, as more of the name comes
# into view?

# %%
engine = microgpt.Model.of(run).engine
by_pos = {}
for d in source.val:
    t = tok.encode_doc(d)
    lg = engine.logits(t)  # (positions, vocab) for the whole name at once
    for p in range(config.predicted(t)):
        by_pos.setdefault(p, []).append(-math.log(forward.softmax(list(lg[p]))[t[p + 1]]))
means = {p: sum(v) / len(v) for p, v in by_pos.items() if len(v) >= 100}
for p, m in means.items():
    print(f"position {p}: mean loss {m:.3f} over {len(by_pos[p])} predictions")
assert max(means, key=means.get) == 0
assert means[1] < means[2] and means[1] < means[3]  # not a steady fall: the second letter is easy
late = [m for p, m in means.items() if p >= 5]
assert sum(late) / len(late) < means[2]

fig = Figure(figsize=(6, 3))
ax = fig.add_subplot()
ax.bar(list(means), list(means.values()))
ax.axhline(math.log(27), color="k", linestyle="--", linewidth=1, label="ln 27 (uniform)")
ax.set_xlabel("position (0 = reading BOS)")
ax.set_ylabel("mean loss")
ax.legend()
show(fig)

# %% [markdown]
# The first letter, predicted from BOS alone, is the hardest: any of 26
# letters can start a name. But the loss does not fall steadily. The second
# letter (position 1) is the easiest of the early ones: once the first
# letter is known, few letters follow it often. Positions 2 to 4 are harder
# again, the middle of a name being where names differ most; from position 5
# on the loss falls, as names near their usual lengths and the end of the
# name becomes predictable.
#
# ## Reading a loss
#
# * ln 27 ≈ 3.30: knows nothing (uniform over 27 tokens).
# * The count table of lesson 1: about 2.46 on these held-out names
#   (recomputed below).
# * exp(loss), the perplexity, reads as "as unsure as a fair choice among that
#   many tokens".
# * A training loss far below the validation loss means memorising; a
#   training loss that stops falling means the model (or the learning rate)
#   is the limit.

# %%
counts = [[1] * tok.vocab_size for _ in range(tok.vocab_size)]  # add-one smoothing, as train0
for d in source.train:
    t = tok.encode_doc(d)
    for a, b in zip(t, t[1:]):
        counts[a][b] += 1
bigram, k = 0.0, 0
for d in source.val:
    t = tok.encode_doc(d)
    for a, b in list(zip(t, t[1:]))[: config.block_size]:
        bigram, k = bigram - math.log(counts[a][b] / sum(counts[a])), k + 1
bigram /= k
print(f"loss: untrained {start_loss:.4f} | bigram counts {bigram:.4f} | trained microgpt {run.val_loss:.4f}")
print(f"perplexity: untrained {math.exp(start_loss):.1f}, bigram {math.exp(bigram):.1f}, "
      f"trained {math.exp(run.val_loss):.1f}")
assert abs(bigram - 2.46) < 0.01
assert run.val_loss < bigram < start_loss
assert abs(math.exp(math.log(27)) - 27) < 1e-9

# %% [markdown]
# Try it: `microgpt exercise 5` (softmax) and `microgpt exercise 6`
# (cross-entropy).
