"""Several processes, one model: what the rest of the code needs to know.

`torchrun --nproc_per_node=N -m microgpt train --engine torch ...` starts N
copies of the command and tells each its place through environment variables
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). This module reads
them; it imports torch only when a process group is actually needed, so the
pure-Python engines never pay for it.

The division of labour: every rank builds the same Trainer (same seed, same
shuffle, same initial weights, same checkpoint when resuming) and so draws the
same global batch each step; the torch engine keeps the rank's slice and
DistributedDataParallel averages the gradients. Only rank 0 prints, logs and
writes checkpoints.
"""

import os


def world_size():
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank():
    return int(os.environ.get("RANK", "0"))


def is_main():
    return rank() == 0


def init_torch(device):
    """Join the process group torchrun described (once); returns this rank's device.

    NCCL between GPUs, gloo between CPU processes."""
    import torch
    import torch.distributed as dist

    if device == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return device


def all_reduce_sum(tensor):
    import torch.distributed as dist

    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def any_rank(flag):
    """True on every rank if it is true on any: all ranks must stop at the same
    step (a rank that stops alone leaves the others waiting in all-reduce)."""
    if world_size() == 1:
        return bool(flag)
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        return bool(flag)
    t = torch.tensor([1.0 if flag else 0.0])
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())
