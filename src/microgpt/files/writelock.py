"""One writer per checkpoint: a lock file beside it while a run writes it.

Two runs saving to the same --out at once would each replace the other's file,
and one result would be silently lost. So `train` holds OUT.lock (an flock, which
the kernel releases however the process ends, kill -9 included) and a second run
on the same path is refused at once, naming the first one's pid.

Holding the lock also makes it safe to clean up after a killed save: atomic.py
writes `.OUT.<8 random characters>.tmp` beside OUT and renames it over OUT; a
kill -9 between the two leaves the temporary file behind. No live run can be
writing one while we hold the lock, so any found then are leftovers, removed.

Where fcntl is missing (Windows) nothing is locked: one writer is up to the user.
"""

import contextlib
import os
import re
import stat
from pathlib import Path

from microgpt.errors import MicroGPTError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None


def lock_path(path):
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def hold(path):
    """Hold OUT.lock for the block (refused at once if another run holds it);
    yields the names of the leftover temporary files it removed."""
    path = Path(path)
    if fcntl is None:
        yield []
        return
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(lock, path)
    if fd is None:  # a file system without locks (some network mounts): go on unlocked
        yield []
        return
    try:
        yield remove_leftovers(path)
    finally:
        # Removed while still held: a run that opened the old file finds it gone and retries.
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def _acquire(lock, path):
    if os.path.lexists(lock) and not stat.S_ISREG(os.lstat(lock).st_mode):
        raise MicroGPTError(f"{lock} (where this run locks {path}) exists and is not a lock file; move it away")
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise MicroGPTError(f"cannot create the lock file {lock}: {e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f"another run (pid {pid})" if pid.isdigit() else "another run"
            raise MicroGPTError(f"{path} is being written by {who}; wait for it to finish, "
                                "or give this run another --out") from None
        except OSError:
            os.close(fd)
            return None
        try:  # the file we locked is still the one under that name (not one its last holder removed)
            if os.path.samestat(os.fstat(fd), os.stat(lock)):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    content = os.read(fd, 64).decode("ascii", "replace").strip()
    if content and not content.isdigit():  # someone's own file that happens to have this name
        os.close(fd)
        raise MicroGPTError(f"{lock} (where this run locks {path}) exists and is not a lock file; move it away")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def leftover_pattern(path):
    # tempfile's names: the prefix and suffix atomic.py gives, 8 characters from [a-z0-9_] between
    return re.compile(re.escape(f".{Path(path).name}.") + r"[a-z0-9_]{8}\.tmp")


def remove_leftovers(path):
    """Remove the temporary files killed saves of `path` left beside it; only call
    while holding its lock. Returns their names."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    pattern = leftover_pattern(path)
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in sorted(names):
        leftover = folder / name
        if pattern.fullmatch(name) and stat.S_ISREG(os.lstat(leftover).st_mode):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
                removed.append(name)
    return removed
