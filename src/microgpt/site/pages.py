"""The site's pages made from the rest of the package: the explorer, the
exercises' catalogue and the lessons (build.py calls `write_pages`).

The explorer is `microgpt explore`'s own page and modules, copied into
explore/, with explore.html made from its index.html: the same markup, marked
as the site's (`data-backend="worker"`, so api.js asks the worker instead of a
server, and the server's live parts are hidden), its paths made relative so
the site works from any folder of any host.

The exercises page (static/exercises.html) reads the catalogue from site.json:
each exercise's number, title, file name and stub, and the grader's budget.

The lessons are pages rendered from notebooks already executed (site/lessons.py).
"""

import shutil
from importlib import resources
from pathlib import Path

from microgpt.exercises import sandbox
from microgpt.site import exercise_bridge, lessons

EXPLORER_FILES = (".js", ".css")  # what of explore/static/ the site's explorer needs beside explore.html
SITE_MARKS = {  # index.html's text -> the site's explore.html's
    '<link rel="stylesheet" href="/explore.css">': '<link rel="stylesheet" href="explore/explore.css">',
    '<script type="module" src="/main.js"></script>': '<script type="module" src="explore/main.js"></script>',
    "<body>": '<body class="site" data-backend="worker">',
    "<title>microgpt explore</title>": "<title>microgpt explore (in the browser)</title>",
}


def write_pages(site, record, executed_lessons=None):
    """Writes explore.html and explore/, and lessons/ when executed notebooks are given;
    fills record's "exercises", "exercise_budget" and "lessons" (site.json)."""
    site = Path(site)
    write_explorer(site)
    catalogue = exercise_bridge.catalogue()
    record["exercises"] = catalogue["exercises"]
    record["exercise_budget"] = sandbox.BUDGET
    if executed_lessons:
        record["lessons"] = lessons.write_lessons(executed_lessons, site / "lessons")
    else:
        lessons.write_none(site / "lessons")


def write_explorer(site):
    static = resources.files("microgpt.explore") / "static"
    folder = site / "explore"
    folder.mkdir()
    for f in static.iterdir():
        if Path(f.name).suffix in EXPLORER_FILES:
            with resources.as_file(f) as path:
                shutil.copyfile(path, folder / f.name)
    page = (static / "index.html").read_text(encoding="utf-8")
    for old, new in SITE_MARKS.items():
        if old not in page:  # the explorer's page changed: this must be told, not guessed
            raise RuntimeError(f"explore/static/index.html no longer holds {old!r}; update site/pages.py")
        page = page.replace(old, new, 1)
    (site / "explore.html").write_text(page, encoding="utf-8")
