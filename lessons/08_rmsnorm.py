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
# # Lesson 8 — RMSNorm, by hand, and why a deep network needs it
#
# RMSNorm divides a vector by its root mean square, so that whatever scale
# it arrives at, it leaves with RMS 1:
#
#     rmsnorm(x) = x / sqrt(mean(x²) + ε),   ε = 1e-5
#
# (microgpt's has no learned gain; GPT-2 used LayerNorm, lesson 17 compares
# them.) This lesson computes it by hand, shows what goes wrong without it in
# a deep stack, and where the model applies it (the pre-norm pattern).
#
# Objectives served: why normalization is needed; computing RMSNorm for a
# vector; the pre-norm design.

# %%
import math

import numpy as np
from matplotlib.figure import Figure

import microgpt
from microgpt import forward, model
from microgpt.autograd import Value
from microgpt.data import BUNDLED_NAMES

from _tools import show

# %% [markdown]
# ## By hand: x = [1, 2, 3, 4]
#
# mean(x²) = (1 + 4 + 9 + 16) / 4 = 7.5; the scale is 1 / √(7.5 + 0.00001)
# ≈ 0.36515; the result is x times that: about [0.365, 0.730, 1.095, 1.461].

# %%
x = [1.0, 2.0, 3.0, 4.0]
ms = sum(xi * xi for xi in x) / len(x)
scale = 1 / math.sqrt(ms + 1e-5)
by_hand = [xi * scale for xi in x]
print(f"mean(x^2) = {ms}, scale = {scale:.5f}, rmsnorm(x) = {[round(v, 3) for v in by_hand]}")
assert ms == 7.5 and abs(scale - 0.36515) < 1e-5
assert forward.rms_scale([0.0] * 4) == 1e-5 ** -0.5  # the epsilon: what is left when x is 0
assert [round(v, 3) for v in by_hand] == [0.365, 0.730, 1.095, 1.461]
ours = forward.rmsnorm(x)  # the float version the model samples with
as_values = [v.data for v in model.rmsnorm([Value(xi) for xi in x])]  # the one it trains with
assert max(abs(a - b) for a, b in zip(ours, by_hand)) < 1e-15
assert max(abs(a - b) for a, b in zip(as_values, by_hand)) < 1e-15
out_rms = math.sqrt(sum(v * v for v in ours) / len(ours))
print(f"RMS of the output: {out_rms:.6f}")
assert abs(out_rms - 1) < 1e-5

# %% [markdown]
# **Predict:** what is rmsnorm(10·x) compared with rmsnorm(x): ten times
# larger, the same, or something else? And rmsnorm(x / 10)?

# %%
for c in (0.1, 10.0, 1000.0):
    diff = max(abs(a - b) for a, b in zip(forward.rmsnorm([c * xi for xi in x]), ours))
    print(f"rmsnorm({c:g} * x) differs from rmsnorm(x) by at most {diff:.1e}")
    assert diff < 1e-4

# %% [markdown]
# The same: the scale of the input is gone. 10·x and x/10 give the same
# output (up to the tiny ε), and so does any positive multiple; only the
# direction is kept.

# %% [markdown]
# **Break it:** in the cell that computed `by_hand`, change the line
# `ms = sum(xi * xi for xi in x) / len(x)` to `ms = sum(x) / len(x)`: the mean
# instead of the mean of squares. Predict: will rmsnorm(10·x) still equal
# rmsnorm(x)? And what happens to a vector whose entries sum to less than
# zero? The cell below runs that copy.

# %%
def mean_norm(v):
    ms = sum(v) / len(v)  # the broken line
    return [vi / math.sqrt(ms + 1e-5) for vi in v]


ratio = mean_norm([10 * xi for xi in x])[0] / mean_norm(x)[0]
print(f"mean instead of mean square: norm(10 x) is {ratio:.3f} times norm(x) (rmsnorm: 1)")
try:
    mean_norm([1.0, 2.0, -3.0, -4.0])
    negative = "no error"
except ValueError as e:
    negative = f"ValueError: {e}"
print(f"on [1, 2, -3, -4]: {negative}")
assert abs(ratio - math.sqrt(10)) < 1e-4  # the scale is no longer removed, only its square root
assert negative.startswith("ValueError")

# %% [markdown]
# No: the output still grows, by √10, since dividing by the square root of a
# mean only takes away half of the scale; and a vector with a negative mean
# asks for the square root of a negative number and fails. The *square*
# makes the average a size (never negative, growing as the scale squared),
# which is what the division needs to cancel the scale exactly.

# %% [markdown]
# ## Why a deep network needs it
#
# Each layer multiplies its input by a weight matrix. If the matrix shrinks
# vectors a little, twelve layers shrink them a lot; if it grows them a
# little, twelve layers blow them up. Below: a stack of random 16×16 layers
# with ReLU, at the model's init scale (std 0.08) and a larger one (std 0.6),
# with and without an RMSNorm before each layer.

# %% [markdown]
# **Predict:** at the model's own init scale (std 0.08) and with no norm,
# the RMS after layer 1 is about 0.2. After layer 12, will it be about 0.1,
# about 1e-3, or below 1e-6?

# %%
rng = np.random.default_rng(0)
depth, n = 12, 16
curves = {}
for std in (0.08, 0.6):
    for norm in (False, True):
        h = rng.standard_normal(n)
        W = [rng.normal(0, std, (n, n)) for _ in range(depth)]
        rms = []
        for layer in W:
            if norm:
                h = h / np.sqrt(np.mean(h * h) + 1e-5)
            h = np.maximum(layer @ h, 0)
            rms.append(float(np.sqrt(np.mean(h * h))))
        curves[(std, norm)] = rms
        print(f"std {std}, {'with' if norm else 'without'} RMSNorm: RMS after layer 1 {rms[0]:.2e}, "
              f"after layer {depth} {rms[-1]:.2e}")
assert curves[(0.08, False)][-1] < 1e-4 * curves[(0.08, False)][0]  # vanishes
assert abs(curves[(0.08, False)][0] - 0.2) < 0.02 and 6e-10 < curves[(0.08, False)][-1] < 7e-10
assert curves[(0.6, False)][-1] > 10 * curves[(0.6, False)][0]  # explodes
for std in (0.08, 0.6):  # with the norm, every layer's output stays at the scale of the first
    r = curves[(std, True)]
    assert max(r) / min(r) < 10

fig = Figure(figsize=(6, 3.2))
ax = fig.add_subplot()
for (std, norm), r in curves.items():
    ax.semilogy(range(1, depth + 1), r, marker="o", label=f"std {std}, {'RMSNorm' if norm else 'no norm'}")
ax.set_xlabel("layer")
ax.set_ylabel("RMS of activations")
ax.legend(fontsize=8)
show(fig)

# %% [markdown]
# Below 1e-6 (6.5e-10): each layer multiplies the scale by roughly the same
# factor below 1, and twelve such factors leave nothing. At std 0.6 the
# factor is above 1 and the activations explode instead.
#
# Without the norm, the scale of the activations is a product of the layers'
# gains, and so are the gradients flowing back; a product of many factors
# rarely stays near 1. With it, each layer sees inputs at the same scale
# whatever happened before.
#
# ## Pre-norm: where the model normalises
#
# microgpt (like GPT-2 and most models since) uses **pre-norm**: each block
# reads a normalised *copy* of the residual stream and adds its output back to
# the unnormalised stream, `x = x + block(rmsnorm(x))`. The stream itself is
# never normalised inside the layers, so the residual path stays a clean sum.
# (The original Transformer normalised *after* adding, `x = norm(x +
# block(x))`, which puts a norm on the residual path itself and trains less
# stably when deep.) `model.trace` records the stream and each norm's scale:

# %%
run = microgpt.train(data=BUNDLED_NAMES, steps=300, seed=42, engine="numpy", batch_size=16, n_layer=2)
trained = microgpt.Model.of(run)
t = trained.trace("emma")
for point in t.positions[3].stream:
    scale_text = f"the norm that reads it multiplies by {point.norm_scale:.3f}" if point.norm_scale else "read by lm_head"
    print(f"{point.name:12s} |x| = {point.norm:6.3f}  {scale_text}")
stream = t.positions[3].stream
for point in stream[:-1]:  # what each block reads has RMS 1, whatever the stream's size
    read = [v * point.norm_scale for v in point.vector]
    assert abs(math.sqrt(sum(v * v for v in read) / len(read)) - 1) < 1e-3  # 1, up to the epsilon
assert stream[-1].norm > stream[1].norm  # the blocks' outputs add up on the unnormalised stream

# %% [markdown]
# Try it: `microgpt exercise 7` asks for RMSNorm (with its backward).
