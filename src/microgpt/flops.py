"""Model FLOPs utilisation: what a training step costs, and what the machine can do.

A speed in tokens/s means little without the machine's limit beside it. Two
numbers give it:

    flops_per_token(config)   the multiply-adds a training step spends on one
                              token (forward and backward), counted the way
                              the PaLM paper and nanoGPT count them, so MFU
                              figures compare across projects: 6 per weight of
                              every matmul (2 forward, 4 backward) plus the
                              attention's 12 * n_layer * n_embd * T (T the
                              sequence length; the causal half is not
                              subtracted). Embedding lookups and the
                              elementwise ops (RMSNorm, softmax, Adam) are
                              not counted: they are memory-bound.
    matmul_peak(...)          the GFLOP/s one square matmul reaches here, now,
                              in a given library and number format, on the
                              thread count in force: the best a step of
                              matmuls could hope for.

MFU = tokens/s * flops_per_token / peak. On a shared machine the peak is
measured in the same minute as the run it is compared with, so both see the
same load.
"""

import functools
import time

PEAK_SIZE = 512  # a square matmul big enough to reach the BLAS kernels' speed, small enough to time in 0.2 s
PEAK_SECONDS = 0.2


def matmul_weights(config):
    """Weights that multiply activations: 12 n_embd^2 per layer (q, k, v, o,
    and the MLP's two 4x matrices) plus lm_head. wte and wpe are looked up, not
    multiplied."""
    return 12 * config.n_layer * config.n_embd ** 2 + config.vocab_size * config.n_embd


def flops_per_token(config, seq_len=None):
    """Training FLOPs per token: 6 per matmul weight plus the attention scores and
    their weighted sum, forward and backward, over seq_len positions (default
    block_size: what a --text window holds)."""
    T = config.block_size if seq_len is None else seq_len
    return 6 * matmul_weights(config) + 12 * config.n_layer * config.n_embd * T


def _torch_peak(dtype, device, n, seconds):
    import torch

    a = torch.randn(n, n, dtype=getattr(torch, dtype), device=device)
    b = torch.randn(n, n, dtype=a.dtype, device=device)
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    return _time(lambda: a @ b, sync, n, seconds)


def _numpy_peak(dtype, n, seconds):
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
    return _time(lambda: a @ b, lambda: None, n, seconds)


def _time(matmul, sync, n, seconds):
    for _ in range(3):  # warm-up: threads started, kernels picked, caches filled
        matmul()
    sync()
    count, start = 0, time.perf_counter()
    while True:
        matmul()
        count += 1
        if count % 4 == 0:
            sync()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return 2 * n ** 3 * count / elapsed / 1e9


@functools.lru_cache(maxsize=None)
def matmul_peak(library="torch", dtype="float32", device="cpu", n=PEAK_SIZE, seconds=PEAK_SECONDS):
    """GFLOP/s of an n x n matmul in `library` ("torch" or "numpy") and `dtype`,
    in wall time, on the threads in force. Measured once per process for each
    setting; None where the library is missing."""
    try:
        if library == "numpy":
            return _numpy_peak(dtype, n, seconds)
        if library == "torch":
            return _torch_peak(dtype, device, n, seconds)
        return None
    except (ImportError, RuntimeError, TypeError, AttributeError):  # no such library, or no such dtype on that device
        return None


def engine_peak_setting(engine):
    """(library, dtype, device) whose matmul peak an engine's speed is judged by;
    None for the pure-Python engines, which do not multiply matrices."""
    name = getattr(engine, "name", None)
    if name == "torch":
        return "torch", engine.dtype, engine.device
    if name == "numpy":
        return "numpy", getattr(engine.dtype, "__name__", str(engine.dtype)), "cpu"
    return None


def utilisation(config, tokens_per_second, peak_gflops, seq_len=None):
    """(achieved GFLOP/s, MFU as a fraction of peak_gflops, or None without a peak)."""
    achieved = tokens_per_second * flops_per_token(config, seq_len) / 1e9
    return achieved, (achieved / peak_gflops if peak_gflops else None)


def describe(config, tokens_per_second, setting, seq_len=None):
    """One phrase for a run's speed against its limit, e.g. '106 GFLOP/s, MFU 58%
    of the 183 GFLOP/s torch float32 matmul peak measured now'; '' when there is
    no matmul engine or no peak."""
    if setting is None or tokens_per_second <= 0:
        return ""
    peak = matmul_peak(*setting)
    achieved, mfu = utilisation(config, tokens_per_second, peak, seq_len)
    if mfu is None:
        return f"{achieved:,.1f} GFLOP/s"
    library, dtype, _ = setting
    percent = f"{100 * mfu:.0f}" if mfu >= 0.1 else f"{100 * mfu:.1f}"
    return f"{achieved:,.1f} GFLOP/s, MFU {percent}% of the {peak:,.0f} GFLOP/s {library} {dtype} matmul peak " \
           "measured now"


def of_run(trainer):
    """describe() for a Trainer that has trained: its tokens/s, its engine's peak,
    and the mean length of the sequences it attended over (block_size for text
    windows, a document's length for documents)."""
    steps_done = max(1, trainer.step)
    seq_len = trainer.tokens / (steps_done * trainer.train_config.batch_size)
    tok_s = trainer.tokens / trainer.seconds if trainer.seconds else 0.0
    return describe(trainer.config, tok_s, engine_peak_setting(trainer.engine), seq_len)
