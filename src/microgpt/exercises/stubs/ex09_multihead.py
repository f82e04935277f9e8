"""Exercise 9: multi-head attention: split into heads, attend, concatenate.

One head mixes the past with one set of weights: it can follow one kind of
relation at a time. Several heads look for different things in parallel at
no extra cost: the n_embd numbers of q (and of every key and value) are cut
into n_head consecutive slices of head_dim = n_embd // n_head numbers; head h
works only on slice h:

    head h's numbers: vec[h * head_dim : (h + 1) * head_dim]

Each head attends on its own slices, and the heads' outputs are joined back,
head 0 first, into one vector of n_embd numbers.

Write three functions:

split_heads(vec, n_head) -> list of n_head lists of head_dim floats
concat_heads(outs) -> one flat list: outs[0] + outs[1] + ...
multi_head(q, keys, values, n_head, attend) -> list of n_embd floats
    q: n_embd floats; keys, values: one n_embd vector per position 0..t.
    attend(q_h, keys_h, values_h) is given to you (exercise 8 writes it):
    call it once per head with that head's slices of q and of EVERY key and
    value, then concatenate the results.

Where it lives in the project: the `for h in range(config.n_head)` loop of
gpt() in src/microgpt/model.py.
Check your answer with: microgpt exercise check 9
"""


def split_heads(vec, n_head):
    raise NotImplementedError


def concat_heads(outs):
    raise NotImplementedError


def multi_head(q, keys, values, n_head, attend):
    raise NotImplementedError
