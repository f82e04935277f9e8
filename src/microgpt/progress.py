"""Progress reporting: a live bar on a terminal, plain lines (or nothing) anywhere else."""

import sys
import time


def format_duration(seconds):
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


class Progress:
    """Call update() once per step (or per chunk of work).

    On a terminal one line is redrawn in place, at most ten times a second, on
    stderr, so stdout stays clean for results. Elsewhere, with lines=True
    (training), each step prints a line of its own that a log or a script can
    read; with lines=False (evaluation) nothing is printed, so pipes only get
    the result. With `delay` (seconds) the terminal bar appears only once the
    work has taken that long: a quick evaluation leaves no trace. With
    below=True it starts on a new line, keeping the line another bar holds."""

    def __init__(self, total, stream=None, tty=None, width=24, first_step=0, label="step", lines=True, delay=0.0,
                 below=False):
        self.total = total
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        if self.tty and stream is None:
            self.stream = sys.stderr
        self.width = width
        self.first_step = first_step
        self.label = label
        self.lines = lines
        self.delay, self.below = delay, below
        self.start = time.perf_counter()
        self.tokens = 0
        self._last_draw = 0.0
        self.drawn = False  # whether the terminal bar has been drawn
        self.holds_line = False  # drawn, and not yet ended with its newline

    def update(self, step, loss, tokens=0, lr=None):
        """`step` is 1-based and counts from the start of the whole run."""
        self.tokens += tokens
        elapsed = time.perf_counter() - self.start
        done = step - self.first_step
        tok_s = f" | {self.tokens / elapsed if elapsed > 0 else 0.0:,.0f} tok/s" if self.tokens else ""
        eta = elapsed / done * (self.total - step) if done > 0 else 0.0
        w = len(str(self.total))
        if self.tty:
            now = time.perf_counter()
            if elapsed < self.delay or (step != self.total and now - self._last_draw < 0.1):
                return
            if self.below and not self.drawn:
                self.stream.write("\n")
            self._last_draw, self.drawn, self.holds_line = now, True, step != self.total
            filled = int(self.width * step / self.total)
            bar = "█" * filled + "·" * (self.width - filled)
            self.stream.write(f"\r{self.label} {step:{w}d}/{self.total} {bar} loss {loss:.4f}{tok_s} | "
                              f"eta {format_duration(eta)} ")
            if step == self.total:
                self.stream.write("\n")
        elif self.lines:
            lr_part = f" | lr {lr:.6f}" if lr is not None else ""
            self.stream.write(f"{self.label} {step:{max(w, 4)}d} / {self.total:{max(w, 4)}d} | loss {loss:.4f}"
                              f"{lr_part}{tok_s} | eta {format_duration(eta)}\n")
        else:
            return
        self.stream.flush()

    def close(self):
        """End a bar cut short (the next output starts on a line of its own)."""
        if self.tty and self.holds_line:
            self.holds_line = False
            self.stream.write("\n")
            self.stream.flush()
