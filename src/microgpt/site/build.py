"""`microgpt site --out DIR`: the static folder that runs microgpt in the browser.

What it writes (any static host serves it; nothing in it needs a server of ours):

    index.html, train.html, ...   the pages, copied from site/static/ (see site/__init__.py)
    worker.js                     the one Web Worker every page runs Python in
    wheels/microgpt-*.whl         this package (site/wheel.py builds it)
    models/*.json                 the models the explorer opens
    pyodide/                      Pyodide's core, only when --pyodide names a local copy
    site.json                     what the build put in, read by worker.js and the pages

The folder is written beside DIR under a temporary name and moved into place
when complete: a build that fails leaves no half site. An existing DIR is
replaced only if it is a site this command wrote, and only with --force; a
folder holding anything else is never touched.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

from microgpt.api import train
from microgpt.errors import UsageError
from microgpt.files import checkpoint
from microgpt.files.inputs import check_path
from microgpt.site import lessons as site_lessons
from microgpt.site.pages import write_pages
from microgpt.site.wheel import build_wheel

PYODIDE_VERSION = "314.0.8"
PYODIDE_CDN = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"
# The files of Pyodide's core a page loads; the npm package holds them all at its top.
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json",
                 "package.json")
STATIC = Path(__file__).resolve().parent / "static"
MARKER = "site.json"  # a folder holding it was written by this command
DEFAULT_MODEL = {"steps": 1000, "seed": 42, "engine": "fused"}  # `microgpt train`'s defaults, on the fast engine


def build_site(out, models=(), pyodide=None, force=False, say=print, lessons=None):
    """Writes the site into `out`; returns what site.json records.

    models: checkpoint paths (none: the default 1000-step model is trained now).
    pyodide: a folder holding Pyodide's core (copied in: the site works offline),
    a URL (http:// or https://, ending in /), or None for the pinned version's CDN.
    lessons: a folder of executed lesson notebooks to render (site/lessons.py), or None."""
    out = check_path(out, "--out")
    check_out(out, force)
    models = [check_path(m, "--model") for m in models]
    for path in models:
        checkpoint.load(path)  # a bad model ends the build here, before anything is written
    names = [p.name for p in models]
    if len(set(names)) != len(names):
        raise UsageError("two --model files share a name; the site keeps one folder of models")
    source = pyodide_source(pyodide)
    if lessons is not None:
        site_lessons.notebooks(check_path(lessons, "--lessons"))
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        shutil.copytree(STATIC, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        wheel = build_wheel(work / "wheels")
        (work / "models").mkdir()
        if models:
            for path in models:
                shutil.copyfile(path, work / "models" / path.name)
        else:
            say(f"training the default model ({DEFAULT_MODEL['steps']} steps, engine {DEFAULT_MODEL['engine']})")
            name = "model_default.json"
            train(**DEFAULT_MODEL).save(work / "models" / name)
            names = [name]
        if isinstance(source, Path):
            (work / "pyodide").mkdir()
            for name in PYODIDE_FILES:
                shutil.copyfile(source / name, work / "pyodide" / name)
            pyodide_url = "pyodide/"
        else:
            pyodide_url = source
        record = {"microgpt_site": 1, "pyodide": pyodide_url, "pyodide_version": PYODIDE_VERSION,
                  "wheel": f"wheels/{wheel}", "models": [f"models/{n}" for n in names],
                  "exercises": [], "lessons": []}
        write_pages(work, record, lessons)  # the explorer, the exercises' catalogue, the lessons
        (work / MARKER).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        os.chmod(work, 0o755)  # mkdtemp's folder is private; a site is for serving
        move_into_place(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return record


def check_out(out, force):
    """Refuses an `out` that holds anything but a site this command wrote (and that one without --force)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder; the site is a folder")
    if not any(out.iterdir()):
        return
    if not (out / MARKER).is_file():
        raise UsageError(f"--out {out} is a folder that holds other files; give a new or empty folder")
    if not force:
        raise UsageError(f"--out {out} holds a site built before; add --force to replace it")


def move_into_place(work, out):
    """`work` becomes `out`; an old site at `out` is removed only once the new one is in place."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
    work.rename(out)
    if old is not None:
        shutil.rmtree(old)


def pyodide_source(given):
    """A local core folder (Path) or a URL (str), checked."""
    if given is None:
        return PYODIDE_CDN
    if str(given).startswith(("http://", "https://")):
        return given if given.endswith("/") else given + "/"
    folder = check_path(given, "--pyodide")
    if not folder.is_dir():
        raise UsageError(f"--pyodide {given} is not a folder (or an http:// or https:// URL)")
    missing = [n for n in PYODIDE_FILES if not (folder / n).is_file()]
    if missing:
        raise UsageError(f"--pyodide {given} lacks {', '.join(missing)}: give the unpacked npm package "
                         f"(npm pack pyodide@{PYODIDE_VERSION}; tar xzf; its package/ folder)")
    try:
        version = json.loads((folder / "package.json").read_text(encoding="utf-8")).get("version")
    except (ValueError, UnicodeDecodeError):
        version = None
    if version != PYODIDE_VERSION:
        raise UsageError(f"--pyodide {given} holds Pyodide {version}; this site is built for {PYODIDE_VERSION}")
    return folder
