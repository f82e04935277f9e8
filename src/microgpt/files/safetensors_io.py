"""Checkpoints as .safetensors: the same content as the JSON file, tensors in binary.

A model saved with `--out NAME.safetensors` keeps every weight matrix (and the
optimizer's m and v, as `optimizer.m.<name>`) as a float64 tensor, and the
rest of the checkpoint (format, version, config, tokenizer, training
metadata, step count, RNG state) as one JSON string in the file's metadata.
Loading rebuilds the JSON checkpoint's dictionary and hands it to the same
validation as a JSON file, so nothing is trusted that JSON would refuse.

safetensors stores raw numbers and a JSON header: no pickle, nothing executes.
It is optional (`pip install safetensors`); JSON stays the default and the
canonical format. float64 keeps the weights bit for bit, as JSON's repr() does.
"""

import json
import struct

from microgpt.errors import MicroGPTError

META_KEY = "microgpt"


def _library():
    try:
        import numpy as np
        from safetensors.numpy import load, save
    except ImportError:
        raise MicroGPTError("a .safetensors checkpoint needs the safetensors and numpy packages: "
                            "pip install safetensors numpy (or use a .json name)") from None
    return np, save, load


def require():
    """The one-line error now, before a run, if the packages are missing."""
    _library()


def to_bytes(d):
    """A checkpoint dictionary (Checkpoint.to_dict()) -> .safetensors bytes."""
    np, save, _ = _library()
    tensors = {name: np.asarray(mat, dtype=np.float64) for name, mat in d["weights"].items()}
    rest = {k: v for k, v in d.items() if k != "weights"}
    if "optimizer" in d:
        rest["optimizer"] = {k: v for k, v in d["optimizer"].items() if k not in ("m", "v")}
        for key in ("m", "v"):
            for name, mat in d["optimizer"].get(key, {}).items():
                tensors[f"optimizer.{key}.{name}"] = np.asarray(mat, dtype=np.float64)
    return save(tensors, metadata={META_KEY: json.dumps(rest, allow_nan=False, separators=(",", ":"))})


def from_bytes(data, path):
    """.safetensors bytes -> the checkpoint dictionary a JSON file would give."""
    _, _, load = _library()
    try:
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
        rest = json.loads(header["__metadata__"][META_KEY])
        tensors = load(data)
    except Exception:  # the library raises its own types for a malformed file
        raise MicroGPTError(f"not a microgpt .safetensors checkpoint (or a damaged one): {path}") from None
    if not isinstance(rest, dict):
        raise MicroGPTError(f"checkpoint metadata must be an object: {path}")
    d = dict(rest)
    d["weights"] = {k: v.tolist() for k, v in tensors.items() if not k.startswith("optimizer.")}
    if isinstance(d.get("optimizer"), dict):
        opt = dict(d["optimizer"])
        for key in ("m", "v"):
            prefix = f"optimizer.{key}."
            moments = {k[len(prefix):]: v.tolist() for k, v in tensors.items() if k.startswith(prefix)}
            if moments:
                opt[key] = moments
        d["optimizer"] = opt
    return d
