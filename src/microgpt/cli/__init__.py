"""The `microgpt` command: one subcommand per job, one module per group of them.

    train.py   microgpt train            train on the names (or --data / --text FILE), save, sample
    use.py     microgpt sample | info | score | eval
                                         use a saved model
    parts.py   microgpt dataset | tokenizer | autograd | parameters | architecture
                                         one part of the system at a time, as text
    plot.py    microgpt plot             pictures: loss curves, or a model's attention, bigrams, next char
    graph.py   microgpt graph            the Value graph with data and grad on every node
    explore.py microgpt explore MODEL     open models in the browser and look inside them
    site.py    microgpt site --out DIR    a static site: train and explore in the browser (Pyodide)
    diff.py    microgpt diff A B         where two runs, or two models, differ
    bench.py   microgpt bench            time the engines side by side
    ladder.py  microgpt ladder           the six rungs train0..train5, one table
    exercise.py microgpt exercise list | start | check
                                         write a piece of microgpt yourself; an autograder checks it
    args.py    what their parsers share

Each command is a thin adapter over the Python API (api.py, training.py):
parse, call, print. Problems with the user's input end in one line on stderr
and a non-zero exit (2 for bad arguments), never a traceback; --debug shows
the traceback. Ctrl-C and SIGTERM end any command with one line and 130 / 143
(interrupts.py); a closed stdout ends a command quietly with 0 (pipes.py).
"""

import argparse
import os
import sys

from microgpt import __version__
from microgpt.cli import bench, diff, exercise, explore, graph, ladder, parts, pipes, plot, site, train, use
from microgpt.cli.args import ArgumentParser
from microgpt.errors import MicroGPTError
from microgpt.files import interrupts

GROUPS = (train, use, diff, explore, site, bench, ladder, parts, plot, graph, exercise)  # the order of `microgpt --help`


def build_parser():
    parser = ArgumentParser(prog="microgpt", description="Train and sample a GPT from first principles.")
    parser.add_argument("--version", action="version", version=f"microgpt {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    for p in sub.choices.values():  # --debug works after the command name too
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback on errors")
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    closed = pipes.closed_streams()  # started with `>&-` or `2>&-`: those now write to /dev/null
    # SIGINT and SIGTERM end every phase of every command, even when inherited as ignored (interrupts.py)
    with interrupts.raised():
        try:
            try:
                code = _main(argv)
            except SystemExit as e:  # argparse's --help, --version and usage errors
                if "stdout" not in closed:
                    raise
                code = e.code if isinstance(e.code, int) else 1
            if "stdout" in closed and code == 0:  # the work is done (a model saved), but nothing was shown
                who = " ".join(["microgpt", *argv[:1]])
                print(f"{who}: stdout was closed: the command ran, its output was not shown", file=sys.stderr)
                return 1
            return code
        finally:
            try:  # here, not at interpreter exit, where a closed pipe prints "Exception ignored"
                sys.stdout.flush()
            except BrokenPipeError:
                pipes.silence_stdout()
            except (OSError, ValueError):
                pass


def _main(argv):
    if argv[:1] == ["ladder"]:  # the ladder parses its own flags (its rungs are standalone scripts)
        return guarded("ladder", bool(os.environ.get("MICROGPT_DEBUG")), lambda: ladder.run(argv[1:]))
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    debug = args.debug or os.environ.get("MICROGPT_DEBUG")
    return guarded(args.command, debug, lambda: args.func(args))


def one_line(text):
    """A message as one line: a control character (a file name may hold a newline) is shown escaped."""
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in str(text))


def guarded(command, debug, call):
    """call(), with every way a command can fail ending in one line on stderr and an exit status."""
    try:
        return call()
    except MicroGPTError as e:
        if debug:
            raise
        print(f"microgpt {command}: error: {one_line(e)}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:  # stdout's reader is gone, e.g. `microgpt sample m.json | head -3` (before OSError)
        pipes.silence_stdout()
        return 0
    except OSError as e:  # a file we were told to write or read cannot be (no folder, no permission, disk full)
        if debug:
            raise
        where = f": {e.filename}" if getattr(e, "filename", None) else ""
        print(f"microgpt {command}: error: {one_line(e.strerror or e)}{one_line(where)}", file=sys.stderr)
        return 1
    except ValueError as e:  # the one ValueError a path can cause: os.* refuse a name with a NUL in it
        if debug or "null" not in str(e):
            raise
        print(f"microgpt {command}: error: a file name cannot hold a NUL character", file=sys.stderr)
        return 2
    except MemoryError:
        if debug:
            raise
        print(f"microgpt {command}: error: out of memory (try a smaller model, batch, data file or -n)",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:  # interrupts.Interrupted (SIGINT, SIGTERM), or Python's own Ctrl-C
        code = getattr(e, "exit_code", 130)
        what = "interrupted" if code == 130 else f"terminated ({e.name})"
        # on a terminal the line may follow a live progress bar: start a line of its own
        print(f"{chr(10) if sys.stderr.isatty() else ''}microgpt {command}: {what}", file=sys.stderr)
        return code
