"""The explorer page's Python, run in the site's worker: the same answers as
`microgpt explore`'s server, from the same code.

The explorer's page asks every question through one function (static/api.js:
`api`). Served by `microgpt explore`, it fetches /api/...; in the site it posts
the same path and query to the worker, which hands it here, to the server's
own dispatch (`Explorer.answer`), over the models the page gave `load`. So a
number on the site's page is computed by exactly the code that computes it for
the local server; only the transport differs.

The explorer's live parts (training a run, the ablation's streamed evaluation)
are the server's alone: the site's page hides them (its Train page trains).
"""

import json
import tempfile
from pathlib import Path, PurePosixPath

from microgpt.errors import UsageError
from microgpt.explore.models import load_models
from microgpt.explore.server import Explorer

_explorer = None  # the worker's one explorer, over the models last loaded


def load(files):
    """Open the models given as [[file name, checkpoint JSON text], ...] (what the page read
    from the site, or a model trained in the page): their ids, as the server names them."""
    global _explorer
    folder = Path(tempfile.mkdtemp(prefix="microgpt-models-"))
    paths = []
    for name, text in files:
        base = PurePosixPath(str(name)).name
        if not base.endswith(".json") or base in paths:
            raise UsageError(f"{str(name)[:80]!r}: a model is a distinct .json checkpoint file")
        (folder / base).write_text(text, encoding="utf-8")
        paths.append(base)
    _explorer = Explorer(load_models([str(folder / p) for p in paths]), [])
    return {"models": list(_explorer.models)}


def answer(target):
    """{"status", "body"} for a GET of target ("/api/...?query"), as the server answers it."""
    if _explorer is None:
        raise UsageError("no model is open yet")
    if not str(target).startswith("/api/"):
        return {"status": 404, "body": {"error": f"no such page: {str(target)[:100]}"}}
    status, _, body = _explorer.answer(str(target))
    return {"status": status, "body": json.loads(body)}
