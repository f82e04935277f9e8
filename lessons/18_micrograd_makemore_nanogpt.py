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
# # Lesson 18 — microgpt among micrograd, makemore and nanoGPT
#
# microgpt distils three earlier projects by Andrej Karpathy into one file:
#
# * **micrograd** — a scalar autograd engine: a `Value` class holding data,
#   grad and its children, operator overloading to build the graph, and a
#   backward pass in reverse topological order, plus a tiny neural-network
#   library on top. microgpt's `Value` is the same idea, reduced to six
#   operations whose local derivatives are computed in the forward pass.
# * **makemore** — character-level language models trained on the same
#   names dataset, from a bigram table through an MLP to a transformer, with
#   one sampler for all of them. The ladder's rungs retrace that path.
# * **nanoGPT** — a compact GPT-2 in PyTorch (`model.py`, `train.py`,
#   `sample.py`) that trains on characters of Shakespeare or on GPT-2's
#   tokens. microgpt's model is the same architecture shrunk and
#   simplified: RMSNorm for LayerNorm, ReLU for GELU, no biases, one
#   document per step.
#
# What microgpt drops from them is efficiency (tensors, batches, GPUs); what
# it keeps is the algorithm. This lesson lays out the correspondences as a
# table of this project's files, and checks the table against the tree.
#
# Objectives served: how microgpt relates to micrograd, makemore and
# nanoGPT; what microgpt's components are; the full path from data to text.

# %%
import importlib
import inspect
from pathlib import Path

import microgpt
from microgpt.data import BUNDLED_NAMES, NAMES_COUNT, read_docs

SRC = Path(microgpt.__file__).parent

# %% [markdown]
# ## The correspondences
#
# | idea | in micrograd / makemore / nanoGPT | in this project |
# |---|---|---|
# | scalar autograd `Value`, backward in reverse topological order | micrograd `engine.py` | `autograd.py`; the ladder's `train2.py` onward |
# | drawing the computation graph | micrograd's graphviz notebook | `inspection/value_graph.py` (`microgpt graph`) |
# | the names dataset | makemore `names.txt` | `datasets/names.txt.gz` (`bundled:names.txt`) |
# | bigram model | makemore's bigram | `ladder/train0.py` |
# | MLP on previous characters | makemore's MLP | `ladder/train1.py`, `train2.py` |
# | character tokenizer | makemore / nanoGPT `shakespeare_char` | `tokenizer.py` |
# | transformer block, GPT forward | makemore's transformer, nanoGPT `model.py` | `model.py` (Values), `forward.py` (floats), `engines/` |
# | the same GPT in PyTorch | nanoGPT `model.py` | `engines/torch_model.py`, `bench/plain_torch.py` |
# | training loop, AdamW, schedules, checkpoints | nanoGPT `train.py` | `training.py`, `optim.py`, `files/checkpoint.py` |
# | sampling with temperature and top-k | makemore / nanoGPT `sample.py` | `sample.py` |
# | a long text in random windows | nanoGPT `shakespeare_char` | `batches.py` (`TextWindows`, `--text`) |
# | multi-GPU training | nanoGPT with `torchrun` | `distributed.py` |
#
# Each file named in the last column exists, and is small:

# %%
files = ["autograd.py", "inspection/value_graph.py", "datasets/names.txt.gz", "ladder/train0.py", "ladder/train1.py",
         "ladder/train2.py", "tokenizer.py", "model.py", "forward.py", "engines/torch_model.py",
         "bench/plain_torch.py", "training.py", "optim.py", "files/checkpoint.py", "sample.py", "batches.py",
         "distributed.py"]
for f in files:
    path = SRC / f
    size = f"{len(path.read_text(encoding='utf-8').splitlines()):4d} lines" if f.endswith(".py") else "data"
    print(f"{f:26s} {size}")
    assert path.is_file(), f
docs = read_docs(BUNDLED_NAMES)
print(f"the names dataset: {len(docs):,} names")
assert len(docs) == NAMES_COUNT == 32_033

# %% [markdown]
# ## The components, where they live
#
# microgpt's single file has nine parts; the package puts them in seven
# modules (the model's three parts share `microgpt.model`), and the names
# are the same everywhere (`wte`, `wpe`, `lm_head`, `layer{i}.attn_wq`,
# `mlp_fc1`, …):

# %% [markdown]
# **Predict:** which of the nine is the longest piece of code: the autograd
# `Value`, the model's forward pass, or the training loop?

# %%
parts = [("data: load, shuffle, split", "microgpt.data", "read_docs"),
         ("tokenizer: characters + BOS", "microgpt.tokenizer", "Tokenizer"),
         ("autograd: Value", "microgpt.autograd", "Value"),
         ("model: parameters", "microgpt.model", "init_weights"),
         ("model: forward pass", "microgpt.model", "gpt"),
         ("loss: cross-entropy at every position", "microgpt.model", "doc_losses"),
         ("optimizer: Adam", "microgpt.optim", "Adam"),
         ("training loop", "microgpt.training", "Trainer"),
         ("sampling", "microgpt.sample", "generate")]
assert len(parts) == 9 and len({module for _, module, _ in parts}) == 7
sizes = {}
for what, module, name in parts:
    obj = getattr(importlib.import_module(module), name)
    sizes[name] = lines = len(inspect.getsource(obj).splitlines())
    print(f"{what:40s} {module}.{name} ({lines} lines)")
    assert lines < 150
assert max(sizes, key=sizes.get) == "Trainer" and sizes["Value"] < sizes["Trainer"]

# %% [markdown]
# The training loop: the algorithm's step is short, but the class around it
# (batches, evaluation, a log file, checkpoints, resuming a saved run) is
# the part that grows when a program is used for real. The `Value` with its
# backward pass comes second; the forward pass of the whole model is a few
# dozen lines.

# %% [markdown]
# ## From a file to a name, in the API
#
# The same pipeline end to end, as a user runs it (the CLI `microgpt train`
# and `microgpt sample` are these calls):

# %% [markdown]
# **Predict:** 200 steps of 8 names each, on the numpy engine. Will the
# validation loss beat the bigram count table's 2.46 from lesson 1?

# %%
run = microgpt.train(data=BUNDLED_NAMES, steps=200, seed=42, engine="numpy", batch_size=8)
model = microgpt.Model.of(run)
print(f"val loss {run.val_loss:.4f}; samples: {model.sample(5, seed=1)}")
assert run.val_loss < 3.0
assert run.val_loss < 2.46

# %% [markdown]
# Yes, narrowly (2.36): a model that sees the whole name so far beats the
# table that sees one letter, after a few seconds of training.

# %% [markdown]
# ## Where to go from here
#
# * micrograd's and makemore's own code and videos cover the first half of
#   this course in more depth; nanoGPT is the next step up, to real text
#   and GPUs.
# * In this project: `microgpt ladder` runs the six rungs; `microgpt train
#   --engine torch` trains the same model in PyTorch; `microgpt exercise`
#   asks you to write the pieces yourself; `microgpt explore` lets you look
#   inside a trained model in the browser.
