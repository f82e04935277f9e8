"""The whole measurement: every engine asked for, on every config asked for.

Every engine of a config starts from the same weights (init_weights, one seed)
and trains on the same batches, from batches.py's two sources as `microgpt
train` uses them: the documents shuffled by that seed and taken in order, or,
with a text, windows of block_size + 1 characters at offsets drawn by that
seed. The engines take turns (timing.py); a timed step is everything a
training step does: forward, backward and the optimizer.

One row per engine and config: ms per step and per document (a text's window
counts as one), real (unpadded) tokens per second, the same in CPU time, the
ratio of tokens per second to the scalar engine's and to the original
microgpt.py's (--reference, original.py), and how the engine's losses
compare with the config's reference engine (losses.py). Tokens per second is
the fair unit across batch sizes: at B=32 one step does 32 documents' work.
"""

import random

from microgpt.batches import Documents, TextWindows
from microgpt.bench import losses
from microgpt.bench.configs import DEFAULT_CONFIGS, ORIGINAL_ARCH, resolve
from microgpt.bench.original import time_original
from microgpt.bench.timing import Batches, Contestant, take_turns
from microgpt.bench.variants import check_device, variants
from microgpt.config import TrainConfig
from microgpt.errors import UsageError
from microgpt.flops import matmul_peak, utilisation
from microgpt.model import init_weights

PURE_PYTHON = {"scalar", "fused"}  # the engines whose step grows with every multiply (configs.py)


def run(docs=None, config_names=DEFAULT_CONFIGS, engine_labels=None, *, text=None, steps=20, warmup=2, block=5,
        max_seconds=10.0, slow=False, reference=None, reference_steps=10, data_text=None, seed=42, device=None,
        dtype=None, compile=False, out=print, reference_from=1):
    """Time everything asked for; returns (rows, notes), each row a dict.

    Give docs (one document each) or text (one string). device, dtype and
    compile are the torch engine's options (variants.py)."""
    configs, available, labels = check_names(config_names, engine_labels, device, dtype, compile)
    if (docs is None) == (text is None):
        raise UsageError("bench trains on documents or on a text: give one of them")
    if reference and text is not None:
        raise UsageError("--reference runs the original on documents; it cannot be timed with --text")
    notes = []
    if engine_labels is None and "pytorch" not in available:
        notes.append("pytorch: not installed, not timed (pip install torch==2.13.0 to compare)")
    documents = Documents(docs, random.Random(seed), val_docs=0) if text is None else None
    original = None
    if reference:
        out(f"timing the original {reference} (its steps {reference_from + 1}-{reference_from + reference_steps}) ...")
        original = time_original(reference, data_text, docs, reference_steps, first=reference_from)
        notes.append(f"original: timed over its steps {reference_from + 1}-{reference_from + reference_steps} "
                     f"(a {reference_from}-step run subtracted from a {reference_from + reference_steps}-step one); "
                     "its step grows slower as a run goes on: --reference-from N times a later window")
    rows = []
    for cfg in configs:
        timed = []
        for label in labels:
            if label in PURE_PYTHON and cfg.pure_python == "never":
                notes.append(f"{label} on {cfg.name}: skipped (hours per step)")
            elif label in PURE_PYTHON and cfg.pure_python == "slow" and not slow:
                notes.append(f"{label} on {cfg.name}: skipped (seconds to minutes per step; --slow times it)")
            else:
                timed.append(label)
        if not timed:  # spare the weights: shakespeare-gpu's take seconds to draw
            continue
        source = documents if text is None else TextWindows(text, cfg.block_size)
        config = cfg.gpt_config(source.tokenizer.vocab_size)
        tc = TrainConfig(batch_size=cfg.batch_size)
        weights = init_weights(config, random.Random(seed))
        draws = random.Random(seed)  # a text's window offsets; documents ignore it
        batches = Batches(lambda s: source.batch(s, cfg.batch_size, cfg.block_size, draws))
        if original is not None and cfg.arch() == ORIGINAL_ARCH:
            rows.append(original_row(cfg, reference_steps, *original))
        contestants = []
        for label in timed:
            try:
                engine = available[label].make(config, weights, tc)
            except UsageError as e:  # e.g. an optional dependency or a device is missing
                notes.append(f"{label}: skipped ({e})")
                continue
            # A step of seconds or minutes is its own warm-up, and --max-seconds ends it soon.
            minutes = label in PURE_PYTHON and cfg.pure_python == "slow"
            contestants.append(Contestant(label, engine, warmup=0 if minutes else warmup))
        take_turns(contestants, batches, steps, block, max_seconds, tc.lr,
                   count_tokens=lambda batch: sum(config.predicted(t) for t in batch))
        agreement = losses.compare({c.label: c.losses for c in contestants},
                                   {c.label: available[c.label].precision for c in contestants})
        rows += [engine_row(cfg, c, agreement[c.label], config, available[c.label].peak) for c in contestants]
    add_ratios(rows)
    notes += [f"{label}: {available[label].about}" for label in labels]
    notes += [f"{label}: losses not compared ({available[label].precision or 'precision unknown'})"
              for label in labels if available[label].precision not in losses.LIMITS]
    return rows, notes


def check_names(config_names, engine_labels=None, device=None, dtype=None, compile=False):
    """(configs, variants, labels to time); a wrong name, or a --device that is
    not there, is a one-line UsageError, which the command line asks for before
    it reads the data."""
    if not config_names:
        raise UsageError("--configs is empty: name one config or more (see: microgpt bench --help)")
    if engine_labels is not None and not engine_labels:
        raise UsageError("--engines is empty: name one engine or more, or leave --engines out for all")
    configs = resolve(config_names)
    available = variants(device, dtype, compile)
    labels = list(engine_labels or available)
    for label in labels:
        if label not in available:
            known = ", ".join(available)
            raise UsageError(f"unknown or unavailable engine {label!r} for bench; available here: {known}")
    for flag, given in (("--dtype", dtype), ("--compile", compile)):
        if given and "torch" not in labels:  # the torch engine's options: no other label would use them
            raise UsageError(f"{flag} is an option of the torch engine, which --engines {','.join(labels)} leaves "
                             "out (numpy in float32 is the label numpy-f32)")
    check_device(device, labels)
    return configs, available, labels


def engine_row(cfg, c, agreement, config, peak_setting):
    per_step = c.wall / c.steps
    gflops = mfu = peak = None
    if peak_setting is not None:  # a matmul engine: its speed against its library's matmul peak (flops.py)
        peak = matmul_peak(*peak_setting)
        gflops, mfu = utilisation(config, c.tokens / c.wall, peak, c.tokens / (c.steps * cfg.batch_size))
    return dict(gflops=gflops, mfu=mfu, peak_gflops=peak, peak_of=" ".join(peak_setting) if peak_setting else None,
                config=cfg.name, engine=c.label, steps=c.steps, ms_step=per_step * 1e3,
                ms_doc=per_step * 1e3 / cfg.batch_size, tok_s=c.tokens / c.wall, x_scalar=None, x_original=None,
                cpu_ms_step=c.cpu / c.steps * 1e3, cpu_tok_s=c.tokens / c.cpu if c.cpu > 0 else None,
                x_scalar_cpu=None, losses=c.losses, loss_ref=agreement["ref"], loss_steps=agreement["steps"],
                loss_diff=agreement["diff"], loss_limit=agreement["limit"], loss_ok=agreement["ok"])


def original_row(cfg, steps, per_step, tok_s, cpu_per_step):
    """The original takes one document a step, whatever the config's batch size."""
    return dict(gflops=None, mfu=None, peak_gflops=None, config=cfg.name, engine="original", steps=steps, ms_step=per_step * 1e3, ms_doc=per_step * 1e3,
                tok_s=tok_s, x_scalar=None, x_original=None,
                cpu_ms_step=cpu_per_step * 1e3 if cpu_per_step else None,
                cpu_tok_s=tok_s * per_step / cpu_per_step if cpu_per_step else None, x_scalar_cpu=None,
                losses=[], loss_ref=None, loss_steps=0, loss_diff=None, loss_limit=None, loss_ok=None)


def add_ratios(rows):
    """Tokens per second against the scalar engine's and the original's on the same config."""
    for row in rows:
        same = {r["engine"]: r for r in rows if r["config"] == row["config"]}
        scalar, original = same.get("scalar"), same.get("original")
        row["x_scalar"] = row["tok_s"] / scalar["tok_s"] if scalar else None
        row["x_original"] = row["tok_s"] / original["tok_s"] if original else None
        if scalar and scalar["cpu_tok_s"] and row["cpu_tok_s"]:
            row["x_scalar_cpu"] = row["cpu_tok_s"] / scalar["cpu_tok_s"]
