"""Small helpers the lessons share: show a figure, diff two rungs, a names file for a rung.

Not a lesson itself (the test runner skips files whose name starts with "_").
The lessons import it from their own folder, where Jupyter and the runner start.
"""

import difflib
import io
import tempfile
from pathlib import Path

from microgpt.data import BUNDLED_NAMES, read_docs


def show(fig):
    """Display a matplotlib Figure inline as a PNG (Figures built without pyplot
    have no notebook display of their own). Run as a plain script, a lesson
    skips its pictures and still checks every assert."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return
    if get_ipython() is None:
        return
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    display(Image(buf.getvalue()))


def rung_diff(old, new, context=1):
    """The unified diff of two ladder modules' source files, as a list of lines."""
    a = Path(old.__file__).read_text(encoding="utf-8").splitlines()
    b = Path(new.__file__).read_text(encoding="utf-8").splitlines()
    name = lambda m: Path(m.__file__).name
    return list(difflib.unified_diff(a, b, name(old), name(new), lineterm="", n=context))


def changed_lines(diff):
    """(removed, added) line counts of a unified diff, headers left out."""
    removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
    added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    return removed, added


class NamesFile:
    """The bundled names (every `every`-th of them) as a plain file, for the ladder
    rungs, which are standalone scripts reading a path: `with NamesFile(32) as path:`."""

    def __init__(self, every=1):
        self.docs = read_docs(BUNDLED_NAMES)[::every]

    def __enter__(self):
        self._tmp = tempfile.TemporaryDirectory()
        path = Path(self._tmp.name) / "names.txt"
        path.write_text("\n".join(self.docs) + "\n", encoding="utf-8")
        return str(path)

    def __exit__(self, *exc):
        self._tmp.cleanup()
