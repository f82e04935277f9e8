"""The `numpy` engine: the same GPT as model.py, a batch of documents at a time.

The layers are the forward/backward pairs of numpy_layers.py, run over a
(B, T) block of token ids: B documents padded to the longest of them (T <=
block_size), with a weight per position that is 1/n at the n real tokens and 0
at padding, so the loss is the mean over real tokens and padding adds nothing
to any gradient. Padding sits after a document's last token, and the causal
mask keeps real positions from looking forward, so they never see it.

Every weight lives in one flat array, each named matrix a view into it, and so
does every gradient: the optimizer then updates all parameters with a handful
of whole-array operations, and the three attention projections, which
model.parameter_shapes lists one after another, form one (3C, C) view that
computes q, k and v with a single matmul.

float64 by default (it matches the scalar engine to ~1e-12); dtype="float32"
halves memory traffic for larger models.
"""

import numpy as np

from microgpt.config import TrainConfig
from microgpt.engines import numpy_layers as L
from microgpt.errors import UsageError
from microgpt.model import parameter_shapes

DTYPES = {"float64": np.float64, "float32": np.float32}
NLL_CHUNK = 256  # documents per forward pass when only scoring (bounds memory)


class NumpyEngine:
    name = "numpy"

    def __init__(self, config, weights, train_config=None, dtype="float64"):
        if dtype not in DTYPES:
            raise UsageError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        self.config = config
        self.train_config = tc = train_config or TrainConfig()
        self.dtype = DTYPES[dtype]
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

    # ---- a batch of documents as padded arrays

    def _prepare(self, batch):
        """idx, targets (B, T) int and the per-position loss weight (B, T), 1/n at real tokens."""
        lens = [min(self.config.block_size, len(tokens) - 1) for tokens in batch]
        B, T = len(batch), max(lens)
        idx = np.zeros((B, T), dtype=np.intp)
        targets = np.zeros((B, T), dtype=np.intp)
        real = np.zeros((B, T), dtype=self.dtype)
        for b, (tokens, n) in enumerate(zip(batch, lens)):
            idx[b, :n] = tokens[:n]
            targets[b, :n] = tokens[1 : n + 1]
            real[b, :n] = 1
        return idx, targets, real, sum(lens)

    # ---- the model, forward then backward

    def _forward(self, idx):
        p, nh = self.p, self.config.n_head
        mask = self._mask(idx.shape[1])
        x0 = L.encoder_forward(p["wte"], p["wpe"], idx)  # (B, T, C)
        x, rstd0 = L.rmsnorm_forward(x0)
        caches = []
        for i in range(self.config.n_layer):
            pre = f"layer{i}."
            x_attn_in = x
            xn1, rstd1 = L.rmsnorm_forward(x)
            qkv = L.matmul_forward(xn1, p[pre + "attn_wqkv"])  # (B, T, 3C)
            y, att_cache = L.attention_forward(qkv, nh, mask)  # (B, T, C)
            x = L.matmul_forward(y, p[pre + "attn_wo"]) + x_attn_in
            x_mlp_in = x
            xn2, rstd2 = L.rmsnorm_forward(x)
            h = L.matmul_forward(xn2, p[pre + "mlp_fc1"])  # (B, T, 4C)
            hr = L.relu_forward(h)
            x = L.matmul_forward(hr, p[pre + "mlp_fc2"]) + x_mlp_in
            caches.append((x_attn_in, xn1, rstd1, att_cache, y, x_mlp_in, xn2, rstd2, h, hr))
        logits = L.matmul_forward(x, p["lm_head"])  # (B, T, V)
        return logits, (x0, rstd0, caches, x)

    def _backward(self, dlogits, idx, acts):
        p, g = self.p, self.g
        x0, rstd0, caches, x_final = acts
        dx = L.matmul_backward(dlogits, x_final, p["lm_head"], g["lm_head"])
        for i in reversed(range(self.config.n_layer)):
            pre = f"layer{i}."
            x_attn_in, xn1, rstd1, att_cache, y, x_mlp_in, xn2, rstd2, h, hr = caches[i]
            # MLP block: the residual passes dx through unchanged, plus the branch's share
            dhr = L.matmul_backward(dx, hr, p[pre + "mlp_fc2"], g[pre + "mlp_fc2"])
            dh = L.relu_backward(dhr, h)
            dxn2 = L.matmul_backward(dh, xn2, p[pre + "mlp_fc1"], g[pre + "mlp_fc1"])
            dx = dx + L.rmsnorm_backward(dxn2, x_mlp_in, rstd2)
            # attention block
            dy = L.matmul_backward(dx, y, p[pre + "attn_wo"], g[pre + "attn_wo"])
            dqkv = L.attention_backward(dy, att_cache)
            dxn1 = L.matmul_backward(dqkv, xn1, p[pre + "attn_wqkv"], g[pre + "attn_wqkv"])
            dx = dx + L.rmsnorm_backward(dxn1, x_attn_in, rstd1)
        dx0 = L.rmsnorm_backward(dx, x0, rstd0)
        L.encoder_backward(g["wte"], g["wpe"], dx0, idx)

    def loss_and_grads(self, batch):
        """Mean loss over the batch's real tokens; leaves its gradient in self.g."""
        idx, targets, real, n = self._prepare(batch)
        weight = real / n
        logits, acts = self._forward(idx)
        loss, probs = L.crossentropy_forward(logits, targets, weight)
        self.grad_flat.fill(0)
        self._backward(L.crossentropy_backward(probs, targets, weight), idx, acts)
        return loss

    def train_step(self, batch, lr_t):
        loss = self.loss_and_grads(batch)
        self._optimizer_step(lr_t)
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

    # ---- forward only

    def nll(self, batch):
        """Summed -log p over every real position of every document, and the count."""
        total, count = 0.0, 0
        for start in range(0, len(batch), NLL_CHUNK):
            idx, targets, real, n = self._prepare(batch[start : start + NLL_CHUNK])
            logits, _ = self._forward(idx)
            s, _ = L.crossentropy_forward(logits, targets, real)
            total, count = total + s, count + n
        return total, count

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
            x = p[pre + "mlp_fc2"] @ np.maximum(p[pre + "mlp_fc1"] @ xn, 0) + x_res
        return (p["lm_head"] @ x).astype(np.float64).tolist()
