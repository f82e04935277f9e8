"""Will a run fit in memory? An estimate per engine, checked before the first step.

A config too large for the machine used to draw weights and build graphs for
half a minute and then die of MemoryError (or of the kernel's OOM killer). The
memory a run needs follows from its config, so `training.plan()` asks here
first and refuses, in one line with the estimate and what is available, before
any data is shuffled or any weight is drawn.

What takes the memory, per engine:

  * every parameter, as the checkpoint's Python lists of floats (drawn at
    init, written at save: weights, Adam's m and v, and their JSON text), and
    the engine's own copies: the scalar engine's Values, the fused engine's
    flat float lists and the transposes its backward reads, the tensor engines'
    weights, gradients and Adam's two moments at their dtype;
  * the activations of one batch at full block_size (every document as long
    as the context: the worst case), kept for the backward pass: the scalar
    engine's Value graph (two Values per multiply-add), the fused engine's
    per-position float lists and the outer products it forms the weight
    gradients from, numpy's or torch's arrays at their dtype;
  * the data's token lists (a --text file is held as ids, twice: train and
    validation slices), and the imports (numpy, torch).

Calibration (Python 3.11, Linux x86-64, CPU): peak RSS (getrusage's
ru_maxrss) of plan + 2 steps + save, above the RSS before numpy or torch was
imported, on documents that fill block_size, beside this estimate (vocabulary
27, 4 heads, no validation):

    engine  n_embd layers block batch   measured  estimate
    scalar      16      1    16     1      36 MB     38 MB
    scalar      64      1    16     1     469 MB    465 MB
    scalar      64      2    32     1    1817 MB   1816 MB
    fused       64      1    16     1      22 MB     25 MB
    fused      256      2    16     1     488 MB    533 MB
    fused       64      1    64     8     142 MB    135 MB
    numpy      256      2    16     1     462 MB    444 MB   float64
    numpy       64      1    64    64     120 MB    120 MB   float64
    numpy      128      2    64   256    1088 MB   1098 MB   float64
    numpy      128      2    64   256     574 MB    603 MB   float32
    torch      256      2    16     1     692 MB    690 MB   float32 (the import alone: ~200 MB)
    torch      128      2    64   256     672 MB    694 MB   float32
    torch      128      2    64   256    1068 MB    995 MB   float64

so the estimate is within about 10% either way. With validation, the tensor
engines' forward passes over 32 lists at a time added about what 4 lists cost
in training (numpy, 128 wide, block 64: +13 MB), hence EVAL_LISTS. Available
memory is MemAvailable from /proc/meminfo, lowered to a cgroup's limit when
the process runs under one; elsewhere the physical memory (os.sysconf), and
where even that is unknown, nothing is refused.

`check_bytes` does the same for other work whose size is known before it
starts: reading a data file (data.py), parsing a checkpoint (checkpoint.py),
drawing a fresh model to look at (`architecture`) and building a model's
Value graph (`graph --model`).
"""

import os
from dataclasses import dataclass

from microgpt.config import GPTConfig
from microgpt.errors import MicroGPTError
from microgpt.model import num_params

MB = 1 << 20
# bytes per parameter of the checkpoint's Python lists and JSON text (weights, m, v), common to every engine
CHECKPOINT_PER_PARAM = 240
ENGINE_PER_PARAM = {"scalar": 80, "fused": 80}  # Values / flat lists and transposes; tensor engines: below
FIXED = {"scalar": 5 * MB, "fused": 5 * MB, "numpy": 15 * MB, "torch": 300 * MB}  # imports and first use
SCALAR_BYTES_PER_MAC = 560  # a mul and an add Value, their floats and child tuples, backward's topo list and set
FLOAT = 32  # a Python float in a list: the object and the pointer
DTYPE_BYTES = {"float64": 8, "float32": 4, "bfloat16": 4}  # bfloat16 is mixed precision: float32 weights
EVAL_LISTS = 4  # validation runs 32 token lists per call, forward only: measured, about what 4 cost in training


@dataclass
class Estimate:
    host: int  # bytes of this machine's memory
    device: int = 0  # bytes on a GPU (torch on cuda), else 0
    params: int = 0
    activations: int = 0

    def biggest(self):
        return "the parameters" if self.params >= self.activations else "one batch's activations"


def estimate(engine, config, train_config, options=None, data_bytes=0):
    """An Estimate of the memory `engine` needs to train `config` (a GPTConfig)
    with `train_config`; `options` are the engine's (dtype, device)."""
    options = options or {}
    c, P = config, num_params(config)
    n, L, H, T, V = c.n_embd, c.n_layer, c.n_head, c.block_size, c.vocab_size
    tokens = train_config.batch_size * T
    if engine in ("numpy", "torch"):
        tokens = T * max(train_config.batch_size, EVAL_LISTS)
    if engine == "scalar":
        macs = L * (12 * n * n + T * n) + V * n  # per position: the linear layers, attention over T / 2 keys
        act = tokens * macs * SCALAR_BYTES_PER_MAC
        params = P * (CHECKPOINT_PER_PARAM + ENGINE_PER_PARAM["scalar"])
        return Estimate(FIXED[engine] + params + act + data_bytes, 0, params, act)
    if engine == "fused":
        per_token = max(n * n, V * n) + 40 * n * L + 2 * H * T * L + 2 * V  # outer products, then the tape's lists
        act = tokens * per_token * FLOAT
        params = P * (CHECKPOINT_PER_PARAM + ENGINE_PER_PARAM["fused"])
        return Estimate(FIXED[engine] + params + act + data_bytes, 0, params, act)
    default_dtype = "float64" if engine == "numpy" else "float32"
    d = DTYPE_BYTES.get(options.get("dtype") or default_dtype, 8)
    if engine == "numpy":  # flat weights, gradients, m, v and a scratch array; layer caches and their gradients
        engine_params, per_token = 5 * P * d, 17 * n * L + 6.5 * H * T * L + 4 * V
    else:  # weights, gradients, m, v; what autograd saves for backward
        engine_params, per_token = 4 * P * d, 8 * n * L + 5 * H * T * L + 4 * V
    act = int(tokens * per_token * d)
    params = P * CHECKPOINT_PER_PARAM + engine_params
    if engine == "torch" and _torch_device(options).startswith("cuda"):  # the tensors live on the GPU
        return Estimate(FIXED[engine] + P * CHECKPOINT_PER_PARAM + data_bytes, engine_params + act, params, act)
    return Estimate(FIXED[engine] + params + act + data_bytes, 0, params, act)


def _torch_device(options):
    device = options.get("device") or "auto"
    if device != "auto":
        return device
    try:
        from microgpt.engines.torch_model import pick_device
    except ImportError:  # no torch: make_engine says so, in its own words
        return "cpu"
    return pick_device("auto")


def data_bytes(docs, text_mode):
    """The trainer's copies of the data: a shuffled list of the documents, or a
    text's ids (a pointer each) in the whole and in its train/validation slices."""
    return 16 * len(docs[0]) if text_mode else 8 * len(docs)


def available():
    """Bytes this process can still take, or None if the platform does not say."""
    found = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if found is None:
        try:
            found = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return None
    limit = _cgroup_headroom()
    return found if limit is None else min(found, limit)


CGROUP_FILES = (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # v2
                ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"))


def _cgroup_headroom(files=CGROUP_FILES):
    """What a container's memory limit leaves (cgroup v2, then v1), or None without one:
    MemAvailable is the whole machine's, and a container is killed at its own limit."""
    for limit_file, usage_file in files:
        try:
            with open(limit_file) as f:
                limit = f.read().strip()
            with open(usage_file) as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or not limit.isdigit() or int(limit) >= 1 << 60:  # no limit set
            return None
        return max(0, int(limit) - usage)
    return None


def device_available(device):
    """Free bytes on a CUDA device, or None."""
    try:
        import torch

        return torch.cuda.mem_get_info(torch.device(device))[0]
    except Exception:  # no torch, no GPU, an older torch: nothing is refused for it
        return None


def human(n):
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024


def config_for(docs, dims):
    """The GPTConfig a fresh run on `docs` will have (its vocabulary: their characters and BOS)."""
    return GPTConfig(len(set().union(*docs)) + 1, **dims)


def check(engine, config, train_config, options=None, docs=None, text_mode=False):
    """Refuse, in one line, a run that would need more memory than there is."""
    ranks_here = _ranks_on_this_machine()
    est = estimate(engine, config, train_config, options, data_bytes(docs, text_mode) if docs else 0)
    what = (f"engine {engine}, {_count(config)} parameters, a batch of {train_config.batch_size} x "
            f"{config.block_size} positions; mostly {est.biggest()}")
    have = available()
    if have is not None and est.host * ranks_here > have:
        raise MicroGPTError(f"this run would need about {human(est.host * ranks_here)} of memory ({what}), more "
                            f"than the {human(have)} available; make the model or the batch smaller "
                            "(--n-embd, --n-layer, --block-size, --batch-size)")
    if est.device:
        free = device_available(_torch_device(options or {}))
        if free is not None and est.device > free:
            raise MicroGPTError(f"this run would need about {human(est.device)} of GPU memory ({what}), more than "
                                f"the {human(free)} free; make the model or the batch smaller "
                                "(--n-embd, --n-layer, --block-size, --batch-size)")
    return est


def _ranks_on_this_machine():
    """torchrun's processes here, each holding its own copy of the run."""
    try:
        return max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    except ValueError:
        return 1


def check_bytes(need, what):
    """Refuse work that would need `need` bytes when there are not that many."""
    have = available()
    if have is not None and need > have:
        raise MicroGPTError(f"{what} would need about {human(need)} of memory, more than the {human(have)} "
                            "available")


def _count(config):
    return f"{num_params(config):,}"
