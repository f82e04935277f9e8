"""When the reader of stdout goes away (`microgpt sample m.json | head -3`), or
there was none to begin with (`microgpt train >&-`).

Python ignores SIGPIPE, so a write to a pipe nobody reads raises
BrokenPipeError. A command that only reads and prints has nothing left to do:
`main` ends it quietly with status 0, as `head`'s writer should end. Training
has: its run goes on to the end and saves, printing nothing more (`KeepGoing`).
Either way fd 1 is pointed at /dev/null first, so the interpreter's own flush
at exit finds somewhere to write (otherwise it prints "Exception ignored ...
BrokenPipeError" and exits 120).
"""

import contextlib
import os
import sys
import time


def silence_stdout():
    """Point fd 1 at /dev/null: what is still buffered, and anything written later, goes nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def closed_streams():
    """Which of stdout and stderr the process started without (`cmd >&-`): Python then
    has None for them. Each is given /dev/null, on its fd and as sys.stdout / sys.stderr,
    so that printing never raises and the command still does its work."""
    closed = []
    for fd, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is not None:
            continue
        closed.append(name)
        try:
            os.fstat(fd)
        except OSError:  # the fd is free: give it /dev/null, so that child processes inherit a valid one
            devnull = os.open(os.devnull, os.O_WRONLY)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
        setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))
    return closed


class KeepGoing:
    """sys.stdout for a run that must outlive its reader: once the pipe is
    closed, writes are dropped instead of raising."""

    def __init__(self, stream):
        self.stream = stream
        self.reader_gone = False

    def write(self, text):
        if not self.reader_gone:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self):
        if not self.reader_gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._gone()

    def _gone(self):
        self.reader_gone = True
        silence_stdout()

    def __getattr__(self, name):  # isatty, fileno, encoding, ...: the real stream's
        return getattr(self.stream, name)


@contextlib.contextmanager
def keep_going():
    """For the block, sys.stdout is a KeepGoing (yielded)."""
    real = sys.stdout
    sys.stdout = KeepGoing(real)
    try:
        yield sys.stdout
    finally:
        sys.stdout = real


def stream(pieces, every=0.1):
    """Write text as it comes (a passage generated character by character),
    flushed at each newline and at least every `every` seconds, so a reader
    such as `head -c 100` gets it at once and a closed pipe is noticed at once."""
    last = time.monotonic()
    for piece in pieces:
        sys.stdout.write(piece)
        now = time.monotonic()
        if "\n" in piece or now - last >= every:
            sys.stdout.flush()
            last = now
    sys.stdout.flush()
