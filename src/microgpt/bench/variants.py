"""What `microgpt bench` can time, by label.

The registered engines first (scalar, fused, numpy, torch), then variants of
them (numpy in float32), then, where PyTorch is installed, the same GPT
written plainly in PyTorch (plain_torch.py) in float32 and float64. Each is
built by make(config, weights, train_config) into something with
train_step(batch, lr) -> loss.

Each also has a precision, which says how closely its losses must follow
another's (losses.py): "exact" for the engines that do the original's float64
arithmetic operation for operation, else the float format it computes in.
"""

from dataclasses import dataclass
from typing import Callable, Optional

from microgpt.engines import engine_names, make_engine
from microgpt.engines.torch_engine import default_dtype

PRECISION = {"scalar": "exact", "fused": "exact", "numpy": "float64"}  # torch: its --dtype
ON_DEVICE = {"torch", "pytorch", "pytorch-f64"}  # the labels --device places


@dataclass(frozen=True)
class Variant:
    make: Callable
    about: str  # the note under the table
    precision: Optional[str]  # None: unknown (an engine registered after this was written)
    peak: Optional[tuple] = None  # (library, dtype, device) whose matmul peak MFU is taken against (flops.py)


def variants(device=None, dtype=None, compile=False):
    """label -> Variant. --device, --dtype and --compile are the torch engine's
    options; --device places the plain-PyTorch yardstick too, so the two compare
    on the same hardware."""
    out = {}
    for name in engine_names():
        if name == "torch":
            out[name] = _torch_engine(device, dtype, compile)
        else:
            out[name] = Variant(lambda c, w, tc, name=name: make_engine(name, c, w, tc), f"engine {name!r}",
                                PRECISION.get(name), ("numpy", "float64", "cpu") if name == "numpy" else None)
    if "numpy" in out:
        out["numpy-f32"] = Variant(lambda c, w, tc: make_engine("numpy", c, w, tc, dtype="float32"),
                                   "numpy, float32", "float32", ("numpy", "float32", "cpu"))
    try:
        import torch

        from microgpt.bench.plain_torch import TorchTrainer
        from microgpt.engines.torch_model import pick_device
    except ImportError:
        return out
    where = _where(device)
    threads = torch.get_num_threads()
    for label, precision in (("pytorch", "float32"), ("pytorch-f64", "float64")):
        out[label] = Variant(lambda c, w, tc, p=precision: TorchTrainer(c, w, tc, p, device=pick_device(where)),
                             f"plain PyTorch {torch.__version__}, {precision}, {where}, {threads} threads", precision,
                             ("torch", precision, where))
    return out


def _torch_engine(device, dtype, compile):
    where = _where(device)
    dtype = dtype or default_dtype(where)[0]  # what the torch engine itself would choose there
    options = {"device": where, "dtype": dtype, "compile": compile}
    about = f"engine 'torch', {options['device']}, {dtype}" + (", compiled" if compile else "")
    return Variant(lambda c, w, tc: make_engine("torch", c, w, tc, **options), about, dtype,
                   ("torch", dtype, options["device"]))


def _where(device):
    """'auto' made concrete, so the notes say where the tensors were; a device
    asked for by name is left for the engine to check (and refuse, if absent)."""
    if device not in (None, "auto"):
        return device
    try:
        from microgpt.engines.torch_model import pick_device
    except ImportError:
        return "auto"
    return pick_device("auto")


def check_device(device, labels):
    """A device asked for by name that is not there is refused at once, before the
    data is read and the weights drawn, when a label that runs on it is timed."""
    if device in (None, "auto") or not ON_DEVICE & set(labels):
        return
    try:
        from microgpt.engines.torch_model import pick_device
    except ImportError:  # no PyTorch: those labels are skipped with that note
        return
    pick_device(device)
