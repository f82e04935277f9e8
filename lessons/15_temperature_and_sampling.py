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
# # Lesson 15 — Generation: one token at a time, and temperature
#
# A trained model gives, after any prefix, a distribution over the next
# token. Generating is a loop: start from BOS, draw a token from that
# distribution, feed it back in, and stop when the model draws BOS again.
# Temperature reshapes the distribution before each draw. This lesson writes
# the loop by hand and checks it against `model.sample`, measures what
# temperature trades, and ends with the whole path from a text file to a
# generated name.
#
# Objectives served: autoregressive generation; temperature, diversity and
# quality; the inference loop from BOS to a name; the full data flow.

# %%
import math
import random
import tempfile
from pathlib import Path

import microgpt
from microgpt import forward
from microgpt.data import BUNDLED_NAMES
from microgpt.inspection.plots.next_char import next_figure
from microgpt.sample import next_token_probs

from _tools import show

run = microgpt.train(data=BUNDLED_NAMES, steps=600, seed=42, engine="numpy", batch_size=16)
model = microgpt.Model(run.checkpoint(), "fused")  # fused computes exactly forward.py's floats
w, config, tok = model.checkpoint.weights, model.config, model.tokenizer
train_names = set(run.trainer.train_docs)
print(f"trained: validation loss {run.val_loss:.4f}")

# %% [markdown]
# ## The loop, by hand
#
# Position 0 reads BOS; each position's logits are divided by the
# temperature, softmaxed, and one token is drawn with the random generator;
# the token is the next position's input. The KV cache keeps the earlier
# positions' keys and values, so each step computes only the new position.

# %%
def generate(rng, temperature):
    keys, values = forward.empty_cache(config)
    token, out = tok.bos, []
    for pos in range(config.block_size):
        logits = forward.gpt(w, config, token, pos, keys, values)
        probs = next_token_probs(logits, temperature)  # softmax(logits / T)
        token = rng.choices(range(tok.vocab_size), weights=probs)[0]
        if token == tok.bos:  # the model says: the name ends here
            break
        out.append(tok.chars[token])
    return "".join(out)


rng = random.Random(7)
by_hand = [generate(rng, 0.5) for _ in range(10)]
by_api = model.sample(10, temperature=0.5, seed=7)
print("by hand:       ", by_hand)
print("model.sample():", by_api)
assert by_hand == by_api

# %% [markdown]
# ## Temperature
#
# Dividing logits by T < 1 widens the gaps between them, so the likely
# tokens take more of the probability; T > 1 flattens the distribution
# toward uniform; T → 0 is greedy (always the most likely token). After BOS,
# the distribution of first letters:

# %%
show(next_figure(w, config, tok, "", 0.5, "the first letter: T = 1 and T = 0.5"))
first = forward.sequence_logits(w, config, [tok.bos])[0]
temps = (0.2, 0.5, 1.0, 1.5)
entropy = {}
for t in temps:
    p = next_token_probs(first, t)
    entropy[t] = -sum(x * math.log(x) for x in p if x > 0)
    print(f"T = {t}: entropy of the first letter {entropy[t]:.3f} nats (uniform: ln 27 = {math.log(27):.3f})")
assert all(entropy[a] < entropy[b] for a, b in zip(temps, temps[1:]))

# %% [markdown]
# What that does to the names, over 100 samples per temperature. Diversity:
# how many samples are distinct. Quality: the samples' mean surprise per
# character under the model itself at T = 1 (low: the kind of name the model
# finds typical), and how many are real names from the training set.

# %% [markdown]
# **Predict:** at T = 0.2 and at T = 1.5, about what share of 100 samples
# will be names that really occur in the training set: most, some, or almost
# none? And at which temperature will samples repeat?

# %%
stats = {}
for t in temps:
    names = model.sample(100, temperature=t, seed=1)
    nll, n = 0.0, 0
    for name in names:
        s, k = forward.doc_nll(w, config, tok.encode_doc(name))
        nll, n = nll + s, n + k
    stats[t] = (len(set(names)) / len(names), nll / n, sum(name in train_names for name in names) / len(names))
    print(f"T = {t}: distinct {stats[t][0]:.0%} | surprise per character {stats[t][1]:.2f} | "
          f"real names {stats[t][2]:.0%} | e.g. {names[:5]}")
assert stats[0.2][0] < stats[1.5][0]  # hotter: more diverse
assert all(stats[a][1] < stats[b][1] for a, b in zip(temps, temps[1:]))  # and less typical
assert (round(stats[0.2][2], 2), round(stats[0.2][0], 2), round(stats[1.5][2], 2)) == (0.64, 0.65, 0.01)

# %% [markdown]
# At T = 0.2 most samples (64%) are real names, but a third of the draws
# repeat an earlier one (65% distinct); at T = 1.5 almost none (1%) are real,
# and some are barely pronounceable. Low temperature gives safe, typical,
# repetitive names; high temperature
# gives variety and, with it, strange ones. microgpt samples at T = 0.5 by
# default.
#
# At T = 0 the loop always takes the most likely token.

# %% [markdown]
# **Predict:** five samples at T = 0: how many different names will they be?

# %%
from microgpt.sample import TEMPERATURE

assert TEMPERATURE == 0.5  # the default of `microgpt sample` and of training's samples
greedy = model.sample(5, temperature=0)
print("T = 0:", greedy)
assert len(set(greedy)) == 1

# %% [markdown]
# One: with no randomness left, every sample follows the same path from BOS,
# so every sample is the same name.

# %% [markdown]
# **Break it:** microgpt's `generate` takes the most likely token when the
# temperature is 0, before the line `probs = next_token_probs(logits, temperature)`.
# Remove that special case, so T = 0 goes through the formula softmax(logits / T)
# like any other temperature. Predict: the same name five times, or something
# else? The cell below calls the formula at T = 0 on the first position's logits.

# %%
try:
    next_token_probs(first, 0)
    outcome = "probabilities"
except ZeroDivisionError as e:
    outcome = f"ZeroDivisionError: {e}"
cold = next_token_probs(first, 1e-3)  # the limit the special case stands for
print(f"T = 0 through the formula: {outcome}; at T = 0.001 the top letter gets p = {max(cold):.6f}")
assert outcome.startswith("ZeroDivisionError")
assert max(cold) > 0.999 and cold.index(max(cold)) == max(range(len(first)), key=first.__getitem__)

# %% [markdown]
# Something else: an error. Dividing by T = 0 is undefined; greedy decoding is
# the *limit* of softmax(logits / T) as T falls to 0 (at T = 0.001 the top
# letter already has all but a sliver of the probability), so a sampler must
# handle T = 0 as its own case, the argmax, and `microgpt sample` refuses a
# temperature so small that the division overflows.

# %% [markdown]
# `--top-k K` (`model.sample(top_k=K)`) is the other common knob: draw only
# among the K most likely tokens, which cuts off the long tail of unlikely
# ones without flattening or sharpening the rest.

# %%
k_names = model.sample(100, temperature=1.0, top_k=3, seed=1)
allowed_after_bos = sorted(range(len(first)), key=lambda i: -first[i])[:3]
print("top-3 first letters:", [tok.chars[i] for i in allowed_after_bos], "| samples:", k_names[:8])
assert all(tok.stoi[n[0]] in allowed_after_bos for n in k_names if n)

# %% [markdown]
# ## From a text file to a name
#
# The whole path, in the project's calls: a file of lines → documents
# (`data.read_docs`) → a shuffled split (`batches.Documents`) → a character
# vocabulary with BOS (`tokenizer.Tokenizer`) → training (`microgpt.train`)
# → a JSON checkpoint (`run.save`) → a loaded model (`microgpt.load`) → the
# loop above (`sample.generate`) → characters again (`tokenizer.decode`).

# %%
with tempfile.TemporaryDirectory() as tmp:
    data = Path(tmp) / "pets.txt"
    data.write_text("\n".join(["rex", "max", "bella", "luna", "milo", "coco", "nala", "toby", "lola",
                               "oscar", "ruby", "leo", "daisy", "bailey", "rosie", "buddy"] * 8) + "\n")
    small = microgpt.train(data=str(data), steps=200, seed=3, val_docs=8)
    small.save(Path(tmp) / "pets.json")
    loaded = microgpt.load(Path(tmp) / "pets.json")
    before = microgpt.Model.of(small).sample(8, temperature=0.5, seed=3)
    after = loaded.sample(8, temperature=0.5, seed=3)
print(f"{len(loaded.tokenizer.chars)} characters + BOS; samples: {after}")
assert before == after  # the checkpoint holds everything sampling needs
assert set("".join(after)) <= set(loaded.tokenizer.chars)

# %% [markdown]
# Try it: `microgpt exercise 13` (temperature and top-k sampling).
