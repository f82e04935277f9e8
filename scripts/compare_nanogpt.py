"""nanoGPT's CPU shakespeare-char run and the same run in microgpt, side by side.

Two ways, each one command (docs/performance.md has the tables they printed):

    --mode sequential   (a) each program as its user runs it: no thread settings,
                        microgpt's default number format, no pinning; one after
                        the other, nanoGPT first, on a machine otherwise idle
    --mode pinned       (b) both at once, each pinned to a core of its own (its
                        affinity set before it starts), defaults otherwise: a
                        shared machine's load falls on both alike

Each prints one markdown table: tokens/s (wall time of the training steps,
evaluation steps left out on both sides), tokens per CPU-second, MFU, the
validation loss at --marks, and the load average beside each figure (at the
start and the end of each run). The matmul peaks that MFU is taken against are
measured on one thread just before and just after.

    --mode loaded       microgpt alone, on a machine made busy by two CPU-bound
                        processes this script starts: its default thread count
                        against every fixed one (--threads 1 .. CPUs), taking
                        turns; the default's tokens/s against the best fixed one

nanoGPT is not part of this project: give a checkout of it (--nanogpt); its
data/shakespeare_char/train.bin and val.bin are made on first use with its own
prepare.py from --text. Usage:

    python scripts/compare_nanogpt.py --nanogpt /tmp/nanogpt --text shakespeare.txt --mode sequential
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from microgpt.config import GPTConfig
from microgpt.engines import cpu
from microgpt.flops import flops_per_token

SIZES = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12)  # nanoGPT's README CPU config
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def as_users_run_it():
    """This environment without the thread variables: each library picks its own count."""
    return {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}


def load_now():
    """'1-minute load average / other runnable tasks now', e.g. '1.9 / 0'."""
    busy, _ = cpu.busy_now()
    return f"{os.getloadavg()[0]:.1f} / {busy:g}"


def nanogpt_command(args, out_dir):
    s = SIZES
    return [sys.executable, "train.py", "config/train_shakespeare_char.py", "--device=cpu", "--compile=False",
            f"--eval_iters={args.eval_iters}", "--log_interval=1", f"--block_size={s['block_size']}",
            f"--batch_size={s['batch_size']}", f"--n_layer={s['n_layer']}", f"--n_head={s['n_head']}",
            f"--n_embd={s['n_embd']}", f"--max_iters={args.steps}", f"--lr_decay_iters={args.steps}",
            "--dropout=0.0", f"--eval_interval={args.eval_every}", f"--out_dir={out_dir}"]


def microgpt_command(args, log, out, threads=None):
    s = SIZES
    chosen = (["--dtype", args.dtype] if args.dtype else []) + (["--threads", str(threads)] if threads else [])
    return [sys.executable, "-m", "microgpt", "train", "--engine", "torch", "--device", "cpu", *chosen,
            "--text", args.text, "--n-layer", str(s["n_layer"]), "--n-head", str(s["n_head"]),
            "--n-embd", str(s["n_embd"]), "--block-size", str(s["block_size"]), "--batch-size", str(s["batch_size"]),
            "--steps", str(args.steps), "--lr", "1e-3", "--warmup-steps", str(min(100, args.steps // 2)),
            "--schedule", "cosine", "--beta1", "0.9", "--beta2", "0.99", "--weight-decay", "0.1",
            "--grad-clip", "1.0", "--eval-every", str(args.eval_every), "--samples", "0", "--log", str(log),
            "--out", str(out), "--force"]


def prepare_nanogpt_data(args):
    """train.bin and val.bin from --text, by nanoGPT's own prepare.py. It imports
    `requests` to download the text when input.txt is missing; input.txt is
    given here, so an empty stand-in module lets it run where requests is not
    installed."""
    folder = Path(args.nanogpt) / "data" / "shakespeare_char"
    if (folder / "train.bin").exists() and (folder / "val.bin").exists():
        return
    shutil.copyfile(args.text, folder / "input.txt")
    run_prepare = ("import runpy, sys, types; sys.modules.setdefault('requests', types.ModuleType('requests')); "
                   "runpy.run_path('prepare.py', run_name='__main__')")
    subprocess.run([sys.executable, "-c", run_prepare], cwd=folder, check=True, stdout=subprocess.DEVNULL)


def peaks(samples=5, seconds=0.4, n=512):
    """GFLOP/s of an n x n torch matmul per CPU-second of one thread of this
    process, best of a few samples: what one core does while it runs, whatever
    share of it a busy machine leaves us."""
    import torch

    torch.set_num_threads(1)
    out = {}
    for dtype in ("float32", "bfloat16"):
        a = torch.randn(n, n, dtype=getattr(torch, dtype))
        best = 0.0
        for _ in range(samples):
            count, start = 0, time.process_time()
            while time.process_time() - start < seconds:
                a @ a
                count += 1
            best = max(best, 2 * n ** 3 * count / (time.process_time() - start) / 1e9)
        out[dtype] = best
    return out


class Launched:
    """A training started in the background: its output in a file, its start time and load."""

    def __init__(self, name, cmd, cwd, tmp, core=None):
        self.name, self.load_start = name, load_now()
        self.stdout = open(Path(tmp) / f"{name}.out", "w+")
        pin = (lambda: os.sched_setaffinity(0, {core})) if core is not None else None
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdout=self.stdout, stderr=subprocess.STDOUT,
                                     env=as_users_run_it(), preexec_fn=pin)

    def finished(self, status, usage):
        """(stdout, wall seconds, CPU seconds, load at the start, load at the end)."""
        wall = time.perf_counter() - self.start
        self.stdout.seek(0)
        text = self.stdout.read()
        if status:
            sys.exit(f"{self.name} failed:\n{text[-3000:]}")
        return text, wall, usage.ru_utime + usage.ru_stime, self.load_start, load_now()


def wait_all(launched):
    """Every launched training's finished() result, by name, as each one ends."""
    by_pid = {run.proc.pid: run for run in launched}
    results = {}
    while by_pid:
        pid, status, usage = os.wait4(-1, 0)
        if pid in by_pid:
            run = by_pid.pop(pid)
            results[run.name] = run.finished(status, usage)
    return results


def run_trainings(args, tmp, mode):
    """Both trainings, one after the other (sequential) or at once on a core each (pinned)."""
    commands = {"nanogpt": (nanogpt_command(args, Path(tmp) / "nanogpt"), args.nanogpt),
                "microgpt": (microgpt_command(args, Path(tmp) / "microgpt.jsonl", Path(tmp) / "microgpt.json"), None)}
    if mode == "sequential":
        results = {}
        for name, (cmd, cwd) in commands.items():
            results.update(wait_all([Launched(name, cmd, cwd, tmp)]))
        return results
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        sys.exit("--mode pinned needs two CPUs this process may use")
    return wait_all([Launched(name, cmd, cwd, tmp, core) for (name, (cmd, cwd)), core in zip(commands.items(), cores)])


def nanogpt_results(stdout, eval_every):
    """(per-step seconds of the steps without an evaluation, {step: val loss})."""
    dts = [(int(m[1]), float(m[2]) / 1e3) for m in re.finditer(r"^iter (\d+): loss [\d.]+, time ([\d.]+)ms", stdout, re.M)]
    vals = {int(m[1]): float(m[2]) for m in re.finditer(r"^step (\d+): train loss [\d.]+, val loss ([\d.]+)", stdout, re.M)}
    return [dt for step, dt in dts if step % eval_every and step > 0], vals


def microgpt_results(log_path, eval_every):
    records = [json.loads(line) for line in Path(log_path).read_text().splitlines()]
    steps = [r for r in records if "loss" in r]
    vals = {r["step"]: r["val_loss"] for r in records if "val_loss" in r}
    dts, previous = [], 0.0
    for r in steps:  # the step after an evaluation carries its time: left out, as nanoGPT's are
        if (r["step"] - 1) % eval_every and r["step"] > 1:
            dts.append(r["elapsed"] - previous)
        previous = r["elapsed"]
    return dts, vals


def microgpt_choices(stdout):
    """What microgpt chose for itself, from its own lines: its number format and threads."""
    dtype = re.search(r"^engine: torch on cpu, (.+)$", stdout, re.M)
    threads = re.search(r"; on (\d+ threads? \(.+\))$", stdout, re.M)
    return ", ".join(m[1] for m in (dtype, threads) if m)


def compare(args):
    prepare_nanogpt_data(args)
    before = peaks()
    with tempfile.TemporaryDirectory() as tmp:
        results = run_trainings(args, tmp, args.mode)
        ng_dts, ng_vals = nanogpt_results(results["nanogpt"][0], args.eval_every)
        mg_dts, mg_vals = microgpt_results(Path(tmp) / "microgpt.jsonl", args.eval_every)
    after = peaks()
    vocab = len(set(Path(args.text).read_text(encoding="utf-8")))
    per_token = flops_per_token(GPTConfig(vocab + 1, SIZES["n_embd"], SIZES["n_head"], SIZES["n_layer"],
                                          SIZES["block_size"]))
    tokens = SIZES["batch_size"] * SIZES["block_size"]
    peak = {k: max(before[k], after[k]) for k in before}
    how = {"sequential": "one after the other, each as its user runs it (no thread settings, no pinning)",
           "pinned": "both at once, each pinned to a core of its own, defaults otherwise"}[args.mode]
    print(f"--mode {args.mode}: {how}; {args.steps} steps. microgpt chose: {microgpt_choices(results['microgpt'][0])}. "
          f"Load: 1-minute load average / other runnable tasks, at the start -> at the end of each run. "
          f"torch matmul peak on 1 thread, per CPU-second (before/after): float32 {before['float32']:.0f}/"
          f"{after['float32']:.0f}, bfloat16 {before['bfloat16']:.0f}/{after['bfloat16']:.0f} GFLOP/s; "
          f"{per_token / 1e6:.2f} MFLOP per token (6 per matmul weight + attention)\n")
    marks = [m for m in args.marks if m in ng_vals and m in mg_vals]
    head = ["run", "load", "tokens/s", "x nanoGPT", "CPU share", "tokens/CPU-s", "MFU (fp32 peak)",
            "MFU (bf16 peak)"] + [f"val loss @ {m}" for m in marks]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    base = None
    for name, dts, vals in (("nanoGPT", ng_dts, ng_vals), ("microgpt", mg_dts, mg_vals)):
        tok_s = tokens * len(dts) / sum(dts)
        base = base or tok_s
        _, wall_s, cpu_s, load_start, load_end = results[name.lower()]
        share = cpu_s / wall_s  # of a core, over the whole process (start-up and evaluations included)
        gflops = tok_s / share * per_token / 1e9
        cells = [name, f"{load_start} -> {load_end}", f"{tok_s:,.0f}", f"{tok_s / base:.2f}", f"{share:.2f}",
                 f"{tok_s / share:,.0f}", f"{gflops / peak['float32']:.0%}", f"{gflops / peak['bfloat16']:.0%}"]
        print("| " + " | ".join(cells + [f"{vals[m]:.4f}" for m in marks]) + " |")


def speed_window(args, seconds):
    """Both trainings at once for `seconds`, pinned as --mode pinned, their
    validation off; steps/s of each over the same stretch of wall time (the
    first quarter, start-up and warm-up, left out), read live from their
    per-step lines. Neither gets the machine to itself at the end, as it would
    if one finished first."""
    quiet = argparse.Namespace(**{**vars(args), "eval_every": 10 ** 6, "eval_iters": 1, "steps": 10 ** 5})
    stamps = {"nanogpt": [], "microgpt": []}
    cores = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        cmds = {"nanogpt": (nanogpt_command(quiet, Path(tmp) / "ng"), args.nanogpt, re.compile(r"^iter \d+:")),
                "microgpt": (microgpt_command(quiet, Path(tmp) / "mg.jsonl", Path(tmp) / "mg.json"), None,
                             re.compile(r"^step +\d+ /"))}
        procs, start = [], time.perf_counter()

        def read(name, proc, pattern):
            for line in proc.stdout:
                if pattern.match(line):
                    stamps[name].append(time.perf_counter() - start)

        for (name, (cmd, cwd, pattern)), core in zip(cmds.items(), cores):
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    env=as_users_run_it(), preexec_fn=lambda core=core: os.sched_setaffinity(0, {core}))
            procs.append(proc)
            threading.Thread(target=read, args=(name, proc, pattern), daemon=True).start()
        time.sleep(seconds)
        for proc in procs:
            proc.kill()
            proc.wait()
    lo = seconds / 4
    return {name: sum(lo <= t <= seconds for t in ts) / (seconds - lo) for name, ts in stamps.items()}


def speed_only(args):
    prepare_nanogpt_data(args)
    tokens = SIZES["batch_size"] * SIZES["block_size"]
    print("| round | load | nanoGPT tokens/s | microgpt tokens/s | x nanoGPT |\n| --- | --- | --- | --- | --- |")
    for r in (1, 2):
        load = load_now()
        rates = speed_window(args, args.speed_only)
        print(f"| {r} | {load} -> {load_now()} | {rates['nanogpt'] * tokens:,.0f} | {rates['microgpt'] * tokens:,.0f} | "
              f"{rates['microgpt'] / rates['nanogpt']:.2f} |", flush=True)


def loaded(args):
    """microgpt's default thread count against each fixed one, with two CPU-bound
    processes running; each setting in turn, --rounds times."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    settings = [None] + list(range(1, (os.cpu_count() or 1) + 1))  # None: the default
    rates = {s: [] for s in settings}
    chosen = []
    try:
        time.sleep(2)  # the run queue shows them
        with tempfile.TemporaryDirectory() as tmp:
            quiet = argparse.Namespace(**{**vars(args), "eval_every": 10 ** 6})
            for _ in range(args.rounds):
                for s in settings:
                    load = load_now()
                    cmd = microgpt_command(quiet, Path(tmp) / "mg.jsonl", Path(tmp) / "mg.json", threads=s)
                    out = subprocess.run(cmd, env=as_users_run_it(), capture_output=True, text=True)
                    if out.returncode:
                        sys.exit(f"microgpt failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
                    tok_s = float(re.search(r"^trained \d+ steps in [\d.]+s \(([\d,]+) tokens/s", out.stdout, re.M)[1]
                                  .replace(",", ""))
                    rates[s].append((tok_s, load))
                    if s is None:
                        chosen.append(microgpt_choices(out.stdout))
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    print(f"two CPU-bound processes running; {args.steps} steps a run, {args.rounds} rounds taking turns; "
          f"the default chose: {'; '.join(chosen)}\n")
    print("| threads | load at each start | tokens/s, each round | median |\n| --- | --- | --- | ---: |")
    median = {s: sorted(r for r, _ in runs)[len(runs) // 2] for s, runs in rates.items()}
    for s, runs in rates.items():
        print(f"| {'default' if s is None else f'--threads {s}'} | {', '.join(load for _, load in runs)} | "
              f"{', '.join(f'{r:,.0f}' for r, _ in runs)} | {median[s]:,.0f} |")
    best = max(median[s] for s in settings if s is not None)
    print(f"\ndefault / best fixed count (medians): {median[None] / best:.2f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nanogpt", help="a nanoGPT checkout (its shakespeare_char data is prepared on first use)")
    p.add_argument("--text", required=True, help="the text both train on (nanoGPT's input.txt, microgpt's --text)")
    p.add_argument("--mode", choices=["sequential", "pinned", "loaded"], default="sequential")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--marks", type=lambda s: [int(x) for x in s.split(",")], default=[500, 1000, 2000],
                   help="the steps whose validation loss the table shows (default: 500,1000,2000)")
    p.add_argument("--eval-iters", type=int, default=200, help="nanoGPT's batches per validation estimate")
    p.add_argument("--dtype", choices=["float32", "bfloat16"], help="microgpt's (default: its own choice)")
    p.add_argument("--rounds", type=int, default=3, help="--mode loaded: turns of each setting (default: 3)")
    p.add_argument("--speed-only", type=float, metavar="SECONDS",
                   help="only the speed: both at once, pinned, for SECONDS, twice; steps/s over the same window")
    args = p.parse_args(argv)
    if args.mode == "loaded":
        return loaded(args)
    if not args.nanogpt:
        p.error("--nanogpt is needed for --mode sequential and pinned, and --speed-only")
    return speed_only(args) if args.speed_only else compare(args)


if __name__ == "__main__":
    main()
