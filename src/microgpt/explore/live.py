"""Training from the explorer's page: one run at a time, watched as it learns.

The page posts a form (the data file, chosen among the ones named on the
command line with --data, and the main hyperparameters); `start` plans the
run with the library (training.plan: every setting checked before the first
step, the same as `microgpt train`) and trains it in a thread, a few steps at a
time, so a stop takes effect within a step. Each step's loss becomes an event;
every so often the events also carry samples from the model as it is and the
attention of a fixed string, computed in the training thread between steps
(the engine is the run's own and is never shared). The page reads the events
as a stream (server-sent events). At the end, or at a stop, the checkpoint is
saved with the project's atomic writer, and the model joins the ones the
explorer shows.

A page run keeps the promises `microgpt train` keeps. Its name is one no file
has and no other run is writing: it holds that name's write lock (OUT.lock,
writelock.py) from start to save, as `train` does, so neither can take the
other's file. At save time the name is checked again, and a file that appeared
there meanwhile is left alone: the run saves beside it (training.Run.save).
When the explorer itself is stopped (Ctrl-C, SIGTERM, SIGHUP), `finish` stops
the run after its step and saves it, and the command says where.
"""

import contextlib
import math
import threading
from pathlib import Path
from types import SimpleNamespace

from microgpt.api import Model
from microgpt.config import GPTConfig, TrainConfig, defaults
from microgpt.errors import MicroGPTError, UsageError
from microgpt.files import checkpoint, writelock
from microgpt.training import plan

SETTINGS = {  # what the form may set, and its type; anything else is refused
    "steps": int, "n_embd": int, "n_head": int, "n_layer": int, "block_size": int, "batch_size": int,
    "lr": float, "seed": int,
}
MAX_STEPS = 100_000
SNAPSHOTS = 20  # samples and attention this many times over a run
SAMPLES = 5
WATCH_NAMES = ("emma", "ava", "ann")  # the string whose attention is watched, if the vocabulary has it


class LiveRun:
    """The one run the page may train, its events, and how it ended."""

    def __init__(self, run, watch, on_saved, lock=None):
        self.run = run
        self.lock = lock  # the held write lock of run.out (an ExitStack), released when the run has saved
        self.watch = watch
        self.on_saved = on_saved  # called with the saved path (the explorer adds the model)
        self.events = []  # every event of the run, in order: the stream replays them to a late reader
        self.changed = threading.Condition()
        self.stop_requested = False
        self.finished = False
        self.saved = None  # the checkpoint's path, once saved
        self.thread = threading.Thread(target=self._train, daemon=True)

    def emit(self, event):
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def wait(self, seen, timeout=15.0):
        """The events after the first `seen` (waiting for one, up to timeout), and whether the run is over."""
        with self.changed:
            if len(self.events) <= seen and not self.finished:
                self.changed.wait(timeout)
            return self.events[seen:], self.finished

    def _train(self):
        run = self.run
        steps = run.trainer.train_config.steps
        every = max(1, steps // SNAPSHOTS)
        smoothed = None

        def on_step(step, loss, tokens, lr):
            nonlocal smoothed
            smoothed = loss if smoothed is None else 0.9 * smoothed + 0.1 * loss  # the page's bold line
            event = {"type": "step", "step": step, "loss": loss if math.isfinite(loss) else None,
                     "smoothed": smoothed if math.isfinite(smoothed) else None, "lr": lr, "steps": steps}
            if step % every == 0 or step == steps:
                event.update(self.snapshot())
            self.emit(event)

        try:
            while not self.stop_requested and not run.trainer.done:
                run.train(on_step=on_step, until=run.trainer.step + 1)
            path = run.save()  # atomically, and beside a file that appeared at run.out meanwhile
            self.saved = path
            self.on_saved(path, list(self.events), str(run.data_path))
            self.emit({"type": "saved", "path": str(path), "step": run.trainer.step, "stopped": not run.trainer.done,
                       "val_loss": run.val_loss})
        except Exception as e:  # a run that fails (diverged, disk full) says so on the page, in one line
            self.emit({"type": "failed", "error": str(e).splitlines()[0] if str(e) else type(e).__name__})
        finally:
            if self.lock is not None:
                self.lock.close()
            with self.changed:
                self.finished = True
                self.changed.notify_all()

    def finish(self):
        """Stop after the step under way, wait for the save; the path saved, or None."""
        self.stop_requested = True
        self.thread.join()
        return self.saved

    def snapshot(self):
        """Samples and the watched string's attention, from the model as it is now."""
        model = Model.of(self.run)
        samples = model.sample(SAMPLES, chars=40 if model.is_text else None)
        t = model.trace(self.watch)
        return {"samples": samples, "watch": self.watch, "tokens": t.tokens[:len(t.positions)],
                "attention": [[p.attention[0][h] for p in t.positions] for h in range(model.config.n_head)]}


def parse_form(form, data_files):
    """The form's data file, mode and settings, checked (UsageError in one line)."""
    if not isinstance(form, dict):
        raise UsageError("the form must be a JSON object")
    unknown = sorted(set(form) - set(SETTINGS) - {"data", "as_text", "engine", "watch"})
    if unknown:
        raise UsageError(f"unknown setting {unknown[0][:40]!r}")
    data = form.get("data")
    if data not in data_files:
        named = ", ".join(data_files) or "none: start explore with --data FILE"
        raise UsageError(f"data must be one of the files named with --data ({named})")
    settings = {}
    for name, kind in SETTINGS.items():
        value = form.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise UsageError(f"{name} must be a number")
        if kind is int and isinstance(value, float) and not value.is_integer():  # 1.5 steps is no 1 step
            raise UsageError(f"{name} must be an integer, got {value!r:.40}")
        try:
            settings[name] = kind(value)
        except (TypeError, ValueError):
            raise UsageError(f"{name} must be {'an integer' if kind is int else 'a number'}, got {value!r:.40}") \
                from None
    if not 1 <= settings.get("steps", 1) <= MAX_STEPS:
        raise UsageError(f"steps must be between 1 and {MAX_STEPS:,} in the page (train longer with the command)")
    engine = form.get("engine") or None
    if engine is not None and not isinstance(engine, str):
        raise UsageError("engine must be a name")
    return data_files[data], bool(form.get("as_text")), engine, settings, form.get("watch")


def out_path(folder, settings):
    """Where the run saves: the name `microgpt train` would give, made unused, and its write
    lock held (an ExitStack to close once saved). A name another run is writing is passed over."""
    d = {**defaults(GPTConfig), **defaults(TrainConfig), **settings}
    shape = SimpleNamespace(n_embd=d["n_embd"], n_head=d["n_head"], n_layer=d["n_layer"])
    wanted = Path(folder) / checkpoint.default_name(shape, d["steps"])
    path, k = wanted, 1
    for _ in range(1000):
        path = checkpoint.unused_name(path)
        lock = contextlib.ExitStack()
        try:
            lock.enter_context(writelock.hold(path))
        except MicroGPTError:  # another run (train, or another explorer) writes this name: the next one
            path, k = wanted.with_name(f"{wanted.stem}.{k}.json"), k + 1
            continue
        if not path.exists():  # (it may have appeared while the lock was taken)
            return path, lock
        lock.close()
    raise MicroGPTError(f"no free name beside {wanted} for the run to save to")


def watch_string(tokenizer, config, is_text, asked=None):
    """The string whose attention the page watches: the one asked for if the model
    can read it, else a short name, else the first tokens of the vocabulary."""
    def readable(s):
        return bool(s) and tokenizer.covers(s) and len(tokenizer.encode(s)) + 1 <= config.block_size \
            and (not is_text or len(s) >= 2)

    for s in ([asked] if asked else []) + list(WATCH_NAMES):
        if readable(s):
            return s
    return "".join(tokenizer.label(i) for i in range(min(3, tokenizer.vocab_size - 1)))


def start(form, data_files, folder, on_saved):
    """Plan the run the form asks for (errors: UsageError, one line) and start it."""
    path, as_text, engine, settings, asked = parse_form(form, data_files)
    out, lock = out_path(folder, settings)
    with lock:  # released here if the plan is refused; else handed to the run
        given = {"text": str(path)} if as_text else {"data": str(path)}
        run = plan(**given, engine=engine, out=str(out), **settings)
        tok = run.trainer.tokenizer
        watch = watch_string(tok, run.trainer.config, as_text, asked if isinstance(asked, str) else None)
        live = LiveRun(run, watch, on_saved, lock.pop_all())
    live.thread.start()
    return live
