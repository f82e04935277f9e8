"""Exercise 13, a reference solution: temperature and top-k sampling."""

import math


def next_token_probs(logits, temperature, top_k=None):
    n = len(logits)
    if temperature == 0:
        best = max(range(n), key=lambda i: logits[i])
        return [float(i == best) for i in range(n)]
    scaled = [x / temperature for x in logits]
    top = max(scaled)
    exps = [math.exp(x - top) for x in scaled]
    if top_k is not None and top_k < n:
        keep = set(sorted(range(n), key=lambda i: -exps[i])[:top_k])
        exps = [e if i in keep else 0.0 for i, e in enumerate(exps)]
    total = sum(exps)
    return [e / total for e in exps]


def sample_token(logits, temperature, top_k, rng):
    probs = next_token_probs(logits, temperature, top_k)
    return rng.choices(range(len(probs)), weights=probs)[0]
