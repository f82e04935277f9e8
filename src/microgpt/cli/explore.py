"""`microgpt explore MODEL...`: open trained models in the browser and look inside them;
`microgpt report MODEL... --out FILE`: the same page as one self-contained HTML file.

Everything named on the command line is read and checked first (a bad model,
log or data file ends here with one line, before any server starts); then the
server (explore/server.py) serves the page and its API until Ctrl-C.
"""

import os
import socket
import sys

from microgpt.cli.args import nonneg_int
from microgpt.errors import UsageError

DEFAULT_PORT = 8765
PORT_TRIES = 20  # the default port taken (another explorer?): the next free one of these
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def port_number(s):
    import argparse

    n = nonneg_int(s)
    if n > 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, got {s}")
    return n


def bind(explorer, host, port, explicit_port):
    """A server on host:port; without an explicit --port, the next free port
    after a taken one (another explorer may hold the default)."""
    import errno

    from microgpt.explore.server import make_server

    if not host.strip():
        raise UsageError("--host needs an address, such as 127.0.0.1")
    extra = ()
    if host in ("0.0.0.0", "::"):  # then others reach it by this machine's names
        name = socket.gethostname()
        extra = (name, socket.gethostbyname(name)) if name else ()
    tries = 1 if explicit_port or port == 0 else PORT_TRIES
    for i in range(tries):
        try:
            return make_server(explorer, host, port + i if port else 0, extra)
        except OSError as e:
            taken = e.errno == errno.EADDRINUSE
            if taken and i + 1 < tries:
                continue
            if taken and not explicit_port:
                raise UsageError(f"ports {port} to {port + tries - 1} are all taken; pick one with --port N "
                                 "(0: any free port)") from None
            why = e.strerror or str(e)
            raise UsageError(f"cannot listen on {host}:{port}: {why}"
                             + ("; pick another with --port N (0: any free port)" if taken else "")) from None


def url_of(server, host, token):
    """The page's address, with the session's token (the page's key to start a run or an evaluation)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{server.server_address[1]}/?token={token}"


def can_open_browser():
    """False on a Linux machine with no display, where the webbrowser module
    would start a text-mode browser in this terminal instead."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def cmd_explore(args):
    from microgpt.explore.models import load_models, load_runs
    from microgpt.explore.server import Explorer
    from microgpt.files.inputs import stat_regular

    runs = load_runs(args.log)
    data_files = {}
    for d in args.data:  # the page names them by file name (numbered when two share one)
        stat_regular(d, "data file")
        name, n = os.path.basename(d), 2
        while name in data_files:
            name, n = f"{os.path.basename(d)} ({n})", n + 1
        data_files[name] = d
    if not os.path.isdir(args.out_dir):
        raise UsageError(f"--out-dir {args.out_dir}: not a folder")
    from microgpt.explore.models import load_ladder

    ladder = load_ladder(args.ladder) if args.ladder else None
    if not args.model and ladder is None:
        raise UsageError("nothing to explore: name a MODEL (or give --ladder LADDER.json)")
    if ladder is not None and not ladder.explored and not args.model:
        raise UsageError(f"{args.ladder} holds no trained GPT rung (train3 to train5, run with this version): "
                         "nothing to explore")
    explorer = Explorer(load_models(args.model, args.data), runs, data_files, args.out_dir, ladder)
    server = bind(explorer, args.host, DEFAULT_PORT if args.port is None else args.port, args.port is not None)
    if args.host not in LOOPBACK:
        print(f"warning: serving on {args.host}: anyone who can reach this machine on the network can read "
              "these models", file=sys.stderr)
    url = url_of(server, args.host, explorer.token)
    names = ", ".join(f"{ex.id}" for ex in explorer.models.values()) or "the ladder"
    print(f"exploring {names} at {url}  (Ctrl-C to stop)", flush=True)
    if not args.no_browser and can_open_browser():
        import webbrowser

        try:
            webbrowser.open(url)
        except Exception:  # the URL is printed above: opening it is only a convenience
            pass
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP (interrupts.py): a page run is saved, not dropped
        _save_the_page_run(explorer)
        raise
    finally:
        server.server_close()
    return 0


def _save_the_page_run(explorer):
    from microgpt.files import interrupts

    run = explorer.live
    if run is None or run.finished:
        return
    print("microgpt explore: stopping the run started from the page, and saving it ...", file=sys.stderr)
    with interrupts.Deferred():  # a second signal does not cut the save in half
        path = run.finish()
    if path is not None:
        print(f"microgpt explore: saved the page's run to {path}", file=sys.stderr)


def _is_report(path, mark):
    """A whole HTML page of ours: the doctype first, our generator tag in its head, and its end."""
    data = path.read_bytes() if path.stat().st_size <= 1 << 30 else b""
    head = data[:4096]
    return (head.lower().startswith(b"<!doctype html>") and mark in head.split(b"</head>", 1)[0]
            and data.rstrip().endswith(b"</html>"))


def cmd_report(args):
    from pathlib import Path

    from microgpt.explore import report
    from microgpt.explore.models import load_models, load_runs
    from microgpt.files import outputs
    from microgpt.files.atomic import atomic_write_text

    out = Path(args.out)
    inputs = [("a model it reads", Path(p)) for p in args.model] + [("a run log it reads", Path(p)) for p in args.log]
    inputs += [("the training data", Path(args.data))] if args.data else []
    kind = outputs.Kind("a microgpt report", lambda p: _is_report(p, report.MARK))
    outputs.check_outputs([outputs.Output("--out", out, kind)], inputs, force=args.force)
    explored = load_models(args.model, args.data)
    html = report.build(explored, load_runs(args.log), args.text or None)
    atomic_write_text(out, html)
    print(f"wrote {out} ({len(html.encode()) / 1024:,.0f} KB): open it in any browser, offline")
    return 0


def add_log_arg(p):
    p.add_argument("--log", metavar="RUN.jsonl", action="append", default=[],
                   help="a run log written by 'microgpt train --log', for the loss curves (repeatable)")


def register(sub):
    p = sub.add_parser("explore", help="open trained models in the browser and look inside them",
                       description="Start a local web page that shows a trained model from the inside: its "
                                   "card and loss curves, the surprise of each character of a string you type, "
                                   "attention, the residual stream and logit lens, sampling step by step, the "
                                   "embeddings, and backpropagation node by node. Every number is computed by "
                                   "the library (the same as `microgpt score`). See docs/explore.md.")
    p.add_argument("model", metavar="MODEL", nargs="*", help="checkpoints written by 'microgpt train'")
    add_log_arg(p)
    p.add_argument("--ladder", metavar="LADDER.json",
                   help="results of 'microgpt ladder --json': the ladder's page, and its GPT rungs (train3 to "
                        "train5) opened as models")
    p.add_argument("--data", metavar="FILE", action="append", default=[],
                   help="a data file (repeatable): to mark samples as new or seen, and to train on from the "
                        "page (default: only the names shipped in the package; no other file is read)")
    p.add_argument("--out-dir", metavar="FOLDER", default=".",
                   help="where a run trained from the page saves its model (default: this folder; an unused "
                        "name is chosen, nothing is overwritten)")
    p.add_argument("--port", type=port_number, default=None,
                   help=f"the port to serve on (default: {DEFAULT_PORT}, or the next free one; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to serve on (default: 127.0.0.1, this machine only; another address "
                        "lets the network in, and prints a warning)")
    p.add_argument("--no-browser", action="store_true", help="print the URL without opening a browser")
    p.set_defaults(func=cmd_explore)

    p = sub.add_parser("report", help="write the explorer's views of a model as one self-contained HTML file",
                       description="Write one HTML file that shows trained models as `microgpt explore` does "
                                   "(card, loss curves, strings read with their surprise, attention, the forward "
                                   "pass, a sample step by step, embeddings, backprop), computed now and "
                                   "embedded: it opens offline in any browser and refers to nothing outside "
                                   "itself. See docs/explore.md.")
    p.add_argument("model", metavar="MODEL", nargs="+", help="checkpoints written by 'microgpt train'")
    p.add_argument("--out", metavar="FILE", required=True, help="the HTML file to write")
    add_log_arg(p)
    p.add_argument("--data", metavar="FILE", help="the training data, to mark samples as new or seen")
    p.add_argument("--text", metavar="STRING", action="append",
                   help="a string to read in the report (repeatable; default: a few names, or stretches "
                        "of the model's own samples)")
    p.add_argument("--force", action="store_true", help="replace an existing file that is not a report")
    p.set_defaults(func=cmd_report)
