"""Pictures of a run or a model, drawn with matplotlib (the optional `plot` extra).

Each module here owns one picture and returns a matplotlib Figure; this file
imports matplotlib on demand (so the core never needs it) and writes a figure
to PNG or SVG, chosen by the output's extension. Figures are built with
matplotlib.figure.Figure directly rather than pyplot: no GUI backend, no global
state shared between pictures.
"""

from pathlib import Path

from microgpt.errors import MicroGPTError, UsageError
from microgpt.files.atomic import atomic_file
from microgpt.files.outputs import MARK

FORMATS = (".png", ".svg")
INSTALL_HINT = "pip install 'microgpt[plot]'"


def require_matplotlib():
    """The Figure class, or a one-line error naming the extra to install."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MicroGPTError(f"plotting needs matplotlib, which is not installed; install it with: {INSTALL_HINT}") \
            from None
    return Figure


def check_out(path):
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"--out {path}: the picture's format comes from its extension; use .png or .svg")
    return path


def save(fig, path):
    path = check_out(path)
    if path.parent != Path("") and not path.parent.is_dir():
        raise MicroGPTError(f"cannot write {path}: the folder {path.parent} does not exist")
    from matplotlib import rc_context

    # 110 dpi keeps a full-width PNG legible and well under 150 KB; SVG text stays
    # text (selectable, smaller) instead of becoming glyph outlines. Written atomically:
    # a picture cut short by a crash never replaces the one that was there.
    with rc_context({"svg.fonttype": "none"}), atomic_file(path) as f:
        fig.savefig(f, format=path.suffix[1:].lower(), dpi=110, bbox_inches="tight", metadata=_metadata(path))
    return path


def _metadata(path):
    # No creation date or software version: the same picture gives the same bytes. The
    # creator's name is what tells a picture microgpt may replace (files/outputs.py).
    if path.suffix.lower() == ".svg":
        return {"Date": None, "Creator": MARK}
    return {"Software": MARK}


def token_label(tokenizer, i):
    """How a token is shown on an axis: its character (a BPE token's text), or BOS."""
    label = tokenizer.label(i).replace(" ", "␣")  # a blank tick label would look like a missing one
    return label if label.isprintable() else repr(label)[1:-1]  # a BPE model has a token for "\n", "\x00"...
