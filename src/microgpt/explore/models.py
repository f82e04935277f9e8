"""The models and run logs named on the explorer's command line, loaded and checked.

Each model gets a short id from its file name, and its training data when the
command line allows finding it; nothing else on disk is read.
"""

import json
import os
from pathlib import Path

from microgpt.api import Model, load
from microgpt.data import fingerprint, is_bundled, read_docs
from microgpt.errors import MicroGPTError
from microgpt.explore.views import Explored
from microgpt.files.inputs import read_bytes
from microgpt.inspection.plots.runs import read_runs
from microgpt.ladder.saved import rung_checkpoint


def model_ids(paths):
    """A short id per model, from its file name (numbered when two share one)."""
    ids, used = [], set()
    for p in paths:
        base = os.path.splitext(os.path.basename(p))[0] or "model"
        candidate, n = base, 2
        while candidate in used:
            candidate, n = f"{base}-{n}", n + 1
        used.add(candidate)
        ids.append(candidate)
    return ids


def load_models(paths, data=None):
    """The models to explore, each with its training data when the command line
    allows finding it: a --data file (the one it was trained on, when several
    are named), or the names shipped in the package. A recorded path the user
    did not name is not read (the explorer reads only the files on its command
    line)."""
    given = [data] if isinstance(data, (str, Path)) else list(data or [])
    explored = []
    for model_id, path in zip(model_ids(paths), paths):
        model = load(path)
        recorded = model.training.data
        chosen = _training_file(model, given)
        if chosen is not None or is_bundled(recorded):
            found, note = model.training_data(chosen), ""
        else:
            found = None
            note = ("the training data is unknown: pass --data FILE to mark samples as new or seen"
                    if recorded is None else f"pass --data {recorded} to mark samples as new or seen in it")
        explored.append(Explored(model_id, Path(path), model, found, note))
    return explored


def _training_file(model, given):
    """Which of the --data files a model was trained on: the only one, or the one
    at its recorded path, or the one whose documents have its fingerprint."""
    if len(given) <= 1:
        return given[0] if given else None
    recorded = model.training.data
    for g in given:
        if recorded and os.path.exists(recorded) and os.path.samefile(g, recorded):
            return g
    sha = model.training.data_sha256
    for g in given:
        if sha and not model.is_text and fingerprint(read_docs(g)) == sha:
            return g
    return None


def load_runs(paths):
    return [run for p in paths for run in read_runs(p, model_hint="name a model without --log to explore it")]


class Ladder:
    """A `microgpt ladder --json` file: its table, its claims' verdicts, each rung's
    losses, and the GPT rungs' trained models (train3 to train5)."""

    def __init__(self, path, results, claims, runs, explored):
        self.path, self.results, self.claims, self.runs, self.explored = path, results, claims, runs, explored


def load_ladder(path):
    """A Ladder from `ladder --json` output (one line of error if it is not one)."""
    try:
        d = json.loads(read_bytes(path, "ladder results", 1 << 28))
    except ValueError:
        raise MicroGPTError(f"{path} is not JSON: --ladder takes the file `microgpt ladder --json` writes") from None
    if not isinstance(d, dict) or not isinstance(d.get("results"), list):
        raise MicroGPTError(f"{path} holds no ladder results (a \"results\" list): --ladder takes the file "
                            "`microgpt ladder --json` writes")
    explored = []
    for r in d["results"]:
        ckpt = rung_checkpoint(r)
        if ckpt is not None:
            explored.append(Explored(f"train{r['rung']}", Path(f"train{r['rung']}"), Model(ckpt)))
    runs = read_runs(path)
    return Ladder(Path(path), d["results"], d.get("claims") or [], runs, explored)
