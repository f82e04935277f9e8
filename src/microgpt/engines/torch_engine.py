"""The PyTorch engine: the GPT of torch_model.py, trained a batch at a time.

Same as the scalar engine: Adam(W) with the same betas and eps (or SGD), the
learning rate handed in by the Trainer each step, and the mean loss over the
real tokens of the batch (torch_model.py says how padding stays out of it).

Different from it: the optimizer is torch's, so its state is translated to and
from the checkpoint's form here; the model can be compiled, run in bfloat16
mixed precision, and have its gradient norm clipped.

Under torchrun the engine runs DistributedDataParallel: every rank gets the
same global batch from the Trainer and keeps its own slice of it (see
microgpt.distributed).
"""

import contextlib
import math

from microgpt import distributed
from microgpt.engines import cpu
from microgpt.engines.base import Engine
from microgpt.errors import UsageError

DTYPES = ("float32", "float64", "bfloat16")
EVAL_CHUNK = 64  # documents per forward pass in nll(): bounds memory on big validation sets

# Bound by the first engine built, not when this module is imported: the
# registry reads TorchEngine.OPTIONS on machines without torch.
torch = F = M = None


def _import_torch():
    global torch, F, M
    import torch
    import torch.nn.functional as F
    from microgpt.engines import torch_model as M


def default_dtype(device):
    """(dtype, why) when none is asked for: bfloat16 on a CPU that multiplies it
    natively (faster at the same validation loss, docs/performance.md), float32
    elsewhere."""
    if device == "cpu" and cpu.native_bfloat16():
        return "bfloat16", "native on this CPU"
    return "float32", "no native bfloat16 on this CPU" if device == "cpu" else "the default off a CPU"


class TorchEngine(Engine):
    name = "torch"
    OPTIONS = ("device", "dtype", "compile", "grad_clip", "dropout", "tie_weights", "threads")
    REQUIRES = ("torch",)

    def __init__(self, config, weights, train_config=None, device="auto", dtype=None, compile=False,
                 grad_clip=0.0, dropout=0.0, tie_weights=False, threads=None):
        if dtype is not None and dtype not in DTYPES:
            raise UsageError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if grad_clip is None or grad_clip < 0 or not math.isfinite(grad_clip):
            raise UsageError(f"grad-clip must be a finite number >= 0, got {grad_clip!r}")
        if dropout is None or not 0 <= dropout < 1:
            raise UsageError(f"dropout must be a number in [0, 1), got {dropout!r}")
        cpu.check_threads(threads)
        _import_torch()
        super().__init__(config, train_config)
        tc = self.train_config
        self.device = M.pick_device(device)
        self.threads = None  # a cpu.Threads on a CPU: the count in force and why
        if self.device == "cpu":
            self.threads = cpu.decide(threads)
            torch.set_num_threads(self.threads.count)
        self.dtype, self.dtype_why = (dtype, "asked for") if dtype is not None else default_dtype(self.device)
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
        self.param_dtype = torch.float32 if self.dtype == "bfloat16" else getattr(torch, self.dtype)
        self.dropout, self.tie_weights = float(dropout), bool(tie_weights)
        self.model = M.GPT(config, self.dropout, self.tie_weights)
        self.load_weights(weights)
        self.model.to(self.device)
        # each tensor once (tied, wte stands for lm_head too), in named() order
        self.params = list({id(p): p for p in self.model.named().values()}.values())
        self.forward = self.model  # what training calls: maybe compiled, maybe wrapped in DDP
        self.compiled = bool(compile)
        if compile:
            self.forward = torch.compile(self.model)
        if self.world_size > 1:  # (compile first, then DDP, so DDP's gradient hooks stay outside the graph)
            from torch.nn.parallel import DistributedDataParallel

            ids = [torch.device(self.device).index] if self.device.startswith("cuda") else None
            self.forward = DistributedDataParallel(self.forward, device_ids=ids)
        # The optimizer's step count, optimizer_state()'s "t". Adam's bias correction
        # uses it (torch's AdamW keeps its own copy per parameter); torch's SGD keeps
        # none, so the engine counts for both.
        self.t = 0
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
        n_global = sum(map(self.config.predicted, batch))
        shard = batch[self.rank :: self.world_size]  # rank r takes documents r, r+N, r+2N, ...
        idx, targets, _ = M.pad_batch(shard, self.config.block_size, self.device, full=self.compiled)
        logits, targets = self.logits(self.forward, idx, targets, skip_padding=not self.compiled)
        loss_sum = M.loss_sum(logits.to(self.param_dtype), targets)  # in full precision, even under bfloat16
        # DDP averages gradients over the N ranks; scaling by N makes that average
        # the gradient of (sum over all ranks' tokens) / n_global, the global mean,
        # however unevenly the tokens fall on the ranks.
        return loss_sum * (self.world_size / n_global), loss_sum.detach(), n_global

    def logits(self, forward, idx, targets, skip_padding=True):
        """The logits of a padded batch and the targets they are scored against:
        (B, T) of each, or, skipping the padding, only the real positions' (N)
        (a compiled model keeps one shape: it would recompile for every N)."""
        real = M.real_positions(targets) if skip_padding else None
        with self.autocast():
            if real is None:
                return forward(idx), targets
            return forward(idx, real), targets[real]

    def seed_dropout(self):
        """Dropout masks drawn from the run's seed and the step, so a resumed run
        draws the masks the uninterrupted one would have."""
        self.model.train()
        if self.dropout:
            torch.manual_seed(self.train_config.seed * 1_000_003 + self.t)

    def train_step(self, batch, lr_t):
        """Forward and backward over this rank's share of the global batch, one
        optimizer step; the mean loss over the real tokens of the whole batch."""
        self.seed_dropout()
        loss, loss_sum, n_global = self.loss(batch)
        loss.backward()
        if self.keep_grads:  # (under DDP, backward has averaged them over the ranks: the global batch's)
            self.last_grads = {name: (p.grad if p.grad is not None else torch.zeros_like(p)).double().cpu().tolist()
                               for name, p in self.model.named().items()}
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        for group in self.optimizer.param_groups:
            group["lr"] = lr_t
        self.optimizer.step()
        self.t += 1
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum = loss_sum.double()
        if self.world_size > 1:
            loss_sum = distributed.all_reduce_sum(loss_sum)
        return loss_sum.item() / n_global

    def loss_and_grads(self, batch):
        """The whole batch on this process, through the plain model (not compiled,
        not DDP), and the gradient before any clipping."""
        self.seed_dropout()
        idx, targets, n = M.pad_batch(batch, self.config.block_size, self.device)
        logits, targets = self.logits(self.model, idx, targets)
        loss = M.loss_sum(logits.to(self.param_dtype), targets) / n
        # autograd.grad, not backward(): the parameters' .grad, which the optimizer reads, stay untouched
        grads = dict(zip(map(id, self.params), torch.autograd.grad(loss, self.params)))
        return loss.item(), {name: grads[id(p)].double().cpu().tolist() for name, p in self.model.named().items()}

    # ---- weights and optimizer state in the checkpoint's form
    def load_weights(self, weights):
        with torch.no_grad():
            for name, p in self.model.named().items():
                if name == "lm_head" and self.tie_weights:  # lm_head is wte: the checkpoint's copy is not read
                    continue
                p.data = torch.tensor(weights[name], dtype=torch.float64).to(self.param_dtype)

    def weights(self):
        return {name: p.detach().double().cpu().tolist() for name, p in self.model.named().items()}

    def optimizer_state(self):
        if isinstance(self.optimizer, torch.optim.SGD):
            return {"t": self.t}
        state = {"t": self.t, "m": {}, "v": {}}
        for name, p in self.model.named().items():
            s = self.optimizer.state.get(p)
            if s:
                state["m"][name] = s["exp_avg"].double().cpu().tolist()
                state["v"][name] = s["exp_avg_sq"].double().cpu().tolist()
            else:  # no step yet: zero moments, as optim.Adam starts
                state["m"][name] = state["v"][name] = torch.zeros(p.shape, dtype=torch.float64).tolist()
        return state

    def load_optimizer_state(self, state):
        self.t = int(state["t"])
        if isinstance(self.optimizer, torch.optim.SGD) or self.t == 0:
            return
        # Through torch's own load_state_dict, which puts each value on the device
        # and in the dtype the optimizer's kernel (fused or not) expects.
        sd = self.optimizer.state_dict()
        index = {id(p): i for i, p in enumerate(self.params)}  # the optimizer numbers self.params in order
        sd["state"] = {
            index[id(p)]: {
                "step": torch.tensor(float(self.t)),
                "exp_avg": torch.tensor(state["m"][name], dtype=torch.float64),
                "exp_avg_sq": torch.tensor(state["v"][name], dtype=torch.float64),
            }
            for name, p in self.model.named().items()
            if not (name == "lm_head" and self.tie_weights)  # (wte's moments are lm_head's)
        }
        self.optimizer.load_state_dict(sd)

    # ---- forward only
    def nll(self, batch):
        """Summed -log p over every real position of every document, and the count."""
        total, count = 0.0, 0
        self.model.eval()  # no dropout
        with torch.no_grad():
            for i in range(0, len(batch), EVAL_CHUNK):
                idx, targets, n = M.pad_batch(batch[i : i + EVAL_CHUNK], self.config.block_size, self.device)
                logits, targets = self.logits(self.model, idx, targets)
                total += M.loss_sum(logits.double(), targets).item()
                count += n
        return total, count

    def new_cache(self):
        return [[None, None] for _ in range(self.config.n_layer)]

    def next_logits(self, token_id, pos_id, cache):
        """One position: its keys and values join the cache, its query attends to
        every cached position (all earlier, so no mask is needed)."""
        m = self.model
        m.eval()
        with torch.no_grad(), self.autocast():
            x = M.rmsnorm(m.wte[token_id] + m.wpe[pos_id]).view(1, 1, -1)  # (1, 1, C)
            for block, kv in zip(m.h, cache):
                q, k, v = block.qkv(M.rmsnorm(x))  # (1, nh, 1, hs)
                kv[0] = k if kv[0] is None else torch.cat([kv[0], k], dim=2)  # (1, nh, t, hs)
                kv[1] = v if kv[1] is None else torch.cat([kv[1], v], dim=2)
                x = block.finish(F.scaled_dot_product_attention(q, kv[0], kv[1]), x)
            logits = x.view(-1) @ m.lm_head.T
        return logits.double().cpu().tolist()
