"""The same GPT written plainly in PyTorch: a yardstick for `microgpt bench`.

Not an engine (it saves nothing, samples nothing, and `--engine` does not know
it; the torch engine is engines/torch_engine.py): just the model of
model.py as any PyTorch user would write it, with nn.Linear, nn.Embedding,
F.scaled_dot_product_attention and torch.optim.Adam, so the benchmark can say
how the hand-written engines compare with a mainstream framework on the same
configs, documents and starting weights. Documents are padded to the longest
in the batch; padding targets are ignored by the loss (ignore_index), and the
causal mask keeps real positions from seeing padding.
"""

import torch
import torch.nn.functional as F
from torch import nn

from microgpt.config import predicted
from microgpt.model import parameter_shapes

PAD = -1  # target id the loss ignores


def rmsnorm(x):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + 1e-5)


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.attn_wq = nn.Linear(n_embd, n_embd, bias=False)
        self.attn_wk = nn.Linear(n_embd, n_embd, bias=False)
        self.attn_wv = nn.Linear(n_embd, n_embd, bias=False)
        self.attn_wo = nn.Linear(n_embd, n_embd, bias=False)
        self.mlp_fc1 = nn.Linear(n_embd, 4 * n_embd, bias=False)
        self.mlp_fc2 = nn.Linear(4 * n_embd, n_embd, bias=False)

    def forward(self, x):
        B, T, C = x.shape
        h = rmsnorm(x)
        q, k, v = (w(h).view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
                   for w in (self.attn_wq, self.attn_wk, self.attn_wv))  # each (B, nh, T, hd)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hd)
        x = x + self.attn_wo(y.transpose(1, 2).reshape(B, T, C))
        return x + self.mlp_fc2(F.relu(self.mlp_fc1(rmsnorm(x))))


class TorchGPT(nn.Module):
    def __init__(self, config, weights=None, dtype=torch.float32):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.layers = nn.ModuleList(Block(config.n_embd, config.n_head) for _ in range(config.n_layer))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.to(dtype)
        if weights is not None:
            self.load_microgpt_weights(weights)

    def load_microgpt_weights(self, weights):
        """Our names ('layer0.attn_wq') to module attributes ('layers.0.attn_wq.weight')."""
        params = dict(self.named_parameters())
        with torch.no_grad():
            for name in parameter_shapes(self.config):
                if name.startswith("layer"):
                    layer, rest = name.split(".")
                    key = f"layers.{layer[len('layer'):]}.{rest}.weight"
                else:
                    key = f"{name}.weight"
                params[key].copy_(torch.tensor(weights[name], dtype=params[key].dtype))

    def forward(self, idx, targets):
        B, T = idx.shape
        x = rmsnorm(self.wte(idx) + self.wpe(torch.arange(T, device=idx.device)))  # (B, T, C)
        for block in self.layers:
            x = block(x)
        logits = self.lm_head(x)  # (B, T, V)
        return F.cross_entropy(logits.view(B * T, -1), targets.view(B * T), ignore_index=PAD)


def pad_batch(batch, block_size):
    """Token lists [BOS, ..., BOS] -> idx, targets (B, T), targets PAD past each document's end."""
    lens = [predicted(t, block_size) for t in batch]
    T = max(lens)
    idx = torch.zeros((len(batch), T), dtype=torch.long)
    targets = torch.full((len(batch), T), PAD, dtype=torch.long)
    for b, (tokens, n) in enumerate(zip(batch, lens)):
        idx[b, :n] = torch.tensor(tokens[:n])
        targets[b, :n] = torch.tensor(tokens[1 : n + 1])
    return idx, targets


class TorchTrainer:
    """train_step(batch, lr) like an engine's: forward, backward, Adam, mean loss."""

    def __init__(self, config, weights, train_config, dtype="float32", device="cpu"):
        self.device = device
        self.model = TorchGPT(config, weights, getattr(torch, dtype)).to(device)
        tc = train_config
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=tc.lr, betas=(tc.beta1, tc.beta2), eps=tc.eps)

    def train_step(self, batch, lr_t):
        idx, targets = pad_batch(batch, self.model.config.block_size)
        loss = self.model(idx.to(self.device), targets.to(self.device))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        for group in self.optimizer.param_groups:
            group["lr"] = lr_t
        self.optimizer.step()
        return loss.item()
