"""Ctrl-C, SIGTERM and SIGHUP, honoured in every phase of every command.

Left to Python, neither is reliable: a process started with `&` by a
non-interactive shell inherits SIGINT as *ignored*, so Ctrl-C (or kill -INT)
does nothing at all; and SIGTERM kills at once, running no `finally`, so a
half-written temporary file stays behind. So `main` installs one handler for
both, for the whole command (`raised`): it raises Interrupted, which unwinds
(temporary files are removed, nothing half-written is kept) to one line on
stderr and exit status 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM.

SIGHUP (the terminal was closed, an ssh session dropped) is a SIGTERM: 129, and
a run saves. Unless it was ignored on purpose: under `nohup` it stays ignored.

Training is the exception: a step is not cut in half, and a checkpoint being
saved is finished. There (`Deferred`) a signal is only noted; the run then
saves and ends. A validation can take long, so inside training it may be cut
short (`Deferred.attempt`): the signal is noted and raised there.
"""

import contextlib
import signal

SIGNALS = (signal.SIGINT, signal.SIGTERM, *[s for s in [getattr(signal, "SIGHUP", None)] if s is not None])


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP arrived; `exit_code` is what the command ends with."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self):
        return 128 + self.signum

    @property
    def name(self):
        return signal.Signals(self.signum).name


def _install(handler):
    previous = {}
    for sig in SIGNALS:
        if sig == getattr(signal, "SIGHUP", None) and signal.getsignal(sig) == signal.SIG_IGN:
            continue  # nohup: the user asked for the command to outlive the terminal
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread (a test runner's worker): the main thread's handlers stay
            pass
    return previous


def _restore(previous):
    for sig, handler in previous.items():
        if handler is not None:  # None: installed outside Python, and cannot be put back
            signal.signal(sig, handler)


def _raise(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def raised():
    """For a whole command: SIGINT and SIGTERM raise Interrupted, whatever the process inherited."""
    previous = _install(_raise)
    try:
        yield
    finally:
        _restore(previous)


class Deferred:
    """A block in which SIGINT and SIGTERM are noted in `got`, not raised (with
    active=False, nothing is installed and signals behave as outside it)."""

    def __init__(self, active=True):
        self.active = active
        self.got = []
        self._raising = False
        self._previous = {}

    def __enter__(self):
        if self.active:
            self._previous = _install(self._note)
        return self

    def __exit__(self, *exc):
        _restore(self._previous)
        return False

    def _note(self, signum, frame):
        self.got.append(signum)
        if self._raising:
            raise Interrupted(signum)

    def attempt(self, work):
        """work(), which a signal may cut short: then None (the signal is noted all the same)."""
        if not self.active:
            return work()
        if self.got:  # asked to stop already: do not start
            return None
        self._raising = True
        try:
            return work()
        except Interrupted:
            return None
        finally:
            self._raising = False
