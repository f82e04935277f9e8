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

A file is ours only if it reads, as a whole, as the kind we write: a checkpoint
parses and carries our format and version; every complete line of a run log is
one of our records; ladder and bench results, pictures and reports carry our
own marker where their format keeps metadata. Never a guess from the first
bytes: a notes file that quotes a checkpoint is still a notes file.

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
from microgpt.files.runlog import is_run_log
from microgpt.files.safetensors_io import META_KEY, require

HEAD = 1 << 16  # how much of an existing file is read to recognise a picture or a report
WHOLE = 1 << 30  # a file larger than this is not parsed to be recognised: replacing it needs --force
MARK = "microgpt"  # the marker our pictures and results carry (PNG Software, SVG creator, JSON "format")
LADDER_FORMAT, BENCH_FORMAT = "microgpt ladder results", "microgpt bench results"


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


def _whole(path):
    """The file's bytes, or None when it is too large to be read to be recognised."""
    return None if os.path.getsize(path) > WHOLE else Path(path).read_bytes()


def _json(data):
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def is_checkpoint(path):
    """A JSON checkpoint of ours (its format and an integer version), or a .safetensors
    file whose header holds our metadata and whose tensors fill the file exactly."""
    data = _whole(path)
    if data is None:
        return False
    d = _json(data)
    if isinstance(d, dict):
        return d.get("format") == "microgpt" and isinstance(d.get("version"), int)
    if len(data) < 8:
        return False
    (n,) = struct.unpack("<Q", data[:8])
    header = _json(data[8:8 + n]) if 8 + n <= len(data) else None
    if not isinstance(header, dict) or not isinstance(header.get("__metadata__"), dict):
        return False
    if META_KEY not in header["__metadata__"]:
        return False
    ends = [t.get("data_offsets", [0, 0])[1] for k, t in header.items() if k != "__metadata__" and isinstance(t, dict)]
    return 8 + n + max(ends, default=0) == len(data)


def json_with_format(name):
    """A recogniser: a JSON file holding one object whose "format" is `name`."""

    def recognise(path):
        data = _whole(path)
        d = None if data is None else _json(data)
        return isinstance(d, dict) and d.get("format") == name

    return recognise


def _png_is_ours(path):
    """A PNG whose text chunks say Software: microgpt (what plots/ writes)."""
    data = _head(path, 1 << 20)
    return data[:8] == b"\x89PNG\r\n\x1a\n" and b"tEXtSoftware\x00" + MARK.encode() in data


# matplotlib writes an SVG's Creator as <dc:creator><cc:Agent><dc:title>NAME</dc:title>, one tag a line
_SVG_CREATOR = re.compile(rb"<svg.*<dc:creator>\s*<cc:Agent>\s*<dc:title>" + MARK.encode() + rb"</dc:title>",
                          re.DOTALL)

CHECKPOINT = Kind("a microgpt checkpoint", is_checkpoint)
RUN_LOG = Kind("a microgpt run log (every line one of train's records)", is_run_log)
LADDER_RESULTS = Kind("microgpt ladder results", json_with_format(LADDER_FORMAT))
BENCH_RESULTS = Kind("microgpt bench results", json_with_format(BENCH_FORMAT))
PICTURES = {
    ".png": Kind("a PNG picture microgpt drew", _png_is_ours),
    ".svg": Kind("an SVG picture microgpt drew", lambda p: bool(_SVG_CREATOR.search(_head(p)))),
    ".dot": Kind("Graphviz DOT text microgpt wrote", lambda p: _head(p, 64).startswith(b"// " + MARK.encode())),
}


def picture(path):
    """The Kind of a picture by its extension: a PNG may replace a PNG, an SVG an SVG, DOT text DOT text."""
    return PICTURES[Path(path).suffix.lower()]


def checkpoint_output(flag, path, replaces=None):
    """A checkpoint written atomically (folders made as needed), in JSON or .safetensors."""
    needs = require if Path(path).suffix == ".safetensors" else None
    return Output(flag, Path(path), CHECKPOINT, new_folders=True, replaces=replaces, needs=needs)


def check_outputs(outputs, inputs=(), force=False, force_hint="add --force"):
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
                             f"({force_hint} to replace it)")
        _check_folder(out.flag, path, out.new_folders, out.in_place)
        if out.needs is not None:
            out.needs()


def identity(path):
    """What tells a file apart from another written at the same name since: inode, size, mtime."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def save_checked(write, path, inputs, force, written=None, elsewhere=None):
    """write(path, replace) a checkpoint, checked now rather than trusted from an earlier look:
    a file at `path` that is not `written` (the identity of what this writer saved there
    before) must be a checkpoint, or force given. When it is not, or one appears between
    the look and the write: with `elsewhere` (a name -> a free name), the checkpoint goes
    there instead; without, one line says why. Returns the path written."""
    path = Path(path)
    while True:
        existed = os.path.lexists(path)
        if existed and identity(path) != written:
            try:
                check_outputs([checkpoint_output("the checkpoint", path)], inputs, force, "pass force=True")
            except UsageError:
                if elsewhere is None:
                    raise
                path = elsewhere(path)
                continue
        try:
            write(path, replace=existed)  # a free name is taken only while it is still free (atomic.py)
            return path
        except FileExistsError:
            if elsewhere is None:
                raise MicroGPTError(f"{path} appeared while the checkpoint was being written; it was left as it "
                                    "is (save again to replace it)") from None
            path = elsewhere(path)


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
