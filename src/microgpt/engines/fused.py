"""The `fused` engine: the scalar autograd with bigger nodes, in plain Python.

Same model, same numbers, far fewer Python objects. Where the scalar engine
makes one Value per multiply, this engine makes one node per *operation on a
vector*: a whole linear layer, a whole RMSNorm, one attention block, softmax
plus cross-entropy. A node's values and gradients are plain lists of floats;
its backward is a closure kept on a tape. The forward pass appends to the tape
as it goes, so the tape is already in topological order: backward just walks it
in reverse. No graph search, no per-number objects, and the parameters live in
one flat list of floats that Adam sweeps in a single loop.

Exactness. Each node's backward does the arithmetic the scalar graph does for
the same piece of the model, product for product: a / b is a * b**-1, a sum
starts from 0, the softmax's backward goes through 1/p, total**-1 and exp as
the Value chain does (not the shortcut p - onehot), and RMSNorm's through
(ms + eps)**-0.5 the same way. Where a number collects gradient from many
places, floating-point addition is not associative, so the ORDER matters too.
The scalar engine adds contributions in the reverse of a depth-first
post-order; for this model that order turns out to be regular:

  * positions (and documents) from last to first;
  * within a linear layer, output rows from last to first, except lm_head,
    whose row for the target token comes last (the search visits it first);
  * into RMSNorm's input: the next node's contribution, then x * scale, then
    the square twice;
  * into the input of q, k and v: heads from last to first, and within a head
    the rows of v, then of k, then of q, each from last to first; at a
    document's first position k and q alternate row by row instead
    (attention over one key visits both from one dot product).

Each backward below adds in that order, so the gradients come out bit for bit
the scalar engine's (tests/test_fused.py checks it) and training reproduces the
original microgpt.py's printed losses step for step.
"""

import math
from itertools import chain, repeat
from operator import add, itemgetter, mul

from microgpt import forward
from microgpt.autograd import gelu_and_slope
from microgpt.engines.base import Engine
from microgpt.model import parameter_shapes

ZERO, plain = forward.ZERO, forward.PlainStart  # sum(terms, ZERO): plain adds on every Python


# ---- nodes: each computes its output and records its backward on the tape.
# A vector is a pair of lists (values, grads); a backward adds into the grads
# of its inputs, which earlier nodes on the tape then read.


def embed(tape, wte_row, wpe_row, g_wte, g_wpe, token_id, pos_id):
    """x = wte[token] + wpe[pos]; backward adds x's gradient into both rows."""
    x = list(map(add, wte_row, wpe_row))
    gx = [0.0] * len(x)

    def backward():
        g_wte[token_id] = list(map(add, g_wte[token_id], gx))
        g_wpe[pos_id] = list(map(add, g_wpe[pos_id], gx))

    tape.append(backward)
    return x, gx


def rmsnorm(tape, x, gx):
    """y = x * (mean(x**2) + 1e-5)**-0.5, with the mean as sum * n**-1."""
    n = len(x)
    inv_n = n**-1
    d = sum(map(mul, x, x), ZERO) * inv_n + 1e-5
    scale = d**-0.5
    y = [xi * scale for xi in x]
    gy = [0.0] * n

    def backward():
        g_scale = sum(map(mul, x[::-1], gy[::-1]), ZERO)
        g_sq = inv_n * ((-0.5 * d**-1.5) * g_scale)  # through (ms + eps)**-0.5 and the mean
        gx[:] = [((g + scale * gyi) + xi * g_sq) + xi * g_sq for g, gyi, xi in zip(gx, gy, x)]

    tape.append(backward)
    return y, gy


def linear(tape, x, gx, w, w_t, record, last=None, need=None):
    """y = w x. w_t holds w's columns with the rows from last to first (the
    order gradients reach x in); `last` is a row whose contribution to x's
    gradient is added after all the others (lm_head's target row); `need`, if
    given, lists the only entries of x's gradient anyone will read. The pair
    (x, dy) goes to `record`: the weight gradient is formed from all of a
    step's pairs at once, after the tape is done (see weight_grads)."""
    y = [sum(map(mul, row, x), ZERO) for row in w]
    gy = [0.0] * len(w)
    record.append((x, gy))

    def backward():
        g_rev = gy[::-1]
        if need is not None:
            for i in need:
                gx[i] = sum(map(mul, w_t[i], g_rev), plain(gx[i]))
        elif last is None:
            gx[:] = [sum(map(mul, col, g_rev), plain(g0)) for col, g0 in zip(w_t, gx)]
        else:
            g_last = gy[last]
            g_rev[len(gy) - 1 - last] = 0.0  # in its place the sum gains W*0 = +-0.0: no change
            gx[:] = [sum(map(mul, col, g_rev), plain(g0)) + wl * g_last for col, g0, wl in zip(w_t, gx, w[last])]

    tape.append(backward)
    return y, gy


def qkv(tape, x, gx, ws, qkv_t, order, records):
    """q, k, v = wq x, wk x, wv x as one node, so x's gradient can take the
    rows of all three in the interleaved order given by `order` (indices into
    q + k + v) and qkv_t (the stacked matrix's columns in that order)."""
    outs = [[sum(map(mul, row, x), ZERO) for row in w] for w in ws]
    grads = [[0.0] * len(w) for w in ws]
    for record, gy in zip(records, grads):
        record.append((x, gy))

    def backward():
        g_seq = order(grads[0] + grads[1] + grads[2])
        gx[:] = [sum(map(mul, col, g_seq), plain(g0)) for col, g0 in zip(qkv_t, gx)]

    tape.append(backward)
    return outs, grads


def weight_grads(record):
    """dL/dw[o][i] = sum over positions of x[i] * dy[o], from the last position
    to the first (the order the scalar engine adds them in), as one flat list
    in w's row-major order: each position's outer product dy x^T, then a sum
    across positions per weight."""
    outers = [[g * xi for g in gy for xi in x] for x, gy in reversed(record)]
    return [sum(column, ZERO) for column in zip(*outers)]


def sparse_weight_grads(record, by_row):
    """weight_grads for a matrix next to a ReLU, skipping the zeros it makes:
    fc1's dy is 0 where the unit is off (by_row: whole rows of dy x^T vanish),
    fc2's x is 0 there (columns vanish). A skipped term would add W*0 = 0.
    Same sums, same order, far fewer products."""
    pairs = record[::-1]
    if by_row:  # row o = sum over positions of dy[o] * x
        vectors, coefs = [x for x, _ in pairs], zip(*[gy for _, gy in pairs])
    else:  # column i = sum over positions of x[i] * dy
        vectors, coefs = [gy for _, gy in pairs], zip(*[x for x, _ in pairs])
    zeros = [0.0] * len(vectors[0])
    out = []
    for cs in coefs:
        acc = None
        for c, vec in zip(cs, vectors):
            if c:
                acc = list(map(mul, vec, repeat(c))) if acc is None else list(map(add, acc, map(mul, vec, repeat(c))))
        out.append(zeros if acc is None else acc)
    return list(chain.from_iterable(out if by_row else zip(*out)))


def split_heads(tape, k, gk, v, gv, cache):
    """Append this position's k and v to the cache, cut into heads, each head
    with its own gradient list; backward joins the heads' gradients again."""
    keys_h, values_h, g_keys_h, g_values_h = cache
    n_head = len(keys_h)
    hd = len(k) // n_head
    gk_heads, gv_heads = [], []
    for h in range(n_head):
        keys_h[h].append(k[h * hd : (h + 1) * hd])
        values_h[h].append(v[h * hd : (h + 1) * hd])
        gk_heads.append([0.0] * hd)
        gv_heads.append([0.0] * hd)
        g_keys_h[h].append(gk_heads[h])
        g_values_h[h].append(gv_heads[h])

    def backward():
        gk[:] = chain.from_iterable(gk_heads)
        gv[:] = chain.from_iterable(gv_heads)

    tape.append(backward)


def attention(tape, q, gq, cache, inv_sqrt_hd):
    """Multi-head attention of the current query over every cached position.
    cache: per head, the k and v slices of every position so far and their
    gradient lists (see split_heads)."""
    keys_h, values_h, g_keys_h, g_values_h = cache
    n_head = len(keys_h)
    hd = len(q) // n_head
    n_pos = len(keys_h[0])
    x_attn = []
    saved = []
    for h in range(n_head):
        q_h = q[h * hd : (h + 1) * hd]
        logits = [sum(map(mul, q_h, k_h), ZERO) * inv_sqrt_hd for k_h in keys_h[h]]
        max_val = max(logits)
        exps = [math.exp(v - max_val) for v in logits]
        total = sum(exps, ZERO)
        inv_total = total**-1
        weights = [e * inv_total for e in exps]
        x_attn.extend(sum(map(mul, weights, col), ZERO) for col in zip(*values_h[h]))  # (hd,)
        saved.append((q_h, exps, total, inv_total, weights))
    g_attn = [0.0] * len(q)

    def backward():
        for h in range(n_head):
            q_h, exps, total, inv_total, weights = saved[h]
            g_out = g_attn[h * hd : (h + 1) * hd]
            g_out_rev = g_out[::-1]
            # head_out[j] = sum_t weights[t] * v[t][j]
            g_w = [sum(map(mul, v[::-1], g_out_rev), ZERO) for v in values_h[h][:n_pos]]
            for gv, wt in zip(g_values_h[h], weights):
                gv[:] = map(add, gv, map(mul, g_out, repeat(wt)))
            # weights[t] = exps[t] * total**-1 (one power node per t, as in the original)
            local = -1 * total**-2
            g_total = sum(map(mul, repeat(local), map(mul, exps[::-1], g_w[::-1])), ZERO)  # via each power node
            g_logit = [inv_sqrt_hd * (e * (inv_total * g + g_total)) for e, g in zip(exps, g_w)]
            # logits[t] = (q_h . k_h[t]) * hd**-0.5
            g_logit_rev = g_logit[::-1]
            gq[h * hd : (h + 1) * hd] = [sum(map(mul, col, g_logit_rev), ZERO) for col in zip(*keys_h[h][n_pos - 1 :: -1])]
            for gk, gl in zip(g_keys_h[h], g_logit):
                gk[:] = map(add, gk, map(mul, q_h, repeat(gl)))

    tape.append(backward)
    return x_attn, g_attn


def relu(tape, x, gx):
    """max(0, x); the gradient passes where x > 0 (the local gradient is 1.0 or 0.0)."""
    y = [xi if xi > 0 else 0.0 for xi in x]
    gy = [0.0] * len(x)

    def backward():
        gx[:] = [g if xi > 0 else 0.0 for g, xi in zip(gy, x)]

    tape.append(backward)
    return y, gy


def gelu(tape, x, gx):
    """GELU (autograd.gelu_and_slope); the gradient is the slope there times the
    output's gradient, the one product the scalar graph makes."""
    y, slopes = [], []
    for xi in x:
        yi, si = gelu_and_slope(xi)
        y.append(yi)
        slopes.append(si)
    gy = [0.0] * len(x)

    def backward():
        gx[:] = map(mul, slopes, gy)

    tape.append(backward)
    return y, gy


def residual(tape, a, ga, b, gb):
    """y = a + b: the gradient goes to both unchanged."""
    y = list(map(add, a, b))
    gy = [0.0] * len(y)

    def backward():
        ga[:] = map(add, ga, gy)
        gb[:] = map(add, gb, gy)

    tape.append(backward)
    return y, gy


def cross_entropy(tape, logits, g_logits, target_id, g_loss):
    """-log softmax(logits)[target], computed as the original does: exp(x - max),
    then multiplied by total**-1, then -log. g_loss: d(mean loss)/d(this loss)."""
    max_val = max(logits)
    exps = [math.exp(v - max_val) for v in logits]
    total = sum(exps, ZERO)
    inv_total = total**-1
    e_t = exps[target_id]
    p = e_t * inv_total

    def backward():
        g_p = (1 / p) * (-1 * g_loss)  # through -log p
        g_total = (-1 * total**-2) * (e_t * g_p)
        g_logits[:] = [e * g_total for e in exps]
        g_logits[target_id] = e_t * (inv_total * g_p + g_total)

    tape.append(backward)
    return -math.log(p)


# ---- the engine


def _qkv_order(n_embd, n_head, first):
    """Indices into q + k + v (3 * n_embd rows) in the order their gradients
    reach the input x: heads from last to first; in each head v's rows, then
    k's, then q's, each from last to first; at position 0, k and q alternate."""
    hd = n_embd // n_head
    order = []
    for h in reversed(range(n_head)):
        rows = list(reversed(range(h * hd, (h + 1) * hd)))
        order += [2 * n_embd + r for r in rows]
        if first:
            order += [i for r in rows for i in (n_embd + r, r)]
        else:
            order += [n_embd + r for r in rows] + rows
    return order


class FusedEngine(forward.FloatInference, Engine):
    name = "fused"

    def __init__(self, config, weights, train_config=None):
        super().__init__(config, train_config)
        self.shapes = parameter_shapes(config)
        self.data = self._flat(weights)
        self.m = [0.0] * len(self.data)
        self.v = [0.0] * len(self.data)
        self.t = 0
        self.qkv_orders = [_qkv_order(config.n_embd, config.n_head, first) for first in (True, False)]
        self.qkv_getters = [itemgetter(*order) for order in self.qkv_orders]
        self._unpack()

    def _unpack(self):
        """Matrices (lists of rows) from the flat parameter list, plus the
        transposed, row-reversed copies the backward passes read."""
        self.w, i = {}, 0
        for name, (rows, cols) in self.shapes.items():
            self.w[name] = [self.data[i + r * cols : i + (r + 1) * cols] for r in range(rows)]
            i += rows * cols
        self.w_t = {name: list(zip(*reversed(mat))) for name, mat in self.w.items() if name not in ("wte", "wpe")}
        self.qkv_t = []
        for li in range(self.config.n_layer):
            stacked = self.w[f"layer{li}.attn_wq"] + self.w[f"layer{li}.attn_wk"] + self.w[f"layer{li}.attn_wv"]
            self.qkv_t.append([list(zip(*[stacked[o] for o in order])) for order in self.qkv_orders])

    # ---- forward and backward
    def _doc_forward(self, tape, tokens, g, rec, g_loss, losses):
        c, w, w_t = self.config, self.w, self.w_t
        hd = c.head_dim
        inv_sqrt_hd = (hd**0.5) ** -1
        n = c.predicted(tokens)
        # per layer and head: the k and v slices of every position, and their gradients
        caches = [tuple([[] for _ in range(c.n_head)] for _ in range(4)) for _ in range(c.n_layer)]
        layers = []  # per layer: what each node needs, looked up once
        for li in range(c.n_layer):
            p = f"layer{li}."
            qkv_args = ([w[p + "attn_wq"], w[p + "attn_wk"], w[p + "attn_wv"]], self.qkv_t[li],
                        [rec[p + "attn_wq"], rec[p + "attn_wk"], rec[p + "attn_wv"]])
            layers.append((qkv_args, *[(w[p + m], w_t[p + m], rec[p + m]) for m in ("attn_wo", "mlp_fc1", "mlp_fc2")]))
        for pos_id in range(n):
            token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
            x, gx = embed(tape, w["wte"][token_id], w["wpe"][pos_id], g["wte"], g["wpe"], token_id, pos_id)
            x, gx = rmsnorm(tape, x, gx)
            for cache, ((w_qkv, qkv_t, rec_qkv), wo, fc1, fc2) in zip(caches, layers):
                x_res, gx_res = x, gx
                x, gx = rmsnorm(tape, x, gx)
                which = 0 if pos_id == 0 else 1  # the q/k/v gradient order differs at position 0
                (q, k, v), (gq, gk, gv) = qkv(tape, x, gx, w_qkv, qkv_t[which], self.qkv_getters[which], rec_qkv)
                split_heads(tape, k, gk, v, gv, cache)
                x, gx = attention(tape, q, gq, cache, inv_sqrt_hd)
                x, gx = linear(tape, x, gx, *wo)
                x, gx = residual(tape, x, gx, x_res, gx_res)
                x_res, gx_res = x, gx
                x, gx = rmsnorm(tape, x, gx)
                x, gx = linear(tape, x, gx, *fc1)
                if c.activation == "gelu":
                    x, gx = gelu(tape, x, gx)
                    x, gx = linear(tape, x, gx, *fc2)
                else:
                    x, gx = relu(tape, x, gx)
                    # ReLU passes back nothing where it was off, so fc2 need not compute it there
                    x, gx = linear(tape, x, gx, *fc2, need=[i for i, h in enumerate(x) if h > 0])
                x, gx = residual(tape, x, gx, x_res, gx_res)
            logits, g_logits = linear(tape, x, gx, w["lm_head"], w_t["lm_head"], rec["lm_head"], last=target_id)
            losses.append(cross_entropy(tape, logits, g_logits, target_id, g_loss))

    def _flat_loss_and_grads(self, batch):
        """Mean loss over every real token of the batch, and its gradient as
        {name: flat row-major list}, without moving the weights."""
        n = sum(map(self.config.predicted, batch))
        g_loss = 1 / n  # d(loss)/d(each position's loss): loss = (1/n) * sum
        c = self.config
        g = {name: [[0.0] * c.n_embd for _ in range(c.vocab_size if name == "wte" else c.block_size)]
             for name in ("wte", "wpe")}
        rec = {name: [] for name in self.shapes if name not in g}  # (x, dy) of every linear, in order
        tape, losses = [], []
        for tokens in batch:
            self._doc_forward(tape, tokens, g, rec, g_loss, losses)
        loss = sum(losses, ZERO) * (1 / n)
        for backward in reversed(tape):
            backward()
        for name in ("wte", "wpe"):
            g[name] = list(chain.from_iterable(g[name]))
        for name, record in rec.items():
            if name.endswith(("mlp_fc1", "mlp_fc2")):
                g[name] = sparse_weight_grads(record, by_row=name.endswith("mlp_fc1"))
            else:
                g[name] = weight_grads(record)
        return loss, g

    def loss_and_grads(self, batch):
        with self._gc_paused():
            loss, g = self._flat_loss_and_grads(batch)
        return loss, self._rows(list(chain.from_iterable(g[name] for name in self.shapes)))

    def train_step(self, batch, lr_t):
        with self._gc_paused():  # the step's lists and closures hold no reference cycles
            loss, g = self._flat_loss_and_grads(batch)
            grads = list(chain.from_iterable(g[name] for name in self.shapes))
            if self.keep_grads:
                self.last_grads = self._rows(grads)
            if self.train_config.optimizer == "sgd":
                self._sgd(grads, lr_t)
            else:
                self._adam(grads, lr_t)
            self._unpack()
            return loss

    # ---- optimizers: optim.py's arithmetic, over flat lists
    def _sgd(self, grads, lr_t):
        self.t += 1
        self.data = [p - lr_t * g for p, g in zip(self.data, grads)]

    def _adam(self, grads, lr_t):
        tc = self.train_config
        self.t += 1
        beta1, beta2, eps, wd = tc.beta1, tc.beta2, tc.eps, tc.weight_decay
        c1, c2 = 1 - beta1, 1 - beta2
        bc1, bc2 = 1 - beta1**self.t, 1 - beta2**self.t
        params = self.data
        if wd:  # decoupled (AdamW): p -= lr * wd * p, before the Adam step
            params = [p - lr_t * wd * p for p in params]
        # Three comprehensions run faster than one loop appending to three lists;
        # every element still sees optim.Adam's operations in optim.Adam's order.
        m = [beta1 * mi + c1 * g for mi, g in zip(self.m, grads)]
        v = [beta2 * vi + c2 * g**2 for vi, g in zip(self.v, grads)]
        self.data = [p - lr_t * (mi / bc1) / ((vi / bc2) ** 0.5 + eps) for p, mi, vi in zip(params, m, v)]
        self.m, self.v = m, v

    # ---- weights and optimizer state in the checkpoint's form
    def weights(self):
        return self._rows(self.data)

    def optimizer_state(self):
        if self.train_config.optimizer == "sgd":
            return {"t": self.t}
        return {"t": self.t, "m": self._rows(self.m), "v": self._rows(self.v)}

    def load_optimizer_state(self, state):
        self.t = int(state["t"])
        for key in ("m", "v"):
            if key in state:
                setattr(self, key, self._flat(state[key]))
