"""Exercise 13: sampling the next token, with temperature and top-k.

The model gives logits for the next token; generation draws one token from
them, feeds it back, and goes on until it draws BOS. Two knobs shape the draw:

temperature T divides the logits before softmax: softmax(logits / T).
    T < 1 sharpens the distribution (safer, more typical names), T > 1
    flattens it (more surprising ones). T = 0 means: always take the most
    likely token (greedy). A small T makes logits / T huge: subtract the max
    before exp, as in exercise 5.

top_k keeps only the k most likely tokens: every other probability is set to
    0 and the k kept are renormalised to sum to 1. top_k=None keeps them all;
    top_k=1 is greedy too.

Write two functions:

next_token_probs(logits, temperature, top_k=None) -> list of floats
    One probability per logit, summing to 1. With temperature 0, 1.0 at the
    largest logit and 0.0 elsewhere.

sample_token(logits, temperature, top_k, rng) -> int
    A token id drawn from next_token_probs(...), using the random.Random
    given as rng (rng.choices(range(n), weights=probs)[0] draws one index).

Where it lives in the project: next_token_probs and generate in
src/microgpt/sample.py.
Check your answer with: microgpt exercise check 13
"""

import math


def next_token_probs(logits, temperature, top_k=None):
    raise NotImplementedError


def sample_token(logits, temperature, top_k, rng):
    raise NotImplementedError
