"""`microgpt bench`: the engines timed side by side (the work is in microgpt/bench/)."""

import argparse
import os

from microgpt.cli.args import add_data_arg, add_engine_options, nonneg_int, positive_float, positive_int


def cmd_bench(args):
    import json
    import platform

    from microgpt.engines import cpu

    cpu.check_threads(args.threads)
    # One count for every engine and library timed, fixed now: each engine deciding for
    # itself would compare engines on different thread counts. BLAS reads these when
    # NumPy is first imported, which has not happened yet in this process.
    threads = cpu.decide(args.threads)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads.count)
    try:
        import torch

        torch.set_num_threads(threads.count)
    except ImportError:
        pass
    from microgpt import bench
    from microgpt.data import read_docs, read_text, resolve_data_path
    from microgpt.errors import MicroGPTError, UsageError
    from microgpt.tokenizer import Tokenizer

    if args.text and args.data:
        raise UsageError("give --data (documents) or --text (one text), not both")
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()] if args.engines else None
    bench.check_names(configs, engines, args.device, args.dtype, args.compile)  # before any timing
    if args.reference and args.text:
        raise UsageError("--reference runs the original on documents; it cannot be timed with --text")
    if args.reference:  # read now, not after the engines were timed
        read_text(args.reference, what="--reference script")
    if args.json:  # checked now, not after minutes of timing
        from pathlib import Path

        from microgpt.files.outputs import BENCH_RESULTS, Output, check_outputs

        inputs = [("the data", args.data), ("the text", args.text), ("the original program", args.reference)]
        check_outputs([Output("--json", Path(args.json), BENCH_RESULTS, new_folders=True)], inputs,
                      force=args.force)
    if args.text:
        path, docs, text = args.text, None, read_text(args.text, "text file")
        what = f"text {path} ({len(text):,} characters, random windows)"
    else:
        path, text = resolve_data_path(args.data), None
        docs = read_docs(path)
        what = f"data {path} ({len(docs)} docs)"
    data_text = "\n".join(docs) + "\n" if args.reference and docs else None
    rows, notes = bench.run(docs, configs, engines, text=text, steps=args.steps, warmup=args.warmup,
                            block=args.block, max_seconds=args.max_seconds, slow=args.slow,
                            reference=args.reference, reference_steps=args.reference_steps, data_text=data_text,
                            reference_from=args.reference_from,
                            device=args.device, dtype=args.dtype, compile=args.compile)
    print(f"microgpt bench | {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{threads.describe()} | {what}")
    for line in bench.describe_configs(configs, Tokenizer.from_docs(docs or [text]).vocab_size):
        print(f"  {line}")
    print(format_table(rows))
    print("ratios are of tokens/s (per real token, i.e. per document-step at any batch size)")
    print("MFU: % of the matmul peak of the row's library and number format, measured in this run: "
          + peaks_line(rows))
    print(f"\nCPU time (this process, all threads) and losses against the config's reference engine "
          f"(turns of {args.block} steps):")
    print(format_cpu_table(rows))
    for note in notes:
        print(f"note: {note}")
    if args.json:
        from microgpt.files.atomic import atomic_write_text
        from microgpt.files.outputs import BENCH_FORMAT

        atomic_write_text(args.json, json.dumps({"format": BENCH_FORMAT, "rows": rows, "notes": notes}, indent=1))
    wrong = bench.disagreements(rows)
    if wrong:
        raise MicroGPTError(f"losses disagree: {'; '.join(wrong)}")
    return 0


def peaks_line(rows):
    """The matmul peaks the MFU column was taken against, and torch's float32 and
    bfloat16 ones on the CPU whatever was timed: e.g. 'torch float32 183 GFLOP/s'."""
    from microgpt.flops import matmul_peak

    seen = {r["peak_of"]: r["peak_gflops"] for r in rows if r.get("peak_gflops")}
    for dtype in ("float32", "bfloat16"):
        peak = matmul_peak("torch", dtype, "cpu")
        if peak:
            seen.setdefault(f"torch {dtype} cpu", peak)
    return "; ".join(f"{what} {gf:,.0f} GFLOP/s" for what, gf in seen.items()) or "none measured"


def _num(x, fmt):
    return "-" if x is None else format(x, fmt)


def _small(x, fmt=".1e"):
    return "0" if x == 0 else format(x, fmt)


def _aligned(head, body, left=2):
    """Columns padded to their widest cell: the first `left` (names) left-aligned, numbers right."""
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]

    def fmt(row):
        return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(row) for row in body])


def format_table(rows):
    head = ["config", "engine", "steps", "ms/step", "ms/doc", "tokens/s", "x scalar", "x original", "GFLOP/s", "MFU"]
    body = [[r["config"], r["engine"], str(r["steps"]), f"{r['ms_step']:,.2f}", f"{r['ms_doc']:,.3f}",
             f"{r['tok_s']:,.0f}", _num(r["x_scalar"], ",.1f"), _num(r["x_original"], ",.1f"),
             _num(r.get("gflops"), ",.2f"), _num(None if r.get("mfu") is None else 100 * r["mfu"], ".1f")]
            for r in rows]
    return _aligned(head, body)


def format_cpu_table(rows):
    head = ["config", "engine", "cpu ms/step", "cpu/wall", "x scalar", "losses vs", "steps", "max diff", "limit",
            "agree"]
    body = []
    for r in rows:
        cpu = r["cpu_ms_step"]
        if r["loss_ok"] is None:  # the original, the reference itself, or a precision not compared
            loss = ["(reference)" if r["loss_ref"] == r["engine"] else "-", "-", "-", "-", "-"]
        else:
            loss = [r["loss_ref"], str(r["loss_steps"]), _small(r["loss_diff"]), _small(r["loss_limit"], ".0e"),
                    "yes" if r["loss_ok"] else "NO"]
        body.append([r["config"], r["engine"], _num(cpu, ",.2f"), _num(None if cpu is None else cpu / r["ms_step"], ".2f"),
                     _num(r["x_scalar_cpu"], ",.1f"), *loss])
    return _aligned(head, body)


def config_help():
    from microgpt.bench import CONFIGS, DEFAULT_CONFIGS, RENAMED

    width = max(map(len, CONFIGS))
    renamed = ", ".join(f"{old} = {new}" for old, new in RENAMED.items())
    return "\n".join([
        f"configs (--configs; default: {','.join(DEFAULT_CONFIGS)}; params for the names' 27 characters):",
        *(f"  {name:<{width}}  {c.about}" for name, c in CONFIGS.items()),
        "  The old scripts/bench_torch.py's names are refused, with the new one:",
        f"  {renamed}.",
        "",
        "examples:",
        "  microgpt bench --data names.txt --threads 1",
        "  microgpt bench --data names.txt --engines scalar,fused --configs default --steps 80 --block 10",
        "  microgpt bench --text input.txt --configs shakespeare-gpu --engines torch,pytorch --device cuda",
    ]) + "\n"


def register(sub):
    from microgpt.bench import DEFAULT_CONFIGS

    p = sub.add_parser("bench", help="time the engines side by side",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=config_help(),
                       description="Time training steps of every available engine on the same configs, "
                                   "weights and batches, taking turns; print ms/step, tokens/s, CPU time, ratios, "
                                   "and check that engines which should compute the same losses do.")
    add_data_arg(p)
    p.add_argument("--text", metavar="FILE",
                   help="time on one long text in random windows of block-size + 1 characters, "
                        "instead of one document per line")
    p.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
                   help=f"comma-separated config names, listed below (default: {','.join(DEFAULT_CONFIGS)})")
    p.add_argument("--engines", help="comma-separated engines to time, e.g. scalar,numpy,numpy-f32,pytorch "
                                     "(default: every one available)")
    p.add_argument("--steps", type=positive_int, default=20, help="timed steps per engine and config (default: 20)")
    p.add_argument("--warmup", type=nonneg_int, default=2, help="untimed steps first (default: 2)")
    p.add_argument("--block", type=positive_int, default=5,
                   help="the engines take turns of this many steps, so a machine that gets busier slows all "
                        "alike; >= --steps runs each engine's steps back to back (default: 5)")
    p.add_argument("--max-seconds", type=positive_float, default=10.0,
                   help="stop timing an engine after this long, once one step is done (default: 10)")
    p.add_argument("--slow", action="store_true",
                   help="also time the pure-Python engines (scalar, fused) on small and large, "
                        "without warm-up, until --max-seconds (a single step of scalar)")
    p.add_argument("--reference", metavar="MICROGPT_PY",
                   help="also time the original microgpt.py at this path (run with num_steps patched, "
                        "input.txt beside it)")
    p.add_argument("--reference-steps", type=positive_int, default=10,
                   help="steps the original is timed over (default: 10)")
    p.add_argument("--reference-from", type=positive_int, default=1, metavar="N",
                   help="time the original over its steps N+1 .. N+reference-steps (default: 1); its step gets "
                        "slower as a run goes on, so a later window gives its steady-state cost")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON (every row, its losses, the notes)")
    p.add_argument("--force", action="store_true",
                   help="let --json replace an existing file that is not microgpt bench results "
                        "(never an input, a folder or a device)")
    add_engine_options(p)  # --device (the torch engine and plain PyTorch), --dtype (the torch engine)
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the torch engine's model (the warm-up steps absorb the compiling)")
    p.set_defaults(func=cmd_bench)
