"""Writing a file so that a crash leaves the old file or the new one, never half.

The bytes go to a temporary file in the same folder (so the final rename stays
on one file system), are flushed and synced to disk, and the temporary file is
renamed over the target; then the folder itself is synced, so the rename is
durable too. Checkpoints, run summaries, pictures' DOT text and downloads all
go through here.

With replace=False the temporary file is linked to the target instead, which
fails if a file of that name appeared meanwhile (FileExistsError): a writer that
chose a free name never replaces a file someone else made there a moment later.
"""

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_file(path, suffix=".tmp", replace=True):
    """Open a temporary binary file beside `path`; on a clean exit it replaces `path`
    (with replace=False: becomes `path`, or FileExistsError if there is one).

    An OSError names `path`, never the temporary file: that is the name the user gave."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    except OSError as e:
        raise _about(path, e) from None
    try:
        os.fchmod(fd, _mode_for(path))  # mkstemp's 0600 would make every file the user writes private
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        elif hasattr(os, "link"):
            os.link(tmp, path)
            os.unlink(tmp)
        else:  # no hard links (Pyodide in the browser): one process owns that file system, so no race
            if os.path.lexists(path):
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
            os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.filename in (None, tmp) and not isinstance(e, FileExistsError):
            raise _about(path, e) from None
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _mode_for(path):
    """The permissions the file gets: those it had, or a new file's (0666 less the umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _about(path, e):
    """The same error about `path` (OSError picks the subclass from errno: PermissionError, ...)."""
    if e.errno is None:
        return OSError(f"cannot write {path}: {e}")
    return OSError(e.errno, e.strerror, str(path))


def atomic_write_bytes(path, payload, replace=True):
    with atomic_file(path, replace=replace) as f:
        f.write(payload)


def atomic_write_text(path, text, replace=True):
    atomic_write_bytes(path, text.encode("utf-8"), replace)
