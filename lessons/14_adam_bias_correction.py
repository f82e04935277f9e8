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
# # Lesson 14 — Adam: two running averages and bias correction
#
# Plain gradient descent moves every parameter by the same multiple of its
# gradient. Adam (`src/microgpt/optim.py`) keeps two running averages per
# parameter — m, of the gradient, and v, of its square — and moves each
# parameter by lr · m̂ / (√v̂ + ε), where m̂ and v̂ are m and v with their
# start-up bias removed. This lesson measures why the per-parameter scaling
# helps, what the two averages do, and what happens without the correction.
#
# Objectives served: why plain gradient descent is not enough; Adam's two
# running averages; bias correction.

# %%
import inspect
import random

import numpy as np
from matplotlib.figure import Figure

from microgpt import optim
from microgpt.batches import Documents
from microgpt.config import GPTConfig, TrainConfig
from microgpt.data import BUNDLED_NAMES, read_docs
from microgpt.engines.numpy_engine import NumpyEngine
from microgpt.model import init_weights
from microgpt.optim import learning_rate

from _tools import show

print(inspect.getsource(optim.Adam.step))

docs = read_docs(BUNDLED_NAMES)
source = Documents(docs, random.Random(42))
tok = source.tokenizer
config = GPTConfig(tok.vocab_size)
weights = init_weights(config, random.Random(42))

# %% [markdown]
# ## Why one learning rate for all is not enough
#
# One step's gradient at initialisation, over all 4,192 parameters: the
# sizes span orders of magnitude (embedding rows of rare letters and late
# positions get little, `lm_head` gets a lot). A learning rate small enough
# for the largest gradients barely moves the smallest.

# %%
engine = NumpyEngine(config, weights)
batch = [tok.encode_doc(d) for d in source.train[:1]]
_, grads = engine.loss_and_grads(batch)
g = np.abs(np.concatenate([np.ravel(grads[k]) for k in grads]))
nonzero = g[g > 0]
p10, p90 = np.percentile(nonzero, [10, 90])
print(f"{g.size:,} parameters, {nonzero.size:,} with a gradient this step; |g| 10th percentile {p10:.1e}, "
      f"90th {p90:.1e} (x{p90 / p10:.0f})")
assert g.size == 4192 and p90 / p10 > 10

# %% [markdown]
# **Predict:** the gradients above span a factor of 132. Take one parameter
# in every 50 that has a gradient and make one Adam step with lr = 0.01. How
# far does a parameter with a tiny gradient move, compared with one with a
# large gradient?

# %%
class P:  # optim's optimizers need only .data and .grad
    def __init__(self, g):
        self.data, self.grad = 0.0, g


params = [P(float(x)) for x in nonzero[::50]]
optim.Adam(params).step(0.01)
moves = [abs(p.data) for p in params]
print(f"first Adam step: every move between {min(moves):.6f} and {max(moves):.6f} (lr = 0.01)")
assert max(abs(m - 0.01) for m in moves) < 1e-4

# %% [markdown]
# The same distance, lr, for all of them. Adam divides each parameter's step
# by the root of its own average squared gradient, so on the first step
# every parameter that has a gradient moves by lr, whatever the gradient's
# size (to within 1%: the ε = 1e-8 guarding the division matters only for
# the very smallest gradients).

# %% [markdown]
# **Break it:** Adam's step is `lr * m_hat / (v_hat ** 0.5 + eps)`. Drop the
# square root: change it to `lr * m_hat / (v_hat + eps)`. Predict: on the first
# step, which parameters move most now, those with tiny gradients or those
# with large ones? The cell below computes that first step for the same
# gradients (on the first step m_hat = g and v_hat = g²).

# %%
grads_sample = [float(x) for x in nonzero[::50]]  # the gradients of the step above (which reset p.grad)
no_root = [abs(0.01 * g / (g * g + 1e-8)) for g in grads_sample]  # the broken line, on the first step
smallest, largest = min(grads_sample, key=abs), max(grads_sample, key=abs)
print(f"without the root: a gradient of {abs(smallest):.1e} moves its weight {no_root[grads_sample.index(smallest)]:.3f}, "
      f"one of {abs(largest):.1e} moves it {no_root[grads_sample.index(largest)]:.5f}")
assert max(no_root) / min(no_root) > 10  # no longer lr for all: the step is lr / |g|
assert no_root[grads_sample.index(smallest)] > no_root[grads_sample.index(largest)]

# %% [markdown]
# The tiny ones, by far: without the root the step is lr·g / g² = lr / |g|,
# so the smallest gradients make the largest moves (the number above, for a
# weight whose typical size is 0.08), the opposite of what a gradient says.
# The root is what makes m / √v a pure direction, of size 1.

# %% [markdown]
# ## The two averages
#
# m is the gradient averaged over roughly the last 1 / (1 − β1) steps
# (momentum: a noisy gradient's direction, smoothed), v the squared gradient
# over the last 1 / (1 − β2) (its typical size). microgpt uses β1 = 0.85 and
# β2 = 0.99: about 7 and 100 steps. On a gradient that alternates between
# +3 and −1, m hovers around the mean (1) — a 7-step memory cannot smooth the
# alternation away entirely — and v sits at the mean square (5):

# %%
p = P(0.0)
adam = optim.Adam([p], beta1=0.85, beta2=0.99)
for t in range(2000):
    p.grad = 3.0 if t % 2 == 0 else -1.0
    adam.step(0.0)  # lr 0: only watch the averages
print(f"memory: beta1 {1 / (1 - 0.85):.1f} steps, beta2 {1 / (1 - 0.99):.0f} steps")
print(f"after 2000 steps: m = {adam.m[0]:.3f} (mean gradient 1), v = {adam.v[0]:.3f} (mean square 5)")
assert abs(1 / (1 - 0.85) - 7) < 0.5 and abs(1 / (1 - 0.99) - 100) < 1e-9
assert (TrainConfig().beta1, TrainConfig().beta2, TrainConfig().eps) == (0.85, 0.99, 1e-8)  # microgpt's
assert abs(adam.m[0] - 1) < 0.3 and abs(adam.v[0] - 5) < 0.1

# %% [markdown]
# ## Bias correction
#
# Both averages start at 0, so early on they are too small: after t steps of
# a constant gradient g, m = (1 − β1^t)·g and v = (1 − β2^t)·g². Dividing by
# (1 − β^t) removes exactly that. Without it, the step m / √v is
# (1 − β1^t) / √(1 − β2^t) times the right one — and since β2 is closer to 1
# than β1, v is the more underestimated, so the early steps are too *large*:

# %%
def overshoot(t, b1, b2):
    return (1 - b1**t) / (1 - b2**t) ** 0.5


for b1, b2 in ((0.85, 0.99), (0.9, 0.999)):
    factors = [overshoot(t, b1, b2) for t in range(1, 201)]
    peak = max(factors)
    print(f"beta1 {b1}, beta2 {b2}: step 1 is {factors[0]:.2f}x too large; the worst, step "
          f"{factors.index(peak) + 1}, {peak:.2f}x; step 200 {factors[-1]:.2f}x")
assert abs(overshoot(1, 0.85, 0.99) - 0.15 / 0.1) < 0.01
assert max(overshoot(t, 0.9, 0.999) for t in range(1, 201)) > max(overshoot(t, 0.85, 0.99) for t in range(1, 201))

# a constant gradient of 1: the two raw averages, and the step with and without the correction
p = P(1.0)
adam = optim.Adam([p], beta1=0.85, beta2=0.99)
m_raw, v_raw = [], []
for t in range(200):
    p.grad = 1.0
    adam.step(0.0)
    m_raw.append(adam.m[0])
    v_raw.append(adam.v[0])
assert all(abs(m - (1 - 0.85 ** (t + 1))) < 1e-12 for t, m in enumerate(m_raw))  # m = (1 - beta1^t) g
fig = Figure(figsize=(8, 3))
ax = fig.add_subplot(1, 2, 1)
ax.plot(range(1, 201), m_raw, label="m (raw)")
ax.plot(range(1, 201), v_raw, label="v (raw)")
ax.axhline(1, color="k", linestyle="--", linewidth=1, label="the true g = g² = 1")
ax.set_xlabel("step")
ax.legend(fontsize=8)
ax = fig.add_subplot(1, 2, 2)
for b1, b2 in ((0.85, 0.99), (0.9, 0.999)):
    ax.plot(range(1, 201), [overshoot(t, b1, b2) for t in range(1, 201)], label=f"no correction, β {b1}/{b2}")
ax.axhline(1, color="k", linestyle="--", linewidth=1, label="with correction")
ax.set_xlabel("step")
ax.set_ylabel("step size / lr")
ax.legend(fontsize=8)
show(fig)

# %% [markdown]
# Train without it: an engine like numpy's whose Adam skips the correction,
# on the same names (one per step, as microgpt) from the same weights. The
# first step's largest move shows the factor; the early losses show what it
# does to training here.

# %% [markdown]
# **Predict:** the first step's largest move, with lr = 0.01: for Adam it is
# lr. Without the correction, will it be smaller, the same, or larger, and by
# what factor? And for SGD at the same learning rate?

# %%
class NoBiasCorrection(NumpyEngine):
    def _optimizer_step(self, lr_t):
        self.t += 1
        tc = self.train_config
        self.m *= tc.beta1
        self.m += (1 - tc.beta1) * self.grad_flat
        self.v *= tc.beta2
        self.v += (1 - tc.beta2) * self.grad_flat**2
        self.flat -= lr_t * self.m / (np.sqrt(self.v) + tc.eps)


def train(engine_class, steps=200, **options):
    tc = TrainConfig(steps=1000, **options)
    engine = engine_class(config, weights, tc)
    losses, first_move = [], None
    for step in range(steps):
        before = engine.flat.copy()
        losses.append(engine.train_step([tok.encode_doc(source.train[step])], learning_rate(tc, step)))
        if first_move is None:
            first_move = float(np.max(np.abs(engine.flat - before)))
    return losses, first_move


adam_losses, adam_move = train(NumpyEngine)
raw_losses, raw_move = train(NoBiasCorrection)
sgd_losses, sgd_move = train(NumpyEngine, optimizer="sgd")
print(f"first step's largest move: Adam {adam_move:.4f}, without correction {raw_move:.4f}, SGD {sgd_move:.4f}")
for name, ls in (("Adam", adam_losses), ("no correction", raw_losses), ("SGD, lr 0.01", sgd_losses)):
    print(f"{name:14s} steps 1-10: " + " ".join(f"{x:.2f}" for x in ls[:10])
          + f" | mean of steps 151-200: {np.mean(ls[-50:]):.3f}")
assert abs(adam_move - 0.01) < 1e-6
assert abs(raw_move - 0.01 * overshoot(1, 0.85, 0.99)) < 1e-6
assert np.mean(sgd_losses[-50:]) > np.mean(adam_losses[-50:]) + 0.2
assert sgd_move < adam_move
assert abs(raw_move - 0.015) < 1e-4 and abs(sgd_move - 0.0042) < 1e-4

# %% [markdown]
# Without the correction the first move is 1.5 × lr (0.015), the factor
# computed above for step 1; SGD moves far less than lr (0.0042), since its
# step is the raw gradient times lr. With microgpt's betas and learning
# rate the uncorrected run still trains —
# its early steps are too large by the factors above, not catastrophically
# so; with the common default β2 = 0.999 the overshoot is larger. SGD at
# Adam's learning rate is far behind: its steps are the raw gradient's size,
# much smaller than lr for most parameters. (The ladder's SGD rungs use a
# learning rate 30 times larger, chosen in docs/ladder.md.)
#
# Try it: `microgpt exercise 11` (Adam with bias correction) and `microgpt
# exercise 12` (linear learning-rate decay).

# %%
from microgpt.ladder import train1

print(f"SGD rungs' learning rate {train1.learning_rate}, Adam's {TrainConfig().lr}")
assert abs(train1.learning_rate / TrainConfig().lr - 30) < 1e-9
