"""What every command's parser shares: one-line usage errors, argument types
that reject bad values at parse time with the flag's name, and the groups of
arguments several commands take (the data, the model's size, the engine)."""

import argparse

from microgpt.config import GPTConfig, defaults


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not the usage block plus a line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ---- argument types


def positive_int(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s}")
    return v


def nonneg_int(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {s!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {s}")
    return v


def finite_float(s):
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {s!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {s}")
    return v


def positive_float(s):
    v = finite_float(s)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {s}")
    return v


def nonneg_float(s):
    v = finite_float(s)
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {s}")
    return v


def unit_float(s):
    v = finite_float(s)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {s}")
    return v


def dropout_rate(s):
    v = finite_float(s)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {s}")
    return v


# ---- groups of arguments


def add_data_arg(p):
    p.add_argument("--data", metavar="FILE",
                   help="text file, one document per line (default: $MICROGPT_DATA, else the 32,033 names "
                        "bundled with the package)")


def add_model_args(p, resumable=False):
    """--n-embd, --n-head, --n-layer, --block-size, with GPTConfig's defaults. In
    `train` they default to None, so that --resume can tell given flags apart.
    Returns the group, for a command to add its own model flags to."""
    d = defaults(GPTConfig)
    dflt = (lambda k: None) if resumable else (lambda k: d[k])
    g = p.add_argument_group("model")
    g.add_argument("--n-embd", type=positive_int, default=dflt("n_embd"),
                   help=f"embedding width (default: {d['n_embd']})")
    g.add_argument("--n-head", type=positive_int, default=dflt("n_head"),
                   help=f"attention heads; must divide n-embd (default: {d['n_head']})")
    g.add_argument("--n-layer", type=positive_int, default=dflt("n_layer"),
                   help=f"transformer blocks (default: {d['n_layer']})")
    g.add_argument("--block-size", type=positive_int, default=dflt("block_size"),
                   help=f"context length; longer documents are truncated (default: {d['block_size']})")
    return g


DEFAULT = object()  # add_engine_arg's default: the registry's DEFAULT_ENGINE


def add_engine_arg(p, default=DEFAULT):
    from microgpt.engines import DEFAULT_ENGINE, engine_names

    default = DEFAULT_ENGINE if default is DEFAULT else default
    shown = default or f"{DEFAULT_ENGINE}, or the checkpoint's when resuming"  # None: train decides
    p.add_argument("--engine", default=default, choices=engine_names(),
                   help=f"which implementation runs the model (default: {shown})")


ENGINE_FLAGS = ("device", "dtype", "compile", "grad_clip", "dropout", "tie_weights", "threads")


def add_engine_options(p, training=False):
    """--device/--dtype (and, for training, --compile/--grad-clip): options of the
    tensor engines, shared by every command that builds an engine."""
    g = p.add_argument_group(
        "tensor engine options (--engine numpy or torch; --device and --compile: torch only)",
        "On a CPU the thread count is chosen at start: every CPU this process may use, less those "
        "other programs are busy on now (never fewer than one); the speed line says how many and why.")
    g.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default=None,
                   help="where the tensors live (default: auto = cuda, else mps, else cpu)")
    g.add_argument("--dtype", choices=["float32", "bfloat16", "float64"], default=None,
                   help="number format; bfloat16 = mixed precision with float32 weights (default: the engine's "
                        "own: float64 for numpy; for torch bfloat16 on a CPU that multiplies it natively, else "
                        "float32; numpy has no bfloat16)")
    g.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help="CPU threads for numpy and torch (default: the CPUs free now; OMP_NUM_THREADS, if set)")
    if training:
        g.add_argument("--compile", action="store_true", default=None,
                       help="compile the model with torch.compile (needs a C++ compiler; pays off on long runs)")
        g.add_argument("--grad-clip", type=nonneg_float, default=None, metavar="NORM",
                       help="clip the global gradient norm to NORM before each step; 0 = off (default: off)")
        g.add_argument("--dropout", type=dropout_rate, default=None, metavar="P",
                       help="drop this fraction of the embeddings, attention weights and residual branches "
                            "while training (nanoGPT's places); 0 = off, the reproduction exact (default: 0)")
        g.add_argument("--tie-weights", action="store_true", default=None,
                       help="use wte as lm_head too (one matrix, as GPT-2 does); the checkpoint keeps a copy "
                            "as lm_head so every engine reads it")


def given_engine_options(args):
    """The engine flags the user gave, as {option: value}."""
    return {k: getattr(args, k) for k in ENGINE_FLAGS if getattr(args, k, None) is not None}


def check_pictures(args, paths, inputs=()):
    """--out (and the files beside it) checked before any work (outputs.py): a picture
    may replace a picture of its own format; anything else needs --force."""
    from microgpt.files import outputs

    outputs.check_outputs([outputs.Output("--out", p, outputs.picture(p)) for p in paths],
                          [("an input of this command", i) for i in inputs], args.force)
