"""The dataset: a text file read as documents, one per line.

The default dataset is the 32,033 names of makemore, shipped inside the package
as datasets/names.txt.gz and checked against a pinned sha256 each time it is
read, so training works on a fresh machine with no network. Commands and
checkpoints call it BUNDLED_NAMES ("bundled:names.txt"), not a file path: the
package's own folder moves whenever it is reinstalled, and the name still finds
it. `--data FILE`, or the environment variable MICROGPT_DATA, trains on any
other file.
"""

import gzip
import hashlib
import os
import zlib
from importlib import resources
from pathlib import Path

from microgpt.errors import MicroGPTError, UsageError
from microgpt.files.inputs import read_bytes, stat_regular, strip_bom
from microgpt.files.resources import check_bytes

NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"  # makemore's names.txt, decompressed
NAMES_COUNT = 32_033
BUNDLED_NAMES = "bundled:names.txt"  # what --data, $MICROGPT_DATA and checkpoints say for the shipped names
MAX_DATA_BYTES = 1 << 30  # 1 GiB: larger files are almost surely a mistake for this trainer
MAX_DOC_CHARS = 100_000  # a "document" this long is a whole text on one line, not a name or a word
BYTES_PER_LINE = 96  # a short line as a list entry and a str object: ~86 bytes, measured on the names


def bundled_names_file():
    """The compressed names inside the installed package (a wheel carries it as package data)."""
    return resources.files("microgpt") / "datasets" / "names.txt.gz"


def is_bundled(path):
    return path is not None and str(path) == BUNDLED_NAMES


def read_bundled_names():
    """The shipped names as text, only if they are exactly the pinned ones: a
    damaged install is refused, never trained on."""
    source = bundled_names_file()
    try:
        raw = gzip.decompress(source.read_bytes())
    except (OSError, EOFError, zlib.error) as e:  # missing, truncated, or not gzip at all
        raise MicroGPTError(f"the bundled names {source} cannot be read ({e}); "
                            "reinstall microgpt, or pass --data FILE") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != NAMES_SHA256:
        raise MicroGPTError(f"the bundled names {source} have sha256 {digest}, expected {NAMES_SHA256}; "
                            "reinstall microgpt, or pass --data FILE")
    return raw.decode("utf-8")


def describe_source(path):
    """A line for `microgpt train` to print when it trains on the bundled names, else None."""
    if is_bundled(path):
        return f"data: the bundled names ({NAMES_COUNT:,} names; no download needed)"
    return None


def read_text(path, what="data file"):
    """A whole UTF-8 text file as one string, newlines normalised to \\n and a
    leading byte-order mark dropped (it is not a character of the text).

    BUNDLED_NAMES reads the names shipped with the package. Only a regular
    file is read (inputs.py), and every way a path can fail to be readable
    text is a one-line MicroGPTError."""
    if is_bundled(path):
        return read_bundled_names()
    path = Path(path)
    size = stat_regular(path, what).st_size
    if size > MAX_DATA_BYTES:
        raise MicroGPTError(f"{what} is {size:,} bytes, more than the 1 GiB this trainer reads: {path}")
    # the bytes, their text and its newline-normalised copies: ~4 times the file at once
    check_bytes(4 * size, f"reading the {what} {path} ({size:,} bytes)")
    raw = read_bytes(path, what, MAX_DATA_BYTES)
    if b"\x00" in raw:
        raise MicroGPTError(f"{what} looks binary (it has NUL bytes), expected UTF-8 text: {path}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MicroGPTError(f"{what} is not UTF-8 text (bad byte at offset {e.start}): {path}") from None
    return strip_bom(text).replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as open() reads text


def read_docs(path):
    """Documents of a text file: one per line, stripped, empty lines dropped."""
    text = read_text(path)
    check_bytes(BYTES_PER_LINE * text.count("\n"), f"the lines of {path}")
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


def resolve_data_path(data=None):
    """What to train on: --data, else $MICROGPT_DATA, else the bundled names.
    Nothing here touches the network."""
    if data:
        return Path(data)
    env = os.environ.get("MICROGPT_DATA")
    if env:
        return Path(env)
    return Path(BUNDLED_NAMES)


def recorded_path(path):
    """The data path a checkpoint records: absolute, so that score, eval and
    --resume find the file from any folder; the bundled names by their name."""
    if is_bundled(path):
        return BUNDLED_NAMES
    return os.path.abspath(path)


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
