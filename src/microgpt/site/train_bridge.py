"""The Train page's Python: `microgpt train` itself, run in the page's worker.

The page's log is not a copy of the command's output written again in
JavaScript: it is the command's output. train() runs the command line's own
`microgpt train` (cli.main) with stdout and stderr turned into events, one per
line, so the page shows what `microgpt train ... | cat` prints, digit for
digit, and a bad file or setting gets the command's own one-line message.
"""

import contextlib
import sys
from pathlib import Path

from microgpt import cli
from microgpt.config import GPTConfig, TrainConfig, defaults
from microgpt.engines import DEFAULT_ENGINE
from microgpt.errors import UsageError

RUNS = Path("runs")  # the trained models, in the worker's file system
# The settings the page offers, as `microgpt train`'s flags.
FLAGS = {"steps": "--steps", "n_embd": "--n-embd", "n_layer": "--n-layer", "n_head": "--n-head", "lr": "--lr",
         "seed": "--seed", "engine": "--engine"}


ENGINES = ("fused", "scalar")  # the pure-Python engines (Pyodide has no numpy or torch here)


def settings():
    """The page's settings with `microgpt train`'s defaults: the form starts from these."""
    model, training = defaults(GPTConfig), defaults(TrainConfig)
    return {"steps": training["steps"], "n_embd": model["n_embd"], "n_layer": model["n_layer"],
            "n_head": model["n_head"], "lr": training["lr"], "seed": training["seed"], "engine": DEFAULT_ENGINE,
            "engines": list(ENGINES)}


class Lines:
    """A text stream (not a terminal) that hands each complete line to `emit`."""

    def __init__(self, emit, stream):
        self.emit, self.stream, self.pending = emit, stream, ""

    def write(self, text):
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.emit({"line": line, "stream": self.stream})
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def close_line(self):
        if self.pending:
            self.write("\n")


def train_argv(settings, data=None, out=None):
    """The command line the page's settings make: ["train", "--steps", "1000", ...]."""
    unknown = set(settings) - set(FLAGS)
    if unknown:
        raise UsageError(f"unknown setting {sorted(unknown)[0]!r}; the page offers {', '.join(FLAGS)}")
    argv = ["train"]
    for key, flag in FLAGS.items():
        value = settings.get(key)
        if value is not None and value != "":
            argv += [flag, str(value)]
    if data:
        argv += ["--data", str(data)]
    if out:
        argv += ["--out", str(out)]
    return argv


def train(settings, data=None, *, emit):
    """Runs `microgpt train` with the page's settings (data: a path in the worker's file
    system, from uploads.put; None: the bundled names). Every line it prints is emitted
    as {"line", "stream"}; returns {"code": exit status, "model": the saved checkpoint or None}."""
    RUNS.mkdir(exist_ok=True)
    out = RUNS / f"run-{sum(1 for _ in RUNS.iterdir()) + 1}.json"
    code = command(train_argv(settings, data, out), emit)
    return {"code": code, "model": str(out) if code == 0 and out.is_file() else None}


def sample(path, *, emit):
    """`microgpt sample PATH`: what the command prints for the model the page trained."""
    return {"code": command(["sample", str(model_path(path))], emit)}


def command(argv, emit):
    """Runs `microgpt ARGV...` with its stdout and stderr emitted line by line; returns its exit status."""
    stdout, stderr = Lines(emit, "stdout"), Lines(emit, "stderr")
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(argv)
        except SystemExit as e:  # argparse's refusal of a setting: its line is already on stderr
            code = e.code if isinstance(e.code, int) else 2
    stdout.close_line()
    stderr.close_line()
    return code


def model_path(path):
    path = Path(path)
    if path.parent != RUNS or not path.is_file():
        raise UsageError(f"{path} is not a model this page trained")
    return path


def read_model(path):
    """The checkpoint's JSON text (what the page downloads and hands to the explorer)."""
    return model_path(path).read_text(encoding="utf-8")
