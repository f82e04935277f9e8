"""The GPT of model.py as PyTorch modules, and the tensors a batch becomes.

Same as the scalar engine: the parameters (wte, wpe, lm_head, layer{i}.attn_wq
... mlp_fc2, same shapes), RMSNorm without weights, ReLU (or GELU), no biases, documents
truncated to block_size.

Different from it: a step sees the whole batch at once. Documents of different
lengths are padded to the longest one (B, T); a loss mask (targets of -1) keeps
the padding out of the loss. All positions attend in parallel, and a causal
mask (inside F.scaled_dot_product_attention) stands in for the scalar engine's
"future positions are not in the cache yet". Padding sits after the real
tokens, so the causal mask already keeps it out of every real position.

torch_engine.py imports this module only when a TorchEngine is built.
"""

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from microgpt.config import predicted
from microgpt.errors import UsageError

DEVICES = ("auto", "cpu", "cuda", "mps")


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


def causal_attention(q, k, v, dropout_p=0.0):
    """(B, nh, T, hs) each -> (B, nh, T, hs), every position attending to itself
    and the earlier ones; dropout_p drops attention weights (training only).

    Under bfloat16 autocast on a CPU, PyTorch's fused attention is the slow part:
    its backward in bfloat16 took 5-7x its float32 time, and in float32 it took
    ~2x the attention written out with bfloat16 matmuls and a float32 softmax
    (128 wide, block 64, 2 cores; docs/performance.md). So there it is written out."""
    if q.dtype == torch.bfloat16 and q.device.type == "cpu":
        T, hs = q.shape[-2:]
        future = torch.full((T, T), float("-inf"), device=q.device).triu(1)  # -inf above the diagonal
        att = F.softmax((q * hs**-0.5) @ k.transpose(-2, -1) + future, dim=-1, dtype=torch.float32)  # (B, nh, T, T)
        if dropout_p:
            att = F.dropout(att, dropout_p)
        return att.to(v.dtype) @ v
    return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)


class Block(nn.Module):
    def __init__(self, n_embd, n_head, dropout=0.0, activation="relu"):
        super().__init__()
        self.n_head = n_head
        self.act = F.relu if activation == "relu" else partial(F.gelu, approximate="tanh")  # GPT-2's GELU
        self.dropout = dropout
        self.attn_wq = nn.Parameter(torch.empty(n_embd, n_embd))
        self.attn_wk = nn.Parameter(torch.empty(n_embd, n_embd))
        self.attn_wv = nn.Parameter(torch.empty(n_embd, n_embd))
        self.attn_wo = nn.Parameter(torch.empty(n_embd, n_embd))
        self.mlp_fc1 = nn.Parameter(torch.empty(4 * n_embd, n_embd))
        self.mlp_fc2 = nn.Parameter(torch.empty(n_embd, 4 * n_embd))

    def drop(self, x):
        """Dropout on a residual branch, in training only (inverted: survivors scaled
        by 1 / (1 - p), so evaluation needs no rescaling). p = 0: x itself."""
        return F.dropout(x, self.dropout, self.training) if self.dropout else x

    def w_qkv(self):
        """The three attention input matrices stacked, (3C, C): one bigger matmul
        runs nearer a CPU's peak than three small ones (~5% of a step at 128 wide)."""
        return torch.cat([self.attn_wq, self.attn_wk, self.attn_wv])

    def heads(self, qkv):
        """(B, T, 3C) -> q, k, v, each (B, nh, T, hs)."""
        B, T, C3 = qkv.shape
        return qkv.view(B, T, 3, self.n_head, C3 // (3 * self.n_head)).permute(2, 0, 3, 1, 4)

    def qkv(self, x):
        return self.heads(x @ self.w_qkv().T)

    def finish(self, y, x_residual, real=None):
        """Heads back into the residual stream (only the `real` rows, if given),
        then the MLP."""
        B, nh, T, hs = y.shape
        y = y.transpose(1, 2).reshape(B, T, nh * hs)  # (B, T, C)
        if real is not None:
            y = y[real]  # (N, C)
        x = self.drop(y @ self.attn_wo.T) + x_residual
        return self.drop(self.act(rmsnorm(x) @ self.mlp_fc1.T) @ self.mlp_fc2.T) + x

    def forward(self, x, real=None):
        """x (B, T, C); or, given `real` (a (B, T) mask of the positions holding
        tokens), just those rows, (N, C): then every matmul but the attention's
        skips the padding, and only q, k, v are laid out as (B, T) for it (zeros
        at the padding, which no real position sees: it comes after them)."""
        qkv = rmsnorm(x) @ self.w_qkv().T
        if real is not None:
            qkv = qkv.new_zeros(*real.shape, qkv.shape[-1]).index_put((real,), qkv)  # (B, T, 3C)
        q, k, v = self.heads(qkv)
        return self.finish(causal_attention(q, k, v, self.dropout if self.training else 0.0), x, real)


class GPT(nn.Module):
    """dropout: nanoGPT's places (the embeddings, the attention weights, both
    residual branches), 0 by default, so a run reproduces the scalar engine's.
    tie_weights: lm_head is wte (one matrix, as in GPT-2 and nanoGPT); named()
    still lists lm_head, so the checkpoint holds a copy every engine can read."""

    def __init__(self, config, dropout=0.0, tie_weights=False):
        super().__init__()
        self.config = config
        self.dropout = dropout
        self.tie_weights = tie_weights
        self.wte = nn.Parameter(torch.empty(config.vocab_size, config.n_embd))
        self.wpe = nn.Parameter(torch.empty(config.block_size, config.n_embd))
        if not tie_weights:
            self.lm_head = nn.Parameter(torch.empty(config.vocab_size, config.n_embd))
        self.h = nn.ModuleList(Block(config.n_embd, config.n_head, dropout, config.activation)
                               for _ in range(config.n_layer))

    def __getattr__(self, name):
        if name == "lm_head" and self.__dict__.get("tie_weights"):
            return self.wte
        return super().__getattr__(name)

    def named(self):
        """The parameters under the checkpoint's names, in model.py's order (tied:
        wte twice, as wte and as lm_head)."""
        out = {"wte": self.wte, "wpe": self.wpe, "lm_head": self.lm_head}
        for i, block in enumerate(self.h):
            for key in ("attn_wq", "attn_wk", "attn_wv", "attn_wo", "mlp_fc1", "mlp_fc2"):
                out[f"layer{i}.{key}"] = getattr(block, key)
        return out

    def forward(self, idx, real=None):
        """idx (B, T) token ids -> logits (B, T, vocab_size); given `real`, a (B, T)
        mask of the positions that hold tokens (not padding), the logits of those
        positions only, (N, vocab_size), computed without the padding's rows."""
        T = idx.shape[1]
        x = self.wte[idx] + self.wpe[:T]  # (B, T, C)
        if real is not None:
            x = x[real]  # (N, C)
        x = rmsnorm(x)
        if self.dropout:
            x = F.dropout(x, self.dropout, self.training)
        for block in self.h:
            x = block(x, real)
        return x @ self.lm_head.T


def pad_batch(batch, block_size, device, full=False):
    """Token lists [BOS, ..., BOS] -> inputs (B, T) and targets (B, T), T the
    longest truncated document (block_size if `full`: one shape for every batch,
    which torch.compile needs to avoid recompiling); targets past a document's
    end are -1."""
    lengths = [predicted(tokens, block_size) for tokens in batch]
    T = block_size if full else max(lengths)
    idx = torch.zeros(len(batch), T, dtype=torch.long)
    targets = torch.full((len(batch), T), -1, dtype=torch.long)
    for b, (tokens, n) in enumerate(zip(batch, lengths)):
        idx[b, :n] = torch.tensor(tokens[:n])
        targets[b, :n] = torch.tensor(tokens[1 : n + 1])
    return idx.to(device), targets.to(device), sum(lengths)


def real_positions(targets):
    """The (B, T) mask of positions holding tokens, or None where there is no
    padding (a text's windows: nothing to skip)."""
    real = targets >= 0
    return None if bool(real.all()) else real


def loss_sum(logits, targets):
    """Summed -log p over the positions whose target is not -1 (padding);
    logits (..., vocab_size), targets the same leading shape."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1, reduction="sum")
