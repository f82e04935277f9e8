"""Reading a file the user named: only a regular file, and only so much of it.

Every input microgpt reads (data, a --text file, a checkpoint, a run log, a
file of strings to score) comes through here. A path can name things that are
not files at all: a FIFO waits forever for a writer, /dev/zero or /dev/urandom
never end, a terminal waits for a human. So the path is stat()ed before it is
opened and refused unless it is a regular file, and it is opened without
blocking and checked again on the open descriptor (the path may have been
swapped in between). Reading stops one byte past the limit, so a file that
grows while it is read is refused too, not read into memory without end.
"""

import os
import stat
from pathlib import Path

from microgpt.errors import MicroGPTError, UsageError

BOM = "\ufeff"

_KINDS = [(stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]


def _kind(mode):
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse(mode, path, what):
    return MicroGPTError(f"{what} {path} is {_kind(mode)}, not a regular file; microgpt reads only regular files")


def check_path(path, what):
    """`path` as a Path when it can name a file (a str or os.PathLike, not empty), else one line."""
    if isinstance(path, (str, os.PathLike)):
        text = os.fspath(path)
        if isinstance(text, str) and "\0" in text:
            raise UsageError(f"{what} holds a NUL character, which no file name can")
        if isinstance(text, str) and text:
            return Path(text)
    if isinstance(path, (str, os.PathLike)):
        raise UsageError(f"{what} is empty: name a file")
    raise UsageError(f"{what} must be a file name (a str or a path), got {type(path).__name__}")


def stat_regular(path, what):
    """os.stat of `path` (following links), or a one-line error unless it is a regular file."""
    if "\0" in os.fspath(path):  # (os.stat would raise ValueError)
        raise MicroGPTError(f"cannot read {what} {os.fspath(path)!r}: a file name cannot hold a NUL character")
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):  # (a file where a folder should be: not found either)
        raise MicroGPTError(f"{what} not found: {path}") from None
    except OSError as e:  # permission on a folder above it, a loop of links, a name too long
        raise MicroGPTError(f"cannot read {what} {path}: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise MicroGPTError(f"{what} path is a directory, not a file: {path}")
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(st.st_mode, path, what)
    return st


def open_regular(path, what):
    """A regular file, opened for reading bytes (use it in a `with`); anything else is one line."""
    stat_regular(path, what)
    # O_NONBLOCK: should the path have become a FIFO since the stat, open() returns at once
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise MicroGPTError(f"cannot read {what} {path}: {e.strerror or e}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _refuse(mode, path, what)
    return os.fdopen(fd, "rb")


def read_at_most(f, n, path, what):
    """Up to n bytes of an open regular file. One read of its current size plus
    one byte does it (a read of n would reserve n bytes up front); only a file
    that grew meanwhile is read on, in chunks, until n."""
    try:
        want = max(0, min(n, os.fstat(f.fileno()).st_size - f.tell() + 1))
        chunks = [f.read(want)]
        got = len(chunks[0])
        if got == want:  # it grew since: read on, to n at most
            while got < n and (chunk := f.read(min(n - got, 1 << 24))):
                chunks.append(chunk)
                got += len(chunk)
    except OSError as e:
        raise MicroGPTError(f"cannot read {what} {path}: {e.strerror or e}") from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_bytes(path, what, limit):
    """The bytes of a regular file of at most `limit` bytes; more than that, or
    anything not a regular file, is one line."""
    with open_regular(path, what) as f:
        data = read_at_most(f, limit + 1, path, what)
    if len(data) > limit:
        raise MicroGPTError(f"{what} is more than the {_size(limit)} microgpt reads: {path}")
    return data


def strip_bom(text):
    """Text without a leading byte-order mark (Windows editors write one); nothing else changes."""
    return text[1:] if text.startswith(BOM) else text


def _size(n):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
