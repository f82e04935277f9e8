"""Exercise 8: one attention head, one position at a time, with a KV cache.

Attention is where positions exchange information. At position t the head
has a query q (what this position looks for) and, for every position
s = 0..t, a key k_s (what s offers) and a value v_s (what s passes on):

    score_s  = (q . k_s) / sqrt(head_dim)       s = 0..t
    weight_s = softmax(scores)[s]
    out      = sum over s of weight_s * v_s     (a vector of head_dim floats)

A GPT predicts the next token from the past only: position t must never see
positions after t. microgpt needs no mask for that: it reads the tokens in
order and keeps the keys and values of the positions already read in a
cache (the KV cache). At each position it appends this position's key and
value to the cache, then attends over everything in it: 0..t, nothing later.

Write two functions:

attend(q, keys, values) -> list of head_dim floats
    q is a list of head_dim floats; keys and values are lists of such vectors,
    one per position 0..t (the cache, position t included).

attention_steps(xs, wq, wk, wv) -> list of outputs, one per position
    xs[t] is the vector (n floats) at position t; wq, wk, wv are matrices
    (head_dim rows of n floats): q = wq x, k = wk x, v = wv x, where
    (w x)[i] = sum_j w[i][j] * x[j]. Go through the positions in order: make
    q, k, v, append k and v to the cache, attend. Return every position's out.

You may use: from microgpt.forward import linear, softmax
(linear(x, w) is w x as above).
Where it lives in the project: the attention part of gpt() in
src/microgpt/model.py and src/microgpt/forward.py.
Check your answer with: microgpt exercise check 8
"""

import math


def attend(q, keys, values):
    raise NotImplementedError


def attention_steps(xs, wq, wk, wv):
    raise NotImplementedError
