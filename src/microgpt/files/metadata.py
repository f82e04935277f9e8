"""What a checkpoint says about its training: the `training` block, typed.

`microgpt train` writes it; `info` shows it; `--resume`, `eval`, `score` and
`sample` read it back to go on where the run stopped or to find the data the
model was trained on. It is plain JSON a user may open and edit, so loading
checks every field's type and range and turns a wrong one into one line
naming the field. Fields this version does not know (written by a newer one)
are kept as they are and written back unchanged.

Every field may be missing (older checkpoints lack some): None means unknown.
"""

import math
from dataclasses import dataclass, field, fields

from microgpt.config import TrainConfig
from microgpt.errors import MicroGPTError, UsageError

# The options an engine may record; the values each may take are checked here so
# a hand-edited checkpoint fails at load, not deep inside an engine.
ENGINE_OPTION_TYPES = {
    "device": str,
    "dtype": ("float32", "bfloat16", "float64"),
    "compile": bool,
    "grad_clip": float,
    "dropout": float,
    "tie_weights": bool,
}


def _bad(name, expected, value):
    return MicroGPTError(f"checkpoint training metadata: {name} must be {expected}, got {value!r:.60}")


def _int(name, value, lo=0):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise _bad(name, f"an integer >= {lo}", value)
    return value


def _float(name, value, lo=None):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or (lo is not None and value < lo):
        raise _bad(name, "a finite number" + (f" >= {lo}" if lo is not None else ""), value)
    return float(value)


def _str(name, value):
    if value is not None and not isinstance(value, str):
        raise _bad(name, "a string", value)
    return value


def _engine_options(value):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad("engine_options", "an object", value)
    for k, v in value.items():
        kind = ENGINE_OPTION_TYPES.get(k)
        if kind is None:
            raise _bad("engine_options", f"made of {', '.join(ENGINE_OPTION_TYPES)}", k)
        if isinstance(kind, tuple):
            ok = v in kind
        elif kind is float:
            ok = not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and v >= 0
        else:
            ok = isinstance(v, kind)
        if not ok:
            raise _bad(f"engine_options.{k}", "one of " + ", ".join(kind) if isinstance(kind, tuple)
                       else kind.__name__ + (" >= 0" if kind is float else ""), v)
    return dict(value)


@dataclass
class TrainingRecord:
    steps: int = 0  # optimizer steps done
    seed: int = None
    final_loss: float = None
    complete: bool = None  # the run reached train_config.steps
    engine: str = None
    train_config: TrainConfig = None
    n_docs: int = None  # documents in the data file (1 for a text)
    n_train: int = None  # training documents (characters for a text)
    n_val: int = None  # held-out documents (characters for a text)
    seconds: float = 0.0  # training time so far, over every resumed part
    tokens: int = 0  # tokens trained on so far
    recent_losses: list = field(default_factory=list)  # the last 100 step losses
    data: str = None  # the data file, as given
    data_sha256: str = None  # fingerprint of its documents (data.fingerprint)
    engine_options: dict = None  # e.g. {"dtype": "float32"}; never the device
    format: str = None  # "text" for --text runs; None for documents
    n_chars: int = None  # characters of a --text run's file
    val_loss: float = None
    best_val_loss: float = None
    val_bits_per_char: float = None  # the final validation loss per character (evaluation.Measured)
    extra: dict = field(default_factory=dict)  # keys a newer microgpt wrote: kept, not read

    @property
    def is_text(self):
        return self.format == "text"

    @classmethod
    def from_dict(cls, d):
        if d is None:
            d = {}
        if not isinstance(d, dict):
            raise MicroGPTError("checkpoint training metadata must be an object")
        known = {f.name for f in fields(cls)} - {"extra"}
        r = cls(extra={k: v for k, v in d.items() if k not in known})
        r.steps = _int("steps", d.get("steps", 0))
        seed = d.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise _bad("seed", "an integer", seed)
        r.seed = seed
        r.final_loss = _float("final_loss", d.get("final_loss"))
        complete = d.get("complete")
        if complete is not None and not isinstance(complete, bool):
            raise _bad("complete", "true or false", complete)
        r.complete = complete
        r.engine = _str("engine", d.get("engine"))
        tc = d.get("train_config")
        if tc is not None:
            if not isinstance(tc, dict):
                raise _bad("train_config", "an object", tc)
            try:
                tc = TrainConfig(**tc)
            except (TypeError, UsageError) as e:
                raise MicroGPTError(f"checkpoint's training config is malformed ({e})") from None
        r.train_config = tc
        for name in ("n_docs", "n_train", "n_val", "tokens", "n_chars"):
            setattr(r, name, _int(name, d.get(name, getattr(r, name))))
        r.seconds = _float("seconds", d.get("seconds", 0.0), lo=0)
        losses = d.get("recent_losses", [])
        if not isinstance(losses, list):
            raise _bad("recent_losses", "a list of numbers", losses)
        r.recent_losses = [_float("recent_losses", x) for x in losses]
        r.data = _str("data", d.get("data"))
        sha = _str("data_sha256", d.get("data_sha256"))
        if sha is not None and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
            raise _bad("data_sha256", "64 hexadecimal digits", sha)
        r.data_sha256 = sha
        r.engine_options = _engine_options(d.get("engine_options"))
        fmt = d.get("format")
        if fmt not in (None, "text"):
            raise _bad("format", '"text" or absent', fmt)
        r.format = fmt
        r.val_loss = _float("val_loss", d.get("val_loss"))
        r.best_val_loss = _float("best_val_loss", d.get("best_val_loss"))
        r.val_bits_per_char = _float("val_bits_per_char", d.get("val_bits_per_char"), lo=0)
        return r

    def to_dict(self):
        """JSON-ready, in a reading order; unknown (None) fields left out."""
        d = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            v = getattr(self, f.name)
            if isinstance(v, TrainConfig):
                v = v.to_dict()
            if v is None:
                continue
            d[f.name] = v
        d.update(self.extra)
        return d

    def items(self):
        return self.to_dict().items()
