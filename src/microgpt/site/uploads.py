"""A file the user gives a page (chosen or pasted), written into the worker's file system."""

from pathlib import Path

from microgpt.errors import UsageError

FOLDER = Path("uploads")  # under the worker's working directory, /home/pyodide


def put(name, text):
    """Writes `text` as uploads/NAME (the file's own name, without folders) and returns that path."""
    base = Path(str(name)).name
    if not base or base in (".", ".."):
        raise UsageError(f"{name!r} is not a file name")
    FOLDER.mkdir(exist_ok=True)
    path = FOLDER / base
    path.write_text(text, encoding="utf-8")
    return str(path)
