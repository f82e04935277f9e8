"""Every file a command will write, checked before it does any work.

A run that trains for an hour and then cannot save has lost the hour; a run
that saves over the user's data has lost the data. So `check_outputs` looks at
each output up front and refuses, in one line naming the user's path:

- a directory, a device node, a FIFO or a socket (only regular files are written);
- the same file as one of the command's inputs (the data it trains on), under
  any name (a symlink, a hard link, ./x and x), or as another of its outputs;
- a folder that does not exist (unless the writer makes it) or refuses new
  files: probed by really creating and removing one, because `os.access`
  answers yes to root even on a read-only or virtual file system;
- a missing optional package the writer needs (safetensors for .safetensors);
- an existing file of another kind: a checkpoint replaces a checkpoint and a
  run log a run log, but a file microgpt did not write (notes, data, someone's
  picture) is only replaced when the user adds --force.

Commands say what each output is with an `Output`, e.g. for `bench --json`:
`check_outputs([Output("--json", Path(path), BENCH_RESULTS)], inputs, force=args.force)`.
"""

import json
import os
import re
import stat
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from microgpt.errors import MicroGPTError, UsageError
from microgpt.files.safetensors_io import META_KEY, require

HEAD = 1 << 16  # how much of an existing file is read to recognise it


@dataclass(frozen=True)
class Kind:
    """What an output is: said in a refusal, and recognised in an existing file."""

    what: str  # "a microgpt checkpoint"
    recognise: Callable[[Path], bool]  # is this existing (non-empty) file one?


@dataclass(frozen=True)
class Output:
    flag: str  # how the user named it ("--out"), so a refusal says which
    path: Path
    kind: Kind
    new_folders: bool = False  # its writer makes missing folders (atomic.py does)
    in_place: bool = False  # opened and added to (a log), not replaced by a rename
    replaces: Optional[Path] = None  # an input it is meant to overwrite (--resume saves back over its checkpoint)
    needs: Optional[Callable[[], None]] = None  # raises when an optional package it needs is missing


def _head(path, n=HEAD):
    with open(path, "rb") as f:
        return f.read(n)


def is_checkpoint(path):
    head = _head(path)
    if re.search(rb'"format"\s*:\s*"microgpt"', head):  # JSON: the first key microgpt writes
        return True
    # .safetensors: 8 bytes of header length, then a JSON header whose metadata holds the checkpoint
    if len(head) < 8:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    if n > 1 << 27:
        return False
    with open(path, "rb") as f:
        f.seek(8)
        try:
            meta = json.loads(f.read(n)).get("__metadata__")
        except (ValueError, AttributeError):
            return False
    return isinstance(meta, dict) and META_KEY in meta


def is_run_log(path):
    first = _head(path).split(b"\n", 1)[0]
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and "step" in record


def json_object_with(*keys):
    """A recogniser: a JSON file (of at most 64 MB) holding one object with these keys."""

    def recognise(path):
        if os.path.getsize(path) > 1 << 26:
            return False
        try:
            d = json.loads(Path(path).read_bytes())
        except (ValueError, OSError):
            return False
        return isinstance(d, dict) and all(k in d for k in keys)

    return recognise


CHECKPOINT = Kind("a microgpt checkpoint", is_checkpoint)
RUN_LOG = Kind('a microgpt run log (JSON lines with "step")', is_run_log)
LADDER_RESULTS = Kind("microgpt ladder results", json_object_with("results"))
BENCH_RESULTS = Kind("microgpt bench results", json_object_with("rows"))
PICTURES = {
    ".png": Kind("a PNG picture", lambda p: _head(p, 8) == b"\x89PNG\r\n\x1a\n"),
    ".svg": Kind("an SVG picture", lambda p: b"<svg" in _head(p, 4096)),
    ".dot": Kind("Graphviz DOT text", lambda p: _head(p, 4096).lstrip().startswith((b"digraph", b"graph"))),
}


def picture(path):
    """The Kind of a picture by its extension: a PNG may replace a PNG, an SVG an SVG, DOT text DOT text."""
    return PICTURES[Path(path).suffix.lower()]


def checkpoint_output(flag, path, replaces=None):
    """A checkpoint written atomically (folders made as needed), in JSON or .safetensors."""
    needs = require if Path(path).suffix == ".safetensors" else None
    return Output(flag, Path(path), CHECKPOINT, new_folders=True, replaces=replaces, needs=needs)


def check_outputs(outputs, inputs=(), force=False):
    """Refuse, before any work, every output that cannot or must not be written.

    `inputs` are (what, path) pairs: what the command reads ("the training
    data"); an output may never be one of them. With force=True an existing
    file of another kind may be replaced (never an input, a folder or a device)."""
    checked = []
    for out in outputs:
        path = Path(out.path)
        _check_regular(out.flag, path)
        for what, given in inputs:
            if given is not None and _same_existing(path, given) and not (
                    out.replaces is not None and _same_existing(given, out.replaces)):
                raise UsageError(f"{out.flag} {path} is {what}: writing it would destroy it; choose another name")
        for other in checked:
            if _same(path, other.path):
                raise UsageError(f"{out.flag} {path} and {other.flag} {other.path} are the same file; "
                                 "give them different names")
        checked.append(out)
        if not force and _has_content(path) and not _recognised(out.kind, path):
            raise UsageError(f"{out.flag} {path} exists and is not {out.kind.what}; not overwriting it "
                             "(add --force to replace it)")
        _check_folder(out.flag, path, out.new_folders, out.in_place)
        if out.needs is not None:
            out.needs()


def _kind_of_node(mode):
    for test, name in ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def _check_regular(flag, path):
    try:
        mode = os.stat(path).st_mode  # through symlinks: what the bytes would go into
    except OSError:
        return  # not there yet (or behind a folder that is not one): _check_folder says why
    if stat.S_ISDIR(mode):
        raise UsageError(f"{flag} {path} is a directory; give a file name inside it")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{flag} {path} is a {_kind_of_node(mode)}, not a regular file; "
                         "microgpt writes only regular files")


def _same_existing(a, b):
    """The same existing file, under whatever names (symlinks, hard links, relative paths)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _same(a, b):
    return _same_existing(a, b) or os.path.realpath(a) == os.path.realpath(b)


def _has_content(path):
    try:
        return os.path.getsize(path) > 0  # an empty file holds nothing to lose
    except OSError:
        return False


def _recognised(kind, path):
    try:
        return kind.recognise(path)
    except OSError:
        return False


def _check_folder(flag, path, new_folders, in_place):
    folder = path.parent
    existing = folder
    while not os.path.exists(existing) and existing != existing.parent:
        existing = existing.parent
    if not os.path.isdir(existing):
        raise MicroGPTError(f"cannot write {flag} {path}: {existing} is a file, not a folder")
    if existing != folder and not new_folders:
        raise MicroGPTError(f"cannot write {flag} {path}: the folder {folder} does not exist "
                            "(No such file or directory)")
    try:  # the name atomic.py gives its temporary files, so a probe left by a kill is cleaned up like one
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=existing)
    except OSError as e:
        raise MicroGPTError(f"cannot write {flag} {path}: the folder {existing} refuses new files "
                            f"({e.strerror or e})") from None
    os.close(fd)
    try:
        os.unlink(probe)
    except FileNotFoundError:
        pass
    if in_place and os.path.isfile(path):  # (a rename replaces a read-only file; appending does not)
        try:
            open(path, "ab").close()
        except OSError as e:
            raise MicroGPTError(f"cannot write {flag} {path}: {e.strerror or e}") from None
