"""nanoGPT's CPU shakespeare-char run and the same run in microgpt, side by side.

Both trainings run at the same time, one thread each, so a shared machine's
load falls on both alike; the matmul peak is measured just before and just
after them. Prints one markdown table: tokens/s (wall time of the training
steps, evaluation steps left out on both sides), tokens per CPU-second, MFU,
and the validation loss at the steps asked for.

nanoGPT is not part of this project: give the path of a checkout whose
data/shakespeare_char holds train.bin and val.bin (its prepare.py, run with
the text saved as input.txt beside it). Usage:

    python scripts/compare_nanogpt.py --nanogpt ~/nanoGPT --text input.txt --dtype bfloat16
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12)  # nanoGPT's README CPU config


def nanogpt_command(args, out_dir):
    s = SIZES
    return [sys.executable, "train.py", "config/train_shakespeare_char.py", "--device=cpu", "--compile=False",
            f"--eval_iters={args.eval_iters}", "--log_interval=1", f"--block_size={s['block_size']}",
            f"--batch_size={s['batch_size']}", f"--n_layer={s['n_layer']}", f"--n_head={s['n_head']}",
            f"--n_embd={s['n_embd']}", f"--max_iters={args.steps}", f"--lr_decay_iters={args.steps}",
            "--dropout=0.0", f"--eval_interval={args.eval_every}", f"--out_dir={out_dir}"]


def microgpt_command(args, log, out):
    s = SIZES
    return [sys.executable, "-m", "microgpt", "train", "--engine", "torch", "--device", "cpu",
            "--dtype", args.dtype, "--text", args.text, "--n-layer", str(s["n_layer"]), "--n-head", str(s["n_head"]),
            "--n-embd", str(s["n_embd"]), "--block-size", str(s["block_size"]), "--batch-size", str(s["batch_size"]),
            "--steps", str(args.steps), "--lr", "1e-3", "--warmup-steps", str(min(100, args.steps // 2)), "--schedule", "cosine",
            "--beta1", "0.9", "--beta2", "0.99", "--weight-decay", "0.1", "--grad-clip", "1.0",
            "--eval-every", str(args.eval_every), "--samples", "0", "--log", str(log), "--out", str(out), "--force"]


def peaks(samples=5, seconds=0.4, n=512):
    """GFLOP/s of an n x n torch matmul per CPU-second of this (one-threaded)
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


def run_both(args, tmp):
    """Start both trainings at once; (stdout, wall seconds, CPU seconds) of each."""
    log, out = Path(tmp) / "microgpt.jsonl", Path(tmp) / "microgpt.json"
    results = {}
    procs = {}
    for name, cmd, cwd, threads in (
            ("nanogpt", nanogpt_command(args, Path(tmp) / "nanogpt"), args.nanogpt, args.nanogpt_threads),
            ("microgpt", microgpt_command(args, log, out), None, 1)):
        stdout = open(Path(tmp) / f"{name}.out", "w+")
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=stdout, stderr=subprocess.STDOUT,
                                env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
        procs[proc.pid] = (name, stdout, start)
    while procs:
        pid, status, usage = os.wait4(-1, 0)
        if pid not in procs:
            continue
        name, stdout, start = procs.pop(pid)
        stdout.seek(0)
        text = stdout.read()
        if status:
            sys.exit(f"{name} failed:\n{text[-3000:]}")
        results[name] = (text, time.perf_counter() - start, usage.ru_utime + usage.ru_stime)
    return results, log


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


def speed_window(args, seconds):
    """Both trainings at once for `seconds`, their validation off; steps/s of each
    over the same stretch of wall time (the first quarter, start-up and warm-up,
    left out), read live from their per-step lines. Neither gets the machine to
    itself at the end, as it would if one finished first."""
    import threading

    quiet = argparse.Namespace(**{**vars(args), "eval_every": 10 ** 6, "eval_iters": 1, "steps": 10 ** 5})
    stamps = {"nanogpt": [], "microgpt": []}
    with tempfile.TemporaryDirectory() as tmp:
        cmds = {"nanogpt": (nanogpt_command(quiet, Path(tmp) / "ng"), args.nanogpt, args.nanogpt_threads,
                            re.compile(r"^iter \d+:")),
                "microgpt": (microgpt_command(quiet, Path(tmp) / "mg.jsonl", Path(tmp) / "mg.json"), None, 1,
                             re.compile(r"^step +\d+ /"))}
        procs, start = [], time.perf_counter()

        def read(name, proc, pattern):
            for line in proc.stdout:
                if pattern.match(line):
                    stamps[name].append(time.perf_counter() - start)

        for name, (cmd, cwd, threads, pattern) in cmds.items():
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
            procs.append(proc)
            threading.Thread(target=read, args=(name, proc, pattern), daemon=True).start()
        time.sleep(seconds)
        for proc in procs:
            proc.kill()
            proc.wait()
    lo = seconds / 4
    return {name: sum(lo <= t <= seconds for t in ts) / (seconds - lo) for name, ts in stamps.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nanogpt", required=True, help="a nanoGPT checkout with data/shakespeare_char prepared")
    p.add_argument("--text", required=True, help="the same text, for microgpt --text")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--eval-iters", type=int, default=200, help="nanoGPT's batches per validation estimate")
    p.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16"])
    p.add_argument("--nanogpt-threads", type=int, default=1)
    p.add_argument("--speed-only", type=float, metavar="SECONDS",
                   help="only the speed: both at once for SECONDS, twice, steps/s over the same window")
    args = p.parse_args(argv)
    if args.speed_only:
        tokens = SIZES["batch_size"] * SIZES["block_size"]
        print(f"load average {os.getloadavg()[0]:.1f}")
        print("| round | nanoGPT tokens/s | microgpt tokens/s | x nanoGPT |\n| --- | --- | --- | --- |")
        for r in (1, 2):
            rates = speed_window(args, args.speed_only)
            print(f"| {r} | {rates['nanogpt'] * tokens:,.0f} | {rates['microgpt'] * tokens:,.0f} | "
                  f"{rates['microgpt'] / rates['nanogpt']:.2f} |", flush=True)
        print(f"load average {os.getloadavg()[0]:.1f}")
        return
    from microgpt.config import GPTConfig
    from microgpt.flops import flops_per_token

    before = peaks()
    load0, t0 = os.getloadavg()[0], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        results, log = run_both(args, tmp)
        load1, wall = os.getloadavg()[0], time.perf_counter() - t0
        ng_dts, ng_vals = nanogpt_results(results["nanogpt"][0], args.eval_every)
        mg_dts, mg_vals = microgpt_results(log, args.eval_every)
    after = peaks()
    vocab = len(set(Path(args.text).read_text(encoding="utf-8")))
    per_token = flops_per_token(GPTConfig(vocab + 1, SIZES["n_embd"], SIZES["n_head"], SIZES["n_layer"],
                                          SIZES["block_size"]))
    tokens = SIZES["batch_size"] * SIZES["block_size"]
    peak = {k: max(before[k], after[k]) for k in before}
    print(f"both runs at once, {wall:.0f} s; load average {load0:.1f} at the start, {load1:.1f} at the end; "
          f"torch matmul peak on 1 thread, per CPU-second (before/after): float32 {before['float32']:.0f}/"
          f"{after['float32']:.0f}, bfloat16 {before['bfloat16']:.0f}/{after['bfloat16']:.0f} GFLOP/s; "
          f"{per_token / 1e6:.2f} MFLOP per token (6 per matmul weight + attention)\n")
    marks = sorted(set(ng_vals) & set(mg_vals) - {0})
    head = ["run", "tokens/s", "x nanoGPT", "CPU share", "tokens/CPU-s", "GFLOP/CPU-s", "MFU (fp32 peak)",
            "MFU (bf16 peak)"] + [f"val loss @ {m}" for m in marks]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    base = None
    for name, dts, vals, key in (
            (f"nanoGPT (float32, {args.nanogpt_threads} thread(s))", ng_dts, ng_vals, "nanogpt"),
            (f"microgpt --engine torch --dtype {args.dtype}", mg_dts, mg_vals, "microgpt")):
        tok_s = tokens * len(dts) / sum(dts)
        base = base or tok_s
        _, wall_s, cpu_s = results[key]
        share = cpu_s / wall_s  # of a core, over the whole process (start-up and evaluations included)
        gflops = tok_s / share * per_token / 1e9
        cells = [name, f"{tok_s:,.0f}", f"{tok_s / base:.2f}", f"{share:.2f}", f"{tok_s / share:,.0f}",
                 f"{gflops:.1f}", f"{gflops / peak['float32']:.0%}", f"{gflops / peak['bfloat16']:.0%}"]
        print("| " + " | ".join(cells + [f"{vals[m]:.4f}" for m in marks]) + " |")


if __name__ == "__main__":
    main()
