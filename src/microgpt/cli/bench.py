"""`microgpt bench`: the engines timed side by side (microgpt/bench.py)."""

import os

from microgpt.cli.args import add_data_arg, nonneg_int, positive_float, positive_int


def cmd_bench(args):
    import json
    import platform

    if args.threads:
        # BLAS reads these when NumPy is first imported, which has not happened yet in this process
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    from microgpt import bench
    from microgpt.data import read_docs, resolve_data_path

    path = resolve_data_path(args.data)
    docs = read_docs(path)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()] if args.engines else None
    data_text = "\n".join(docs) + "\n" if args.reference else None
    rows, notes = bench.run(docs, configs, engines, steps=args.steps, warmup=args.warmup,
                            max_seconds=args.max_seconds, slow=args.slow, reference=args.reference,
                            reference_steps=args.reference_steps, data_text=data_text)
    threads = f"{args.threads} thread(s)" if args.threads else "library default threads"
    print(f"microgpt bench | {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{threads} | data {path} ({len(docs)} docs)")
    for line in bench.describe_configs(configs, len(set("".join(docs))) + 1):
        print(f"  {line}")
    print(bench.format_table(rows))
    print("ratios are of tokens/s (per real token, i.e. per document-step at any batch size)")
    for note in notes:
        print(f"note: {note}")
    if args.json:
        from microgpt.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps({"rows": rows, "notes": notes}, indent=1))
    return 0


def register(sub):
    p = sub.add_parser("bench", help="time the engines side by side",
                       description="Time training steps of every available engine on the same configs, "
                                   "weights and documents; print ms/step, tokens/s and ratios.")
    add_data_arg(p)
    p.add_argument("--configs", default="default,default-b32,large",
                   help="comma-separated: default (B=1), default-b32, large (4 layers, 128 wide, block 32, B=32) "
                        "(default: all three)")
    p.add_argument("--engines", help="comma-separated engines to time, e.g. scalar,numpy,numpy-f32,pytorch "
                                     "(default: every one available)")
    p.add_argument("--steps", type=positive_int, default=20, help="timed steps per engine and config (default: 20)")
    p.add_argument("--warmup", type=nonneg_int, default=2, help="untimed steps first (default: 2)")
    p.add_argument("--max-seconds", type=positive_float, default=10.0,
                   help="stop timing an engine after this long, once one step is done (default: 10)")
    p.add_argument("--slow", action="store_true", help="also time the scalar engine on the large config (1 step)")
    p.add_argument("--reference", metavar="MICROGPT_PY",
                   help="also time the original microgpt.py at this path (run with num_steps patched, "
                        "input.txt beside it)")
    p.add_argument("--reference-steps", type=positive_int, default=10,
                   help="steps the original is timed over (default: 10)")
    p.add_argument("--threads", type=positive_int,
                   help="threads for BLAS (NumPy) and PyTorch (default: each library's own choice)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.set_defaults(func=cmd_bench)
