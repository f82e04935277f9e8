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
# # Lesson 13 — train5: Adam, and the whole of microgpt
#
# The last rung changes only the update rule: SGD becomes Adam. With that,
# `train5.py` *is* microgpt — the same arithmetic as the package's own
# training, step for step, which this lesson checks. Then it takes stock of
# the whole file, and of how its training loop handles names of different
# lengths.
#
# Objectives served: the components of microgpt; the training loop's steps
# and documents of varying lengths; reading training losses.

# %%
import ast
import math
import random
import time
from pathlib import Path

from microgpt.inspection.value_graph import nodes_of
from microgpt.ladder import train4, train5
from microgpt.training import plan

from _tools import NamesFile, changed_lines, rung_diff

# %% [markdown]
# ## What changed from train4

# %%
diff = rung_diff(train4, train5)
removed, added = changed_lines(diff)
print("\n".join(diff))
print(f"\n{removed} lines removed, {added} added")
assert any("m_hat" in line for line in diff if line.startswith("+"))

# %% [markdown]
# ## train5 is microgpt
#
# Run train5 for its first steps and the package's trainer (the `fused`
# engine, the default of `microgpt train`) on the same file with the same
# seed and schedule.

# %% [markdown]
# **Predict:** will the two give the same losses exactly, to about 1e-12, or
# only roughly? And which is faster?

# %%
steps, first = 1000, 20
with NamesFile() as path:
    rung = train5.run(steps=steps, data=path, log=None, stop_after=first)
    t0 = time.perf_counter()
    run = plan(data=path, steps=steps, seed=42).train(until=first)
    t_package = time.perf_counter() - t0
package = run.trainer.losses
worst = max(abs(a - b) for a, b in zip(rung["losses"], package))
print("train5:  ", " ".join(f"{x:.4f}" for x in rung["losses"][:8]), "...")
print("microgpt:", " ".join(f"{x:.4f}" for x in package[:8]), "...")
print(f"largest difference over {first} steps: {worst:.1e}; "
      f"train5 took {rung['seconds']:.1f} s (Values), the package {t_package:.1f} s (fused engine; "
      "times depend on the machine, an illustration only)")
assert len(package) == len(rung["losses"]) == first
assert worst == 0.0  # the fused engine keeps every floating-point operation's order: bit for bit

# what one step of train5 builds on "emma": one Value per operation, each visited again by backward
sd5 = train5.init_params(random.Random(42), 27)
tokens5 = [26] + [ord(c) - ord("a") for c in "emma"] + [26]  # the letters are ids 0-25, BOS 26
keys5, values5 = [[] for _ in range(train5.n_layer)], [[] for _ in range(train5.n_layer)]
step_losses = [-train5.softmax(train5.gpt(sd5, tokens5[p], p, keys5, values5))[tokens5[p + 1]].log()
               for p in range(len(tokens5) - 1)]
graph5 = nodes_of((1 / len(step_losses)) * sum(step_losses))
n_params5 = sum(len(row) for mat in sd5.values() for row in mat)
print(f"one step of train5 on 'emma': {len(graph5):,} Values for {n_params5:,} parameters; "
      "the fused engine computes the same floats without them")
assert len(graph5) > 10 * n_params5

# %% [markdown]
# Exactly the same, bit for bit (a largest difference of 0.0): the fused
# engine does the same floating-point operations in the same order, without
# building a Value per operation (the count above), which is why it is the
# faster one.
#
# ## The components, in one file
#
# Everything the model needs is in train5.py: the data loading and split,
# the tokenizer (a few lines inside `train`), the `Value` autograd, the model
# functions (`linear`, `softmax`, `rmsnorm`, `gpt`), the parameters
# (`init_params`), the training loop with Adam, evaluation and sampling. The
# sizes below are counted from the file itself.

# %%
text = Path(train5.__file__).read_text(encoding="utf-8")
tree = ast.parse(text)
parts = {node.name: node.end_lineno - node.lineno + 1 for node in tree.body
         if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
for name, n in parts.items():
    print(f"{name:12s} {n:4d} lines")
print(f"{'(the file)':12s} {len(text.splitlines()):4d} lines")
for needed in ("Value", "linear", "softmax", "rmsnorm", "init_params", "gpt", "evaluate", "train", "load_docs"):
    assert needed in parts, needed
assert "m_hat" in text and "rng.choices" in text  # Adam, and sampling

# %% [markdown]
# ## One step = one name, whatever its length
#
# Each step trains on the next name: `tokens = [BOS] + name + [BOS]`, and
# `n = min(block_size, len(tokens) - 1)` predictions. The KV cache starts
# empty for each name and grows one position per token, so a short name
# simply has fewer positions: no padding, no batch. The step's loss is the
# *mean* over its n predictions, so every name counts equally in its step,
# however long. (The numpy engine batches names of different lengths by
# padding them and masking the padding out of the loss, lesson 17.)

# %%
with NamesFile() as path:
    docs = train5.load_docs(path)
rng = random.Random(42)
rng.shuffle(docs)
train_docs, _ = train5.split(docs)
for step, name in enumerate(train_docs[:6]):
    n = min(train5.block_size, len(name) + 1)
    print(f"step {step + 1}: {name!r:12s} -> {len(name) + 2} tokens, {n} predictions, loss {rung['losses'][step]:.4f}")
longest = max(len(d) for d in docs)
print(f"the longest name has {longest} characters: {longest + 1} predictions, within block_size {train5.block_size}")
assert longest + 1 <= train5.block_size  # no name is cut; a longer document would be truncated

# %% [markdown]
# **Break it:** change the line `n = min(train5.block_size, len(name) + 1)`
# above to use a block size of 4 instead of `train5.block_size`. Predict: what
# share of the training names' predictions would the model never train on?
# The cell below counts it over every training name.

# %%
def predictions(block_size):
    return sum(min(block_size, len(name) + 1) for name in train_docs)


full, cut = predictions(train5.block_size), predictions(4)
print(f"predictions per pass over the training names: {full:,} with block_size {train5.block_size}, "
      f"{cut:,} with 4 ({1 - cut / full:.0%} never trained on)")
assert cut < full and full == sum(len(name) + 1 for name in train_docs)

# %% [markdown]
# Over a third: every letter after the fourth position, and every name's
# end, is cut. The model would still train without complaint, but it would
# never learn how names go on past four letters nor where they end, and at
# sampling time it could not go past position 4. `block_size` is the model's
# context: a document longer than it is cut, which is why the check above
# asserts that no name is.

# %% [markdown]
# ## Reading the losses
#
# The first 20 per-step losses of the run above, one name per step.

# %% [markdown]
# **Predict:** over these 20 steps, will the loss fall steadily from 3.3, or
# jump around? If it jumps, by about 0.05 or by more than 0.3 from its lowest
# to its highest?

# %%
losses = rung["losses"]
spread = max(losses) - min(losses)
print(f"{first} steps: first {losses[0]:.3f}, range {min(losses):.3f}..{max(losses):.3f} "
      f"(spread {spread:.2f}), mean of the last five {sum(losses[-5:]) / 5:.3f}")
assert abs(math.log(27) - 3.30) < 0.005 and abs(losses[0] - math.log(27)) < 0.3
assert spread > 0.3 and abs(spread - 0.72) < 0.005  # one name per step: noisy

# %% [markdown]
# It jumps, by more than 0.3 (here 0.72). The per-step loss is the loss of
# *one name*: a common short name is easy, a rare long one hard. Its trend
# matters, not a single value; the start is ln 27 ≈ 3.30 (lesson 6), and a
# smoothed curve falling below the bigram table's loss (lesson 1) means the
# model uses more than the previous letter. The validation loss, on names
# never trained on, is the honest number; `microgpt plot run.jsonl` draws
# both, and lesson 19 reads such curves.
