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
# # Lesson 1 — train0: the data, the tokens, and a model made by counting
#
# Every rung of the ladder solves one task: given the characters of a name so
# far, predict the next one. Before any neural network, this lesson looks at
# what the model is fed, and at the simplest model that does the job at all:
# a table of how often each character follows each other (`train0.py`).
#
# Objectives served: how the data is loaded and prepared; characters as tokens
# and the BOS token; what a loss value says.

# %%
import math
import random
from pathlib import Path

from microgpt.batches import Documents
from microgpt.data import BUNDLED_NAMES, read_docs
from microgpt.inspection.plots.bigram import bigram_counts, bigram_figure
from microgpt.ladder import train0

from _tools import NamesFile, show

# %% [markdown]
# ## The data
#
# The dataset is a list of names, one per line, shipped inside the package.
# `read_docs` strips each line and drops empty ones: one line is one document.

# %%
docs = read_docs(BUNDLED_NAMES)
print(f"{len(docs):,} names; the first five: {docs[:5]}")
lengths = [len(d) for d in docs]
mean_length = sum(lengths) / len(lengths)
print(f"lengths from {min(lengths)} to {max(lengths)} characters, mean {mean_length:.2f}")
assert abs(mean_length - 6.12) < 0.005
assert len(docs) > 30_000 and all(d == d.strip() and d for d in docs)

# %% [markdown]
# Training does not read them in file order. One random generator, seeded
# once, first shuffles the list; the last tenth (at most a thousand names) is
# then held out for validation, and training walks through the rest in order,
# one name per step. `Documents` is that preparation.

# %%
source = Documents(docs, random.Random(42))
print(f"train {len(source.train):,} | validation {len(source.val):,}")
print("first training names:", source.train[:5])
assert len(source.val) == min(1000, len(docs) // 10)
assert len(source.train) + len(source.val) == len(docs)
assert sorted(source.train + source.val) == sorted(docs)  # a shuffle: nothing lost, nothing added

# %% [markdown]
# ## Characters as tokens, and BOS
#
# The vocabulary is every distinct character of the data, in sorted order, each
# getting an id; one extra token, BOS ("beginning of sequence"), gets the next
# id. A document is wrapped in BOS on *both* sides: the BOS in front is the
# context the first letter is predicted from, and the BOS at the end is what
# the model must predict to say "the name is over". One token does both jobs.

# %%
tok = source.tokenizer
print("characters:", "".join(tok.chars))
print(f"vocab size: {tok.vocab_size} (the {len(tok.chars)} characters + BOS, id {tok.bos})")
ids = tok.encode_doc("emma")
print("emma ->", ids, "->", repr(tok.decode(ids)))
assert tok.vocab_size == len(tok.chars) + 1 == 27
assert ids[0] == ids[-1] == tok.bos and tok.decode(ids) == "emma"
# a name of n characters gives n + 1 (context, next) pairs to learn from
assert len(list(zip(ids, ids[1:]))) == len("emma") + 1

# %% [markdown]
# ## train0: count the pairs
#
# `train0.py` is the ladder's first rung; there is no rung before it to diff
# against, so here is its idea in its own words (its docstring), then a run.
# Its "training" counts every (previous, next) pair of the training names,
# starting every count at one (add-one smoothing, so no pair is impossible);
# a row of the table, normalised, is the distribution of the next character.

# %%
print(train0.__doc__)
source_lines = Path(train0.__file__).read_text(encoding="utf-8").splitlines()
print(f"train0.py: {len(source_lines)} lines, standard library only")

# %% [markdown]
# The rungs read a plain file (they are standalone scripts), so the lesson
# writes the names to a temporary file (`_tools.NamesFile`) and hands it over.

# %% [markdown]
# **Predict:** this model sees only the previous character. Will its samples
# look like names? Longer or shorter than the mean name (6.12 characters)?

# %%
with NamesFile() as path:
    result = train0.run(data=path, log=None)
print(f"counted {result['steps']:,} names in {result['seconds']:.2f} s")
print(f"validation loss {result['val_loss']:.4f} (perplexity {result['val_ppl']:.2f})")
print("samples:", result["samples"][:10])
sample_length = sum(map(len, result["samples"])) / len(result["samples"])
print(f"mean sample length {sample_length:.2f} characters")
assert sample_length < mean_length

# %% [markdown]
# Name-like fragments, and short ones: one character of context says which
# letters may follow, but not how far into a name the model is, so it ends
# names at random, often far too early.

# %% [markdown]
# **Break it:** in the cell above, change the line `with NamesFile() as path:`
# to `with NamesFile(300) as path:` (every 300th name, about a hundred).
# Predict: will the validation loss go up or down? Why? The cell below runs
# that copy; `result` keeps the full run.

# %%
with NamesFile(300) as path:
    few = train0.run(data=path, log=None)
print(f"{few['steps']} names counted: validation loss {few['val_loss']:.4f} "
      f"(every name: {result['val_loss']:.4f})")
assert few["steps"] < 150 and few["val_loss"] > result["val_loss"] + 0.1

# %% [markdown]
# Up. A hundred names hold a few hundred letter pairs for a table of
# 27 × 27 = 729 counts, so most counts are the smoothing's 1: the table is
# close to the uniform guess, and the pairs it did see are too few to say
# how often each letter follows another. A count table needs data in
# proportion to its size.

# %% [markdown]
# ## What the loss says
#
# The loss is the mean, over every predicted character, of −ln p(the character
# that came). A model that knows nothing gives every one of the 27 tokens the
# same probability, so its loss is ln 27 at every position. The count table
# does much better: its perplexity, e^loss, is the number of equally likely
# choices the model is "as unsure as" — down from 27 to about a dozen.

# %%
uniform = math.log(tok.vocab_size)
print(f"uniform guess: ln {tok.vocab_size} = {uniform:.4f} (perplexity {tok.vocab_size})")
print(f"bigram counts: {result['val_loss']:.4f} (perplexity {result['val_ppl']:.2f}), "
      f"{uniform - result['val_loss']:.2f} nats better")
assert abs(uniform - 3.2958) < 1e-4
assert result["val_loss"] < uniform - 0.5
assert 8 < result["val_ppl"] < 15  # "about a dozen"

# %% [markdown]
# ## The table itself
#
# Row = the character just read, column = the next one. The BOS row is how
# names start; the BOS column is how they end.

# %% [markdown]
# **Predict:** which letter starts the most names?

# %%
counts = bigram_counts(tok, source.train)
show(bigram_figure(tok, counts, "bigram counts of the training names"))
first = counts[tok.bos]
best_start = tok.chars[max(range(len(tok.chars)), key=first.__getitem__)]
print(f"most common first letter: {best_start!r} ({first[tok.stoi[best_start]]:,} names)")
assert sum(first) == len(source.train)  # every name starts once after BOS
assert sum(row[tok.bos] for row in counts) == len(source.train)  # and ends once with BOS
ends = sorted(tok.chars, key=lambda c: counts[tok.stoi[c]][tok.bos], reverse=True)
print(f"most common last letters: {ends[:2]}")
assert best_start == "a" and ends[:2] == ["n", "a"]

# %% [markdown]
# "a": the brightest cell of the BOS row. The BOS column shows the endings,
# where "n" and "a" stand out.

# %% [markdown]
# ## Discussion
#
# Counting gives the best possible model *of its kind*: one that sees only the
# previous character. Every later rung is a neural network trained by gradient
# descent; `train1` keeps this exact model class (next character from the
# previous one) and so can at best match this table. What beats it is seeing
# more context — which is what attention, in `train3`, adds.
#
# Try it: `microgpt exercise 1` asks you to write the bigram counts yourself.
