"""Reference values for the transformer exercises, read out of the project's own
forward pass (forward.gpt) on a small random one-layer GPT.

forward.gpt records the residual stream as it goes ("embed.norm", "layer0.attn",
"layer0.mlp") and the attention weights of every head. With the output
projection attn_wo set to the identity, the attention block's output is
exactly what the heads computed, so "layer0.attn" minus the residual is the
concatenated head outputs: the oracle for exercises 8 and 9. The MLP block's
input and output (exercise 10) are "layer0.attn" and "layer0.mlp".
"""

import random

from microgpt import forward
from microgpt.config import GPTConfig
from microgpt.model import init_weights

TOKENS = (4, 0, 2, 1, 3)


def block_trace(n_embd=8, n_head=1, seed=0, tokens=TOKENS):
    """One dict per position: x (what the projections read), q, keys and
    values (the cache, this position included), weights (per head), out
    (the heads' outputs, concatenated), mlp_in, mlp_out; and the weights."""
    config = GPTConfig(vocab_size=5, n_embd=n_embd, n_head=n_head, n_layer=1, block_size=8)
    w = init_weights(config, random.Random(seed))
    w["layer0.attn_wo"] = [[float(i == j) for j in range(n_embd)] for i in range(n_embd)]
    keys, values = forward.empty_cache(config)
    steps = []
    for pos, token in enumerate(tokens):
        attn, record = [], {}
        forward.gpt(w, config, token, pos, keys, values, attn=attn, record=record)
        x = forward.rmsnorm(record["embed.norm"])
        steps.append({
            "x": x,
            "q": forward.linear(x, w["layer0.attn_wq"]),
            "keys": [list(k) for k in keys[0]],
            "values": [list(v) for v in values[0]],
            "weights": [a[2] for a in attn],
            "out": [a - r for a, r in zip(record["layer0.attn"], record["embed.norm"])],
            "mlp_in": record["layer0.attn"],
            "mlp_out": record["layer0.mlp"],
        })
    return steps, w


def attend(q, keys, values, scale=True, normalise=True):
    """One head's output, computed as forward.gpt computes it (scale and
    normalise off: two typical mistakes, for the hints)."""
    hd = len(q)
    inv = (hd**0.5) ** -1 if scale else 1.0
    scores = [forward.fsum(q[j] * k[j] for j in range(hd)) * inv for k in keys]
    weights = forward.softmax(scores) if normalise else scores
    return [forward.fsum(wt * v[j] for wt, v in zip(weights, values)) for j in range(hd)]
