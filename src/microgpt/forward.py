"""The same GPT as model.py, on plain floats: no graph, no gradients.

Sampling, evaluation and scoring only need the forward pass, and a float is far
cheaper than a Value. Every operation here is done in the same order, and with
the same rounding, as the Value version (`a / b` is `a * b**-1` there, so it is
here too), so the logits are bit-for-bit the ones model.gpt() computes; a test
holds this.
"""

import math
import sys
from operator import mul

from microgpt.autograd import gelu_and_slope

if sys.version_info >= (3, 12):
    # From 3.12 on, sum() compensates its float additions (fewer rounding errors, other bits)
    # when it starts from an exact int or float; the Value graph adds plainly. Started from a
    # float subclass, sum() takes its generic path: plain additions, in order, and still in C
    # (the browser's Python is 3.14, where this is most of a training step).

    class PlainStart(float):
        """A float used only as sum()'s start, to keep its additions plain."""

        __slots__ = ()

else:
    PlainStart = float  # sum() adds floats plainly up to 3.11

ZERO = PlainStart(0.0) if sys.version_info >= (3, 12) else 0  # sum(terms, ZERO): the Values' 0 + a + b + ...


def fsum(iterable, start=0):
    """start + each term, left to right, with plain float additions on every Python."""
    return sum(iterable, PlainStart(start))


def linear(x, w):
    return [sum(map(mul, wo, x), ZERO) for wo in w]


def softmax(logits):
    max_val = max(logits)
    exps = [math.exp(val - max_val) for val in logits]
    inv_total = sum(exps, ZERO) ** -1
    return [e * inv_total for e in exps]


def rms_scale(x):
    """The factor rmsnorm multiplies x by: 1 / sqrt(mean(x**2) + 1e-5)."""
    ms = sum(map(mul, x, x), ZERO) * len(x) ** -1
    return (ms + 1e-5) ** -0.5


def rmsnorm(x):
    scale = rms_scale(x)
    return [xi * scale for xi in x]


def _ignore(name, vector):
    pass


class Intact:
    """No part switched off: what gpt() computes unless given an ablation.Ablation
    (which has these same fields, each a frozenset of layers or (layer, head))."""

    heads = attn = mlp = resid_attn = resid_mlp = frozenset()
    wpe = False


INTACT = Intact()


def attention(weights, config, li, x, keys, values, attn=None, zeroed=frozenset(), keep=_ignore):
    """Layer li's attention output for the normalised stream x (before the
    residual add); appends this position's key and value to the layer's cache.
    A head in `zeroed` (as (li, h)) gives zeros instead of its weighted values;
    its weights are still computed, and recorded, so a picture can show where
    the switched-off head would have looked. `keep(name, vector)` is handed
    each intermediate as it is made (gpt's `record` lists them)."""
    hd = config.head_dim
    inv_sqrt_hd = (hd**0.5) ** -1
    keep(f"layer{li}.attn.x", x)
    q = linear(x, weights[f"layer{li}.attn_wq"])
    keys.append(linear(x, weights[f"layer{li}.attn_wk"]))
    values.append(linear(x, weights[f"layer{li}.attn_wv"]))
    x_attn, scores, scaled = [], [], []
    for h in range(config.n_head):
        hs = h * hd
        q_h = q[hs : hs + hd]
        dots = [sum(map(mul, q_h, k[hs : hs + hd]), ZERO) for k in keys]
        attn_logits = [d * inv_sqrt_hd for d in dots]
        scores.append(dots)
        scaled.append(attn_logits)
        attn_weights = softmax(attn_logits)
        if attn is not None:
            attn.append((li, h, attn_weights))
        if (li, h) in zeroed:
            x_attn.extend([0.0] * hd)
            continue
        x_attn.extend(sum(map(mul, attn_weights, col), ZERO) for col in zip(*[v[hs : hs + hd] for v in values]))
    out = linear(x_attn, weights[f"layer{li}.attn_wo"])
    for name, vector in (("q", q), ("k", keys[-1]), ("v", values[-1]), ("scores", scores), ("scaled", scaled),
                         ("heads", x_attn), ("out", out)):
        keep(f"layer{li}.attn.{name}", vector)
    return out


def mlp(weights, li, x, activation="relu"):
    """Layer li's MLP on the normalised stream x: (hidden after the ReLU or GELU, output)."""
    pre = linear(x, weights[f"layer{li}.mlp_fc1"])
    hidden = [gelu_and_slope(xi)[0] for xi in pre] if activation == "gelu" else [max(0, xi) for xi in pre]
    return hidden, linear(hidden, weights[f"layer{li}.mlp_fc2"])


def gpt(weights, config, token_id, pos_id, keys, values, attn=None, record=None, ablate=None):
    """Float logits for the next token; appends this position to the KV cache.

    Given a list as `attn`, appends (layer, head, weights over positions 0..pos_id)
    for every head, so a picture can show where each position looked.
    Given a dict as `record`, stores the vectors the model passes along, by name:
    "embed" (wte + wpe), "embed.norm" (after the first rmsnorm: the residual
    stream's start), and per layer "layer{i}.attn" and "layer{i}.mlp" (the
    residual stream after each block adds its output) and "layer{i}.mlp_hidden"
    (after the ReLU or GELU); and inside each layer's attention, "layer{i}.attn.x"
    (the normalised stream it reads), ".q", ".k", ".v" (this position's query,
    key and value, all heads side by side), ".scores" and ".scaled" (per head,
    q.k for each cached position, and that times 1/sqrt(head_dim): the
    softmax's input), ".heads" (each head's weighted sum of the values,
    concatenated) and ".out" (attn_wo of that, before the residual add).
    Recording only keeps references: the arithmetic, and so the
    logits, are the same with or without it (inspection/trace.py is its reader).

    Given an ablation.Ablation as `ablate`, computes the model with those parts
    switched off: a zeroed head gives zeros; a skipped attention or MLP leaves
    the stream as it was (a skipped attention records no weights and caches
    nothing, a skipped MLP fires no neuron); a dropped residual makes the
    sublayer's output replace the stream instead of adding to it; without wpe
    the embedding is wte[token] alone. Every other number is computed exactly
    as without it, so an empty ablation gives the intact logits bit for bit."""
    off = ablate if ablate is not None else INTACT
    keep = record.__setitem__ if record is not None else _ignore
    if off.wpe:
        x = list(weights["wte"][token_id])
    else:
        x = [t + p for t, p in zip(weights["wte"][token_id], weights["wpe"][pos_id])]
    keep("embed", x)
    x = rmsnorm(x)
    keep("embed.norm", x)
    for li in range(config.n_layer):
        if li not in off.attn:
            out = attention(weights, config, li, rmsnorm(x), keys[li], values[li], attn, off.heads, keep)
            x = out if li in off.resid_attn else [a + b for a, b in zip(out, x)]
        keep(f"layer{li}.attn", x)
        if li in off.mlp:
            keep(f"layer{li}.mlp_hidden", [0.0] * (4 * config.n_embd))
        else:
            hidden, out = mlp(weights, li, rmsnorm(x), config.activation)
            keep(f"layer{li}.mlp_hidden", hidden)
            x = out if li in off.resid_mlp else [a + b for a, b in zip(out, x)]
        keep(f"layer{li}.mlp", x)
    return linear(x, weights["lm_head"])


def empty_cache(config):
    return [[] for _ in range(config.n_layer)], [[] for _ in range(config.n_layer)]


def sequence_logits(weights, config, tokens, ablate=None):
    """Logits after each of tokens[0..n-1], n = min(block_size, len(tokens))."""
    keys, values = empty_cache(config)
    return [gpt(weights, config, t, pos, keys, values, ablate=ablate)
            for pos, t in enumerate(tokens[: config.block_size])]


def surprise(p):
    """-ln p; a probability that underflowed to exactly 0 (a hand-edited or
    extreme model) is infinitely surprising, not a math domain error."""
    return -math.log(p) if p > 0 else math.inf


def doc_nll(weights, config, tokens, ablate=None):
    """Sum of -log p(next token) over a document, and how many tokens that is.

    This is the original's per-position loss (-log of its softmax), computed
    the way model.py computes it, so a one-document value matches training."""
    n = config.predicted(tokens)
    keys, values = empty_cache(config)
    total = 0.0
    for pos in range(n):
        probs = softmax(gpt(weights, config, tokens[pos], pos, keys, values, ablate=ablate))
        total += surprise(probs[tokens[pos + 1]])
    return total, n


class FloatInference:
    """Forward-only methods for an engine whose weights() are the checkpoint's
    floats: validation loss, scoring and sampling through this module's GPT
    (with the parts `ablation` names switched off, if any)."""

    ablation = None

    def nll(self, batch):
        """Summed -log p over every position of every document, and the count."""
        weights, total, count = self.weights(), 0.0, 0
        for tokens in batch:
            s, n = doc_nll(weights, self.config, tokens, self.ablation)
            total, count = total + s, count + n
        return total, count

    def new_cache(self):
        return (self.weights(), *empty_cache(self.config))

    def next_logits(self, token_id, pos_id, cache):
        weights, keys, values = cache
        return gpt(weights, self.config, token_id, pos_id, keys, values, ablate=self.ablation)
