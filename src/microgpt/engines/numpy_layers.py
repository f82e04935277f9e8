"""The GPT's layers on NumPy arrays, each a `<layer>_forward` / `<layer>_backward` pair.

As in llm.c: a forward returns its output and whatever its backward will need;
a backward takes the gradient of its output and returns the gradient of its
input, *adding* into the gradients of its weights (a weight used twice collects
both contributions). The model runs the forwards in order and the backwards in
reverse. There is no autograd here: every derivative is written out by hand
next to the forward it belongs to.

Shapes: N real tokens of B documents padded to T positions, C = n_embd, nh
heads of hd = C // nh. Only attention mixes positions, so only it needs the
padded (B, T) layout; every other layer works on the (N, C) rows of the real
tokens and spends nothing on padding.
"""

import numpy as np

from microgpt.autograd import GELU_C  # gelu_and_slope's constant: one formula, one home

RMS_EPS = 1e-5  # as in the original: rmsnorm divides by sqrt(mean(x^2) + 1e-5)


# ---- token + position embedding


def encoder_forward(wte, wpe, tok, pos):
    """tok, pos (N,) token ids and their positions -> (N, C)."""
    return wte[tok] + wpe[pos]


def encoder_backward(dwte, dwpe, dout, tok, pos):
    # a token id (and a position) appears many times in a batch: add.at sums the repeats
    np.add.at(dwte, tok, dout)
    np.add.at(dwpe, pos, dout)


# ---- RMSNorm (no learned scale, as in the original)


def rmsnorm_forward(x):
    """y = x / sqrt(mean(x^2) + eps), over the last axis."""
    rstd = (np.mean(x * x, axis=-1, keepdims=True) + RMS_EPS) ** -0.5  # (..., 1)
    return x * rstd, rstd


def rmsnorm_backward(dout, x, rstd):
    # y_i = x_i * s with s = (mean(x^2) + eps)^-1/2 and ds/dx_i = -s^3 x_i / C, so
    # dx = s * dout - s^3 / C * x * sum_j(dout_j x_j)
    C = x.shape[-1]
    dot = np.sum(dout * x, axis=-1, keepdims=True)
    return rstd * dout - (rstd**3 / C) * dot * x


# ---- linear layer without bias; w is (nout, nin), PyTorch's layout


def matmul_forward(x, w):
    return x @ w.T  # (N, nin) -> (N, nout)


def matmul_backward(dout, x, w, dw):
    dw += dout.T @ x  # (nout, N) @ (N, nin)
    return dout @ w


# ---- the MLP's nonlinearity: ReLU (the original's) or GELU (GPT-2's tanh form)


def relu_forward(x):
    return np.maximum(x, 0)


def relu_backward(dout, x):
    return dout * (x > 0)  # the scalar engine's local derivative: 1 if x > 0 else 0


def gelu_forward(x):
    return 0.5 * x * (1 + np.tanh(GELU_C * (x + 0.044715 * x * x * x)))


def gelu_backward(dout, x):
    t = np.tanh(GELU_C * (x + 0.044715 * x * x * x))
    return dout * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x))


ACTIVATIONS = {"relu": (relu_forward, relu_backward), "gelu": (gelu_forward, gelu_backward)}


# ---- inverted dropout (training only)


def dropout_mask(rng, shape, p, dtype):
    """(shape): 1 / (1 - p) where a value survives (probability 1 - p), 0 where it
    is dropped. Multiplying by it is the forward, and the backward is the same
    product: survivors are scaled up so that evaluation, which drops nothing,
    needs no rescaling."""
    mask = np.zeros(shape, dtype=dtype)
    mask[rng.random(shape) >= p] = 1 / (1 - p)
    return mask


# ---- causal self-attention over the whole sequence at once


def causal_mask(T, dtype):
    """(T, T): 0 where position t may look (s <= t), -inf where it may not (s > t)."""
    return np.triu(np.full((T, T), -np.inf, dtype=dtype), k=1)


def attention_forward(qkv, n_head, mask, drop=None):
    """qkv (B, T, 3C), the three projections side by side -> (B, T, C); drop, a
    (B, nh, T, T) dropout mask or None, multiplies the attention weights after
    the softmax.

    With every position computed at once, position t could see the keys of
    later positions, so the mask hides them; the KV-cached decode never has
    them in its cache, which is why the scalar engine needs no mask."""
    B, T, C3 = qkv.shape
    C = C3 // 3
    hd = C // n_head
    q, k, v = qkv.reshape(B, T, 3, n_head, hd).transpose(2, 0, 3, 1, 4)  # each (B, nh, T, hd)
    scale = hd**-0.5
    att = (q @ k.transpose(0, 1, 3, 2)) * scale  # (B, nh, T, T)
    att += mask
    att -= att.max(axis=-1, keepdims=True)  # the diagonal is never masked, so the max is finite
    np.exp(att, out=att)
    att /= att.sum(axis=-1, keepdims=True)
    y = (att if drop is None else att * drop) @ v  # (B, nh, T, hd)
    return y.transpose(0, 2, 1, 3).reshape(B, T, C), (q, k, v, att, drop)


def attention_backward(dout, cache):
    q, k, v, att, drop = cache
    B, nh, T, hd = q.shape
    scale = hd**-0.5
    dy = dout.reshape(B, T, nh, hd).transpose(0, 2, 1, 3)  # (B, nh, T, hd)
    datt = dy @ v.transpose(0, 1, 3, 2)  # (B, nh, T, T), of the weights v was mixed with
    dqkv = np.empty((3, B, nh, T, hd), dtype=dout.dtype)
    np.matmul((att if drop is None else att * drop).transpose(0, 1, 3, 2), dy, out=dqkv[2])  # dv
    if drop is not None:  # back through the dropout: of the softmax's output
        datt *= drop
    # softmax backward: dpre = att * (datt - sum(att * datt)); masked entries have att = 0
    datt -= np.sum(att * datt, axis=-1, keepdims=True)
    datt *= att
    datt *= scale
    np.matmul(datt, k, out=dqkv[0])  # dq
    np.matmul(datt.transpose(0, 1, 3, 2), q, out=dqkv[1])  # dk
    return dqkv.transpose(1, 3, 0, 2, 4).reshape(B, T, 3 * nh * hd)


# ---- cross-entropy


def crossentropy_forward(logits, targets, weight):
    """logits (N, V), targets (N,); weight: each position's share of the loss
    (1/N for a mean, 1 for a sum). Returns the weighted sum of -log p(target)
    and the probabilities for the backward."""
    z = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(z)
    probs /= probs.sum(axis=-1, keepdims=True)
    p_target = probs[np.arange(len(targets)), targets]
    with np.errstate(divide="ignore"):  # p = 0 is an infinite loss, which the caller reports in one line
        return float(np.sum(-np.log(p_target) * weight)), probs


def crossentropy_backward(probs, targets, weight):
    # d(-log softmax(z)[y]) / dz = softmax(z) - onehot(y), times the position's weight
    dlogits = probs * weight
    dlogits[np.arange(len(targets)), targets] -= weight
    return dlogits
