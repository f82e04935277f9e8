"""How long each explorer interaction takes to compute on a model, server side.

    python scripts/bench_explore.py [MODEL]     (default: trains the default model for 1000 steps)

Times each API request of the explorer (the JSON the page asks for when you
type, click or step), as the median of several runs, through Explorer.answer:
the computation and the JSON, without the network, which on 127.0.0.1 adds
well under a millisecond.
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

import microgpt
from microgpt.explore.models import load_models
from microgpt.explore.server import Explorer

REQUESTS = [
    ("type a string (score)", "/api/score?text=emma"),
    ("type a string (trace)", "/api/trace?text=emma"),
    ("type a long string (trace)", "/api/trace?text=alexandrina"),
    ("click a position (next)", "/api/next?text=emma&pos=2&temperature=0.7&top_k=5"),
    ("draw a sample (all its steps)", "/api/sample?seed=3"),
    ("embeddings", "/api/embeddings"),
    ("backprop", "/api/backprop"),
    ("model card (20 samples)", "/api/card"),
]


def main(argv):
    if argv:
        path = argv[0]
    else:
        path = str(Path(tempfile.mkdtemp()) / "model.json")
        microgpt.train().save(path)
    explorer = Explorer(load_models([path]), [])
    print(f"{'request':<32} {'median ms':>10} {'max ms':>8}")
    for label, target in REQUESTS:
        times = []
        for _ in range(15):
            t0 = time.perf_counter()
            status, _, _ = explorer.answer(target)
            times.append((time.perf_counter() - t0) * 1000)
            assert status == 200, target
        print(f"{label:<32} {statistics.median(times):>10.1f} {max(times):>8.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
