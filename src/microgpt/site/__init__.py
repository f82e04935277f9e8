"""microgpt in the browser: a static site (`microgpt site --out DIR`) whose pages run
this package, unchanged, in Pyodide (CPython compiled to WebAssembly).

    build.py          `microgpt site`: writes the folder (pages, wheel, models, Pyodide, site.json)
    wheel.py          the wheel the site carries, built from the source tree or the installed package
    calls.py          what the worker runs for each message a page posts
    uploads.py        a file the user gives a page, written into the worker's file system
    train_bridge.py   the Train page: `microgpt train` itself, its printed lines sent to the page
    explore_bridge.py the explorer: the server's own dispatch (Explorer.answer) over the site's models
    exercise_bridge.py  the Exercises page: the grader of `microgpt exercise check`, the same report
    pages.py          explore.html and explore/ (the explorer's page), the exercises' catalogue, lessons/
    lessons.py        the lessons' pages, rendered from executed notebooks (`--lessons DIR`)
    static/           the pages and worker.js, copied as they are

Python runs only in Web Workers (static/worker.js), so a page never freezes; a
page asks with {id, call: "MODULE:FUNCTION", args} and the worker answers from
the bridge module of that name. No computation about the model is written in
JavaScript: the pages draw what Python answers.

A model trained on the Train page opens in the explorer through the tab's
sessionStorage: the Train page stores the checkpoint's JSON text under the key
"microgpt.trained:NAME" and links to explore.html?trained=NAME; the explorer
reads it from there (each page has its own worker and file system).
"""
