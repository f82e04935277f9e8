"""Reading training runs for the loss plot: `--log` JSONL files and ladder JSON.

A `microgpt train --log` file holds one JSON object per line: per-step records
{"step", "loss", ...} and, with --eval-every, validation records {"step",
"val_loss"}; with --log-stats, some step records also hold "stats", each weight
matrix's weight norm, gradient norm and update-to-weight ratio (files/runlog.py).
A ladder result (`microgpt ladder --json`, or one rung's --json) holds whole
runs: {"rung", "idea", "losses": [...], "val_loss"}, alone, in a list, or
under a key. Either way a run comes out as a label, per-step losses,
and validation points.
"""

import json
import math
from pathlib import Path

from microgpt.errors import MicroGPTError, UsageError
from microgpt.files.inputs import read_bytes, stat_regular, strip_bom

MAX_BYTES = 1 << 28


class Run:
    def __init__(self, label, steps, losses, val_steps=(), val_losses=(), notes=(), stats_steps=(), stats=None):
        self.label = label
        self.steps = list(steps)
        self.losses = list(losses)  # NaN where the log held no finite number (drawn as a gap, and marked)
        self.val_steps = list(val_steps)
        self.val_losses = list(val_losses)
        self.notes = list(notes)  # what the reader skipped, for the user to be told
        # --log-stats: the steps measured, and {matrix: {field: [value at each of those steps]}} (NaN where
        # the log held none, e.g. the ratio of a matrix of zeros)
        self.stats_steps = list(stats_steps)
        self.stats = stats or {}

    @property
    def nonfinite_steps(self):
        return [s for s, v in zip(self.steps, self.losses) if v != v]

    @property
    def nonfinite_val_steps(self):
        return [s for s, v in zip(self.val_steps, self.val_losses) if v != v]

    def summary(self):
        """Notes, plus a line on losses that were not finite numbers (a diverged run): they
        are no point on a curve, so unless told the user would never know they were there."""
        lines = list(self.notes)
        bad, bad_val = self.nonfinite_steps, self.nonfinite_val_steps
        if bad or bad_val:
            parts = [f"{len(bad)} of {len(self.losses)} step losses"] if bad else []
            parts += [f"{len(bad_val)} of {len(self.val_losses)} validation losses"] if bad_val else []
            first = min(bad + bad_val)
            lines.append(f"{self.label}: {' and '.join(parts)} are NaN, infinite or not numbers (first at step "
                         f"{first}); marked x along the bottom of the plot")
        return lines


def _number(x):
    """A finite float, or NaN (drawn as a gap) for anything else, e.g. a diverged step."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return float("nan")
    return float(x)


def _read_text(path):
    path = Path(path)
    if not path.exists():
        raise MicroGPTError(f"run log not found: {path}")
    if path.is_dir():
        raise MicroGPTError(f"not a file: {path}")
    if stat_regular(path, "run log").st_size > MAX_BYTES:
        raise MicroGPTError(f"run log is larger than {MAX_BYTES >> 20} MiB: {path}")
    try:
        return strip_bom(read_bytes(path, "run log", MAX_BYTES).decode("utf-8"))
    except UnicodeDecodeError:
        raise MicroGPTError(f"run log is not UTF-8 text: {path}") from None


def _add_stats(stats_steps, stats, step, measured):
    """One --log-stats record into the columns of stats: a matrix missing from it, or
    one first seen here, gets NaN at the steps that do not have it."""
    for name, fields in measured.items():
        columns = stats.setdefault(name, {})
        for field, value in fields.items():
            columns.setdefault(field, [float("nan")] * len(stats_steps)).append(_number(value))
    stats_steps.append(step)
    for columns in stats.values():
        for column in columns.values():
            column.extend([float("nan")] * (len(stats_steps) - len(column)))


def _is_stats(measured):
    return isinstance(measured, dict) and all(isinstance(k, str) and isinstance(v, dict)
                                              and all(isinstance(f, str) for f in v) for k, v in measured.items())


def _from_jsonl(text, path, notes, stats_steps, stats):
    """The log's losses as lists; its notes and --log-stats columns are added to the lists given."""
    steps, losses, val_steps, val_losses = [], [], [], []
    lines = text.splitlines()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if lineno == len(lines) and not text.endswith(("\n", "\r")):  # a run killed mid-write
                notes.append(f"{path}: skipped its last line {lineno}, which was cut short (the run was "
                             "stopped while writing it?)")
                continue
            raise MicroGPTError(f"{path} line {lineno} is not JSON: is this a --log file?") from None
        if not isinstance(rec, dict) or not isinstance(rec.get("step"), int):
            raise MicroGPTError(f"{path} line {lineno} has no integer \"step\": is this a --log file?")
        if "loss" in rec:
            steps.append(rec["step"])
            losses.append(_number(rec["loss"]))
        if "val_loss" in rec:
            val_steps.append(rec["step"])
            val_losses.append(_number(rec["val_loss"]))
        if "stats" in rec:
            if not _is_stats(rec["stats"]):
                raise MicroGPTError(f"{path} line {lineno}: \"stats\" is not {{matrix: {{name: number}}}}: "
                                    "is this a --log file?")
            _add_stats(stats_steps, stats, rec["step"], rec["stats"])
    return steps, losses, val_steps, val_losses


def _ladder_results(d):
    """The run-shaped objects (with a "losses" list) in a ladder JSON document."""
    if isinstance(d, dict) and isinstance(d.get("losses"), list):
        return [d]
    items = d if isinstance(d, list) else list(d.values()) if isinstance(d, dict) else []
    found = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("losses"), list):
            found.append(item)
        elif isinstance(item, (list, dict)):
            found.extend(_ladder_results(item))
    return found


def _ladder_label(r, i):
    rung = r.get("rung")
    name = f"train{rung}" if isinstance(rung, int) else str(rung) if rung is not None else f"run {i + 1}"
    idea = r.get("idea")
    return f"{name}: {idea}" if isinstance(idea, str) and idea else name


PLOT_MODEL_HINT = "to look at a model pick a view: --attention TEXT, --bigram or --next PREFIX"


def read_runs(path, model_hint=PLOT_MODEL_HINT):
    """The runs in one file (a JSONL log is one run; a ladder JSON may hold several).
    A checkpoint is refused with `model_hint`: what to do with a model instead."""
    text = _read_text(path)
    path = Path(path)
    stripped = text.lstrip()
    whole = None
    if stripped.startswith(("{", "[")):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None  # several lines of JSON: a log
        except RecursionError:
            raise MicroGPTError(f"{path} is JSON nested too deeply to be a run") from None
    if isinstance(whole, dict) and whole.get("format") == "microgpt":
        raise UsageError(f"{path} is a model checkpoint, not a run log; {model_hint}")
    if whole is not None and not (isinstance(whole, dict) and "step" in whole):
        results = _ladder_results(whole)
        if not results:
            raise MicroGPTError(f"{path} holds JSON but no run (no \"losses\" list and no per-step records)")
        runs = []
        for i, r in enumerate(results):
            losses = [_number(x) for x in r["losses"]]
            val = r.get("val_loss")
            has_val = isinstance(val, (int, float)) and not isinstance(val, bool) and math.isfinite(val)
            runs.append(Run(_ladder_label(r, i), range(1, len(losses) + 1), losses,
                            [len(losses)] if has_val else [], [val] if has_val else []))
        return runs
    notes, stats_steps, stats = [], [], {}
    steps, losses, val_steps, val_losses = _from_jsonl(text, path, notes, stats_steps, stats)
    if not steps and not val_steps:
        raise MicroGPTError(f"{path} has no loss records")
    return [Run(path.stem, steps, losses, val_steps, val_losses, notes, stats_steps, stats)]


def smooth(values, window):
    """Trailing mean over the last `window` finite values (the first points use what there is)."""
    out, buf = [], []
    for v in values:
        if v == v:
            buf.append(v)
            if len(buf) > window:
                buf.pop(0)
        out.append(sum(buf) / len(buf) if buf else float("nan"))
    return out


def default_window(n):
    return max(1, min(100, n // 25))
