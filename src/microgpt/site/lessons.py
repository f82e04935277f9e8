"""The lessons as pages of the site: each executed notebook rendered to HTML,
its prose, its code, and what the code printed and drew.

The lessons (lessons/*.py) are executed, not here, but beforehand (executing
all of them takes minutes): `microgpt site --lessons DIR` takes a folder of
executed notebooks, NN_<slug>.ipynb, as jupytext writes them:

    jupytext --to notebook --execute -o DIR/01_train0_bigram_counts.ipynb lessons/01_train0_bigram_counts.py

A page shows the outputs that were recorded; it does not run the lesson again
(docs/site.md says why). Markdown is rendered by markdown-it-py (the `site`
extra) with raw HTML off, so the prose is shown, never obeyed; code and text
outputs are escaped; a figure is its PNG, inlined as a data: URL, so a page
is one file.
"""

import html
import json
import re
from pathlib import Path

from microgpt.errors import UsageError
from microgpt.files.inputs import read_bytes

NOTEBOOK = re.compile(r"^(\d\d)_[\w-]+\.ipynb$")
MAX_NOTEBOOK = 1 << 26  # bytes: a lesson with its figures is well under a megabyte
STYLE = """
body { font: 16px/1.55 system-ui, sans-serif; max-width: 52em; margin: 2em auto; padding: 0 1em; color: #222; }
pre { background: #f6f6f4; padding: .6em .8em; overflow-x: auto; font-size: 14px; border-radius: 4px; }
pre.output { background: #fff; border-left: 3px solid #ccc; }
pre.error { background: #fff0f0; border-left: 3px solid #c33; }
img { max-width: 100%; }
nav { font-size: 14px; margin-bottom: 1.5em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: .2em .5em; }
"""


def notebooks(folder):
    """The NN_<slug>.ipynb files of `folder`, in order; refuses a folder without any
    (build.py asks before it builds anything, so a wrong --lessons costs no time)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"--lessons {folder} is not a folder (of executed notebooks, NN_<slug>.ipynb)")
    found = sorted(p for p in folder.iterdir() if NOTEBOOK.match(p.name))
    if not found:
        raise UsageError(f"--lessons {folder} holds no executed lesson notebook (NN_<slug>.ipynb)")
    return found


def write_lessons(folder, out):
    """Renders every NN_<slug>.ipynb of `folder` into out/NN.html, and out/index.html
    listing them; returns [{"n", "title", "page"}] for site.json."""
    found = notebooks(folder)
    out.mkdir()
    listed = []
    for path in found:
        n = NOTEBOOK.match(path.name).group(1)
        title, body = render(read_notebook(path))
        listed.append({"n": n, "title": title, "page": f"lessons/{n}.html"})
        (out / f"{n}.html").write_text(page(title, body), encoding="utf-8")
    items = "".join(f'<li><a href="{e["n"]}.html">{html.escape(e["title"])}</a></li>\n' for e in listed)
    (out / "index.html").write_text(page("Lessons", f"<h1>Lessons</h1>\n<ul>\n{items}</ul>\n"), encoding="utf-8")
    return listed


def write_none(out):
    """out/index.html for a site built without --lessons: where the lessons are, and how to add them."""
    out.mkdir()
    body = ("<h1>Lessons</h1>\n<p>This site was built without the lessons' pages. They are the files "
            "<code>lessons/NN_*.py</code> of microgpt's repository (each runs as a script or a notebook); "
            "to put them here, execute them (<code>python scripts/execute_lessons.py DIR</code>) and build "
            "the site with <code>microgpt site --lessons DIR</code>.</p>\n")
    (out / "index.html").write_text(page("Lessons", body), encoding="utf-8")


def read_notebook(path):
    try:
        nb = json.loads(read_bytes(path, "notebook", MAX_NOTEBOOK))
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"{path}: not a Jupyter notebook (JSON with cells)") from None
    if not any(c.get("outputs") for c in cells if c.get("cell_type") == "code"):
        raise UsageError(f"{path}: no code cell has an output: execute it first (jupytext --execute)")
    return cells


def render(cells):
    """(title, HTML body) of a notebook's cells: the title is its first heading."""
    # the `site` extra: only a build with --lessons needs it
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    title, parts = None, []
    for cell in cells:
        source = _text(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            if title is None:
                heading = re.search(r"^#+\s+(.+)$", source, re.MULTILINE)
                title = heading.group(1).strip() if heading else None
            parts.append(markdown.render(source))
        elif cell.get("cell_type") == "code":
            parts.append(f'<pre class="code"><code>{html.escape(source)}</code></pre>\n')
            parts += [_output(o) for o in cell.get("outputs", [])]
    return title or "a lesson", "".join(parts)


def _output(output):
    kind = output.get("output_type")
    if kind == "stream":
        return f'<pre class="output">{html.escape(_text(output.get("text", "")))}</pre>\n'
    if kind == "error":
        shown = f'{output.get("ename", "")}: {output.get("evalue", "")}'
        return f'<pre class="error">{html.escape(shown)}</pre>\n'
    data = output.get("data", {})
    if "image/png" in data:
        png = "".join(_text(data["image/png"]).split())
        if not re.fullmatch(r"[A-Za-z0-9+/=]*", png):
            raise UsageError("a notebook's PNG figure is not base64")
        return f'<p><img alt="a figure of the lesson" src="data:image/png;base64,{png}"></p>\n'
    if "text/plain" in data:
        return f'<pre class="output">{html.escape(_text(data["text/plain"]))}</pre>\n'
    return ""


def _text(value):
    return "".join(value) if isinstance(value, list) else str(value)


def page(title, body):
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f'<nav><a href="../index.html">microgpt</a> · <a href="index.html">all lessons</a></nav>\n'
            f"{body}</body>\n</html>\n")
