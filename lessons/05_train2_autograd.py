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
# # Lesson 5 — train2: the same network, with autograd
#
# `train2.py` trains train1's network with train1's settings, but throws away
# the hand-written backward pass. Every number is a `Value` (lesson 3), and
# one call, `loss.backward()`, computes every gradient. Same math, so the
# same losses: that is this lesson's check.
#
# Objectives served: the chain rule and gradient flow, done by the machine;
# the three phases of a training step.

# %%
import random
import time

from microgpt.inspection.value_graph import nodes_of
from microgpt.ladder import train1, train2

from _tools import NamesFile, changed_lines, rung_diff

# %% [markdown]
# ## What changed from train1

# %%
diff = rung_diff(train1, train2)
removed, added = changed_lines(diff)
print(f"{removed} lines removed, {added} added; the training step, old (-) and new (+):")
at = next(i for i, line in enumerate(diff) if line.strip() == "+        loss.backward()")
end = next(i for i in range(at, len(diff)) if diff[i].strip() == "+            p.grad = 0")
step_lines = diff[at - 1:end + 1]  # the old update loop (-) and the new one (+)
print("\n".join(step_lines))
assert "loss" in step_lines[0] and len(step_lines) < 16
# print("\n".join(diff)) shows the whole diff
# the hand-written backward is gone; the Value class came in
assert not any("linear_backward" in line for line in diff if line.startswith("+"))
assert any(line.startswith("+class Value") for line in diff)

# %% [markdown]
# `linear_backward`, the hand-derived `doc_loss` and `grad_check` are removed;
# the `Value` class arrives, `init_params` wraps each weight in a Value, and
# the loop's body becomes three phases:
#
# 1. **forward**: run the model on the document, building the graph, down to
#    one loss Value;
# 2. **backward**: `loss.backward()` fills every parameter's `.grad`;
# 3. **update**: move each parameter against its gradient (`p.data -= lr_t *
#    p.grad`) and set the gradient back to zero for the next step — `backward`
#    *adds* into `.grad`, so a gradient left over would leak into the next.

# %% [markdown]
# **Predict:** train2 gets its gradients from autograd, train1 from the hand
# derivation. Run both for 30 steps on the same names: how far apart will
# their losses be — exactly 0, about 1e-12, or about 1e-3? And which of the
# two is faster?

# %%
steps, check_steps = 1000, 30
with NamesFile() as path:
    t0 = time.perf_counter()
    auto = train2.run(steps=steps, data=path, log=None, stop_after=check_steps)
    t_auto = time.perf_counter() - t0
    docs = train1.load_docs(path)

# train1's loop, on the same data, shuffle and schedule (the lesson runs its functions)
rng = random.Random(42)
rng.shuffle(docs)
train_docs, _ = train1.split(docs)
uchars = sorted(set("".join(docs)))
BOS = len(uchars)
sd = train1.init_params(rng, BOS + 1)
hand = []
t0 = time.perf_counter()
for step in range(check_steps):
    tokens = [BOS] + [uchars.index(c) for c in train_docs[step]] + [BOS]
    grads = train1.zeros_like(sd)
    hand.append(train1.doc_loss(sd, tokens, grads))
    lr_t = train1.learning_rate * (1 - step / steps)
    for name, mat in sd.items():
        for row, grad_row in zip(mat, grads[name]):
            for j, g in enumerate(grad_row):
                row[j] -= lr_t * g
t_hand = time.perf_counter() - t0

worst = max(abs(a - b) for a, b in zip(auto["losses"], hand))
print(f"{check_steps} steps: largest |loss(train2) - loss(train1)| = {worst:.1e}")
assert len(auto["losses"]) == len(hand) == check_steps
assert worst < 1e-12  # the same numbers, up to the order in which gradient terms are added

# what each step costs autograd, counted: one Value object per arithmetic operation, on the first step's name
first = [BOS] + [uchars.index(c) for c in train_docs[0]] + [BOS]
sd_values = train2.init_params(random.Random(42), BOS + 1)
first_losses = [-train2.softmax(train2.mlp(sd_values, first[p]))[first[p + 1]].log() for p in range(len(first) - 1)]
graph = nodes_of((1 / len(first_losses)) * sum(first_losses))
n_params = sum(len(row) for mat in sd.values() for row in mat)
print(f"step 1 ({train_docs[0]!r}, {len(first_losses)} predictions): train2 builds {len(graph):,} Values and its "
      f"backward visits each; train1 builds none (floats only) for its {n_params:,} parameters")
print(f"(time on this machine, an illustration only: train2 {t_auto:.2f} s, train1 {t_hand:.2f} s)")
assert isinstance(hand[0], float) and not any(isinstance(x, train2.Value) for mat in sd.values() for row in mat
                                               for x in row)
assert len(graph) > 10 * n_params  # every multiply and add of the forward pass is an object, visited again backward

# %% [markdown]
# The losses agree to rounding (largest gap printed above), and autograd is
# the slower one: the autograd computes exactly the hand derivation, but one
# step on one short name builds tens of thousands of `Value` objects (more
# than ten per parameter), each allocated in the forward pass and visited
# again by `backward`, where train1 does the same arithmetic on plain floats.
# What autograd buys is not speed but freedom: the next rung adds attention,
# whose hand-written backward would be long and easy to get wrong, and needs
# no new gradient code at all.
#
# ## Gradient flow, seen on one step
#
# One step on "emma": a forward pass, then `backward`, after which every
# parameter holds its gradient.

# %% [markdown]
# **Predict:** `wte` has 27 rows, one per token. Which of them will hold a
# nonzero gradient after the backward pass on "emma"?

# %%
rng = random.Random(42)
sd = train2.init_params(rng, BOS + 1)
tokens = [BOS] + [uchars.index(c) for c in "emma"] + [BOS]
losses = [-train2.softmax(train2.mlp(sd, tokens[p]))[tokens[p + 1]].log() for p in range(len(tokens) - 1)]
loss = (1 / len(losses)) * sum(losses)
loss.backward()
used = set(tokens[:-1])  # the tokens read as inputs (the last is only predicted)
nonzero_rows = {i for i, row in enumerate(sd["wte"]) if any(p.grad != 0 for p in row)}
print(f"loss {loss.data:.4f}; wte rows with a gradient: {sorted(uchars[i] if i < BOS else 'BOS' for i in nonzero_rows)}")
assert nonzero_rows == used

# %% [markdown]
# Four: BOS, "a", "e" and "m", the tokens the model read. Every other row of
# `wte` gets exactly zero, since no path leads from it to the loss. The closing
# BOS is only predicted, never read; BOS has a gradient because the name
# starts with one.

# %% [markdown]
# **Break it:** in the cell above, delete the line `loss.backward()`. Predict:
# which rows of `wte` will hold a nonzero gradient then? The cell below runs
# that copy on fresh weights.

# %%
sd_skipped = train2.init_params(random.Random(42), BOS + 1)
skipped = [-train2.softmax(train2.mlp(sd_skipped, tokens[p]))[tokens[p + 1]].log() for p in range(len(tokens) - 1)]
loss_skipped = (1 / len(skipped)) * sum(skipped)  # no loss.backward() here
rows_skipped = {i for i, row in enumerate(sd_skipped["wte"]) if any(p.grad != 0 for p in row)}
print(f"loss {loss_skipped.data:.4f} (the same forward pass); wte rows with a gradient: {sorted(rows_skipped)}")
assert loss_skipped.data == loss.data and rows_skipped == set() != nonzero_rows

# %% [markdown]
# None. The forward pass builds the graph and computes the same loss, but
# every `.grad` stays at its initial 0: nothing flows backward until
# `backward` walks the graph. An update step would then move no weight, and
# the loss would never fall — a silent bug, since the loop still runs.

# %% [markdown]
# ## Discussion
#
# train2 is the bridge from "a gradient is something you derive" to "a
# gradient is something the graph computes". Everything after it —
# attention, normalization, multiple heads, Adam — is written only as a
# forward computation.
