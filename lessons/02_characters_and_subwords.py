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
# # Lesson 2 — Characters and subword tokens
#
# microgpt reads characters: its vocabulary is the 26 letters plus BOS. Large
# language models read *subword* tokens instead, learned by byte-pair encoding
# (BPE): start from characters, find the pair of adjacent tokens that occurs
# most often, make it a new token, and repeat. This lesson runs a few BPE
# merges by hand on the names and measures what changes.
#
# Objectives served: character-level tokenization and BOS; characters
# compared with subword tokens.

# %%
import random
from collections import Counter

from microgpt.batches import Documents
from microgpt.config import GPTConfig
from microgpt.data import BUNDLED_NAMES, read_docs

docs = read_docs(BUNDLED_NAMES)
source = Documents(docs, random.Random(42))
train, val = source.train, source.val
tok = source.tokenizer
print(f"character vocabulary: {len(tok.chars)} characters + BOS = {tok.vocab_size} tokens")
assert tok.vocab_size == 27 and len(tok.chars) == 26

# %% [markdown]
# ## BPE, one merge at a time
#
# A name is a list of tokens, each a string; at first every token is one
# character. `pair_counts` counts adjacent pairs inside names (never across
# two names: BOS separates them and is never merged). `merge` replaces every
# occurrence of a pair, left to right, by the joined token.

# %% [markdown]
# **Predict:** which pair of letters will the first merge join? (Think of the
# names you know: what two letters sit side by side most often?)

# %%
def pair_counts(seqs):
    counts = Counter()
    for s in seqs:
        counts.update(zip(s, s[1:]))
    return counts


def merge(seq, pair):
    out, i = [], 0
    while i < len(seq):
        if i + 1 < len(seq) and (seq[i], seq[i + 1]) == pair:
            out.append(seq[i] + seq[i + 1])
            i += 2
        else:
            out.append(seq[i])
            i += 1
    return out


sample = train[:8000]  # a part of the training names keeps the lesson quick
seqs = [list(name) for name in sample]
merges = []
for step in range(40):
    counts = pair_counts(seqs)
    pair, n = counts.most_common(1)[0]
    before = sum(map(len, seqs))
    seqs = [merge(s, pair) for s in seqs]
    applied = before - sum(map(len, seqs))
    # each merge removes one token per occurrence it replaced; overlapping
    # occurrences ("nnn" holds two "nn" pairs but only one merge) count once
    assert 0 < applied <= n
    merges.append((pair, n))
    if step < 10:
        print(f"merge {step + 1:2d}: {pair[0]!r} + {pair[1]!r} -> {pair[0] + pair[1]!r} ({n:,} times)")
assert all("".join(s) == name for s, name in zip(seqs, sample))  # lossless: the tokens spell the name
assert merges[0] == (("a", "n"), 1391)

# %% [markdown]
# The first merge joins "a" and "n", found 1,391 times in these 8,000 names.
# The first merges are the most common letter pairs of English names (vowel
# and consonant pairs, common endings); later ones build longer pieces out of
# earlier merges.

# %%
vocab = set(tok.chars) | {a + b for (a, b), _ in merges}
longest = max(vocab, key=len)
print(f"after {len(merges)} merges: {len(vocab)} tokens + BOS; the longest: {longest!r}")
assert len(vocab) == len(tok.chars) + len(merges)  # each merge adds exactly one new token

# %% [markdown]
# ## What it buys: shorter sequences
#
# Encode the held-out names with the learned merges, applied in the order they
# were learned, and count tokens per name.

# %% [markdown]
# **Predict:** after 40 merges (66 tokens instead of 26), how many fewer
# tokens does a held-out name need: about 5%, about 30%, or about 60%?

# %%
def encode(name):
    seq = list(name)
    for pair, _ in merges:
        seq = merge(seq, pair)
    return seq


chars_per_name = sum(len(n) for n in val) / len(val)
tokens_per_name = sum(len(encode(n)) for n in val) / len(val)
print(f"held-out names: {chars_per_name:.2f} characters, {tokens_per_name:.2f} BPE tokens per name "
      f"({1 - tokens_per_name / chars_per_name:.0%} fewer)")
print("examples:", {n: encode(n) for n in val[:5]})
assert tokens_per_name < chars_per_name
assert abs((1 - tokens_per_name / chars_per_name) - 0.28) < 0.005

# %% [markdown]
# About 30% (28%): 40 merges of the commonest pairs already shorten a name by
# more than a quarter, while 66 tokens is still a small vocabulary. Each
# further merge helps less, since it joins a rarer pair.

# %% [markdown]
# **Break it:** in `encode`, change the line `for pair, _ in merges:` to
# `for pair, _ in reversed(merges):`, so the merges are applied last-learned
# first. Predict: will names come out shorter, the same, or longer than with
# the right order? Will they still spell the name? The cell below runs that
# copy of `encode`.

# %%
def encode_reversed(name):
    seq = list(name)
    for pair, _ in reversed(merges):
        seq = merge(seq, pair)
    return seq


reversed_per_name = sum(len(encode_reversed(n)) for n in val) / len(val)
print(f"tokens per held-out name: {tokens_per_name:.2f} in the learned order, {reversed_per_name:.2f} reversed "
      f"({chars_per_name:.2f} characters)")
assert all("".join(encode_reversed(n)) == n for n in val)  # still lossless
assert tokens_per_name < reversed_per_name < chars_per_name

# %% [markdown]
# A little longer, and still lossless. A later merge joins tokens that earlier
# merges made (a pair such as "an" + "a"); applied first, it finds only
# single characters and matches nothing. A BPE tokenizer is its list of
# merges *in order*: the order is part of the vocabulary.

# %% [markdown]
# ## What it costs: a bigger vocabulary, rarer tokens
#
# Every token needs a row in `wte` and in `lm_head`, so the embedding
# parameters grow with the vocabulary (2 × vocab × n_embd, with n_embd = 16
# here), and each prediction is a choice among more tokens. A new token is also
# rarer than the characters it is made of, so each is seen less often in
# training.

# %%
n_embd = 16
assert GPTConfig(tok.vocab_size).n_embd == n_embd  # the default width
for v in (tok.vocab_size, len(vocab) + 1):
    print(f"vocab {v:3d}: wte + lm_head = {2 * v * n_embd:,} parameters")
char_counts = Counter(c for name in sample for c in name)
token_counts = Counter(t for s in seqs for t in s)
per_char = sum(char_counts.values()) / len(char_counts)
per_token = sum(token_counts.values()) / len(token_counts)
print(f"occurrences per vocabulary entry in these names: {per_char:,.0f} with characters, "
      f"{per_token:,.0f} after the merges")
assert per_token < per_char
assert 2 * (len(vocab) + 1) * n_embd > 2 * tok.vocab_size * n_embd

# %% [markdown]
# ## Discussion
#
# For names, characters are a fine choice: a name is a few characters, the
# vocabulary is tiny, and the model sees every character thousands of times.
# For real text, characters make sequences long, and a model's context window
# (its `block_size`) then covers little text; subword tokens cover several
# characters each, so the same window reads several times as much, at the
# price of a vocabulary in the tens of thousands. Production tokenizers run
# BPE on bytes rather than characters (so any text can be encoded) and learn
# tens of thousands of merges on huge corpora; the algorithm is the loop above.
