"""The ladder: six standalone scripts that build microgpt one idea at a time.

train0 counts bigrams; train1 trains an MLP on the previous token with
hand-derived gradients; train2 swaps those for the Value autograd; train3 adds
position embeddings, attention, RMSNorm and residuals; train4 adds multiple
heads and a layer loop; train5 swaps SGD for Adam and is the full microgpt.

Each trainK.py uses the standard library only and imports nothing from this
package, so it can be copied out and run alone. This module only runs them
in order (or side by side, pool.py), prints one comparison table, and checks
the lecture's claims against the numbers (claims.py); since the rungs read
plain files, it hands them the package's bundled names as a temporary file.
"""
import argparse
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path

from microgpt.data import is_bundled, read_docs, read_text, resolve_data_path
from microgpt.errors import MicroGPTError
from microgpt.files.atomic import atomic_write_text
from microgpt.files.outputs import LADDER_FORMAT, LADDER_RESULTS, Output, check_outputs
from microgpt.ladder import claims, pool

RUNGS = tuple(range(6))
# `--class`: each rung's steps, chosen so the lecture's claims hold where they can within ~3 minutes on
# 2 cores (measured in docs/ladder.md, "Class runs"). train0 counts every training name; train1 is cheap
# per step, so it trains long enough to approach the bigram floor; train2 is the same computation as
# train1 at ten times the cost per step, so it runs briefly and is compared with train1 at its steps;
# train3..train5 share one step count, so multi-head and Adam are compared in the same number of steps;
# 250 is where the attention claim still holds by 20 spreads and the preset's CPU stays under ~270 s.
CLASS_STEPS = {0: None, 1: 4000, 2: 100, 3: 250, 4: 250, 5: 250}
CLASS_JOBS = 2
# The val-loss claims are differences between rungs, and one seed's difference can be noise (claims.py):
# --class reruns the rungs those claims compare at CLASS_SEEDS seeds (--seed, --seed + 1, ...), with
# train1 at train3's steps standing in for train2 (the same arithmetic, checked by the autograd claim).
# train1 at 4,000 steps is not repeated (25 s a seed): its claims against the counts stay one seed's.
CLASS_SEEDS = 3
REPEATED = (0, 3, 4, 5)
# Nine GPT runs at 250 steps take most of the preset's CPU; scoring 1,000 held-out names would add ~25 s to each,
# so --class scores every rung on the first 100 (~715 predictions); the spread over seeds shows the noise.
CLASS_VAL_NAMES = 100
LONGEST_FIRST = (4, 5, 3, 1, 2, 0)  # cost order at the class steps; the short runs last fill the idle core
# What the preset measures (tests/test_ladder_claims.py pins it, docs/ladder.md "Class runs"): these claims
# hold, and the three gains that are a few hundredths of a nat or less are within the noise at these settings.
CLASS_HOLDS = ("grad_check", "mlp_not_below_bigram", "mlp_near_bigram", "autograd_same", "attention_beats_mlp",
               "multihead_params")
CLASS_WITHIN_NOISE = ("attention_beats_bigram", "multihead_helps", "adam_beats_sgd")


def load(rung):
    return importlib.import_module(f"microgpt.ladder.train{rung}")


def format_table(results):
    header = (f"{'rung':<7} {'new idea':<54} {'params':>6} {'steps':>6} {'val loss':>8} {'ppl':>7} "
              f"{'seconds':>8}")
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(f"train{r['rung']:<2} {r['idea']:<54} {r['params']:>6} {r['steps']:>6} {r['val_loss']:>8.4f} "
                     f"{r['val_ppl']:>7.3f} {r['seconds']:>8.1f}")
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="microgpt ladder", description="Run the ladder rungs train0..train5, print a comparison table, and "
        "check the lecture's claims against the numbers (each verdict names the steps it was measured at).")
    parser.add_argument("rungs", nargs="*", metavar="RUNG", help="rung numbers to run, 0-5 (default: all six)")
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps for every rung (default: each rung's own; 1000 for the neural ones, "
                             "every training doc once for train0)")
    parser.add_argument("--class", dest="class_preset", action="store_true",
                        help="the class preset: each rung its own steps (train0 every name, train1 "
                             f"{CLASS_STEPS[1]}, train2 {CLASS_STEPS[2]}, train3-5 {CLASS_STEPS[3]}), "
                             f"{CLASS_JOBS} runs at a time; the rungs the val-loss claims compare are rerun at "
                             f"{CLASS_SEEDS} seeds, each scored on the first {CLASS_VAL_NAMES} held-out names; "
                             "about 3 minutes on 2 free cores")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help=f"rungs run side by side in N processes (default: 1; {CLASS_JOBS} with --class)")
    parser.add_argument("--seed", type=int, default=42, help="seed for shuffle, init and sampling")
    parser.add_argument("--data", default=None,
                        help="names file, one per line (default: $MICROGPT_DATA, else the bundled names)")
    parser.add_argument("--json", default=None, metavar="FILE",
                        help="also write every rung's results and the claims' verdicts to FILE (checked before "
                             "the first rung; it may replace earlier ladder results, other files only with --force)")
    parser.add_argument("--force", action="store_true",
                        help="let --json replace an existing file that is not ladder results")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
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
    if args.class_preset and args.steps is not None:
        print("error: --class sets each rung's steps itself; drop --steps (or --class)", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print(f"error: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return 2

    args.data = str(resolve_data_path(args.data))  # as `microgpt train` finds it; --json records this name
    read_docs(args.data)  # what `train` refuses (a folder, a FIFO, a binary file), refused here with its words
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


def steps_of(rung, args):
    if args.class_preset:
        return CLASS_STEPS[rung]
    return load(rung).DEFAULT_STEPS if args.steps is None else args.steps


def seeds_of(args):
    """The seeds a run covers: --seed, and with --class the next CLASS_SEEDS - 1."""
    return [args.seed + i for i in range(CLASS_SEEDS if args.class_preset else 1)]


def plan(rungs, args):
    """(key, rung, steps, seed, label) for every run: the rungs at --seed; train1 at train2's steps when the
    two differ (the autograd claim compares their per-step losses, which depend on the length of the
    schedule); and with --class the repeats at the other seeds, and train1 at train3's steps at every seed."""
    seed, seeds = args.seed, seeds_of(args)
    jobs = [(f"train{k}", k, steps_of(k, args), seed, f"train{k}") for k in rungs]
    if 1 in rungs and 2 in rungs and steps_of(1, args) != steps_of(2, args):
        jobs.append(("twin", 1, steps_of(2, args), seed, f"train1@{steps_of(2, args)}"))
    for other in seeds[1:]:
        jobs += [(f"train{k}-seed{other}", k, steps_of(k, args), other, f"train{k} seed {other}")
                 for k in rungs if k in REPEATED]
    if args.class_preset and 2 in rungs and 3 in rungs:
        steps = steps_of(3, args)
        jobs += [(f"train2as1-seed{s}", 1, steps, s, f"train1@{steps} seed {s}") for s in seeds]
    return jobs


def options_of(key, rung):
    """Keyword options for one job's run(): train1's gradient check (a few seconds of CPU) only in the run
    whose result the grad_check claim reads, not in train1's reruns at other steps or seeds."""
    return {"check_gradients": False} if rung == 1 and key != "train1" else {}


def repeats_of(runs, rungs, args):
    """One {rung: result} dict per seed, for the claims measured over seeds; None for one seed."""
    if not args.class_preset:
        return None
    repeats = []
    for seed in seeds_of(args):
        rep = {k: runs[f"train{k}" if seed == args.seed else f"train{k}-seed{seed}"] for k in rungs if k in REPEATED}
        stand_in = runs.get(f"train2as1-seed{seed}")
        if stand_in:
            rep[2] = dict(stand_in, rung=2, stand_in=f"train2's numbers are train1's at {stand_in['steps']} steps "
                                                     "(the same arithmetic: the autograd claim)")
        repeats.append(rep)
    return repeats


def run_rungs(rungs, args, data):
    jobs = plan(rungs, args)
    procs = args.jobs or (CLASS_JOBS if args.class_preset else 1)
    val_names = CLASS_VAL_NAMES if args.class_preset else None
    log_every = lambda rung: {0: 10000, 1: 1000 if args.class_preset else 100}.get(rung, 100)
    t0 = time.time()
    try:
        load(0).load_docs(data)  # a bad data file is one line here, not one per process
        if procs == 1:
            runs = run_serially(jobs, data, log_every, val_names)
        else:
            order = sorted(jobs, key=lambda job: (LONGEST_FIRST.index(job[1]), -(job[2] or 0)))
            print(f"[ladder] {len(order)} runs, {procs} at a time:", file=sys.stderr)
            for i, (key, rung, steps, seed, label) in enumerate(order):
                print(f"[ladder {i + 1}/{len(order)}] {label}: {load(rung).IDEA} "
                      f"(steps: {steps if steps is not None else 'all training docs'})", file=sys.stderr, flush=True)
            runs = pool.run_jobs(order, procs, data, log_every, val_names, options_of)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    results = [runs[f"train{k}"] for k in rungs]
    verdicts = claims.check(results, twin=runs.get("twin"), repeats=repeats_of(runs, rungs, args))
    print(f"[ladder] done in {time.time() - t0:.0f} s", file=sys.stderr)
    print(format_table(results))
    if args.class_preset:
        print(f"(seed {args.seed}; val loss on the first {CLASS_VAL_NAMES} held-out names; the val-loss claims "
              f"compare seeds {', '.join(map(str, seeds_of(args)))}: margin = mean per-seed margin, spread = "
              f"its range, within the noise unless |margin| > {claims.NOISE_FACTOR} x spread)")
    print()
    for v in verdicts:
        if not claims.unrun(v):  # a claim about rungs not run is only counted, in the summary line
            print(claims.format_verdict(v))
    print(claims.summary(verdicts))
    if args.json:
        twin = runs.get("twin")
        atomic_write_text(args.json, json.dumps({
            "format": LADDER_FORMAT, "seed": args.seed, "steps": args.steps, "preset": "class" if args.class_preset else None,
            "steps_by_rung": {f"train{r['rung']}": r["steps"] for r in results}, "data": args.data,
            "seeds": seeds_of(args), "val_names": val_names, "spread_is": claims.SPREAD_IS,
            "noise_factor": claims.NOISE_FACTOR, "results": results, "claims": verdicts,
            "train1_at_train2_steps": twin and {k: twin[k] for k in ("steps", "val_loss", "train_loss")}},
            indent=1))
    return 0


def run_serially(jobs, data, log_every, val_names):
    runs = {}
    for i, (key, rung, steps, seed, label) in enumerate(jobs):
        module = load(rung)
        print(f"[ladder {i + 1}/{len(jobs)}] {label}: {module.IDEA} "
              f"(steps: {steps if steps is not None else 'all training docs'})", file=sys.stderr, flush=True)
        prefix = f"  {label} | "
        log = lambda msg: print(prefix + msg, file=sys.stderr, flush=True)
        runs[key] = module.run(steps=steps, seed=seed, data=data, log=log, log_every=log_every(rung),
                               val_names=val_names, **options_of(key, rung))
    return runs
