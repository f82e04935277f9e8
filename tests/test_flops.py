"""FLOPs per token and MFU (microgpt/flops.py), against counts made by hand
and against the multiplications PyTorch's own FLOP counter sees."""

import random

import pytest

from microgpt import flops
from microgpt.config import GPTConfig


def test_flops_per_token_by_hand():
    c = GPTConfig(65, n_embd=128, n_head=4, n_layer=4, block_size=64)
    weights = 4 * (4 * 128 * 128 + 2 * 128 * 512) + 65 * 128  # q k v o, fc1 fc2, lm_head
    assert flops.matmul_weights(c) == weights
    assert flops.flops_per_token(c) == 6 * weights + 12 * 4 * 128 * 64
    assert flops.flops_per_token(c, seq_len=10) == 6 * weights + 12 * 4 * 128 * 10


def test_matmul_part_equals_torch_flop_counter():
    """PyTorch counts the multiplications of a real training step (its FLOP counter
    knows mm): the same number as ours."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from microgpt.engines import torch_model as M
    from microgpt.model import init_weights

    c = GPTConfig(11, n_embd=16, n_head=2, n_layer=2, block_size=8)
    model = M.GPT(c).double()
    for name, p in model.named().items():
        p.data = torch.tensor(init_weights(c, random.Random(0))[name], dtype=torch.float64)
    B, T = 3, 8
    idx = torch.randint(0, 11, (B, T))
    with FlopCounterMode(display=False) as counter:
        M.loss_sum(model(idx), idx).backward()
    # every matmul, forward and backward: 6 per weight per token, exactly. (Its counter has
    # no formula for the CPU attention kernel, so the attention term is checked by hand above.)
    assert counter.get_total_flops() == 6 * flops.matmul_weights(c) * B * T


def test_utilisation_and_description():
    c = GPTConfig(65, n_embd=128, n_head=4, n_layer=4, block_size=64)
    achieved, mfu = flops.utilisation(c, 1e4, 100.0)
    assert achieved == pytest.approx(1e4 * flops.flops_per_token(c) / 1e9)
    assert mfu == pytest.approx(achieved / 100.0)
    assert flops.utilisation(c, 1e4, None)[1] is None
    assert flops.describe(c, 1e4, None) == ""


def test_peak_is_a_positive_rate_and_cached():
    np = pytest.importorskip("numpy")  # noqa: F841
    peak = flops.matmul_peak("numpy", "float32", n=64, seconds=0.01)
    assert peak > 0 and flops.matmul_peak("numpy", "float32", n=64, seconds=0.01) == peak
    assert flops.matmul_peak("nosuchlib", "float32", n=64, seconds=0.01) is None
