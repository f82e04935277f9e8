"""The Train page's Python: `microgpt train` itself, run in the page's worker.

The page's log is not a copy of the command's output written again in
JavaScript: it is the command's output. train() runs the command line's own
`microgpt train` (cli.main) with stdout and stderr turned into events, one per
line, so the page shows what `microgpt train ... | cat` prints, digit for
digit, and a bad file or setting gets the command's own one-line message.
"""

import contextlib
import json
from pathlib import Path

from microgpt import cli
from microgpt.config import GPTConfig, TrainConfig, defaults
from microgpt.engines import DEFAULT_ENGINE
from microgpt.errors import UsageError
from microgpt.files import checkpoint

RUNS = Path("runs")  # the trained models, in the worker's file system
# The settings the page offers, as `microgpt train`'s flags.
FLAGS = {"steps": "--steps", "n_embd": "--n-embd", "n_layer": "--n-layer", "n_head": "--n-head", "lr": "--lr",
         "seed": "--seed", "engine": "--engine"}


SAVE_EVERY = 100  # the page's runs save every 100 steps: what a Stop keeps (see Snapshots)
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
        raise UsageError(f"unknown setting {min(unknown)!r}; the page offers {', '.join(FLAGS)}")
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


class Snapshots:
    """Hands the page each checkpoint `--save-every` writes, as soon as it is written. The
    page's Stop ends the worker, its files with it (Python in a worker cannot be
    interrupted), so the model saved so far must already be on the page's side."""

    def __init__(self, path, emit):
        self.path, self.emit, self.seen = path, emit, None

    def check(self):
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key != self.seen:
            self.seen = key
            text = self.path.read_text(encoding="utf-8")
            steps = json.loads(text)["training"]["steps"]
            self.emit({"snapshot": {"name": self.path.name, "steps": steps, "text": text}})


def train(settings, data=None, *, emit):
    """Runs `microgpt train` with the page's settings and `--save-every SAVE_EVERY` (data: a
    path in the worker's file system, from uploads.put; None: the bundled names). Every
    line it prints is emitted as {"line", "stream"}, and every checkpoint it saves as
    {"snapshot": {"name", "steps", "text"}}; returns {"code": exit status, "model": the
    saved checkpoint or None}."""
    RUNS.mkdir(exist_ok=True)
    n = 1
    while (RUNS / f"run-{n}.json").exists():  # a model restored after a Stop keeps its name
        n += 1
    out = RUNS / f"run-{n}.json"
    snapshots = Snapshots(out, emit)

    def emit_line(event):
        emit(event)
        snapshots.check()  # a save comes right after a step's line

    code = command(train_argv(settings, data, out) + ["--save-every", str(SAVE_EVERY)], emit_line)
    return {"code": code, "model": str(out) if code == 0 and out.is_file() else None}


def restore(name, text):
    """Puts a snapshot the page kept back into a fresh worker's RUNS (after a Stop), so it
    can be sampled and read like a finished run's model; returns its path."""
    path = RUNS / Path(str(name)).name
    if path.suffix != ".json" or not path.stem.startswith("run-"):
        raise UsageError(f"{str(name)[:80]!r} is not the name of a model this page trained")
    RUNS.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    try:
        checkpoint.load(path)
    except Exception:
        path.unlink()
        raise
    return str(path)


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
