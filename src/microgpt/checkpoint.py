"""Saving and loading a model as one JSON file.

A checkpoint holds everything needed to sample from the model again, and to go
on training it: the architecture (config), the tokenizer, every weight matrix by
name, what the training did (metadata), and optionally the optimizer's moments
and the random generator's state. Floats are written with repr(), so a model
loads back bit for bit.

Files are written atomically: to a temporary file in the same folder, flushed
to disk, then renamed over the target. A crash leaves the old file or the new
one, never half of one. Loading trusts nothing: it checks the format, version,
shapes and that every weight is a finite number, and reads nothing but JSON.
"""

import json
import math
import re
from pathlib import Path

from microgpt.atomic import atomic_write_bytes, atomic_write_text
from microgpt.config import GPTConfig
from microgpt.errors import MicroGPTError, UsageError
from microgpt.metadata import TrainingRecord
from microgpt.model import parameter_shapes
from microgpt.tokenizer import Tokenizer

FORMAT = "microgpt"
VERSION = 1
# JSON spends at most ~25 bytes a float; anything much larger than its weights
# imply is refused before parsing (so is anything over this absolute cap).
MAX_BYTES = 1 << 31


def default_name(config, steps):
    return f"model_e{config.n_embd}_h{config.n_head}_l{config.n_layer}_s{steps}.json"


def unused_name(path):
    """`path`, or path.1.json, path.2.json, ... : the first that does not exist."""
    path = Path(path)
    stem, k = path.stem, 1
    while path.exists():
        path, k = path.with_name(f"{stem}.{k}.json"), k + 1
    return path


class Checkpoint:
    def __init__(self, config, tokenizer, weights, training=None, optimizer=None, rng_state=None):
        self.config = config
        self.tokenizer = tokenizer
        self.weights = weights
        # what the training did: a TrainingRecord (a plain dict is read into one)
        self.training = training if isinstance(training, TrainingRecord) else TrainingRecord.from_dict(training)
        self.optimizer = optimizer
        self.rng_state = rng_state

    def to_dict(self):
        d = {
            "format": FORMAT,
            "version": VERSION,
            "config": self.config.to_dict(),
            "tokenizer": self.tokenizer.to_dict(),
            "training": self.training.to_dict(),
            "weights": self.weights,
        }
        if self.optimizer is not None:
            d["optimizer"] = self.optimizer
        if self.rng_state is not None:
            d["rng_state"] = self.rng_state
        return d

    def save(self, path):
        if Path(path).suffix == ".safetensors":  # optional binary form (safetensors_io.py)
            from microgpt import safetensors_io

            return atomic_write_bytes(path, safetensors_io.to_bytes(self.to_dict()))
        atomic_write_text(path, json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":")))


def _matrix(name, value, rows, cols):
    if not isinstance(value, list) or len(value) != rows:
        got = len(value) if isinstance(value, list) else type(value).__name__
        raise MicroGPTError(f"weight {name!r} should have {rows} rows, found {got}")
    for row in value:
        if not isinstance(row, list) or len(row) != cols:
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise MicroGPTError(f"weight {name!r} should have {cols} columns, found a row of {got}")
        for x in row:
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise MicroGPTError(f"weight {name!r} holds a non-number: {x!r:.40}")
            if not math.isfinite(x):
                raise MicroGPTError(f"weight {name!r} holds {x} (NaN or infinite): the model is corrupt")
    return [[float(x) for x in row] for row in value]


def _matrices(what, d, config):
    shapes = parameter_shapes(config)
    if not isinstance(d, dict):
        raise MicroGPTError(f"checkpoint {what} must be an object of named matrices")
    missing = [n for n in shapes if n not in d]
    extra = [n for n in d if n not in shapes]
    if missing:
        raise MicroGPTError(f"checkpoint {what} lack {', '.join(missing[:4])} (config says {len(shapes)} matrices)")
    if extra:
        raise MicroGPTError(f"checkpoint {what} have unknown matrices: {', '.join(map(str, extra[:4]))}")
    return {n: _matrix(n, d[n], *shapes[n]) for n in shapes}


def load(path):
    path = Path(path)
    if not path.exists():
        raise MicroGPTError(f"checkpoint not found: {path}")
    if path.is_dir():
        raise MicroGPTError(f"checkpoint path is a directory: {path}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise MicroGPTError(f"checkpoint is {size:,} bytes, too large to be a microgpt model: {path}")
    if path.suffix == ".safetensors":
        from microgpt import safetensors_io

        return from_dict(safetensors_io.from_bytes(path.read_bytes(), path), path, size)
    _check_size_against_config(path, size)
    try:
        text = path.read_bytes().decode("utf-8")
        d = json.loads(text)
    except UnicodeDecodeError:
        raise MicroGPTError(f"checkpoint is not UTF-8 JSON text: {path}") from None
    except RecursionError:
        raise MicroGPTError(f"checkpoint JSON is nested too deeply to be a microgpt model: {path}") from None
    except json.JSONDecodeError as e:
        raise MicroGPTError(f"checkpoint is not valid JSON ({e.msg} at line {e.lineno}); truncated? {path}") from None
    except OSError as e:
        raise MicroGPTError(f"cannot read checkpoint {path}: {e.strerror or e}") from None
    return from_dict(d, path, size)


def _implied_max_bytes(config):
    return 64 * sum(r * c for r, c in parameter_shapes(config).values()) * 3 + (1 << 20)


def _check_size_against_config(path, size):
    """Refuse a file far larger than its config implies, before parsing all of it.

    microgpt writes the config near the start, so a look at the first bytes finds it."""
    with open(path, "rb") as f:
        head = f.read(1 << 16).decode("utf-8", errors="replace")
    m = re.search(r'"config"\s*:\s*(\{[^{}]*\})', head)
    if not m:
        return
    try:
        config = GPTConfig(**json.loads(m.group(1)))
    except (ValueError, TypeError, UsageError):
        return  # the full parse below reports what is wrong
    if size > _implied_max_bytes(config):
        raise MicroGPTError(
            f"checkpoint is {size:,} bytes, far more than its config implies (~{_implied_max_bytes(config):,}): {path}"
        )


def from_dict(d, path="<checkpoint>", size=None):
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise MicroGPTError(f"not a microgpt checkpoint (no \"format\": \"{FORMAT}\"): {path}")
    version = d.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise MicroGPTError(f"checkpoint has no valid format version: {path}")
    if version > VERSION:
        raise MicroGPTError(
            f"checkpoint format version {version} is newer than this microgpt reads ({VERSION}); upgrade microgpt"
        )
    if version < 1:
        raise MicroGPTError(f"checkpoint format version {version} is not one microgpt ever wrote: {path}")
    cfg = d.get("config")
    if not isinstance(cfg, dict):
        raise MicroGPTError(f"checkpoint has no config object: {path}")
    known = {"vocab_size", "n_embd", "n_head", "n_layer", "block_size"}
    if set(cfg) - known or "vocab_size" not in cfg:
        raise MicroGPTError(f"checkpoint config must have exactly {sorted(known)}: {path}")
    try:
        config = GPTConfig(**cfg)
    except UsageError as e:
        raise MicroGPTError(f"checkpoint config is invalid: {e}") from None
    if size is not None:
        implied = _implied_max_bytes(config)
        if size > implied:
            raise MicroGPTError(
                f"checkpoint is {size:,} bytes, far more than its config implies (~{implied:,}): {path}"
            )
    tokenizer = Tokenizer.from_dict(d.get("tokenizer"))
    if tokenizer.vocab_size != config.vocab_size:
        raise MicroGPTError(
            f"checkpoint tokenizer has {tokenizer.vocab_size} tokens but config.vocab_size is {config.vocab_size}"
        )
    weights = _matrices("weights", d.get("weights"), config)
    training = TrainingRecord.from_dict(d.get("training"))
    optimizer = d.get("optimizer")
    if optimizer is not None:
        if not isinstance(optimizer, dict) or not isinstance(optimizer.get("t"), int):
            raise MicroGPTError("checkpoint optimizer state must be an object with a step count t")
        optimizer = dict(optimizer)
        for key in ("m", "v"):
            if key in optimizer:
                optimizer[key] = _matrices(f"optimizer.{key}", optimizer[key], config)
    return Checkpoint(config, tokenizer, weights, training, optimizer, d.get("rng_state"))
