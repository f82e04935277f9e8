"""The PyTorch engine: the GPT of model.py as batched tensor operations.

Same as the scalar engine: the parameters (wte, wpe, lm_head, layer{i}.attn_wq
... mlp_fc2, same shapes), RMSNorm without weights, ReLU, no biases, documents
truncated to block_size, Adam(W) with the same betas and eps, and the learning
rate handed in by the Trainer each step.

Different from it: a step sees the whole batch at once. Documents of different
lengths are padded to the longest one (B, T); a loss mask (targets of -1) keeps
the padding out of the loss, which is averaged over the real tokens only. All
positions attend in parallel, and a causal mask (inside
F.scaled_dot_product_attention) stands in for the scalar engine's "future
positions are not in the cache yet". Padding sits after the real tokens, so
the causal mask already keeps it out of every real position.

Under torchrun the engine runs DistributedDataParallel: every rank gets the
same global batch from the Trainer and keeps its own slice of it (see
microgpt.distributed).
"""

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from microgpt import distributed
from microgpt.config import TrainConfig
from microgpt.errors import UsageError

DTYPES = {"float32": torch.float32, "float64": torch.float64, "bfloat16": torch.bfloat16}
DEVICES = ("auto", "cpu", "cuda", "mps")
EVAL_CHUNK = 64  # documents per forward pass in nll(): bounds memory on big validation sets


def pick_device(device="auto"):
    if device not in DEVICES:
        raise UsageError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: this PyTorch sees no CUDA GPU (is it a CPU-only build?)")
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UsageError("--device mps: Apple's Metal backend is not available on this machine")
    return device


def rmsnorm(x):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.attn_wq = nn.Parameter(torch.empty(n_embd, n_embd))
        self.attn_wk = nn.Parameter(torch.empty(n_embd, n_embd))
        self.attn_wv = nn.Parameter(torch.empty(n_embd, n_embd))
        self.attn_wo = nn.Parameter(torch.empty(n_embd, n_embd))
        self.mlp_fc1 = nn.Parameter(torch.empty(4 * n_embd, n_embd))
        self.mlp_fc2 = nn.Parameter(torch.empty(n_embd, 4 * n_embd))

    def qkv(self, x):
        B, T, C = x.shape
        heads = lambda t: t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        return heads(x @ self.attn_wq.T), heads(x @ self.attn_wk.T), heads(x @ self.attn_wv.T)

    def finish(self, y, x_residual):
        """Heads back into the residual stream, then the MLP."""
        B, nh, T, hs = y.shape
        y = y.transpose(1, 2).reshape(B, T, nh * hs)  # (B, T, C)
        x = y @ self.attn_wo.T + x_residual
        return F.relu(rmsnorm(x) @ self.mlp_fc1.T) @ self.mlp_fc2.T + x

    def forward(self, x):
        q, k, v = self.qkv(rmsnorm(x))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
        return self.finish(y, x)


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.wte = nn.Parameter(torch.empty(config.vocab_size, config.n_embd))
        self.wpe = nn.Parameter(torch.empty(config.block_size, config.n_embd))
        self.lm_head = nn.Parameter(torch.empty(config.vocab_size, config.n_embd))
        self.h = nn.ModuleList(Block(config.n_embd, config.n_head) for _ in range(config.n_layer))

    def named(self):
        """The parameters under the checkpoint's names, in model.py's order."""
        out = {"wte": self.wte, "wpe": self.wpe, "lm_head": self.lm_head}
        for i, block in enumerate(self.h):
            for key in ("attn_wq", "attn_wk", "attn_wv", "attn_wo", "mlp_fc1", "mlp_fc2"):
                out[f"layer{i}.{key}"] = getattr(block, key)
        return out

    def forward(self, idx):
        """idx (B, T) token ids -> logits (B, T, vocab_size)."""
        T = idx.shape[1]
        x = rmsnorm(self.wte[idx] + self.wpe[:T])  # (B, T, C)
        for block in self.h:
            x = block(x)
        return x @ self.lm_head.T


def pad_batch(batch, block_size, device, full=False):
    """Token lists [BOS, ..., BOS] -> inputs (B, T) and targets (B, T), T the
    longest truncated document (block_size if `full`: one shape for every batch,
    which torch.compile needs to avoid recompiling); targets past a document's
    end are -1."""
    lengths = [min(block_size, len(tokens) - 1) for tokens in batch]
    T = block_size if full else max(lengths)
    idx = torch.zeros(len(batch), T, dtype=torch.long)
    targets = torch.full((len(batch), T), -1, dtype=torch.long)
    for b, (tokens, n) in enumerate(zip(batch, lengths)):
        idx[b, :n] = torch.tensor(tokens[:n])
        targets[b, :n] = torch.tensor(tokens[1 : n + 1])
    return idx.to(device), targets.to(device), sum(lengths)


class TorchEngine:
    name = "torch"

    def __init__(self, config, weights, train_config=None, device="auto", dtype="float32", compile=False,
                 grad_clip=0.0):
        if dtype not in DTYPES:
            raise UsageError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if grad_clip is None or grad_clip < 0 or not math.isfinite(grad_clip):
            raise UsageError(f"grad-clip must be a finite number >= 0, got {grad_clip!r}")
        self.config = config
        self.train_config = tc = train_config or TrainConfig()
        self.device = pick_device(device)
        self.dtype = dtype
        self.grad_clip = grad_clip
        self.rank, self.world_size = 0, 1
        if distributed.world_size() > 1:
            self.device = distributed.init_torch(self.device)
            self.rank, self.world_size = distributed.rank(), distributed.world_size()
            if tc.batch_size < self.world_size:
                raise UsageError(f"--batch-size {tc.batch_size} is the global batch; it must be at least "
                                 f"the number of processes ({self.world_size}) so every rank has a document")
        # bfloat16 trains in mixed precision: float32 master weights and optimizer
        # moments (bfloat16 moments would lose most small updates), bfloat16 matmuls.
        self.param_dtype = torch.float32 if dtype == "bfloat16" else DTYPES[dtype]
        self.model = GPT(config)
        self.load_weights(weights)
        self.model.to(self.device)
        self.params = list(self.model.named().values())
        self.forward = self.model  # what training calls: maybe compiled, maybe wrapped in DDP
        self.compiled = bool(compile)
        if compile:
            self.forward = torch.compile(self.model)
        if self.world_size > 1:  # (compile first, then DDP, so DDP's gradient hooks stay outside the graph)
            from torch.nn.parallel import DistributedDataParallel

            ids = [torch.device(self.device).index] if self.device.startswith("cuda") else None
            self.forward = DistributedDataParallel(self.forward, device_ids=ids)
        self.sgd_steps = 0  # torch's SGD keeps no step count; optim.SGD does
        if tc.optimizer == "sgd":
            self.optimizer = torch.optim.SGD(self.params, lr=tc.lr)
        else:
            # AdamW with weight_decay 0 is plain Adam, and like optim.Adam it shrinks the
            # weight before the Adam update. Its arithmetic differs only in rounding
            # (it folds the bias corrections into the step size): within 1e-15 in float64.
            # fused: one kernel for all parameters (CPU and CUDA since PyTorch 2.4): the
            # step's cost is otherwise ~10 small ops per matrix, a third of a tiny model's step.
            kwargs = dict(lr=tc.lr, betas=(tc.beta1, tc.beta2), eps=tc.eps, weight_decay=tc.weight_decay)
            try:
                self.optimizer = torch.optim.AdamW(self.params, fused=True, **kwargs)
            except (RuntimeError, ValueError, TypeError):  # an older torch or another device
                self.optimizer = torch.optim.AdamW(self.params, **kwargs)

    def autocast(self):
        if self.dtype == "bfloat16":
            return torch.autocast(device_type=torch.device(self.device).type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # ---- training
    def loss(self, batch):
        """This rank's share of the loss of the global batch, ready for backward(),
        its detached sum of -log p, and the global count of real tokens."""
        n_global = sum(min(self.config.block_size, len(t) - 1) for t in batch)
        shard = batch[self.rank :: self.world_size]  # rank r takes documents r, r+N, r+2N, ...
        idx, targets, _ = pad_batch(shard, self.config.block_size, self.device, full=self.compiled)
        with self.autocast():
            logits = self.forward(idx)  # (B, T, vocab_size)
        logits = logits.to(self.param_dtype)  # the loss in full precision, even under bfloat16
        loss_sum = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1, reduction="sum")
        # DDP averages gradients over the N ranks; scaling by N makes that average
        # the gradient of (sum over all ranks' tokens) / n_global, the global mean,
        # however unevenly the tokens fall on the ranks.
        return loss_sum * (self.world_size / n_global), loss_sum.detach(), n_global

    def train_step(self, batch, lr_t):
        """Forward and backward over this rank's share of the global batch, one
        optimizer step; the mean loss over the real tokens of the whole batch."""
        loss, loss_sum, n_global = self.loss(batch)
        loss.backward()
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        for group in self.optimizer.param_groups:
            group["lr"] = lr_t
        self.optimizer.step()
        self.sgd_steps += 1
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum = loss_sum.double()
        if self.world_size > 1:
            loss_sum = distributed.all_reduce_sum(loss_sum)
        return loss_sum.item() / n_global

    # ---- weights and optimizer state in the checkpoint's form
    def load_weights(self, weights):
        with torch.no_grad():
            for name, p in self.model.named().items():
                p.data = torch.tensor(weights[name], dtype=torch.float64).to(self.param_dtype)

    def weights(self):
        return {name: p.detach().double().cpu().tolist() for name, p in self.model.named().items()}

    def optimizer_state(self):
        if isinstance(self.optimizer, torch.optim.SGD):
            return {"t": self.sgd_steps}
        state = {"t": 0, "m": {}, "v": {}}
        for name, p in self.model.named().items():
            s = self.optimizer.state.get(p)
            if s:
                state["t"] = int(s["step"])
                state["m"][name] = s["exp_avg"].double().cpu().tolist()
                state["v"][name] = s["exp_avg_sq"].double().cpu().tolist()
            else:  # no step yet: zero moments, as optim.Adam starts
                state["m"][name] = state["v"][name] = torch.zeros(p.shape, dtype=torch.float64).tolist()
        return state

    def load_optimizer_state(self, state):
        t = int(state["t"])
        if isinstance(self.optimizer, torch.optim.SGD):
            self.sgd_steps = t
            return
        if t == 0:
            return
        # Through torch's own load_state_dict, which puts each value on the device
        # and in the dtype the optimizer's kernel (fused or not) expects.
        sd = self.optimizer.state_dict()
        sd["state"] = {
            i: {
                "step": torch.tensor(float(t)),
                "exp_avg": torch.tensor(state["m"][name], dtype=torch.float64),
                "exp_avg_sq": torch.tensor(state["v"][name], dtype=torch.float64),
            }
            for i, name in enumerate(self.model.named())
        }
        self.optimizer.load_state_dict(sd)

    # ---- forward only
    @torch.no_grad()
    def nll(self, batch):
        """Summed -log p over every real position of every document, and the count."""
        total, count = 0.0, 0
        for i in range(0, len(batch), EVAL_CHUNK):
            idx, targets, n = pad_batch(batch[i : i + EVAL_CHUNK], self.config.block_size, self.device)
            with self.autocast():
                logits = self.model(idx)
            total += F.cross_entropy(logits.double().flatten(0, 1), targets.flatten(), ignore_index=-1,
                                     reduction="sum").item()
            count += n
        return total, count

    def new_cache(self):
        return [[None, None] for _ in range(self.config.n_layer)]

    @torch.no_grad()
    def next_logits(self, token_id, pos_id, cache):
        """One position: its keys and values join the cache, its query attends to
        every cached position (all earlier, so no mask is needed)."""
        m = self.model
        with self.autocast():
            x = rmsnorm(m.wte[token_id] + m.wpe[pos_id]).view(1, 1, -1)  # (1, 1, C)
            for block, kv in zip(m.h, cache):
                q, k, v = block.qkv(rmsnorm(x))  # (1, nh, 1, hs)
                kv[0] = k if kv[0] is None else torch.cat([kv[0], k], dim=2)  # (1, nh, t, hs)
                kv[1] = v if kv[1] is None else torch.cat([kv[1], v], dim=2)
                x = block.finish(F.scaled_dot_product_attention(q, kv[0], kv[1]), x)
            logits = x.view(-1) @ m.lm_head.T
        return logits.double().cpu().tolist()
