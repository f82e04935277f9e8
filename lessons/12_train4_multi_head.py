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
# # Lesson 12 — train4: several heads, several layers, and the MLP beside attention
#
# `train4.py` splits train3's single attention head into `n_head` = 4 heads,
# each working on its own slice of n_embd / n_head = 4 numbers with its own
# attention weights, and wraps the block in a loop over `n_layer` layers
# (parameter names `layer{i}.…`). The parameter count does not change. With
# it the architecture is the final microgpt's; only the optimizer is left.
#
# Objectives served: how multiple heads capture different relationships;
# what the MLP sublayer computes and why it is needed beside attention; the
# complete block.

# %%
import random

import numpy as np
from matplotlib.figure import Figure

import microgpt
from microgpt import forward
from microgpt.batches import Documents
from microgpt.config import GPTConfig, TrainConfig
from microgpt.data import BUNDLED_NAMES, read_docs
from microgpt.engines.numpy_engine import NumpyEngine
from microgpt.inspection.plots.attention import attention_figure
from microgpt.ladder import train3, train4
from microgpt.model import init_weights
from microgpt.optim import learning_rate

from _tools import NamesFile, changed_lines, rung_diff, show

# %% [markdown]
# ## What changed from train3

# %%
diff = rung_diff(train3, train4)
removed, added = changed_lines(diff)
print("\n".join(diff))
print(f"\n{removed} lines removed, {added} added")
assert any("for h in range(n_head)" in line for line in diff if line.startswith("+"))

# %%
with NamesFile() as path:
    r3 = train3.run(steps=1000, data=path, log=None, stop_after=10)
    r4 = train4.run(steps=1000, data=path, log=None, stop_after=10)
print(f"parameters: train3 {r3['params']:,}, train4 {r4['params']:,}")
print("train4's first losses:", " ".join(f"{x:.3f}" for x in r4["losses"]))
assert r3["params"] == r4["params"]  # four heads of 4 cost what one head of 16 did
assert train4.n_head == 4 and train4.n_embd // train4.n_head == 4 and train3.n_embd == 16

# %% [markdown]
# ## Do the heads look at different things?
#
# One head computes one set of attention weights: one way of deciding which
# earlier positions matter. Four heads, each with its own query and key
# projections, *can* each pick a different one — say, one the previous
# letter, one the start of the name. Whether they do is a question for
# measurement. Below, a trained microgpt (numpy engine, 600 steps of 16
# names) reads held-out names; for each head, the mean weight it gives to
# BOS, to the current position and to the one just before.

# %% [markdown]
# **Predict:** will the four heads of this small model split the work (one
# mostly on the previous letter, another mostly on BOS), or will they look
# alike?

# %%
def head_summary(run, names=100):
    """{(layer, head): (mean weight on BOS, on the current position, on the previous one)},
    and each head's weight rows, over held-out names from position 2 on."""
    model = microgpt.Model.of(run)
    w, config, tok = model.checkpoint.weights, model.config, model.tokenizer
    rows = {}
    for name in run.trainer.val_docs[:names]:
        ids = [tok.bos] + tok.encode(name)
        keys, values = forward.empty_cache(config)
        for pos, t in enumerate(ids):
            seen = []
            forward.gpt(w, config, t, pos, keys, values, attn=seen)
            if pos >= 2:
                for layer, h, weights in seen:
                    rows.setdefault((layer, h), []).append((pos, weights))
    summary = {key: (np.mean([wt[0] for _, wt in rs]), np.mean([wt[p] for p, wt in rs]),
                     np.mean([wt[p - 1] for p, wt in rs])) for key, rs in rows.items()}
    return summary, rows


run = microgpt.train(data=BUNDLED_NAMES, steps=600, seed=42, engine="numpy", batch_size=16)
small, rows = head_summary(run)
for (_, h), (bos, cur, prev) in small.items():
    print(f"head {h}: BOS {bos:.2f} | current {cur:.2f} | previous {prev:.2f}")

# how different two heads' weights are at the same position: total variation distance (0 = identical)
tv = []
for a in range(4):
    for b in range(a + 1, 4):
        tv.append(np.mean([0.5 * np.abs(np.array(wa) - np.array(wb)).sum()
                           for (_, wa), (_, wb) in zip(rows[0, a], rows[0, b])]))
print(f"mean distance between two heads' attention at the same position: {np.mean(tv):.2f} "
      f"(from {min(tv):.2f} to {max(tv):.2f} over the pairs)")
prev_small = [prev for _, _, prev in small.values()]
assert all(prev > max(bos, cur) for bos, cur, prev in small.values())  # every head: the previous letter first
assert max(prev_small) - min(prev_small) < 0.2 and max(prev_small) < 0.5  # and none of them much more than another
assert min(tv) > 0.1  # alike in kind, not identical in detail
assert abs(min(prev_small) - 0.25) < 0.02 and abs(max(prev_small) - 0.40) < 0.02

# %% [markdown]
# They look alike. Every head spreads its weight over the name and favours
# the previous letter a little (about 0.25 to 0.40); none is a specialist. Their
# weights at a given position still differ in detail (the distances above),
# but the four are the same kind of head. Four heads of 4 numbers each,
# trained for 600 steps, have little room and little time to divide the work.

# %% [markdown]
# **Break it:** in `forward.gpt`, each head reads its own slice of the query
# and the keys, `s = slice(h * hd, (h + 1) * hd)`. Change that line to
# `s = slice(0, hd)`, so every head reads head 0's numbers. Predict: how far
# apart will the four heads' attention weights be then? The cell below
# recomputes layer 0's weights that way for the model above, reading one
# held-out name.

# %%
def head_weights(weights, cfg, ids, pos, same_slice):
    """Each head's attention weights at pos (layer 0), with the right slices or with every head on slice 0."""
    keys, values = forward.empty_cache(cfg)
    for p_ in range(pos + 1):
        forward.gpt(weights, cfg, ids[p_], p_, keys, values)
    x = forward.rmsnorm(forward.rmsnorm([a + b for a, b in zip(weights["wte"][ids[pos]], weights["wpe"][pos])]))
    q = forward.linear(x, weights["layer0.attn_wq"])
    hd_ = cfg.head_dim
    out = []
    for h in range(cfg.n_head):
        s = slice(0, hd_) if same_slice else slice(h * hd_, (h + 1) * hd_)  # the line the break changes
        out.append(forward.softmax([sum(a * b for a, b in zip(q[s], k[s])) / hd_**0.5 for k in keys[0]]))
    return out


small_model = microgpt.Model.of(run)
w_small, cfg_small, tok_small = small_model.checkpoint.weights, small_model.config, small_model.tokenizer
ids = [tok_small.bos] + tok_small.encode(run.trainer.val_docs[0])
pos = len(ids) - 1
right = head_weights(w_small, cfg_small, ids, pos, same_slice=False)
seen = []
keys, values = forward.empty_cache(cfg_small)
for p_, t_ in enumerate(ids):
    seen = []
    forward.gpt(w_small, cfg_small, t_, p_, keys, values, attn=seen)
assert all(np.allclose(r, wts) for r, (_, _, wts) in zip(right, seen))  # the copy computes the model's weights
same = head_weights(w_small, cfg_small, ids, pos, same_slice=True)
distance = lambda a, b: 0.5 * np.abs(np.array(a) - np.array(b)).sum()
apart = max(distance(same[0], same[h]) for h in range(1, 4))
print(f"reading {run.trainer.val_docs[0]!r}: largest distance from head 0 to another head: "
      f"{max(distance(right[0], right[h]) for h in range(1, 4)):.2f} with each head's slice, {apart:.2f} on slice 0")
assert apart == 0.0 and max(distance(right[0], right[h]) for h in range(1, 4)) > 0.05

# %% [markdown]
# Zero: four copies of one head. A head is nothing but its slice of the
# query, key and value vectors; the split into slices (and `attn_wo`
# mixing them back) is the whole of "multi-head". Heads that share a slice
# cost the same parameters and compute one pattern four times.
#
# ## Where heads do differ: a wider model, trained longer
#
# Give each head 8 numbers instead of 4 (n_embd = 32, still 4 heads) and
# train 2,000 steps.

# %% [markdown]
# **Predict:** will one head now put most of its weight (more than half) on
# the previous letter, while the others do not?

# %%
wide_run = microgpt.train(data=BUNDLED_NAMES, steps=2000, seed=42, engine="numpy", batch_size=16, n_embd=32)
wide, _ = head_summary(wide_run)
for (_, h), (bos, cur, prev) in wide.items():
    print(f"wide model, head {h}: BOS {bos:.2f} | current {cur:.2f} | previous {prev:.2f}")
prev_wide = [prev for _, _, prev in wide.values()]
cur_wide = [cur for _, cur, _ in wide.values()]
print(f"weight on the previous letter: from {min(prev_wide):.2f} to {max(prev_wide):.2f} over the heads "
      f"(small model: {min(prev_small):.2f} to {max(prev_small):.2f})")
assert max(prev_wide) > 0.6 and sorted(prev_wide)[-2] < 0.5  # one previous-letter head, and only one
assert max(prev_wide) - min(prev_wide) > max(prev_small) - min(prev_small)

fig = Figure(figsize=(8, 3))
for i, (title, summary) in enumerate((("n_embd 16, 600 steps", small), ("n_embd 32, 2,000 steps", wide))):
    ax = fig.add_subplot(1, 2, i + 1)
    for j, label in enumerate(("BOS", "current", "previous")):
        ax.bar(np.arange(4) + 0.27 * (j - 1), [v[j] for v in summary.values()], 0.27, label=label)
    ax.set_xticks(range(4), [f"head {h}" for _, h in summary])
    ax.set_ylim(0, 1)
    ax.set_title(title)
fig.axes[0].set_ylabel("mean attention weight")
fig.axes[0].legend()
show(fig)
model = microgpt.Model.of(wide_run)
show(attention_figure(model.checkpoint.weights, model.config, model.tokenizer, "isabella",
                      "the wide model's four heads reading 'isabella'"))

# %% [markdown]
# Now the heads divide the work: one head is a previous-letter head, putting
# most of its weight there, while the others spread theirs between the
# current letter, the previous one and the rest of the name. Multi-head
# attention gives the model the *option* of several patterns at once; a
# model uses it when it has the width and the training to.

# %% [markdown]
# ## The MLP: thinking about what was gathered
#
# Attention's output at a position is a weighted average of value vectors:
# a linear mix of what other positions hold. The MLP that follows works on
# each position alone — expand to 4 × n_embd, ReLU, project back — and is
# where nonlinear, per-token computation on the gathered information
# happens. To measure what it contributes, train the same model twice on
# the same batches, once with the MLP's output projection held at zero
# (the block then only attends), and compare held-out losses.

# %%
docs = read_docs(BUNDLED_NAMES)
source = Documents(docs, random.Random(42))
cfg = GPTConfig(source.tokenizer.vocab_size)


class NoMLP(NumpyEngine):
    def silence(self):
        for i in range(self.config.n_layer):
            self.p[f"layer{i}.mlp_fc2"][...] = 0  # the MLP adds nothing to the residual stream

    def train_step(self, batch, lr_t):
        loss = super().train_step(batch, lr_t)
        self.silence()
        return loss


def train(engine_class, steps=600, batch_size=16):
    tc = TrainConfig(steps=steps, batch_size=batch_size)
    engine = engine_class(cfg, init_weights(cfg, random.Random(1)), tc)
    if engine_class is NoMLP:
        engine.silence()
    for step in range(steps):
        batch = [source.tokenizer.encode_doc(source.train[(step * batch_size + b) % len(source.train)])
                 for b in range(batch_size)]
        engine.train_step(batch, learning_rate(tc, step))
    total, count = engine.nll([source.tokenizer.encode_doc(d) for d in source.val])
    return total / count


with_mlp, without_mlp = train(NumpyEngine), train(NoMLP)
print(f"held-out loss after 600 steps: with the MLP {with_mlp:.4f}, attention only {without_mlp:.4f} "
      f"({without_mlp - with_mlp:+.3f})")
assert without_mlp > with_mlp + 0.01

# %% [markdown]
# At this tiny size and short run the MLP's share is modest, but consistent
# with its role: attention moves information between positions, the MLP
# transforms it in place. A complete block is both, each behind an RMSNorm
# and inside a residual:
#
#     x = x + attention(rmsnorm(x))   # gather from earlier positions
#     x = x + mlp(rmsnorm(x))         # compute on what was gathered
#
# Try it: `microgpt exercise 9` (multi-head attention) and `microgpt
# exercise 10` (the MLP block).
