"""`microgpt bench`: the engines side by side, on the same work.

Every engine starts from the same weights (init_weights, one seed) and trains
on the same documents (the data shuffled by that seed, taken in order), for
each of a few configs. A step's time covers everything a training step does:
forward, backward and the optimizer. We report ms per step, ms per document,
real (unpadded) tokens per second, and the ratio of tokens per second to the
scalar engine's and to the original microgpt.py's. Tokens per second is the
fair unit across batch sizes: at B=32 one step does 32 documents' work.

Alongside the registered engines we time variants (numpy in float32) and,
where PyTorch is installed, the same model written plainly in PyTorch
(bench_torch.py). With --reference PATH the original microgpt.py is run as a
subprocess, twice, with its num_steps patched to two values; the difference of
the two wall times divided by the difference of steps is its time per step,
free of start-up, data loading and sampling.
"""

import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from microgpt.config import GPTConfig, TrainConfig
from microgpt.engines import engine_names, make_engine
from microgpt.errors import MicroGPTError, UsageError
from microgpt.model import init_weights, num_params
from microgpt.tokenizer import Tokenizer

CONFIGS = {
    "default": dict(n_embd=16, n_head=4, n_layer=1, block_size=16, batch_size=1),
    "default-b32": dict(n_embd=16, n_head=4, n_layer=1, block_size=16, batch_size=32),
    "large": dict(n_embd=128, n_head=4, n_layer=4, block_size=32, batch_size=32),
}
ORIGINAL_ARCH = dict(n_embd=16, n_head=4, n_layer=1, block_size=16)  # what microgpt.py computes
SLOW_FOR_SCALAR = {"large"}  # minutes a step in pure Python: skipped unless --slow
PURE_PYTHON = {"scalar", "fused"}  # the engines that are that slow there


def variants():
    """label -> (make(config, weights, train_config), what it is). Registered engines
    first, then variants of them, then plain PyTorch where it is installed."""
    out = {}
    for name in engine_names():
        out[name] = (lambda c, w, tc, name=name: make_engine(name, c, w, tc), f"engine {name!r}")
    if "numpy" in out:
        out["numpy-f32"] = (lambda c, w, tc: make_engine("numpy", c, w, tc, dtype="float32"), "numpy, float32")
    try:
        from microgpt.bench_torch import TorchTrainer
    except ImportError:
        pass
    else:
        import torch

        threads = torch.get_num_threads()
        out["pytorch"] = (lambda c, w, tc: TorchTrainer(c, w, tc, "float32"),
                          f"plain PyTorch {torch.__version__}, float32, {threads} threads")
        out["pytorch-f64"] = (lambda c, w, tc: TorchTrainer(c, w, tc, "float64"),
                              f"plain PyTorch {torch.__version__}, float64, {threads} threads")
    return out


def doc_tokens(tokens, block_size):
    return min(block_size, len(tokens) - 1)


def time_steps(engine, batches, block_size, warmup, max_seconds, lr):
    """Mean seconds per step and tokens per second over the timed steps (after `warmup` untimed
    ones); stops early once max_seconds have passed, after at least one timed step."""
    for batch in batches[:warmup]:
        engine.train_step(batch, lr)
    steps, tokens, start = 0, 0, time.perf_counter()
    for batch in batches[warmup:]:
        engine.train_step(batch, lr)
        steps += 1
        tokens += sum(doc_tokens(t, block_size) for t in batch)
        if time.perf_counter() - start > max_seconds:
            break
    elapsed = time.perf_counter() - start
    return steps, elapsed / steps, tokens / elapsed


def patch_num_steps(source, steps):
    new, count = re.subn(r"^(\s*)num_steps\s*=\s*\d+", rf"\g<1>num_steps = {steps}", source, flags=re.MULTILINE)
    if count != 1:
        raise MicroGPTError(f"--reference: expected one 'num_steps = <int>' line in the script, found {count}")
    return new


def time_original(path, data_text, docs, steps, first=1):
    """The original's seconds per step and tokens per second (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise MicroGPTError(f"--reference script not found: {path}")
    source = path.read_text(encoding="utf-8")
    walls = []
    with tempfile.TemporaryDirectory(prefix="microgpt-bench-") as tmp:
        (Path(tmp) / "input.txt").write_text(data_text, encoding="utf-8")
        for n in (first, first + steps):
            (Path(tmp) / "microgpt.py").write_text(patch_num_steps(source, n), encoding="utf-8")
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "microgpt.py"], cwd=tmp, capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise MicroGPTError(f"--reference script failed (exit {proc.returncode}): {last}")
    # The original shuffles with random.seed(42) as we do, and takes one document a step.
    shuffled = list(docs)
    random.Random(42).shuffle(shuffled)
    tokens = sum(min(ORIGINAL_ARCH["block_size"], len(d) + 1) for d in shuffled[first : first + steps])
    extra = walls[1] - walls[0]
    if extra <= 0:  # start-up noise larger than the steps themselves
        raise MicroGPTError(f"--reference: {steps} more steps took no measurable time; raise --reference-steps")
    return extra / steps, tokens / extra


def run(docs, config_names, engine_labels=None, steps=20, warmup=2, max_seconds=10.0, slow=False,
        reference=None, reference_steps=10, data_text=None, seed=42, out=print):
    """Time everything asked for; returns (rows, notes). Each row is a dict."""
    for name in config_names:
        if name not in CONFIGS:
            raise UsageError(f"unknown bench config {name!r}; choose from: {', '.join(CONFIGS)}")
    available = variants()
    labels = engine_labels or list(available)
    notes = []
    for label in labels:
        if label not in available:
            known = ", ".join(available)
            raise UsageError(f"unknown or unavailable engine {label!r} for bench; available here: {known}")
    if engine_labels is None and "pytorch" not in available:
        notes.append("pytorch: not installed, not timed (pip install torch==2.13.0 to compare)")
    shuffled = list(docs)
    random.Random(seed).shuffle(shuffled)
    tokenizer = Tokenizer.from_docs(shuffled)
    encoded = [tokenizer.encode_doc(d) for d in shuffled]
    original = None
    if reference:
        out(f"timing the original {reference} ({reference_steps} steps) ...")
        original = time_original(reference, data_text, docs, reference_steps)
    rows = []
    for cname in config_names:
        spec = CONFIGS[cname]
        arch = {k: v for k, v in spec.items() if k != "batch_size"}
        bsz = spec["batch_size"]
        config = GPTConfig(tokenizer.vocab_size, **arch)
        tc = TrainConfig(steps=1000, batch_size=bsz)
        weights = init_weights(config, random.Random(seed))
        n_batches = warmup + steps
        batches = [[encoded[(s * bsz + b) % len(encoded)] for b in range(bsz)] for s in range(n_batches)]
        if original is not None and _same_arch(cname):
            per_step, tok_s = original
            rows.append(dict(config=cname, engine="original", steps=reference_steps, ms_step=per_step * 1e3,
                             ms_doc=per_step * 1e3, tok_s=tok_s))
        for label in labels:
            if label in PURE_PYTHON and cname in SLOW_FOR_SCALAR and not slow:
                notes.append(f"{label} on {cname}: skipped (minutes per step; --slow times one step)")
                continue
            make, _ = available[label]
            try:
                engine = make(config, weights, tc)
            except UsageError as e:  # e.g. an optional dependency is missing
                notes.append(f"{label}: skipped ({e})")
                continue
            w = warmup if not (label in PURE_PYTHON and cname in SLOW_FOR_SCALAR) else 0
            n, per_step, tok_s = time_steps(engine, batches[: w + steps], config.block_size, w, max_seconds, tc.lr)
            rows.append(dict(config=cname, engine=label, steps=n, ms_step=per_step * 1e3,
                             ms_doc=per_step * 1e3 / bsz, tok_s=tok_s))
    for row in rows:
        base = {r["engine"]: r["tok_s"] for r in rows if r["config"] == row["config"]}
        row["x_scalar"] = row["tok_s"] / base["scalar"] if "scalar" in base else None
        row["x_original"] = row["tok_s"] / original[1] if original and _same_arch(row["config"]) else None
    for label in labels:
        notes.append(f"{label}: {available[label][1]}")
    return rows, notes


def _same_arch(cname):
    return {k: v for k, v in CONFIGS[cname].items() if k != "batch_size"} == ORIGINAL_ARCH


def describe_configs(config_names, vocab_size):
    lines = []
    for cname in config_names:
        s = CONFIGS[cname]
        c = GPTConfig(vocab_size, s["n_embd"], s["n_head"], s["n_layer"], s["block_size"])
        lines.append(f"{cname}: n_embd {c.n_embd}, n_head {c.n_head}, n_layer {c.n_layer}, "
                     f"block_size {c.block_size}, batch {s['batch_size']}, {num_params(c):,} params")
    return lines


def format_table(rows):
    head = ["config", "engine", "steps", "ms/step", "ms/doc", "tokens/s", "x scalar", "x original"]
    body = []
    ratio = lambda x: "-" if x is None else f"{x:,.1f}"
    for r in rows:
        body.append([r["config"], r["engine"], str(r["steps"]), f"{r['ms_step']:,.2f}", f"{r['ms_doc']:,.3f}",
                     f"{r['tok_s']:,.0f}", ratio(r["x_scalar"]), ratio(r["x_original"])])
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]

    def fmt(row):  # names left-aligned, numbers right-aligned
        return "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))

    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(row) for row in body])
