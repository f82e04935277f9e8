"""The dataset: a text file read as documents, one per line.

The default dataset is the 32,033 names of makemore. It is looked up in the user's
cache folder and, when it is not there, downloaded once from a pinned address,
checked against a pinned sha256 and written to the cache atomically (a half-written
file never takes the cache's name). `--data FILE`, or the environment variable
MICROGPT_DATA, trains on any other file and needs no network.
"""

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from microgpt.errors import MicroGPTError, UsageError

NAMES_URL = "https://raw.githubusercontent.com/karpathy/makemore/refs/heads/master/names.txt"
NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
MAX_DATA_BYTES = 1 << 30  # 1 GiB: larger files are almost surely a mistake for this trainer
MAX_DOC_CHARS = 100_000  # a "document" this long is a whole text on one line, not a name or a word


def read_text(path, what="data file"):
    """A whole UTF-8 text file as one string, newlines normalised to \\n.

    Every way a path can fail to be readable text is a one-line MicroGPTError."""
    path = Path(path)
    if not path.exists():
        raise MicroGPTError(f"{what} not found: {path}")
    if path.is_dir():
        raise MicroGPTError(f"{what} path is a directory, not a file: {path}")
    try:
        size = path.stat().st_size
        if size > MAX_DATA_BYTES:
            raise MicroGPTError(f"{what} is {size:,} bytes, more than the 1 GiB this trainer reads: {path}")
        raw = path.read_bytes()
    except OSError as e:
        raise MicroGPTError(f"cannot read {what} {path}: {e.strerror or e}") from None
    if b"\x00" in raw:
        raise MicroGPTError(f"{what} looks binary (it has NUL bytes), expected UTF-8 text: {path}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MicroGPTError(f"{what} is not UTF-8 text (bad byte at offset {e.start}): {path}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as open() reads text


def read_docs(path):
    """Documents of a text file: one per line, stripped, empty lines dropped."""
    text = read_text(path)
    docs = [line.strip() for line in text.split("\n") if line.strip()]
    if not docs:
        raise MicroGPTError(f"data file has no documents (it is empty or only whitespace): {path}")
    longest = max(docs, key=len)
    if len(longest) > MAX_DOC_CHARS:
        raise MicroGPTError(
            f"a line of {path} has {len(longest):,} characters; this reads one short document per line "
            "(names, words), and the model sees at most block_size of them: split the text into lines"
        )
    return docs


def cache_dir():
    """Where downloads are kept: $XDG_CACHE_HOME/microgpt, else ~/.cache/microgpt."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "microgpt"


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(url, dest, sha256, timeout=30.0):
    """Fetch url into dest, atomically, only if its sha256 is the expected one."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as f:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                expected_len = r.headers.get("Content-Length")
                got = 0
                for block in iter(lambda: r.read(1 << 16), b""):
                    f.write(block)
                    h.update(block)
                    got += len(block)
            f.flush()
            os.fsync(f.fileno())
        if expected_len is not None and got != int(expected_len):
            raise MicroGPTError(f"download of {url} was cut short ({got} of {expected_len} bytes); try again")
        if h.hexdigest() != sha256:
            raise MicroGPTError(
                f"download of {url} has sha256 {h.hexdigest()}, expected {sha256}; "
                "nothing was saved (pass --data FILE to use your own copy)"
            )
        os.replace(tmp, dest)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or getattr(e, "strerror", None) or e
        raise MicroGPTError(
            f"cannot download the names dataset from {url} ({reason}); "
            "offline? pass --data FILE (or set MICROGPT_DATA) to train on a local file"
        ) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def default_names_path(url=None):
    """The names file: from the cache if it is intact, else downloaded into it."""
    url = url or os.environ.get("MICROGPT_NAMES_URL") or NAMES_URL
    path = cache_dir() / "names.txt"
    if path.exists():
        if sha256_of(path) == NAMES_SHA256:
            return path
        # A corrupted or partial cache file is replaced, never trusted.
        path.unlink()
    return download(url, path, NAMES_SHA256)


def resolve_data_path(data=None):
    """The file to train on: --data, else $MICROGPT_DATA, else the cached names."""
    if data:
        return Path(data)
    env = os.environ.get("MICROGPT_DATA")
    if env:
        return Path(env)
    return default_names_path()


def default_val_size(n_docs):
    """Held-out documents: 10% of the data, at most 1000 (as makemore does)."""
    return min(1000, n_docs // 10)


def split(docs, n_val):
    """Train and validation documents. Validation comes from the *end* of the
    (already shuffled) list, so the first training steps see the same documents
    as the original microgpt.py, which held nothing out."""
    if n_val < 0:
        raise UsageError("the validation split cannot be negative")
    if n_val >= len(docs):
        raise UsageError(
            f"a validation split of {n_val} documents leaves nothing to train on "
            f"(the data has {len(docs)}); lower --val-docs"
        )
    if n_val == 0:
        return list(docs), []
    return docs[:-n_val], docs[-n_val:]


def fingerprint(docs):
    """sha256 of the documents (one text counts as one document): what a checkpoint
    stores as data_sha256, to know its data again when resuming or evaluating."""
    return hashlib.sha256("\n".join(docs).encode("utf-8")).hexdigest()
