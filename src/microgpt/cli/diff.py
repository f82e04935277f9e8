"""`microgpt diff A B`: where two runs, or two models, differ, one line per finding.

Two `train --log` files: the first step whose losses differ, the largest
difference, the steps compared, each run's final loss, and the same for the
validation losses. Two checkpoints: the config, the tokenizer, each weight
matrix's largest difference and the first matrix that differs, and each
model's validation loss. The work is inspection/differences.py's; this prints it.

The exit status is diff(1)'s: 0 the same (within --tol), 1 different,
2 trouble (a file that cannot be read, a model beside a log, a bad flag).
"""

import json
from pathlib import Path

from microgpt.cli.args import nonneg_float
from microgpt.errors import MicroGPTError, UsageError


class Trouble(MicroGPTError):
    """Any failure to compare: exit 2, as diff(1), since 1 means "different"."""

    exit_code = 2


def _kind(path):
    from microgpt.files.inputs import stat_regular
    from microgpt.files.outputs import is_checkpoint

    p = Path(path)
    if not p.exists():
        raise Trouble(f"not found: {path}")
    if p.is_dir():
        raise Trouble(f"{path} is a directory, not a run log or a model")
    stat_regular(p, "run log or model")  # a FIFO or a device would be waited on forever
    return "model" if is_checkpoint(p) else "log"


def cmd_diff(args):
    from microgpt.inspection import differences

    try:
        kinds = _kind(args.a), _kind(args.b)
        if kinds[0] != kinds[1]:
            raise Trouble(f"{args.a} is a {kinds[0]} and {args.b} a {kinds[1]}: diff compares two run logs "
                          "or two models")
        if kinds[0] == "model":
            found = differences.diff_models(args.a, args.b, args.tol, evaluate=not args.no_eval)
        else:
            if args.no_eval:
                raise UsageError("--no-eval is for two models: a run log's losses are read, not computed")
            found = differences.diff_runs(args.a, args.b, args.tol)
    except (MicroGPTError, OSError) as e:
        if isinstance(e, Trouble):
            raise
        what = f"{e.strerror}: {e.filename}" if isinstance(e, OSError) and e.strerror else str(e)
        raise Trouble(what) from None
    if args.json:
        print(json.dumps(found.to_dict()))
    else:
        print(f"A: {args.a}\nB: {args.b}")
        for line in found.findings():
            print(line)
    return 0 if found.same else 1


def register(sub):
    p = sub.add_parser("diff", help="where two runs, or two models, differ",
                       description="Compare two run logs (train --log): the first step whose losses differ, by "
                                   "how much, the steps compared, the largest difference, the final and the "
                                   "validation losses. Or compare two models: config, tokenizer, each weight "
                                   "matrix's largest difference, the first matrix that differs, and each one's "
                                   "validation loss. Exit 0 if the same (within --tol), 1 if different, 2 on "
                                   "trouble. See docs/diff.md.")
    p.add_argument("a", metavar="A", help="a run log (RUN.jsonl) or a model checkpoint")
    p.add_argument("b", metavar="B", help="another of the same kind")
    p.add_argument("--tol", type=nonneg_float, default=0.0,
                   help="largest |a - b| still counted as the same (default: 0, exactly the same)")
    p.add_argument("--no-eval", action="store_true",
                   help="two models: do not compute their validation losses (the slow part)")
    p.add_argument("--json", action="store_true", help="the findings as one JSON object")
    p.set_defaults(func=cmd_diff)
