"""The original microgpt.py, timed from outside: `microgpt bench --reference PATH`.

The script is copied to a temporary folder beside an input.txt holding the
data, its `num_steps = ...` line patched, and run twice as a subprocess: for
`first` steps and for first + steps. The difference of the two times divided
by `steps` is its time per step, free of start-up, data loading and sampling.
Its CPU time comes the same way, from the children's times that os.times()
reports for each run.
"""

import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from microgpt.bench.configs import ORIGINAL_ARCH
from microgpt.config import predicted
from microgpt.data import read_text
from microgpt.errors import MicroGPTError
from microgpt.tokenizer import Tokenizer


def patch_num_steps(source, steps):
    new, count = re.subn(r"^(\s*)num_steps\s*=\s*\d+", rf"\g<1>num_steps = {steps}", source, flags=re.MULTILINE)
    if count != 1:
        raise MicroGPTError(f"--reference: expected one 'num_steps = <int>' line in the script, found {count}")
    return new


def children_cpu():
    t = os.times()
    return t.children_user + t.children_system


def time_original(path, data_text, docs, steps, first=1):
    """(wall seconds per step, tokens per second, CPU seconds per step or None).
    CPU is None when the extra steps used too little of it to measure (a script
    that sleeps, as the tests' stand-in does)."""
    source = read_text(path, what="--reference script")  # a regular UTF-8 file, or one line saying why not
    walls, cpus = [], []
    with tempfile.TemporaryDirectory(prefix="microgpt-bench-") as tmp:
        (Path(tmp) / "input.txt").write_text(data_text, encoding="utf-8")
        for n in (first, first + steps):
            (Path(tmp) / "microgpt.py").write_text(patch_num_steps(source, n), encoding="utf-8")
            start, cpu_start = time.perf_counter(), children_cpu()
            proc = subprocess.run([sys.executable, "microgpt.py"], cwd=tmp, capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            cpus.append(children_cpu() - cpu_start)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise MicroGPTError(f"--reference script failed (exit {proc.returncode}): {last}")
    # The original shuffles with random.seed(42) as we do, and takes one document a step.
    shuffled = list(docs)
    random.Random(42).shuffle(shuffled)
    tokenizer = Tokenizer.from_docs(docs)
    block_size = ORIGINAL_ARCH["block_size"]
    tokens = sum(predicted(tokenizer.encode_doc(shuffled[i % len(shuffled)]), block_size)  # step i: document i
                 for i in range(first, first + steps))
    extra = walls[1] - walls[0]
    if extra <= 0:  # start-up noise larger than the steps themselves
        raise MicroGPTError(f"--reference: {steps} more steps took no measurable time; raise --reference-steps")
    extra_cpu = cpus[1] - cpus[0]
    return extra / steps, tokens / extra, extra_cpu / steps if extra_cpu > 0 else None
