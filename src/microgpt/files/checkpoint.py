"""Saving and loading a model as one JSON file.

A checkpoint holds everything needed to sample from the model again, and to go
on training it: the architecture (config), the tokenizer, every weight matrix by
name, what the training did (metadata), and optionally the optimizer's moments
and the random generator's state. Floats are written with repr(), so a model
loads back bit for bit.

Files are written atomically: to a temporary file in the same folder, flushed
to disk, then renamed over the target. A crash leaves the old file or the new
one, never half of one. Loading trusts nothing: it reads only a regular file
of bounded size (inputs.py), checks the format, version, shapes and that every
weight is a finite float, and reads nothing but JSON. The optimizer's state
and the RNG's are checked as strictly; a bad one is named in one line when a
run tries to resume, while the weights can still be sampled and scored.
"""

import json
import math
import random
import re
from itertools import islice
from pathlib import Path

from microgpt import tokenizer as tokenizers
from microgpt.config import GPTConfig
from microgpt.errors import MicroGPTError, UsageError
from microgpt.files import resources, safetensors_io
from microgpt.files.atomic import atomic_write_bytes, atomic_write_text
from microgpt.files.inputs import open_regular, read_at_most, stat_regular, strip_bom
from microgpt.files.metadata import TrainingRecord
from microgpt.model import iter_parameter_shapes, num_params, parameter_shapes

FORMAT = "microgpt"
VERSION = 2  # 2: the tokenizer may be byte-level BPE (bpe.py); version 1 files (characters) still load
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
    def __init__(self, config, tokenizer, weights, training=None, optimizer=None, rng_state=None,
                 resume_problem=None):
        self.config = config
        self.tokenizer = tokenizer
        self.weights = weights
        # what the training did: a TrainingRecord (a plain dict is read into one)
        self.training = training if isinstance(training, TrainingRecord) else TrainingRecord.from_dict(training)
        self.optimizer = optimizer
        self.rng_state = rng_state
        # why the saved optimizer or RNG state cannot be trusted (load() then keeps neither), or None
        self.resume_problem = resume_problem

    def why_not_resumable(self):
        """None if training can go on from here, else a phrase saying what is missing or wrong."""
        if self.resume_problem:
            return self.resume_problem
        if self.optimizer is None:
            return "no optimizer state"
        if self.rng_state is None:
            return "no random-generator state"
        if self.training.train_config is None:
            return "no training config"
        return None

    def check_resumable(self):
        """Raise the one line that says why training cannot go on from this checkpoint."""
        if self.resume_problem:
            raise MicroGPTError(f"checkpoint {self.resume_problem}; it cannot be resumed "
                                "(sample, score and eval still work: the weights are fine)")
        if self.optimizer is None or self.rng_state is None:
            raise MicroGPTError("checkpoint has no optimizer or RNG state (saved by an older version?); cannot resume")
        if self.training.train_config is None:
            raise MicroGPTError("checkpoint has no training config; it cannot be resumed")

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

    def save(self, path, replace=True):
        """Written atomically; with replace=False, FileExistsError if `path` exists (atomic.py)."""
        if Path(path).suffix == ".safetensors":  # optional binary form (safetensors_io.py)
            return atomic_write_bytes(path, safetensors_io.to_bytes(self.to_dict()), replace)
        atomic_write_text(path, json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":")), replace)


def _matrix(name, value, rows, cols, what="weight"):
    """A (rows, cols) list of lists of finite floats, or one line naming the matrix."""
    label = f"{what} {name!r}"
    if not isinstance(value, list) or len(value) != rows:
        got = len(value) if isinstance(value, list) else type(value).__name__
        raise MicroGPTError(f"{label} should have {rows} rows, found {got}")
    out = []
    for row in value:
        if not isinstance(row, list) or len(row) != cols:
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise MicroGPTError(f"{label} should have {cols} columns, found a row of {got}")
        out.append([_finite(label, x) for x in row])
    return out


def _finite(label, x):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise MicroGPTError(f"{label} holds a non-number: {x!r:.40}")
    try:
        f = float(x)
    except OverflowError:  # JSON allows any integer; 10**400 has no float
        raise MicroGPTError(f"{label} holds an integer of {len(str(abs(x)))} digits, too large for a float: "
                            "the model is corrupt") from None
    if not math.isfinite(f):
        raise MicroGPTError(f"{label} holds {x} (NaN or infinite): the model is corrupt")
    return f


def _matrices(what, d, config):
    if not isinstance(d, dict):
        raise MicroGPTError(f"checkpoint {what} must be an object of named matrices")
    # names one at a time, stopping at the fourth missing: a hand-edited config may
    # claim a billion layers, and listing them all first would never end
    missing = list(islice((n for n, _ in iter_parameter_shapes(config) if n not in d), 4))
    if missing:
        count = 3 + 6 * config.n_layer
        raise MicroGPTError(f"checkpoint {what} lack {', '.join(missing)} (config says {count:,} matrices)")
    shapes = parameter_shapes(config)  # every name is in d now: no more of them than the file holds
    extra = [n for n in d if n not in shapes]
    if extra:
        raise MicroGPTError(f"checkpoint {what} have unknown matrices: {', '.join(map(str, extra[:4]))}")
    what = "weight" if what == "weights" else what
    return {n: _matrix(n, d[n], *shapes[n], what=what) for n in shapes}


def load(path):
    path = Path(path)
    if not path.exists():
        raise MicroGPTError(f"checkpoint not found: {path}")
    if path.is_dir():
        raise MicroGPTError(f"checkpoint path is a directory: {path}")
    size = stat_regular(path, "checkpoint").st_size  # a FIFO or /dev/zero would never end
    if size > MAX_BYTES:
        raise MicroGPTError(f"checkpoint is {size:,} bytes, too large to be a microgpt model: {path}")
    # the bytes, their text and the parsed floats take ~3.9 times the file (measured)
    resources.check_bytes(4 * size, f"loading the checkpoint {path} ({size:,} bytes)")
    with open_regular(path, "checkpoint") as f:
        # microgpt writes the config near the start: a file far larger than its
        # config implies is refused from its first bytes, before parsing all of it
        head = read_at_most(f, 1 << 16, path, "checkpoint")
        if path.suffix != ".safetensors":
            _check_size_against_config(path, size, head)
        raw = head + read_at_most(f, MAX_BYTES + 1 - len(head), path, "checkpoint")
    if len(raw) > MAX_BYTES:
        raise MicroGPTError(f"checkpoint grew past {MAX_BYTES:,} bytes while it was read: {path}")
    if path.suffix == ".safetensors":
        return from_dict(safetensors_io.from_bytes(raw, path), path, size)
    try:
        d = json.loads(strip_bom(raw.decode("utf-8")))
    except UnicodeDecodeError:
        raise MicroGPTError(f"checkpoint is not UTF-8 JSON text: {path}") from None
    except RecursionError:
        raise MicroGPTError(f"checkpoint JSON is nested too deeply to be a microgpt model: {path}") from None
    except json.JSONDecodeError as e:
        raise MicroGPTError(f"checkpoint is not valid JSON ({e.msg} at line {e.lineno}); truncated? {path}") from None
    except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise MicroGPTError(f"checkpoint holds a number too long to read (thousands of digits; no float "
                            f"holds it): {path}") from None
    return from_dict(d, path, size)


def _implied_max_bytes(config):
    return 64 * num_params(config) * 3 + (1 << 20)


def _check_size_against_config(path, size, head):
    """Refuse a file far larger than its config implies, from the config in its first bytes."""
    m = re.search(r'"config"\s*:\s*(\{[^{}]*\})', head.decode("utf-8", errors="replace"))
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
    known = {"vocab_size", "n_embd", "n_head", "n_layer", "block_size", "activation"}  # activation: "relu" if absent
    if set(cfg) - known or "vocab_size" not in cfg:
        raise MicroGPTError(f"checkpoint config may only have {sorted(known)}, vocab_size among them: {path}")
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
    tokenizer = tokenizers.from_dict(d.get("tokenizer"), version)
    if tokenizer.vocab_size != config.vocab_size:
        raise MicroGPTError(
            f"checkpoint tokenizer has {tokenizer.vocab_size} tokens but config.vocab_size is {config.vocab_size}"
        )
    weights = _matrices("weights", d.get("weights"), config)
    training = TrainingRecord.from_dict(d.get("training"))
    optimizer, rng_state, problem = d.get("optimizer"), d.get("rng_state"), None
    try:
        if optimizer is not None:
            optimizer = _optimizer_state(optimizer, config, training)
        if rng_state is not None:
            rng_state = _rng_state(rng_state)
    except MicroGPTError as e:  # what is wrong stops a resume, not a look at the weights
        optimizer, rng_state, problem = None, None, str(e)
    return Checkpoint(config, tokenizer, weights, training, optimizer, rng_state, problem)


# ---- the state a resumed run goes on from, checked as the weights are. A
# hand-edited or damaged part is named exactly; it keeps the checkpoint from
# being resumed (an engine would crash on it, or train on nonsense and call it
# divergence) but not from being sampled, scored or evaluated.

MAX_STEP = 2**53  # the torch engine keeps Adam's step count as a float


def _optimizer_state(state, config, training):
    if not isinstance(state, dict):
        raise MicroGPTError("optimizer state must be an object with a step count t")
    t = state.get("t")
    if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t <= MAX_STEP:
        raise MicroGPTError(f"optimizer.t must be an integer in [0, 2**53], got {t!r:.40}")
    tc = training.train_config
    expected = tc.optimizer if tc is not None else ("adam" if "m" in state or "v" in state else "sgd")
    moments = [k for k in ("m", "v") if k in state]
    if expected == "sgd":
        if moments:
            raise MicroGPTError(f"optimizer.{moments[0]} is there, but the run used SGD, which keeps no moments")
        return {"t": t}
    missing = [k for k in ("m", "v") if k not in state]
    if missing:
        are = "is" if len(missing) == 1 else "are"
        raise MicroGPTError(f"optimizer.{' and optimizer.'.join(missing)} {are} missing: "
                            "the run used Adam, which goes on from both moments")
    out = {"t": t, "m": _matrices("optimizer.m", state["m"], config),
           "v": _matrices("optimizer.v", state["v"], config)}
    for name, mat in out["v"].items():
        for r, row in enumerate(mat):
            for c, x in enumerate(row):
                if x < 0:
                    raise MicroGPTError(f"optimizer.v {name!r} holds {x} at [{r}][{c}], but Adam's v is a "
                                        "running mean of squares (>= 0)")
    return out


RNG_VERSION = 3  # random.Random.getstate(): (3, 624 words and a position, gauss_next)
RNG_WORDS = 624


def _rng_state(state):
    if not isinstance(state, dict) or set(state) != {"version", "state", "gauss_next"}:
        raise MicroGPTError('rng_state must be an object with "version", "state" and "gauss_next"')
    if state["version"] != RNG_VERSION or isinstance(state["version"], bool):
        raise MicroGPTError(f"rng_state.version must be {RNG_VERSION}, got {state['version']!r:.40}")
    words = state["state"]
    if not isinstance(words, list) or len(words) != RNG_WORDS + 1:
        got = len(words) if isinstance(words, list) else type(words).__name__
        raise MicroGPTError(f"rng_state.state must be a list of {RNG_WORDS + 1} integers, found {got}")
    for i, w in enumerate(words):
        if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w < 2**32:
            raise MicroGPTError(f"rng_state.state[{i}] must be an integer in [0, 2**32), got {w!r:.40}")
    if words[-1] > RNG_WORDS:
        raise MicroGPTError(f"rng_state.state[{RNG_WORDS}] (the position in the state) must be at most "
                            f"{RNG_WORDS}, got {words[-1]}")
    g = state["gauss_next"]
    if g is not None:
        try:
            g = float(g) if not isinstance(g, bool) and isinstance(g, (int, float)) else math.nan
        except OverflowError:
            g = math.nan
        if not math.isfinite(g):
            raise MicroGPTError("rng_state.gauss_next must be null or a finite number, "
                                f"got {state['gauss_next']!r:.40}")
    return {"version": RNG_VERSION, "state": list(words), "gauss_next": g}


def rng_to_json(rng):
    version, state, gauss_next = rng.getstate()
    return {"version": version, "state": list(state), "gauss_next": gauss_next}


def rng_from_json(d):
    try:
        rng = random.Random()
        rng.setstate((d["version"], tuple(d["state"]), d["gauss_next"]))
        return rng
    except (KeyError, TypeError, ValueError, OverflowError):
        raise MicroGPTError("checkpoint has a malformed random-generator state; it cannot be resumed") from None
