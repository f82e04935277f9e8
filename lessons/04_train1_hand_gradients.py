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
# # Lesson 4 — train1: a neural network, with gradients derived by hand
#
# `train1.py` keeps train0's task and even its model class (the next character
# from the previous one only) but replaces counting with a small neural
# network trained by gradient descent: embedding → MLP → logits. Its
# gradients are written out by hand with the chain rule, and checked against
# numerical derivatives before training starts.
#
# Objectives served: the chain rule through a multi-step computation; why
# plain gradient descent is slow to get going.

# %%
import inspect
import math
import random

from microgpt.data import BUNDLED_NAMES, read_docs
from microgpt.ladder import train0, train1

from _tools import changed_lines, rung_diff

# %% [markdown]
# ## What changed from train0

# %%
diff = rung_diff(train0, train1)
removed, added = changed_lines(diff)
print(f"{removed} lines removed, {added} added; the new functions:")
print("\n".join(line for line in diff if line.startswith("+def ")))
start = next(i for i, line in enumerate(diff) if "The chain rule by hand" in line)
chain_rule = diff[start:start + 7]
print("\nthe heart of it, doc_loss's backward pass:")
print("\n".join(chain_rule))
assert added > 0 and removed > 0 and all(line.startswith("+") for line in chain_rule)
assert chain_rule[-1][1:].lstrip().startswith('grads["wte"]')  # down to the embedding row
# print("\n".join(diff)) shows the whole diff

# %% [markdown]
# The new pieces: `linear` and `linear_backward`, `softmax`, `init_params`
# (Gaussian weights, std 0.08), `mlp` returning the activations backward needs,
# `doc_loss` with the chain rule written line by line (softmax + NLL, then back
# through `lm_head`, `mlp_fc2`, the ReLU, `mlp_fc1`, into one row of `wte`), a
# gradient check, and an SGD loop with a linearly decaying learning rate.
#
# ## The chain rule by hand, checked
#
# `grad_check` nudges every parameter by ±1e-5, recomputes the loss, and
# compares the slope with the hand-derived gradient.

# %% [markdown]
# **Predict:** if the hand gradients are right, how close will the numerical
# slopes come: within about 1e-2, 1e-5, or 1e-10?

# %%
rng = random.Random(42)
uchars = "abcdefghijklmnopqrstuvwxyz"
BOS = len(uchars)
sd = train1.init_params(rng, len(uchars) + 1)
n_params = sum(len(row) for mat in sd.values() for row in mat)
tokens = [BOS] + [uchars.index(c) for c in "al"] + [BOS]
loss, max_diff = train1.grad_check(sd, tokens)
print(f"{n_params:,} parameters; loss on {'al'!r} {loss:.4f}; max |numerical - analytic| = {max_diff:.1e}")
assert max_diff < 1e-9  # central differences agree to ~1e-10; a wrong derivative would be off by far more
assert abs(loss - math.log(27)) < 0.01  # small random weights: close to a uniform guess
flat = [x for mat in sd.values() for row in mat for x in row]
init_std = math.sqrt(sum(x * x for x in flat) / len(flat))
print(f"init std {init_std:.4f}; the check's step: {inspect.signature(train1.grad_check).parameters['eps'].default}")
assert abs(init_std - 0.08) < 0.005 and inspect.signature(train1.grad_check).parameters["eps"].default == 1e-5

# %% [markdown]
# About 1e-10: a central difference with step ε is off by a term of order
# ε² = 1e-10, so agreement at that level says the algebra is right. A wrong
# derivative is caught: double the hand gradient of `lm_head` (as a
# slip in the algebra would) and compare it, entry by entry, with central
# differences on the few entries where it is largest.

# %%
grads = train1.zeros_like(sd)
train1.doc_loss(sd, tokens, grads)
slipped = [[2 * g for g in row] for row in grads["lm_head"]]
biggest = sorted(((abs(g), i, j) for i, row in enumerate(grads["lm_head"]) for j, g in enumerate(row)))[-5:]
worst, eps = 0.0, 1e-5
for _, i, j in biggest:
    w = sd["lm_head"][i]
    old = w[j]
    w[j] = old + eps
    up = train1.doc_loss(sd, tokens)
    w[j] = old - eps
    down = train1.doc_loss(sd, tokens)
    w[j] = old
    numerical = (up - down) / (2 * eps)
    assert abs(numerical - grads["lm_head"][i][j]) < 1e-7  # the true gradient passes
    worst = max(worst, abs(numerical - slipped[i][j]))
print(f"with lm_head's gradient doubled: difference up to {worst:.1e}")
assert worst > 1e-4

# %% [markdown]
# ## A short run
#
# The lesson calls train1's own functions in its training loop: one name per
# step, the gradient from `doc_loss`, and an SGD step
# `w -= lr_t * grad` with lr_t decaying linearly from 0.3 (over a 1000-step
# schedule, of which it runs the first 400).

# %% [markdown]
# **Predict:** the loss starts at ln 27 ≈ 3.30 and the learning rate is a
# large 0.3. After 150 steps, will the mean loss have fallen by more than
# 0.1?

# %%
docs = read_docs(BUNDLED_NAMES)
rng = random.Random(42)
rng.shuffle(docs)
train_docs, val_docs = train1.split(docs)
sd = train1.init_params(rng, BOS + 1)
encode = lambda doc: [uchars.index(ch) for ch in doc]
steps, losses = 1000, []
for step in range(400):
    tokens = [BOS] + encode(train_docs[step]) + [BOS]
    grads = train1.zeros_like(sd)
    losses.append(train1.doc_loss(sd, tokens, grads))
    lr_t = train1.learning_rate * (1 - step / steps)
    for name, mat in sd.items():
        for row, grad_row in zip(mat, grads[name]):
            for j, g in enumerate(grad_row):
                row[j] -= lr_t * g
window = [sum(losses[i:i + 50]) / 50 for i in range(0, 400, 50)]
print("mean loss per 50 steps:", " ".join(f"{x:.3f}" for x in window))
val = train1.evaluate(sd, val_docs, encode, BOS)
print(f"validation loss after 400 steps: {val:.4f}")
assert train1.learning_rate == 0.3
assert window[1] > window[0] - 0.01  # the first hundred steps barely move
assert window[0] - window[2] < 0.01  # nor the first 150
assert window[-1] < window[0] - 0.3  # then it learns

# %% [markdown]
# ## Why it starts so slowly
#
# No: after 150 steps the loss has moved by less than 0.01. It sits near
# ln 27 for the first 200 or so steps, then falls. The
# logits are a product of four small random matrices (`wte`, `mlp_fc1`,
# `mlp_fc2`, `lm_head`, each with std 0.08), so they start near zero, and the
# gradient of each matrix is a product of the *other* three: tiny too. Each
# SGD step then moves a weight by a small fraction of its own size, and plain
# SGD, with one learning rate for every parameter, needs many steps to leave
# this plateau. Adam (train5, lesson 14) sizes each parameter's step from its
# own gradient history instead.

# %%
rng = random.Random(42)
sd0 = train1.init_params(rng, BOS + 1)
grads = train1.zeros_like(sd0)
tokens = [BOS] + encode("emma") + [BOS]
train1.doc_loss(sd0, tokens, grads)
logits = train1.mlp(sd0, BOS)[0]
print(f"largest |logit| at init: {max(map(abs, logits)):.1e}")
rms = {name: math.sqrt(sum(g * g for row in mat for g in row) / sum(len(row) for row in mat))
       for name, mat in grads.items()}
for name, r in rms.items():
    step = train1.learning_rate * r / 0.08
    print(f"{name:8s} gradient rms {r:.1e}: one step moves a weight by {step:.2%} of its typical size")
assert max(map(abs, logits)) < 0.05
assert all(train1.learning_rate * r / 0.08 < 0.01 for r in rms.values())  # "a small fraction": under 1%

# %% [markdown]
# **Break it:** if the steps are too small, why not take larger ones? In the
# short run above, change the line
# `lr_t = train1.learning_rate * (1 - step / steps)` to
# `lr_t = 3.0 * (1 - step / steps)`, ten times the rate. Predict: a shorter
# plateau, or something worse? The cell below reruns the loop that way, from
# the same initial weights on the same names.

# %%
rng = random.Random(42)
rng.shuffle(read_docs(BUNDLED_NAMES))  # the same draws as the run above: the same initial weights
sd = train1.init_params(rng, BOS + 1)
fast_losses, failure = [], None
for step in range(400):
    tokens = [BOS] + encode(train_docs[step]) + [BOS]
    grads = train1.zeros_like(sd)
    try:
        fast_losses.append(train1.doc_loss(sd, tokens, grads))
    except ValueError as e:  # math.log(0): a probability that became exactly 0
        failure = (step + 1, e)
        break
    lr_t = 3.0 * (1 - step / steps)  # the broken line
    for name, mat in sd.items():
        for row, grad_row in zip(mat, grads[name]):
            for j, g in enumerate(grad_row):
                row[j] -= lr_t * g
print(f"lr 3.0: highest loss {max(fast_losses):.2f} (lr 0.3: {max(losses):.2f}); "
      + (f"stopped at step {failure[0]}: {failure[1]}" if failure else "ran all 400 steps"))
assert failure is not None and failure[0] < 400  # the run does not survive
assert max(fast_losses) > max(losses)

# %% [markdown]
# Something worse: the loss jumps well above where it started, and within
# the 400 steps a probability of the right letter rounds to exactly 0, so
# −ln p is infinite and `math.log` refuses. A step ten times larger
# overshoots: the logits it makes are so large that softmax puts all the
# probability on one wrong letter. The plateau is not cured by a larger
# rate; it needs a step sized per parameter (Adam).

# %% [markdown]
# ## Discussion
#
# Same model class as train0, so at best it can match the count table; the
# ladder's full 1000-step run (docs/ladder.md, `microgpt ladder`) shows it still above
# it. What train1 adds is the *machinery*: a differentiable model, its
# gradient, and a loop that follows the gradient. Writing gradients by hand
# does not scale to attention; train2 lets the computer do it.
