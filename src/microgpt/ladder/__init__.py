"""The ladder: six standalone scripts that build microgpt one idea at a time.

train0 counts bigrams; train1 trains an MLP on the previous token with
hand-derived gradients; train2 swaps those for the Value autograd; train3 adds
position embeddings, attention, RMSNorm and residuals; train4 adds multiple
heads and a layer loop; train5 swaps SGD for Adam and is the full microgpt.

Each trainK.py uses the standard library only and imports nothing from this
package, so it can be copied out and run alone. This module only runs them
in order and prints one comparison table (and, since the rungs read plain
files, hands them the package's bundled names as a temporary file).
"""
import argparse
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path

from microgpt.atomic import atomic_write_text
from microgpt.data import is_bundled, read_text, resolve_data_path
from microgpt.errors import MicroGPTError
from microgpt.outputs import LADDER_RESULTS, Output, check_outputs

RUNGS = tuple(range(6))


def load(rung):
    return importlib.import_module(f"microgpt.ladder.train{rung}")


def format_table(results):
    header = f"{'rung':<7} {'new idea':<54} {'params':>6} {'val loss':>8} {'ppl':>7} {'seconds':>8}"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(f"train{r['rung']:<2} {r['idea']:<54} {r['params']:>6} {r['val_loss']:>8.4f} "
                     f"{r['val_ppl']:>7.3f} {r['seconds']:>8.1f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="microgpt ladder", description="Run the ladder rungs train0..train5 and print a comparison table.")
    parser.add_argument("rungs", nargs="*", metavar="RUNG", help="rung numbers to run, 0-5 (default: all six)")
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps for every rung (default: each rung's own; 1000 for the neural ones, "
                             "every training doc once for train0)")
    parser.add_argument("--seed", type=int, default=42, help="seed for shuffle, init and sampling")
    parser.add_argument("--data", default=None,
                        help="names file, one per line (default: $MICROGPT_DATA, else the bundled names)")
    parser.add_argument("--json", default=None, metavar="FILE",
                        help="also write every rung's results to FILE (checked before the first rung; it may "
                             "replace earlier ladder results, other files only with --force)")
    parser.add_argument("--force", action="store_true",
                        help="let --json replace an existing file that is not ladder results")
    args = parser.parse_args(argv)
    try:
        rungs = sorted({int(r) for r in args.rungs}) if args.rungs else list(RUNGS)
    except ValueError:
        rungs = [-1]
    if any(r not in RUNGS for r in rungs):
        print(f"error: rungs must be numbers 0-5, got {' '.join(args.rungs)}", file=sys.stderr)
        return 2
    if args.steps is not None and args.steps < 1:
        print(f"error: --steps must be at least 1, got {args.steps}", file=sys.stderr)
        return 2

    args.data = str(resolve_data_path(args.data))  # as `microgpt train` finds it; --json records this name
    if args.json:  # before the rungs, not after minutes of them
        try:
            check_outputs([Output("--json", Path(args.json), LADDER_RESULTS)], [("the data", args.data)], args.force)
        except MicroGPTError as e:
            print(f"error: {e}", file=sys.stderr)
            return e.exit_code
    if is_bundled(args.data):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "names.txt"
            try:
                path.write_text(read_text(args.data), encoding="utf-8")
            except MicroGPTError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
            return run_rungs(rungs, args, str(path))
    return run_rungs(rungs, args, args.data)


def run_rungs(rungs, args, data):
    results = []
    t0 = time.time()
    for i, rung in enumerate(rungs):
        module = load(rung)
        steps = module.DEFAULT_STEPS if args.steps is None else args.steps
        print(f"[ladder {i + 1}/{len(rungs)}] train{rung}: {module.IDEA} "
              f"(steps: {steps if steps is not None else 'all training docs'})", file=sys.stderr, flush=True)
        prefix = f"  train{rung} | "
        log = lambda msg: print(prefix + msg, file=sys.stderr, flush=True)
        try:
            results.append(module.run(steps=steps, seed=args.seed, data=data, log=log,
                                      log_every=10000 if rung == 0 else 100))
        except (OSError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    print(f"[ladder] done in {time.time() - t0:.0f} s", file=sys.stderr)
    print(format_table(results))
    if args.json:
        atomic_write_text(args.json, json.dumps({"seed": args.seed, "steps": args.steps, "data": args.data,
                                                 "results": results}, indent=1))
    return 0
