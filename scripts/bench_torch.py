"""Training throughput (tokens/s) of the engines side by side, on the same configs.

    python scripts/bench_torch.py                       # names, default configs, every engine installed
    python scripts/bench_torch.py --engines torch --device cuda --dtype bfloat16 --configs big

Each engine runs optimizer steps on the same batches (names documents, or
windows of --text FILE) from the same initial weights, for about --seconds
after one untimed warm-up step (compilation, allocation), and reports real
(unpadded) tokens per second. Engines that are not installed are skipped.
"""

import argparse
import random
import sys
import time

from microgpt.config import GPTConfig, TrainConfig
from microgpt.data import read_docs, resolve_data_path
from microgpt.engines import ENGINES, make_engine
from microgpt.model import init_weights, num_params
from microgpt.text import random_windows, read_text
from microgpt.tokenizer import Tokenizer

# name: (n_embd, n_head, n_layer, block_size, batch_size)
CONFIGS = {
    "tiny": (16, 4, 1, 16, 1),  # the original microgpt.py, one document per step
    "tiny-b32": (16, 4, 1, 16, 32),
    "small": (64, 4, 2, 32, 32),
    "big": (384, 6, 6, 256, 64),  # nanoGPT's shakespeare-char: for a GPU
}
# The pure-Python engines need minutes for one step of these; they are left out of them.
PURE_PYTHON = {"scalar", "fused"}
TOO_BIG_FOR_PURE_PYTHON = {"small", "big"}


def batches(tokenizer, docs, text_ids, block_size, batch_size, rng):
    while True:
        if text_ids is not None:
            yield random_windows(text_ids, batch_size, block_size, rng)
        else:
            yield [tokenizer.encode_doc(rng.choice(docs)) for _ in range(batch_size)]


def bench(engine_name, options, config, batch_size, tokenizer, docs, text_ids, seconds, max_steps):
    weights = init_weights(config, random.Random(0))
    engine = make_engine(engine_name, config, weights, TrainConfig(steps=10**9, batch_size=batch_size), **options)
    it = batches(tokenizer, docs, text_ids, config.block_size, batch_size, random.Random(1))
    engine.train_step(next(it), 1e-3)  # warm-up: not timed
    steps, tokens, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds and steps < max_steps:
        batch = next(it)
        engine.train_step(batch, 1e-3)
        tokens += sum(min(config.block_size, len(t) - 1) for t in batch)
        steps += 1
    elapsed = time.perf_counter() - start
    return steps, tokens / elapsed, elapsed / steps


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="one document per line (default: the names dataset)")
    p.add_argument("--text", help="one long text, trained in windows of block_size + 1")
    p.add_argument("--engines", default=",".join(sorted(ENGINES)), help="comma-separated (default: all registered)")
    p.add_argument("--configs", default="tiny,tiny-b32,small", help=f"comma-separated, of {', '.join(CONFIGS)}")
    p.add_argument("--device", default="auto", help="torch device (default: auto)")
    p.add_argument("--dtype", default="float32", help="torch dtype (default: float32)")
    p.add_argument("--compile", action="store_true", help="torch.compile the torch engine's model")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--seconds", type=float, default=3.0, help="timed seconds per engine and config (default: 3)")
    p.add_argument("--max-steps", type=int, default=200, help="at most this many timed steps (default: 200)")
    args = p.parse_args(argv)

    docs, text_ids = None, None
    if args.text:
        text = read_text(args.text)
        tokenizer = Tokenizer.from_docs([text])
        text_ids = tokenizer.encode(text)
    else:
        docs = read_docs(resolve_data_path(args.data))
        tokenizer = Tokenizer.from_docs(docs)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, python {sys.version.split()[0]}")
    print(f"{'config':<10} {'params':>10} {'B':>4} {'engine':<22} {'steps':>6} {'ms/step':>10} {'tokens/s':>12}")
    for cname in args.configs.split(","):
        n_embd, n_head, n_layer, block_size, batch_size = CONFIGS[cname]
        config = GPTConfig(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size)
        for engine_name in args.engines.split(","):
            options, label = {}, engine_name
            if engine_name in PURE_PYTHON and cname in TOO_BIG_FOR_PURE_PYTHON:
                print(f"{cname:<10} {num_params(config):>10,} {batch_size:>4} {label:<22} skipped: minutes per step")
                continue
            if engine_name == "torch":
                options = {"device": args.device, "dtype": args.dtype, "compile": args.compile}
                label = f"torch {args.device}/{args.dtype}{' compiled' if args.compile else ''}"
            try:
                steps, tok_s, step_s = bench(engine_name, options, config, batch_size, tokenizer, docs, text_ids,
                                             args.seconds, args.max_steps)
            except Exception as e:  # a missing package or device: skip it, say why
                print(f"{cname:<10} {num_params(config):>10,} {batch_size:>4} {label:<22} skipped: {e}")
                continue
            print(f"{cname:<10} {num_params(config):>10,} {batch_size:>4} {label:<22} {steps:>6} "
                  f"{step_s * 1000:>10.2f} {tok_s:>12,.0f}", flush=True)


if __name__ == "__main__":
    main()
