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
# # Lesson 17 — What production systems add: batches, and fewer bits
#
# A production GPT runs the same algorithm as microgpt. What it adds makes
# the algorithm cheap enough to run at scale. This lesson takes two of those
# additions and measures each on this project's own engine and model:
# training on a *batch* of documents of different lengths at once (padding,
# and the mask that keeps the padding out of the loss), and computing and
# storing numbers in fewer bits (float32, bfloat16), including why training
# keeps a full-precision copy of the weights. A short list of where to read
# next closes the lesson.
#
# Objectives served: what production systems add beyond the core algorithm;
# which parts are efficiency; how the loop handles documents of different
# lengths.

# %%
import random

import numpy as np

from matplotlib.figure import Figure

import microgpt
from microgpt.batches import Documents
from microgpt.config import GPTConfig
from microgpt.data import BUNDLED_NAMES, read_docs
from microgpt.engines import make_engine
from microgpt.engines.numpy_engine import NumpyEngine
from microgpt.model import init_weights

from _tools import show

docs = read_docs(BUNDLED_NAMES)
source = Documents(docs, random.Random(42))
tok = source.tokenizer
config = GPTConfig(tok.vocab_size)
weights = init_weights(config, random.Random(42))

# %% [markdown]
# ## 1. Batching: padding, and a mask for it
#
# microgpt's reference loop trains on one name per step. Hardware is far
# faster on a few large matrix products than on many small ones, so
# production stacks B sequences into one (B, T) block and runs them
# together. Names have different lengths: the block is as long as the
# longest, the shorter rows are padded, and the padded positions must not
# count. The numpy engine does this (`--batch-size`): it lists the real
# positions of the block and takes the loss over those only. Check: the
# loss of a padded batch is the mean over its real predictions, that is the
# names' own losses weighted by their lengths.

# %%
engine = make_engine("numpy", config, weights)
names = source.train[:4]
batch = [tok.encode_doc(n) for n in names]
own = [engine.loss_and_grads([t])[0] for t in batch]
counts = [config.predicted(t) for t in batch]
padded = engine.loss_and_grads(batch)[0]
expected = sum(l * c for l, c in zip(own, counts)) / sum(counts)
print(f"names {names} ({counts} predictions): padded batch loss {padded:.12f}, weighted mean {expected:.12f}")
assert abs(padded - expected) < 1e-12

# %% [markdown]
# The padded positions are still computed by the attention (the block is
# B × T), so padding is work spent on nothing. How much depends on the
# batch: one name per step wastes none; a batch of random names is as long
# as its longest.

# %% [markdown]
# **Predict:** batches of 32 names drawn in the shuffled order, each padded
# to its longest name: what share of the (B, T) block is padding — about 5%,
# about 30%, or about 60%? And if the names are first sorted by length, so
# each batch holds names of similar lengths?

# %%
lengths = [config.predicted(tok.encode_doc(n)) for n in source.train]


def padding_share(lens, batch_size):
    """The share of the padded blocks that is padding, over consecutive batches of lens."""
    real = padded_total = 0
    for start in range(0, len(lens) - batch_size + 1, batch_size):
        chunk = lens[start:start + batch_size]
        real += sum(chunk)
        padded_total += batch_size * max(chunk)
    return 1 - real / padded_total


sizes = [1, 2, 4, 8, 16, 32, 64, 128]
shuffled = {b: padding_share(lengths, b) for b in sizes}
by_length = {b: padding_share(sorted(lengths), b) for b in sizes}
for b in sizes:
    print(f"batch {b:3d}: padding {shuffled[b]:5.1%} of the block in shuffled order, {by_length[b]:5.1%} sorted by length")
assert shuffled[1] == by_length[1] == 0.0
assert all(shuffled[a] < shuffled[b] for a, b in zip(sizes, sizes[1:]))  # larger batches, longer longest name
assert 0.25 < shuffled[32] < 0.5 and by_length[32] < 0.01

fig = Figure(figsize=(6, 3))
ax = fig.add_subplot()
ax.semilogx(sizes, [100 * shuffled[b] for b in sizes], marker="o", base=2, label="shuffled order")
ax.semilogx(sizes, [100 * by_length[b] for b in sizes], marker="o", base=2, label="sorted by length")
ax.set_xlabel("names per batch")
ax.set_ylabel("padding, % of the block")
ax.legend()
show(fig)

# %% [markdown]
# About a third at 32 (the numbers above): most names are 5 to 8 letters,
# but a batch of 32 almost always holds a long one, and every row is padded
# to it. Sorting by length ("bucketing") leaves almost no padding. Production
# systems go further and *pack* documents end to end into fixed-length rows,
# with a mask that stops one document from attending to the previous one:
# no padding at all. The price of sorting is that a batch is no longer a
# random sample of the data, which is why buckets are shuffled among
# themselves.

# %% [markdown]
# **Break it:** the engine lists the real positions of the block in one line
# of `NumpyEngine._prepare`:
# `rows = np.flatnonzero(np.arange(T) < np.array(lens)[:, None])`. Change it to
# `rows = np.arange(B * T)`, so every position of the block counts, padding
# too. Predict: will the batch's loss still equal the weighted mean of the
# names' losses? Higher or lower? The cell below runs an engine with that
# line changed, on the same batch.

# %%
class PaddingCounted(NumpyEngine):
    def _prepare(self, batch):
        lens = [self.config.predicted(tokens) for tokens in batch]
        B, T = len(batch), max(lens)
        block = np.array([list(tokens[: n + 1]) + [0] * (T - n) for tokens, n in zip(batch, lens)], dtype=np.intp)
        rows = np.arange(B * T)  # the broken line: every position of the block counts, padding too
        tok_, targets, pos = block[:, :-1].ravel()[rows], block[:, 1:].ravel()[rows], rows % T
        return tok_, pos, targets, rows, (B, T)


counted = PaddingCounted(config, weights).loss_and_grads(batch)[0]
pads = len(batch) * max(counts) - sum(counts)
print(f"{pads} padded positions counted: batch loss {counted:.4f}, the names' own {expected:.4f}")
assert PaddingCounted(config, weights).loss_and_grads(batch[:1])[0] == own[0]  # one name, no padding: the same
assert abs(counted - expected) > 1e-3

# %% [markdown]
# No longer equal (lower, here). The padded positions now ask the model to predict the
# padding id (0, the letter "a") after the end of a name, and their losses
# enter the mean: the batch's loss, and its gradient, depend on which names
# happen to share it, and training would teach the model to write "a" after
# the end. A batch of one name has no padding and is unchanged — which is why
# such a bug survives a test that uses one name per batch.
#
# ## 2. Fewer bits
#
# Python's float is float64: 53 significant bits. GPUs train in float32
# (24 bits) and, for the bulk of the arithmetic, bfloat16: float32's range
# (8 exponent bits) with only 8 significant bits, half the memory and
# memory traffic of float32. NumPy has no bfloat16, but it is float32 with
# the low 16 bits rounded away, which a few lines do exactly (rounding to
# nearest, ties to even), checked on numbers worked out by hand.

# %%
def to_bfloat16(a):
    """a rounded to bfloat16 (8 significant bits), returned as float32."""
    bits = np.asarray(a, dtype=np.float32).view(np.uint32)
    rounded = bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))  # ties go to the even neighbour
    return (rounded & np.uint32(0xFFFF0000)).view(np.float32)


# 1/3 = 1.0101010101...b x 2^-2; 8 significant bits round it up to 1.0101011b x 2^-2 = 171/512
assert to_bfloat16(1 / 3) == 171 / 512
# 257 needs 9 bits: a tie between 256 and 258, which goes to the even 256; 259 goes up to 260
assert to_bfloat16([257.0, 259.0, 1 + 2**-7, 1 + 2**-9]).tolist() == [256.0, 260.0, 1 + 2**-7, 1.0]
print("bfloat16 keeps 1/3 as", float(to_bfloat16(1 / 3)), "and 257 as", float(to_bfloat16(257.0)))

# %% [markdown]
# A trained model (600 steps of 16 names, the numpy engine), scored on the
# held-out names with its weights in float64, float32, float16 and bfloat16.

# %% [markdown]
# **Predict:** bfloat16 keeps only 2 to 3 significant decimal digits of each
# weight. How much will the held-out loss move when every weight is rounded
# to it: in the 2nd decimal, the 4th, or the 6th?

# %%
run = microgpt.train(data=BUNDLED_NAMES, steps=600, seed=42, engine="numpy", batch_size=16)
trained = microgpt.Model.of(run).checkpoint.weights
val = [tok.encode_doc(d) for d in source.val]


def val_loss(ws, dtype="float64"):
    total, count = make_engine("numpy", config, ws, dtype=dtype).nll(val)
    return total / count


def rounded(ws, to):
    return {k: to(np.array(v, dtype=np.float64)).astype(np.float64).tolist() for k, v in ws.items()}


base = val_loss(trained)
losses = {"float32": val_loss(trained, "float32"),
          "float16": val_loss(rounded(trained, lambda a: a.astype(np.float16)), "float32"),
          "bfloat16": val_loss(rounded(trained, to_bfloat16), "float32")}
for name, loss in losses.items():
    print(f"weights in {name:8s}: held-out loss {loss:.6f} (float64 {base:.6f}, moved {abs(loss - base):.1e})")
assert abs(losses["float32"] - base) < 1e-5
assert abs(losses["float32"] - base) < abs(losses["float16"] - base) < abs(losses["bfloat16"] - base) < 1e-4

fig = Figure(figsize=(6, 2.6))
ax = fig.add_subplot()
ax.bar(list(losses), [abs(loss - base) for loss in losses.values()])
ax.set_yscale("log")
ax.set_ylabel("|loss - float64 loss|")
ax.set_title("held-out loss, weights rounded to each format")
show(fig)

# %% [markdown]
# Below the 4th decimal (the numbers above): each weight is off by up to
# 0.4% in bfloat16, but the errors are independent and the loss averages
# over thousands of them, so the model's predictions barely move. This is
# why inference and most of training's arithmetic run in 16 bits.
#
# Training is another matter. A step changes each weight by about the
# learning rate (Adam, lesson 14), and a format with 8 significant bits
# cannot represent a change much smaller than 1/256 of the weight: the sum
# rounds back to the old weight, and the step is lost.

# %% [markdown]
# **Predict:** with the trained weights stored in bfloat16, an update of
# 1e-4 to every weight: what share of the weights will not change at all —
# about 1%, about half, or nearly all? And in float32?

# %%
flat = np.concatenate([np.ravel(v) for v in trained.values()]).astype(np.float32)
formats = {"float32": lambda a: a.astype(np.float32), "float16": lambda a: a.astype(np.float16),
           "bfloat16": to_bfloat16}
steps_sizes = [1e-2, 1e-3, 1e-4, 1e-5]
lost = {}
for name, to in formats.items():
    w = to(flat).astype(np.float64)
    lost[name] = [float(np.mean(to((w + u).astype(np.float32)).astype(np.float64) == w)) for u in steps_sizes]
    print(f"{name:8s}: share of weights an update leaves unchanged: "
          + ", ".join(f"{u:.0e}: {s:.1%}" for u, s in zip(steps_sizes, lost[name])))
assert lost["float32"][2] < 0.01 and lost["bfloat16"][2] > 0.5  # 1e-4: float32 keeps it, bfloat16 loses most
assert all(a <= b for a, b in zip(lost["bfloat16"], lost["bfloat16"][1:]))  # the smaller the step, the more lost

fig = Figure(figsize=(6, 3))
ax = fig.add_subplot()
for name, shares in lost.items():
    ax.semilogx(steps_sizes, [100 * s for s in shares], marker="o", label=name)
ax.set_xlabel("size of the update")
ax.set_ylabel("% of weights unchanged")
ax.legend()
show(fig)

# %% [markdown]
# Most of them in bfloat16, almost none in float32 (the numbers above).
# microgpt's learning rate decays linearly to zero, so the last tenth of a
# run takes steps below 1e-3, where a bfloat16 weight stops moving. Hence
# *mixed precision*: the forward and backward arithmetic run in 16 bits,
# while the optimizer keeps a float32 "master" copy of every weight and adds
# the updates there. (float16 has more significant bits than bfloat16 but a
# far smaller range: small gradients round to zero, which is why float16
# training also multiplies the loss by a large "loss scale" before the
# backward pass.) The same check on this project's two floating-point
# widths:

# %%
l64 = make_engine("numpy", config, weights).loss_and_grads(batch)[0]
l32 = make_engine("numpy", config, weights, dtype="float32").loss_and_grads(batch)[0]
print(f"loss of the batch above in float64 {l64:.10f}, in float32 {l32:.10f} (gap {abs(l64 - l32):.1e})")
assert 0 < abs(l64 - l32) < 1e-4
assert np.dtype(np.float64).itemsize == 2 * np.dtype(np.float32).itemsize == 4 * np.dtype(np.float16).itemsize

# %% [markdown]
# ## Where to read next
#
# The rest of what production adds, each a change of a few lines to the
# model or the loop: **dropout** (zero a random share of activations while
# training; the numpy and torch engines have `--dropout`), **weight tying**
# (one matrix for `wte` and `lm_head`, a large saving with a 50,000-token
# vocabulary; `--tie-weights`), **LayerNorm** (GPT-2's norm: RMSNorm plus a
# mean subtraction and a bias), **flash attention** (attention computed
# tile by tile with a running softmax, so the T × T score matrix is never
# stored), **learning-rate warmup and cosine decay, weight decay and gradient
# clipping** (`--warmup-steps`, `--schedule cosine`, `--weight-decay`,
# `--grad-clip`), and beyond one machine: data, tensor and pipeline
# parallelism, larger and better blocks (GELU or SwiGLU, rotary position
# embeddings, grouped-query attention), and fine-tuning after pre-training.
# docs/scaling.md and docs/performance.md measure some of these on this
# project's engines.
