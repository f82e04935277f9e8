"""The `numpy` engine: the same GPT as model.py, a batch of documents at a time.

The layers are the forward/backward pairs of numpy_layers.py, run over a batch
of B documents at once. Attention sees them as a (B, T) block, each document
padded to the longest (T <= block_size); padding sits after a document's last
token, and the causal mask keeps real positions from looking forward, so they
never see it. The loss mask is applied by keeping only the N real positions:
every other layer, and the loss (the mean over real tokens), work on those N
rows, so padding costs no matmul time and adds nothing to any gradient.

Every weight lives in one flat array, each named matrix a view into it, and so
does every gradient: the optimizer then updates all parameters with a handful
of whole-array operations, and the three attention projections, which
model.parameter_shapes lists one after another, form one (3C, C) view that
computes q, k and v with a single matmul.

float64 by default (it matches the scalar engine to ~1e-15); dtype="float32"
halves memory traffic and roughly doubles matmul speed on larger models.

Two regularisers, as the torch engine has them and off by default: dropout
(inverted, in nanoGPT's places, training only; each step's masks drawn from
the run's seed and the step, so a resumed run draws the same ones) and tied
weights (lm_head is wte: the two views hold the same numbers and get the
same summed gradient, so every update keeps them equal).
"""

from microgpt.engines import cpu
from microgpt.engines.base import Engine
from microgpt.errors import UsageError
from microgpt.model import parameter_shapes

DTYPES = ("float64", "float32")
NLL_CHUNK = 256  # documents per forward pass when only scoring (bounds memory)

# Bound by the first engine built, not when this module is imported: the
# registry reads NumpyEngine.OPTIONS on machines without numpy.
np = L = None


def _import_numpy():
    global np, L
    import numpy as np
    from microgpt.engines import numpy_layers as L


class NumpyEngine(Engine):
    name = "numpy"
    OPTIONS = ("dtype", "dropout", "tie_weights", "threads")
    REQUIRES = ("numpy",)

    def __init__(self, config, weights, train_config=None, dtype="float64", dropout=0.0, tie_weights=False,
                 threads=None):
        if dtype not in DTYPES:
            raise UsageError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise UsageError(f"dropout must be a number in [0, 1), got {dropout!r}")
        cpu.check_threads(threads)
        _import_numpy()
        super().__init__(config, train_config)
        choice = cpu.decide(threads)
        if cpu.set_blas_threads(choice.count):  # (a BLAS other than OpenBLAS keeps its own count)
            self.threads = choice
        tc = self.train_config
        self.dtype = getattr(np, dtype)
        self.shapes = parameter_shapes(config)
        self.offsets, n = {}, 0
        for name, (r, c) in self.shapes.items():
            self.offsets[name] = n
            n += r * c
        self.flat = np.empty(n, dtype=self.dtype)
        self.grad_flat = np.zeros(n, dtype=self.dtype)
        self.p = self._views(self.flat)
        self.g = self._views(self.grad_flat)
        for name, mat in weights.items():
            self.p[name][...] = mat
        self.dropout, self.tie_weights = float(dropout), bool(tie_weights)
        self.act_forward, self.act_backward = L.ACTIVATIONS[config.activation]
        # Tied, lm_head's slot in the flat arrays stays, holding a copy of wte (so
        # weights() and the moments keep every name, as the checkpoint wants): the
        # checkpoint's own lm_head is not read, as in the torch engine.
        if self.tie_weights:
            self.p["lm_head"][...] = self.p["wte"]
        self.optimizer = tc.optimizer
        self.t = 0
        self.m = np.zeros(n, dtype=self.dtype)
        self.v = np.zeros(n, dtype=self.dtype)
        self._tmp = np.empty(n, dtype=self.dtype)
        self._masks = {}

    def _views(self, flat):
        views = {}
        for name, (r, c) in self.shapes.items():
            o = self.offsets[name]
            views[name] = flat[o : o + r * c].reshape(r, c)
        C = self.config.n_embd
        for i in range(self.config.n_layer):
            o = self.offsets[f"layer{i}.attn_wq"]  # wq, wk, wv are adjacent in the flat array
            views[f"layer{i}.attn_wqkv"] = flat[o : o + 3 * C * C].reshape(3 * C, C)
        return views

    def _mask(self, T):
        if T not in self._masks:
            self._masks[T] = L.causal_mask(T, self.dtype)
        return self._masks[T]

    # ---- a batch of documents: real tokens, and where they sit in the padded (B, T) block

    def _prepare(self, batch):
        """tok, pos, targets (N,) for the N real tokens; rows (N,) their index in
        the flattened (B, T) block the attention works on; and (B, T)."""
        lens = [self.config.predicted(tokens) for tokens in batch]
        B, T = len(batch), max(lens)
        # one (B, T + 1) array of inputs and targets, padded with 0 (any id would do: it is never read)
        block = np.array([list(tokens[: n + 1]) + [0] * (T - n) for tokens, n in zip(batch, lens)], dtype=np.intp)
        rows = np.flatnonzero(np.arange(T) < np.array(lens)[:, None])  # real positions, row-major in (B, T)
        tok, targets, pos = block[:, :-1].ravel()[rows], block[:, 1:].ravel()[rows], rows % T
        return tok, pos, targets, rows, (B, T)

    # ---- the model, forward then backward

    def _dropper(self):
        """None without dropout; else shape -> a fresh mask (numpy_layers.dropout_mask)
        from a generator seeded with the run's seed and the step (torch_engine's
        seed_dropout uses the same number): the masks of step t are the same in a
        run resumed at t as in the uninterrupted one."""
        if not self.dropout:
            return None
        rng = np.random.default_rng((self.train_config.seed * 1_000_003 + self.t) % 2**64)  # (seeds may be < 0)
        return lambda shape: L.dropout_mask(rng, shape, self.dropout, self.dtype)

    def _forward(self, tok, pos, rows, bt, drop=None):
        """drop: a _dropper() while training (masks drawn in this order: embeddings,
        then each layer's attention weights, attention branch, MLP branch), None else."""
        p, nh = self.p, self.config.n_head
        B, T = bt
        C = self.config.n_embd
        padded = len(rows) < B * T
        mask = self._mask(T)
        x0 = L.encoder_forward(p["wte"], p["wpe"], tok, pos)  # (N, C)
        x, rstd0 = L.rmsnorm_forward(x0)
        drop0 = drop_attn = drop_mlp = None
        if drop:
            drop0 = drop(x.shape)
            x = x * drop0
        caches = []
        for i in range(self.config.n_layer):
            pre = f"layer{i}."
            x_attn_in = x
            xn1, rstd1 = L.rmsnorm_forward(x)
            qkv = L.matmul_forward(xn1, p[pre + "attn_wqkv"])  # (N, 3C)
            if padded:  # into the (B, T) block; padding rows stay 0 and only later positions see them
                block = np.zeros((B * T, 3 * C), dtype=self.dtype)
                block[rows] = qkv
                qkv = block
            drop_att = drop((B, nh, T, T)) if drop else None
            y, att_cache = L.attention_forward(qkv.reshape(B, T, 3 * C), nh, mask, drop_att)  # (B, T, C)
            y = y.reshape(B * T, C)[rows] if padded else y.reshape(B * T, C)  # (N, C)
            out = L.matmul_forward(y, p[pre + "attn_wo"])
            if drop:
                drop_attn = drop(out.shape)
                out *= drop_attn
            x = out + x_attn_in
            x_mlp_in = x
            xn2, rstd2 = L.rmsnorm_forward(x)
            h = L.matmul_forward(xn2, p[pre + "mlp_fc1"])  # (N, 4C)
            hr = self.act_forward(h)
            out = L.matmul_forward(hr, p[pre + "mlp_fc2"])
            if drop:
                drop_mlp = drop(out.shape)
                out *= drop_mlp
            x = out + x_mlp_in
            caches.append((x_attn_in, xn1, rstd1, att_cache, y, x_mlp_in, xn2, rstd2, h, hr, drop_attn, drop_mlp))
        logits = L.matmul_forward(x, p["lm_head"])  # (N, V)
        return logits, (x0, rstd0, drop0, caches, x)

    def _backward(self, dlogits, tok, pos, rows, bt, acts):
        p, g = self.p, self.g
        B, T = bt
        C = self.config.n_embd
        padded = len(rows) < B * T
        x0, rstd0, drop0, caches, x_final = acts
        dx = L.matmul_backward(dlogits, x_final, p["lm_head"], g["lm_head"])  # (N, C)
        for i in reversed(range(self.config.n_layer)):
            pre = f"layer{i}."
            x_attn_in, xn1, rstd1, att_cache, y, x_mlp_in, xn2, rstd2, h, hr, drop_attn, drop_mlp = caches[i]
            # MLP block: the residual passes dx through unchanged, plus the branch's share
            # (through its dropout mask, if any: the backward of x * mask is dout * mask)
            dout = dx if drop_mlp is None else dx * drop_mlp
            dhr = L.matmul_backward(dout, hr, p[pre + "mlp_fc2"], g[pre + "mlp_fc2"])
            dh = self.act_backward(dhr, h)
            dxn2 = L.matmul_backward(dh, xn2, p[pre + "mlp_fc1"], g[pre + "mlp_fc1"])
            dx = dx + L.rmsnorm_backward(dxn2, x_mlp_in, rstd2)
            # attention block; padding rows get no gradient from the loss
            dout = dx if drop_attn is None else dx * drop_attn
            dy = L.matmul_backward(dout, y, p[pre + "attn_wo"], g[pre + "attn_wo"])
            if padded:
                block = np.zeros((B * T, C), dtype=self.dtype)
                block[rows] = dy
                dy = block
            dqkv = L.attention_backward(dy.reshape(B, T, C), att_cache).reshape(B * T, 3 * C)
            if padded:
                dqkv = dqkv[rows]
            dxn1 = L.matmul_backward(dqkv, xn1, p[pre + "attn_wqkv"], g[pre + "attn_wqkv"])
            dx = dx + L.rmsnorm_backward(dxn1, x_attn_in, rstd1)
        dx0 = L.rmsnorm_backward(dx if drop0 is None else dx * drop0, x0, rstd0)
        L.encoder_backward(g["wte"], g["wpe"], dx0, tok, pos)
        if self.tie_weights:
            # One matrix used twice: its gradient is the sum of both uses. lm_head's
            # slot gets the same sum, so Adam (moments, weight decay and all) makes
            # the same update to both copies, and they stay equal.
            g["wte"] += g["lm_head"]
            g["lm_head"][...] = g["wte"]

    def _backprop(self, batch):
        """Mean loss over the batch's real tokens, with dropout if it is on (masks
        of the step self.t); leaves its gradient in self.g."""
        tok, pos, targets, rows, bt = self._prepare(batch)
        weight = 1.0 / len(tok)  # every real token counts the same; padding is not in the loss at all
        logits, acts = self._forward(tok, pos, rows, bt, self._dropper())
        loss, probs = L.crossentropy_forward(logits, targets, weight)
        self.grad_flat.fill(0)
        self._backward(L.crossentropy_backward(probs, targets, weight), tok, pos, rows, bt, acts)
        return loss

    def loss_and_grads(self, batch):
        """The gradient also stays in self.g, scratch space that the next backward pass overwrites."""
        loss = self._backprop(batch)
        return loss, self._grads()

    def _grads(self):
        return {name: self.g[name].astype(np.float64).tolist() for name in self.shapes}

    def logits(self, tokens):
        """(n, V) logits after each of one document's first n tokens, all positions at once."""
        n = min(self.config.block_size, len(tokens))
        tok, pos, _, rows, bt = self._prepare([list(tokens[:n]) + [0]])
        return self._forward(tok, pos, rows, bt)[0]

    def train_step(self, batch, lr_t):
        loss = self._backprop(batch)
        if self.keep_grads:
            self.last_grads = self._grads()
        self._optimizer_step(lr_t)
        if self.tie_weights:  # equal already (same numbers, same update); this only states it
            self.p["lm_head"][...] = self.p["wte"]
        return loss

    def _optimizer_step(self, lr_t):
        """optim.Adam / optim.SGD on the flat arrays, in the same order of operations."""
        self.t += 1
        p, g, tmp = self.flat, self.grad_flat, self._tmp
        if self.optimizer == "sgd":
            np.multiply(g, lr_t, out=tmp)
            p -= tmp
            return
        tc = self.train_config
        m, v = self.m, self.v
        m *= tc.beta1
        np.multiply(g, 1 - tc.beta1, out=tmp)
        m += tmp
        v *= tc.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - tc.beta2
        v += tmp
        if tc.weight_decay:
            p -= (lr_t * tc.weight_decay) * p
        # p -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - beta1^t), v_hat likewise
        np.divide(v, 1 - tc.beta2**self.t, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += tc.eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr_t / (1 - tc.beta1**self.t)
        p -= tmp

    # ---- weights and optimizer state in the checkpoint's form

    def weights(self):
        return {name: self.p[name].astype(np.float64).tolist() for name in self.shapes}

    def optimizer_state(self):
        if self.optimizer == "sgd":
            return {"t": self.t}
        views_m, views_v = self._views(self.m), self._views(self.v)
        return {
            "t": self.t,
            "m": {name: views_m[name].astype(np.float64).tolist() for name in self.shapes},
            "v": {name: views_v[name].astype(np.float64).tolist() for name in self.shapes},
        }

    def load_optimizer_state(self, state):
        self.t = int(state["t"])
        for key, flat in (("m", self.m), ("v", self.v)):
            if key in state:
                views = self._views(flat)
                for name in self.shapes:
                    views[name][...] = state[key][name]
                if self.tie_weights:  # wte's moments are lm_head's (the checkpoint's lm_head is not read)
                    views["lm_head"][...] = views["wte"]

    # ---- forward only

    def nll(self, batch):
        """Summed -log p over every real position of every document, and the count."""
        total, count = 0.0, 0
        for start in range(0, len(batch), NLL_CHUNK):
            tok, pos, targets, rows, bt = self._prepare(batch[start : start + NLL_CHUNK])
            logits, _ = self._forward(tok, pos, rows, bt)
            s, _ = L.crossentropy_forward(logits, targets, 1.0)
            total, count = total + s, count + len(tok)
        return total, count

    def ablated_nll(self, batch, off):
        """nll() of the model with the parts of `off` (an ablation.Ablation) switched
        off, as forward.gpt's `ablate=` switches them off; forward only."""
        total, count = 0.0, 0
        for start in range(0, len(batch), NLL_CHUNK):
            tok, pos, targets, rows, bt = self._prepare(batch[start : start + NLL_CHUNK])
            s, _ = L.crossentropy_forward(self._ablated_logits(tok, pos, rows, bt, off), targets, 1.0)
            total, count = total + s, count + len(tok)
        return total, count

    def _ablated_logits(self, tok, pos, rows, bt, off):
        """_forward's logits, with the ablation's parts switched off (and nothing kept for a backward)."""
        p, nh = self.p, self.config.n_head
        B, T = bt
        C = self.config.n_embd
        hd = C // nh
        x = p["wte"][tok] if off.wpe else L.encoder_forward(p["wte"], p["wpe"], tok, pos)
        x, _ = L.rmsnorm_forward(x)
        for i in range(self.config.n_layer):
            pre = f"layer{i}."
            if i not in off.attn:
                qkv = np.zeros((B * T, 3 * C), dtype=self.dtype)  # the (B, T) block; padding rows stay 0
                qkv[rows] = L.matmul_forward(L.rmsnorm_forward(x)[0], p[pre + "attn_wqkv"])
                y = L.attention_forward(qkv.reshape(B, T, 3 * C), nh, self._mask(T))[0].reshape(B * T, C)[rows]
                for li, h in off.heads:
                    if li == i:
                        y[:, h * hd : (h + 1) * hd] = 0.0
                out = L.matmul_forward(y, p[pre + "attn_wo"])
                x = out if i in off.resid_attn else out + x
            if i not in off.mlp:
                hidden = self.act_forward(L.matmul_forward(L.rmsnorm_forward(x)[0], p[pre + "mlp_fc1"]))
                out = L.matmul_forward(hidden, p[pre + "mlp_fc2"])
                x = out if i in off.resid_mlp else out + x
        return L.matmul_forward(x, p["lm_head"])

    def new_cache(self):
        """Keys and values of every layer, one row per position seen so far."""
        C, n = self.config.n_embd, self.config.n_layer
        shape = (n, self.config.block_size, C)
        return {"k": np.zeros(shape, self.dtype), "v": np.zeros(shape, self.dtype)}

    def next_logits(self, token_id, pos_id, cache):
        """One position, attending to the cached positions 0..pos_id (no mask needed)."""
        p, cfg = self.p, self.config
        nh, C = cfg.n_head, cfg.n_embd
        hd = C // nh
        x, _ = L.rmsnorm_forward(p["wte"][token_id] + p["wpe"][pos_id])  # (C,)
        for i in range(cfg.n_layer):
            pre = f"layer{i}."
            x_res = x
            xn, _ = L.rmsnorm_forward(x)
            q, k, v = (p[pre + "attn_wqkv"] @ xn).reshape(3, nh, hd)
            cache["k"][i, pos_id] = k.ravel()
            cache["v"][i, pos_id] = v.ravel()
            keys = cache["k"][i, : pos_id + 1].reshape(-1, nh, hd)  # (t, nh, hd)
            vals = cache["v"][i, : pos_id + 1].reshape(-1, nh, hd)
            att = np.einsum("hd,thd->ht", q, keys) * hd**-0.5  # (nh, t)
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att /= att.sum(axis=-1, keepdims=True)
            y = np.einsum("ht,thd->hd", att, vals).ravel()  # (C,)
            x = p[pre + "attn_wo"] @ y + x_res
            x_res = x
            xn, _ = L.rmsnorm_forward(x)
            x = p[pre + "mlp_fc2"] @ self.act_forward(p[pre + "mlp_fc1"] @ xn) + x_res
        return (p["lm_head"] @ x).astype(np.float64).tolist()
