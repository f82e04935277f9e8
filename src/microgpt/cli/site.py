"""`microgpt site --out DIR`: the static site that runs microgpt in the browser (site/build.py)."""


def cmd_site(args):
    from microgpt.site.build import build_site

    record = build_site(args.out, args.model or (), args.pyodide, force=args.force, lessons=args.lessons)
    print(f"wrote the site to {args.out} ({len(record['models'])} model(s), Pyodide from {record['pyodide']})")
    print(f"serve it with: python -m http.server -d {args.out} 8000   and open http://127.0.0.1:8000/")
    return 0


def register(sub):
    p = sub.add_parser("site", help="write a static site that trains and explores models in the browser",
                       description="Write a folder any static host serves: the Train page, the explorer, the "
                                   "exercises and the lessons, running this package in the browser (Pyodide).")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write (new, empty, or a site "
                                                                 "built before, with --force)")
    p.add_argument("--model", action="append", metavar="M.json",
                   help="a model for the explorer (repeatable; default: train the default 1000-step model now)")
    p.add_argument("--pyodide", metavar="DIR_OR_URL",
                   help="an unpacked Pyodide core to copy in (the site then works offline), or its URL "
                        "(default: the pinned version on its CDN, site/build.py)")
    p.add_argument("--lessons", metavar="DIR", help="a folder of executed lesson notebooks (NN_<slug>.ipynb, from "
                                                     "scripts/execute_lessons.py) to render as the lessons' pages")
    p.add_argument("--force", action="store_true", help="replace a site built before at --out")
    p.set_defaults(func=cmd_site)
