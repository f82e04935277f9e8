"""Time training steps of several engines side by side, in one process, on the same documents.

    python scripts/bench_fused.py --data names.txt                     # scalar vs fused, default model
    python scripts/bench_fused.py --data names.txt --engines fused --rounds 20

Each engine trains its own copy of the default model from the same seed, so
every engine sees the same documents in the same order. The engines take turns
in blocks of --block steps for --rounds rounds, so a machine that gets busier
or quieter during the run slows all of them alike. Reported per engine: wall
time and CPU time (time.process_time) per step, and the ratios to the first
engine. The losses are checked equal to 4 decimals (the printed precision).
"""

import argparse
import sys
import time

from microgpt.config import TrainConfig
from microgpt.data import read_docs, resolve_data_path
from microgpt.engines import engine_names
from microgpt.training import Trainer


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="one document per line (default: as microgpt train)")
    p.add_argument("--engines", default="scalar,fused", help="comma-separated (default: scalar,fused)")
    p.add_argument("--block", type=int, default=10, help="steps per engine per turn (default: 10)")
    p.add_argument("--rounds", type=int, default=5, help="turns per engine (default: 5)")
    p.add_argument("--batch-size", type=int, default=1)
    a = p.parse_args(argv)
    names = a.engines.split(",")
    for n in names:
        if n not in engine_names():
            sys.exit(f"bench: unknown engine {n!r}; choose from {', '.join(engine_names())}")
    docs = read_docs(resolve_data_path(a.data))
    tc = TrainConfig(steps=1000, batch_size=a.batch_size)
    trainers = {n: Trainer(docs, train_config=tc, engine=n) for n in names}
    wall = dict.fromkeys(names, 0.0)
    cpu = dict.fromkeys(names, 0.0)
    for _ in range(a.rounds):
        for n in names:
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(a.block):
                trainers[n].train_step()
            wall[n] += time.perf_counter() - t0
            cpu[n] += time.process_time() - c0
    steps = a.block * a.rounds
    first = names[0]
    print(f"{steps} steps per engine (blocks of {a.block}), batch size {a.batch_size}, default model")
    for n in names:
        print(f"{n:8s} {1000 * wall[n] / steps:8.2f} ms/step wall {1000 * cpu[n] / steps:8.2f} ms/step cpu"
              f"   {first}/{n}: {wall[first] / wall[n]:5.1f}x wall {cpu[first] / cpu[n]:5.1f}x cpu")
    printed = {n: [f"{x:.4f}" for x in trainers[n].losses] for n in names}
    same = all(printed[n] == printed[first] for n in names)
    print("printed losses identical across engines:", same)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
