"""The same GPT as model.py, on plain floats: no graph, no gradients.

Sampling, evaluation and scoring only need the forward pass, and a float is far
cheaper than a Value. Every operation here is done in the same order, and with
the same rounding, as the Value version (`a / b` is `a * b**-1` there, so it is
here too), so the logits are bit-for-bit the ones model.gpt() computes; a test
holds this.
"""

import math
import sys
from functools import reduce
from operator import add

if sys.version_info >= (3, 12):  # sum() of floats is compensated from 3.12 on; Values add plainly

    def fsum(iterable, start=0):
        return reduce(add, iterable, start)

else:
    fsum = sum


def linear(x, w):
    return [fsum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def softmax(logits):
    max_val = max(logits)
    exps = [math.exp(val - max_val) for val in logits]
    inv_total = fsum(exps) ** -1
    return [e * inv_total for e in exps]


def rms_scale(x):
    """The factor rmsnorm multiplies x by: 1 / sqrt(mean(x**2) + 1e-5)."""
    ms = fsum(xi * xi for xi in x) * len(x) ** -1
    return (ms + 1e-5) ** -0.5


def rmsnorm(x):
    scale = rms_scale(x)
    return [xi * scale for xi in x]


def _ignore(name, vector):
    pass


def gpt(weights, config, token_id, pos_id, keys, values, attn=None, record=None):
    """Float logits for the next token; appends this position to the KV cache.

    Given a list as `attn`, appends (layer, head, weights over positions 0..pos_id)
    for every head, so a picture can show where each position looked.
    Given a dict as `record`, stores the vectors the model passes along, by name:
    "embed" (wte + wpe), "embed.norm" (after the first rmsnorm: the residual
    stream's start), and per layer "layer{i}.attn" and "layer{i}.mlp" (the
    residual stream after each block adds its output) and "layer{i}.mlp_hidden"
    (after the ReLU). Recording only keeps references: the arithmetic, and so the
    logits, are the same with or without it (inspection/trace.py is its reader)."""
    keep = record.__setitem__ if record is not None else _ignore
    hd = config.head_dim
    inv_sqrt_hd = (hd**0.5) ** -1
    x = [t + p for t, p in zip(weights["wte"][token_id], weights["wpe"][pos_id])]
    keep("embed", x)
    x = rmsnorm(x)
    keep("embed.norm", x)
    for li in range(config.n_layer):
        x_residual = x
        x = rmsnorm(x)
        q = linear(x, weights[f"layer{li}.attn_wq"])
        keys[li].append(linear(x, weights[f"layer{li}.attn_wk"]))
        values[li].append(linear(x, weights[f"layer{li}.attn_wv"]))
        x_attn = []
        for h in range(config.n_head):
            hs = h * hd
            q_h = q[hs : hs + hd]
            attn_logits = [fsum(q_h[j] * k[hs + j] for j in range(hd)) * inv_sqrt_hd for k in keys[li]]
            attn_weights = softmax(attn_logits)
            if attn is not None:
                attn.append((li, h, attn_weights))
            x_attn.extend(
                fsum(w * v[hs + j] for w, v in zip(attn_weights, values[li])) for j in range(hd)
            )
        x = linear(x_attn, weights[f"layer{li}.attn_wo"])
        x = [a + b for a, b in zip(x, x_residual)]
        keep(f"layer{li}.attn", x)
        x_residual = x
        x = rmsnorm(x)
        x = [max(0, xi) for xi in linear(x, weights[f"layer{li}.mlp_fc1"])]
        keep(f"layer{li}.mlp_hidden", x)
        x = linear(x, weights[f"layer{li}.mlp_fc2"])
        x = [a + b for a, b in zip(x, x_residual)]
        keep(f"layer{li}.mlp", x)
    return linear(x, weights["lm_head"])


def empty_cache(config):
    return [[] for _ in range(config.n_layer)], [[] for _ in range(config.n_layer)]


def sequence_logits(weights, config, tokens):
    """Logits after each of tokens[0..n-1], n = min(block_size, len(tokens))."""
    keys, values = empty_cache(config)
    return [gpt(weights, config, t, pos, keys, values) for pos, t in enumerate(tokens[: config.block_size])]


def surprise(p):
    """-ln p; a probability that underflowed to exactly 0 (a hand-edited or
    extreme model) is infinitely surprising, not a math domain error."""
    return -math.log(p) if p > 0 else math.inf


def doc_nll(weights, config, tokens):
    """Sum of -log p(next token) over a document, and how many tokens that is.

    This is the original's per-position loss (-log of its softmax), computed
    the way model.py computes it, so a one-document value matches training."""
    n = config.predicted(tokens)
    keys, values = empty_cache(config)
    total = 0.0
    for pos in range(n):
        probs = softmax(gpt(weights, config, tokens[pos], pos, keys, values))
        total += surprise(probs[tokens[pos + 1]])
    return total, n


class FloatInference:
    """Forward-only methods for an engine whose weights() are the checkpoint's
    floats: validation loss, scoring and sampling through this module's GPT."""

    def nll(self, batch):
        """Summed -log p over every position of every document, and the count."""
        weights, total, count = self.weights(), 0.0, 0
        for tokens in batch:
            s, n = doc_nll(weights, self.config, tokens)
            total, count = total + s, count + n
        return total, count

    def new_cache(self):
        return (self.weights(), *empty_cache(self.config))

    def next_logits(self, token_id, pos_id, cache):
        weights, keys, values = cache
        return gpt(weights, self.config, token_id, pos_id, keys, values)
