"""The run log (`train --log FILE`): one JSON object per line, a record per step
({"step", "loss", "lr", "elapsed", "tokens"}) and one per validation ({"step",
"val_loss", "val_bits_per_char", "val_chars"}, and "val_chars_of" when it read a
sample of a long text). With --log-stats N, every Nth step's record also has
"stats": {matrix name: {"weight_norm", "grad_norm", "update_ratio"}}
(engines/base.py's Engine.train_step_with_stats; the ratio is null for a matrix
of zeros). Written here as training goes, and recognised here when a command is
about to replace a file (outputs.py): a file is a run log only if every complete
line is one of these records.
"""

import json
import os
from pathlib import Path

RUN_LOG_FIELDS = {"step", "loss", "lr", "elapsed", "tokens", "stats",  # a step (stats: --log-stats)
                  "val_loss", "val_bits_per_char", "val_chars", "val_chars_of"}  # a validation (evaluation.py)
WHOLE = 1 << 30  # a larger file is not read to be recognised


class RunLog:
    """The --log file, a record at a time. A write that fails (a full disk) must not end the
    run unsaved: `error` says why, nothing more is written, and the run stops and saves."""

    def __init__(self, path, mode):
        self.file, self.error = open(path, mode, encoding="utf-8"), None

    def write(self, text):
        if self.error is None:
            try:
                self.file.write(text)
                self.file.flush()  # where a full disk shows
            except OSError as e:
                self.error = e.strerror or str(e)

    def flush(self):
        pass  # every write is flushed

    def close(self):
        try:
            self.file.close()
        except OSError as e:  # what was still buffered could not be written either
            self.error = self.error or e.strerror or str(e)


def is_run_log(path):
    """Every complete line a record of ours: an object with an integer step and only our fields.
    A last line without its newline is a record cut short by a kill, not someone else's."""
    if os.path.getsize(path) > WHOLE:
        return False
    data = Path(path).read_bytes()
    lines = data.split(b"\n")
    complete = [line for line in lines[:-1] if line.strip()]
    return bool(complete) and all(_is_record(_record(line)) for line in complete)


def _is_record(d):
    return (isinstance(d, dict) and isinstance(d.get("step"), int) and not isinstance(d["step"], bool)
            and set(d) <= RUN_LOG_FIELDS and len(d) > 1)


def _record(line):
    try:
        return json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
