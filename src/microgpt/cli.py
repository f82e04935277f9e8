"""The `microgpt` command: one subcommand per job.

    microgpt train          train on the names (or --data FILE), save, sample
    microgpt sample MODEL   new samples from a saved model
    microgpt info MODEL     config, parameter tree, training metadata
    microgpt ladder         the six rungs train0..train5, one table
    microgpt score | eval | plot | graph
                            look inside a saved model or a run (inspect_cli.py)
    microgpt dataset | tokenizer | autograd | parameters | architecture
                            look at one part of the system

Problems with the user's input end in one line on stderr and a non-zero exit
(2 for bad arguments), never a traceback; --debug shows the traceback.
"""

import argparse
import os
import random
import sys
from pathlib import Path

from microgpt import __version__
from microgpt.errors import MicroGPTError, UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not the usage block plus a line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ---- argument types: reject bad values at parse time, with the flag's name


def positive_int(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s}")
    return v


def nonneg_int(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {s!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {s}")
    return v


def finite_float(s):
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {s!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {s}")
    return v


def positive_float(s):
    v = finite_float(s)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {s}")
    return v


def nonneg_float(s):
    v = finite_float(s)
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {s}")
    return v


def unit_float(s):
    v = finite_float(s)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {s}")
    return v


def add_engine_arg(p, default="scalar"):
    from microgpt.engines import engine_names

    shown = default or "fused, or the checkpoint's when resuming"
    p.add_argument("--engine", default=default, choices=engine_names(),
                   help=f"which implementation runs the model (default: {shown})")


def add_engine_options(p, training=False):
    """--device/--dtype (and, for training, --compile/--grad-clip): options of the
    tensor engines, shared by every command that builds an engine."""
    g = p.add_argument_group("tensor engine options (--engine torch)")
    g.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default=None,
                   help="where the tensors live (default: auto = cuda, else mps, else cpu)")
    g.add_argument("--dtype", choices=["float32", "bfloat16", "float64"], default=None,
                   help="number format; bfloat16 = mixed precision with float32 weights "
                        "(default: the engine's own: float32 for torch)")
    if training:
        g.add_argument("--compile", action="store_true", default=None,
                       help="compile the model with torch.compile (needs a C++ compiler; pays off on long runs)")
        g.add_argument("--grad-clip", type=nonneg_float, default=None, metavar="NORM",
                       help="clip the global gradient norm to NORM before each step; 0 = off (default: off)")


def engine_options(args, engine, saved=None):
    """The engine options the user gave (over those saved in a checkpoint being
    resumed), as keyword arguments for make_engine; refused for engines without them."""
    from microgpt.engines import engines_taking, option_names

    given = {k: getattr(args, k, None) for k in ("device", "dtype", "compile", "grad_clip")}
    given = {k: v for k, v in given.items() if v is not None}
    for k in given:
        if k not in option_names(engine):
            takers = " or ".join(engines_taking(k))
            raise UsageError(f"--{k.replace('_', '-')} is an option of --engine {takers}, not of {engine}")
    return {**(saved or {}), **given}


# ---- commands


# Flags that fix the model or the optimisation: given with --resume they would
# silently change the run, so they are refused instead (except --steps, which
# extends it).
TRAIN_DEFAULTS = {
    "n_embd": 16, "n_head": 4, "n_layer": 1, "block_size": 16, "steps": 1000, "batch_size": 1, "lr": 0.01,
    "beta1": 0.85, "beta2": 0.99, "eps": 1e-8, "optimizer": "adam", "weight_decay": 0.0, "schedule": "linear",
    "warmup_steps": 0, "seed": 42, "val_docs": None,
}


def _train_config(args, resume):
    from dataclasses import replace

    from microgpt.config import TrainConfig

    given = {k: getattr(args, k) for k in TRAIN_DEFAULTS if getattr(args, k) is not None}
    if resume is None:
        values = {**TRAIN_DEFAULTS, **given}
        fields = {k: values[k] for k in TrainConfig.__dataclass_fields__ if k in values}
        return TrainConfig(**fields), values
    if "block_size" in given and given["block_size"] > resume.config.block_size:
        raise UsageError(f"--block-size {given['block_size']} is larger than the checkpoint's "
                         f"{resume.config.block_size}: the model has no position embeddings beyond that")
    fixed = sorted(k for k in given if k != "steps")
    if fixed:
        flag = "--" + fixed[0].replace("_", "-")
        raise UsageError(f"{flag} cannot be changed when resuming: the checkpoint fixes it (drop the flag)")
    try:
        tc = TrainConfig(**resume.training["train_config"])
    except (KeyError, TypeError) as e:
        raise MicroGPTError(f"checkpoint's training config is malformed ({e}); it cannot be resumed") from None
    if "steps" in given:
        if given["steps"] <= resume.training.get("steps", 0):
            raise UsageError(f"--steps {given['steps']} is not beyond the checkpoint's {resume.training.get('steps')}")
        tc = replace(tc, steps=given["steps"])
    return tc, {}


def _docs_fingerprint(docs):
    import hashlib

    return hashlib.sha256("\n".join(docs).encode("utf-8")).hexdigest()


def cmd_train(args):
    import json
    import math
    import signal

    from microgpt import checkpoint
    from microgpt.data import read_docs, resolve_data_path
    from microgpt.model import num_params
    from microgpt.progress import Progress
    from microgpt.sample import generate
    from microgpt.train import Diverged, Trainer

    from microgpt import distributed

    if not distributed.is_main():  # under torchrun only rank 0 speaks
        sys.stdout = open(os.devnull, "w")
    resume = checkpoint.load(args.resume) if args.resume else None
    tc, values = _train_config(args, resume)
    if args.text and args.data:
        raise UsageError("--text FILE and --data FILE are two ways to give the data: use one")
    text_mode = bool(args.text) or (resume is not None and resume.training.get("format") == "text")
    if text_mode and args.val_docs is not None:
        raise UsageError("--val-docs counts documents of --data; --text holds out the last 10% of the text")
    if text_mode:
        from microgpt.text import TextTrainer, generate_text, read_text

        if not args.text:
            args.text = resume.training.get("data")  # the same file it was trained on
        data_path = Path(args.text)
        docs = [read_text(data_path)]
    else:
        if resume is not None and not args.data and not os.environ.get("MICROGPT_DATA") and resume.training.get("data"):
            args.data = resume.training["data"]  # the same file it was trained on
        data_path = resolve_data_path(args.data)
        docs = read_docs(data_path)
    fingerprint = _docs_fingerprint(docs)
    if resume is not None and resume.training.get("data_sha256") not in (None, fingerprint):
        raise MicroGPTError(f"{data_path} is not the data this checkpoint was trained on; "
                            "resume with the same --data")
    engine = args.engine or (resume.training.get("engine") if resume else None) or "fused"
    if distributed.world_size() > 1 and engine != "torch":
        raise UsageError(f"torchrun runs need --engine torch (got {engine}): the other engines are one process")
    # A resumed run keeps its dtype and clipping unless told otherwise (not its device:
    # it may go on on another machine).
    saved = resume.training.get("engine_options") if resume and resume.training.get("engine") == engine else None
    opts = engine_options(args, engine, saved)
    kept_opts = {k: v for k, v in opts.items() if k != "device"}
    if args.keep_best and not args.eval_every:
        raise UsageError("--keep-best needs --eval-every N: the best model is judged at each validation")
    if resume is None:
        if text_mode:
            trainer = TextTrainer(docs[0], values["n_embd"], values["n_head"], values["n_layer"],
                                  values["block_size"], tc, engine=engine, engine_options=opts)
        else:
            trainer = Trainer(docs, values["n_embd"], values["n_head"], values["n_layer"], values["block_size"], tc,
                              engine=engine, val_docs=values["val_docs"], engine_options=opts)
        out = Path(args.out) if args.out else Path(checkpoint.default_name(trainer.config, tc.steps))
        if not args.out and out.exists():  # never overwrite a model the user did not name
            stem, k = out.stem, 1
            while out.exists():
                out, k = out.with_name(f"{stem}.{k}.json"), k + 1
    else:
        if text_mode:
            trainer = TextTrainer(docs[0], train_config=tc, engine=engine, resume=resume, engine_options=opts)
        else:
            trainer = Trainer(docs, train_config=tc, engine=engine, resume=resume, engine_options=opts)
        out = Path(args.out) if args.out else Path(args.resume)
    n_long = 0 if text_mode else sum(len(d) + 1 > trainer.config.block_size for d in docs)
    if text_mode:
        print(f"text: {trainer.n_chars:,} characters ({len(trainer.train_ids):,} train, "
              f"{len(trainer.val_ids):,} validation); windows of {trainer.config.block_size + 1}")
    else:
        print(f"num docs: {trainer.n_docs} ({len(trainer.train_docs)} train, {len(trainer.val_docs)} validation)")
    print(f"vocab size: {trainer.tokenizer.vocab_size}")
    print(f"num params: {num_params(trainer.config)}")
    if n_long:
        print(f"note: {n_long} documents are longer than block_size {trainer.config.block_size} allows "
              "and are truncated (as in the original)")
    if resume is not None:
        print(f"resuming from {args.resume} at step {trainer.step} of {tc.steps}")

    def save(**extra):
        if best["val_loss"] is not None:
            extra.setdefault("best_val_loss", best["val_loss"])
        if distributed.is_main():  # every rank holds the same weights; one writes them
            trainer.checkpoint(data=str(data_path), data_sha256=fingerprint, engine_options=kept_opts,
                               **extra).save(out)

    # SIGINT / SIGTERM: finish the step under way, save, and say how to go on.
    stop = []
    handlers = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            handlers[sig] = signal.signal(sig, lambda signum, frame: stop.append(signum))
        except ValueError:  # not the main thread (e.g. called from a test runner thread)
            pass
    progress = Progress(tc.steps, first_step=trainer.step)
    if args.eval_every and not (getattr(trainer, "val_docs", None) or getattr(trainer, "val_ids", None)):
        raise UsageError("--eval-every needs validation data; --val-docs is 0")
    best_out = out.with_name(out.stem + ".best.json")
    best = {"val_loss": resume.training.get("best_val_loss") if resume else None}

    def validate(step):
        """Val loss now: printed, logged, and (with --keep-best) saved when it is the best yet."""
        val = trainer.val_loss()
        if progress.tty:
            progress.stream.write("\n")
        improved = best["val_loss"] is None or val < best["val_loss"]
        note = ""
        if improved:
            best["val_loss"], best["step"] = val, step
            if args.keep_best and distributed.is_main():
                trainer.checkpoint(data=str(data_path), data_sha256=fingerprint, engine_options=kept_opts,
                                   val_loss=val, best_val_loss=val).save(best_out)
                note = f" (best; saved {best_out})"
        print(f"step {step}: val loss {val:.4f}{note}", flush=True)
        if log_file is not None:
            log_file.write(json.dumps({"step": step, "val_loss": val}) + "\n")
            log_file.flush()
        return val

    def on_step(step, loss, n, lr):
        progress.update(step, loss, n, lr)
        if args.eval_every and (step % args.eval_every == 0 or step == tc.steps):
            validate(step)
        if args.save_every and step % args.save_every == 0 and step < tc.steps:
            save()

    log = args.log if distributed.is_main() else None
    log_file = open(log, "a" if resume is not None else "w", encoding="utf-8") if log else None
    try:
        trainer.run(on_step=on_step, log_file=log_file, should_stop=lambda: distributed.any_rank(stop))
    except Diverged as e:
        progress.close()
        kept = f"; the last good checkpoint {out} is kept" if out.exists() else ""
        raise MicroGPTError(f"{e}{kept}") from None
    finally:
        if log_file:
            log_file.close()
        for sig, h in handlers.items():
            signal.signal(sig, h)
    if not stop and not trainer.done:  # under torchrun: another rank got the signal, all stopped
        stop.append(signal.SIGTERM)
    if stop:
        progress.close()
        save()
        name = "SIGINT" if stop[0] == signal.SIGINT else "SIGTERM"
        if distributed.is_main():  # (every rank got the signal; one reports)
            print(f"microgpt train: {name} at step {trainer.step} of {tc.steps}; saved {out}. "
                  f"Resume with: microgpt train --resume {out}", file=sys.stderr)
        return 128 + stop[0]
    tok_s = trainer.tokens / trainer.seconds if trainer.seconds else 0.0
    print(f"trained {trainer.step} steps in {trainer.seconds:.1f}s ({tok_s:,.0f} tokens/s, engine {engine})")
    val = trainer.val_loss()
    if val is not None:
        held_out = f"{len(trainer.val_ids):,} characters" if text_mode else f"{len(trainer.val_docs)} docs"
        print(f"val loss {val:.4f} | val perplexity {math.exp(val):.2f} ({held_out})")
    save(val_loss=val)
    print(f"saved model to {out}")
    if args.samples and text_mode and distributed.is_main():
        print("--- inference (a passage, from a newline) ---")
        prefix = "\n" if "\n" in trainer.tokenizer.stoi else trainer.tokenizer.chars[0]
        print(generate_text(trainer.engine, trainer.tokenizer, trainer.rng, 300, args.temperature, prefix=prefix))
    elif args.samples and distributed.is_main():
        from microgpt import novelty
        from microgpt.training_data import TrainingData

        seen = TrainingData(data_path, docs, trainer.train_docs, trainer.val_docs)
        print("--- inference (new, hallucinated names) ---")
        marks = []
        for i in range(args.samples):
            name = generate(trainer.engine, trainer.tokenizer, trainer.rng, args.temperature)
            marks.append(novelty.mark(seen, name))  # after the name: "sample  1: kamon" stays a prefix
            print(f"sample {i + 1:2d}: {name}  ({marks[-1]})")
        print(novelty.summary(marks))
    return 0


def load_model(path, engine="scalar", **options):
    from microgpt import checkpoint
    from microgpt.engines import make_engine

    ckpt = checkpoint.load(path)
    return ckpt, make_engine(engine, ckpt.config, ckpt.weights, **options)


def cmd_sample(args):
    from microgpt import novelty, training_data
    from microgpt.sample import check_sampling_args, generate

    ckpt, engine = load_model(args.model, args.engine, **engine_options(args, args.engine))
    if ckpt.training.get("format") == "text":  # one long text: passages, not names
        from microgpt.text import generate_text

        check_sampling_args(ckpt.tokenizer, ckpt.config, args.temperature, args.top_k, "", args.n)
        prefix = args.prefix or ("\n" if "\n" in ckpt.tokenizer.stoi else ckpt.tokenizer.chars[0])
        rng = random.Random(args.seed)
        for i in range(args.n):
            print(f"--- sample {i + 1} ---")
            print(generate_text(engine, ckpt.tokenizer, rng, args.chars, args.temperature, args.top_k, prefix))
        return 0
    check_sampling_args(ckpt.tokenizer, ckpt.config, args.temperature, args.top_k, args.prefix, args.n)
    rng = random.Random(args.seed)
    data = training_data.find(ckpt, args.data, args.model)
    marks = []
    for i in range(args.n):
        name = generate(engine, ckpt.tokenizer, rng, args.temperature, args.top_k, args.prefix)
        if data is None:
            print(f"sample {i + 1:2d}: {name}")
        else:  # the marker goes after the name, so "sample  1: name" stays a prefix
            marks.append(novelty.mark(data, name))
            print(f"sample {i + 1:2d}: {name}  ({marks[-1]})")
    # The summary goes to stderr: stdout keeps exactly one line per sample.
    if data is None:
        print(f"novelty: unknown ({training_data.unknown_reason(ckpt)})", file=sys.stderr)
    else:
        print(novelty.summary(marks, data.exact), file=sys.stderr)
    return 0


def cmd_info(args):
    from microgpt import checkpoint
    from microgpt.views import parameters_view

    ckpt = checkpoint.load(args.model)
    print(f"model: {args.model}")
    print(f"vocabulary: {ckpt.tokenizer.vocab_size} tokens ({''.join(ckpt.tokenizer.chars)!r} + BOS)")
    print(parameters_view(ckpt.config))
    if ckpt.training:
        print("training:")
        for k, v in ckpt.training.items():
            if isinstance(v, dict):
                v = ", ".join(f"{a}={b}" for a, b in v.items())
            elif k == "recent_losses" and isinstance(v, list) and v and all(isinstance(x, (int, float)) for x in v):
                k, v = f"mean loss of the last {len(v)} steps", f"{sum(v) / len(v):.4f}"
            elif isinstance(v, list):
                v = f"[{len(v)} values]"
            print(f"  {k}: {v}")
    print(f"resumable: {'yes' if ckpt.optimizer is not None else 'no (no optimizer state)'}")
    return 0


def cmd_dataset(args):
    from microgpt.data import read_docs, resolve_data_path
    from microgpt.views import dataset_view

    path = resolve_data_path(args.data)
    print(dataset_view(read_docs(path), path, args.seed, args.n))
    return 0


def cmd_tokenizer(args):
    from microgpt.data import read_docs, resolve_data_path
    from microgpt.tokenizer import Tokenizer
    from microgpt.views import tokenizer_view

    if args.model:
        tok = load_model(args.model)[0].tokenizer
    else:
        tok = Tokenizer.from_docs(read_docs(resolve_data_path(args.data)))
    print(tokenizer_view(tok, args.text))
    return 0


def cmd_autograd(args):
    from microgpt.views import autograd_view

    print(autograd_view(args.a, args.b))
    return 0


def _model_or_fresh(args):
    """A saved model, or a freshly initialised one over the dataset's vocabulary."""
    if args.model:
        ckpt = load_model(args.model)[0]
        return ckpt.config, ckpt.weights, ckpt.tokenizer
    from microgpt.config import GPTConfig
    from microgpt.data import read_docs, resolve_data_path
    from microgpt.model import init_weights
    from microgpt.tokenizer import Tokenizer

    tok = Tokenizer.from_docs(read_docs(resolve_data_path(args.data)))
    config = GPTConfig(tok.vocab_size, args.n_embd, args.n_head, args.n_layer, args.block_size)
    return config, init_weights(config, random.Random(args.seed)), tok


def cmd_parameters(args):
    from microgpt.views import parameters_view

    print(parameters_view(_model_or_fresh(args)[0]))
    return 0


def cmd_architecture(args):
    from microgpt.views import architecture_view

    config, weights, tok = _model_or_fresh(args)
    print(architecture_view(weights, config, tok, args.text))
    return 0


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
        from microgpt.checkpoint import atomic_write_text

        atomic_write_text(args.json, json.dumps({"rows": rows, "notes": notes}, indent=1))
    return 0


# ---- the parser


def add_model_args(p, resumable=False):
    # In `train`, defaults are filled in later (TRAIN_DEFAULTS) so that --resume can tell given flags apart.
    d = (lambda v: None) if resumable else (lambda v: v)
    g = p.add_argument_group("model")
    g.add_argument("--n-embd", type=positive_int, default=d(16), help="embedding width (default: 16)")
    g.add_argument("--n-head", type=positive_int, default=d(4),
                   help="attention heads; must divide n-embd (default: 4)")
    g.add_argument("--n-layer", type=positive_int, default=d(1), help="transformer blocks (default: 1)")
    g.add_argument("--block-size", type=positive_int, default=d(16),
                   help="context length; longer documents are truncated (default: 16)")


def add_data_arg(p):
    p.add_argument("--data", metavar="FILE",
                   help="text file, one document per line (default: $MICROGPT_DATA, else the names dataset, "
                        "downloaded once to the cache)")


def build_parser():
    parser = ArgumentParser(prog="microgpt", description="Train and sample a GPT from first principles.")
    parser.add_argument("--version", action="version", version=f"microgpt {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("train", help="train a model, save it, print samples",
                       description="Train a GPT on one document per line, save it as JSON and print samples.")
    add_data_arg(p)
    p.add_argument("--text", metavar="FILE",
                   help="train on one long text (a book, a codebase) in random windows of block-size + 1 "
                        "characters, the last 10%% held out, instead of one document per line")
    add_model_args(p, resumable=True)
    g = p.add_argument_group("training")
    g.add_argument("--steps", type=positive_int, default=None, help="optimizer steps (default: 1000)")
    g.add_argument("--batch-size", type=positive_int, default=None, help="documents per step (default: 1)")
    g.add_argument("--lr", type=positive_float, default=None,
                   help="peak learning rate, decayed linearly to 0 (default: 0.01)")
    g.add_argument("--beta1", type=unit_float, default=None, help="Adam first-moment decay (default: 0.85)")
    g.add_argument("--beta2", type=unit_float, default=None, help="Adam second-moment decay (default: 0.99)")
    g.add_argument("--eps", type=positive_float, default=None, help="Adam epsilon (default: 1e-8)")
    g.add_argument("--optimizer", choices=["adam", "sgd"], default=None, help="optimizer (default: adam)")
    g.add_argument("--weight-decay", type=nonneg_float, default=None,
                   help="decoupled weight decay (AdamW); 0 = plain Adam (default: 0)")
    g.add_argument("--schedule", choices=["linear", "cosine", "constant"], default=None,
                   help="learning-rate schedule after warmup (default: linear decay to 0)")
    g.add_argument("--warmup-steps", type=nonneg_int, default=None, help="linear warmup steps (default: 0)")
    g.add_argument("--seed", type=int, default=None, help="seed for shuffle, init and samples (default: 42)")
    g.add_argument("--val-docs", type=nonneg_int, default=None,
                   help="documents held out for validation (default: min(1000, 10%% of the data))")
    add_engine_arg(g, default=None)
    add_engine_options(p, training=True)
    g.add_argument("--eval-every", type=positive_int, metavar="N",
                   help="every N steps (and at the end) print the validation loss and log it to --log "
                        "as {\"step\": .., \"val_loss\": ..}")
    g.add_argument("--keep-best", action="store_true",
                   help="with --eval-every: save the model to OUT's name + .best.json (atomically) whenever "
                        "the validation loss improves")
    g = p.add_argument_group("runs that stop and go on")
    g.add_argument("--resume", metavar="CKPT",
                   help="go on training a saved model (weights, optimizer, step, RNG); saves back to CKPT "
                        "unless --out is given")
    g.add_argument("--save-every", type=positive_int, metavar="N",
                   help="also save the model every N steps (atomically: a crash leaves the old file or the new)")
    g = p.add_argument_group("output")
    g.add_argument("--out", metavar="PATH",
                   help="where to save the model (default: model_e{n_embd}_h{n_head}_l{n_layer}_s{steps}.json; "
                        "an existing file of that name is kept and a numbered name used)")
    # --log-file: the same flag under a name torchrun's own parser does not mistake for its --log-dir
    g.add_argument("--log", "--log-file", metavar="FILE",
                   help="write one JSON object per step (step, loss, lr, elapsed)")
    g.add_argument("--samples", type=nonneg_int, default=20, help="samples to print after training (default: 20)")
    g.add_argument("--temperature", type=nonneg_float, default=0.5,
                   help="sampling temperature; 0 = always the most likely (default: 0.5)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="generate from a saved model", description="Generate from a saved model.")
    p.add_argument("model", metavar="MODEL", help="a checkpoint written by 'microgpt train'")
    p.add_argument("-n", type=int, default=20, help="how many samples (default: 20)")
    p.add_argument("--temperature", type=nonneg_float, default=0.5,
                   help="below 1 sharper, above 1 more varied, 0 greedy (default: 0.5)")
    p.add_argument("--top-k", type=int, default=None, help="draw only from the k most likely tokens")
    p.add_argument("--prefix", default="", help="start every sample with this text")
    p.add_argument("--seed", type=int, default=42, help="random seed; the same seed gives the same samples (default: 42)")
    p.add_argument("--chars", type=positive_int, default=300,
                   help="characters per sample, for a model trained with --text (default: 300)")
    p.add_argument("--data", metavar="FILE",
                   help="the training data, to mark each sample new or a copy (default: the path the checkpoint "
                        "recorded)")
    add_engine_arg(p, default="fused")
    add_engine_options(p)
    p.set_defaults(func=cmd_sample)

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

    sub.add_parser("ladder", help="run the six rungs train0..train5 and compare them (see: microgpt ladder --help)",
                   add_help=False)

    p = sub.add_parser("info", help="describe a saved model", description="Config, parameters and training of a model.")
    p.add_argument("model", metavar="MODEL")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("dataset", help="view: the documents", description="How the data is read, shuffled and split.")
    add_data_arg(p)
    p.add_argument("-n", type=positive_int, default=10, help="documents to show (default: 10)")
    p.add_argument("--seed", type=int, default=42, help="shuffle seed (default: 42)")
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("tokenizer", help="view: text to ids and back", description="Round-trip a text through the tokenizer.")
    p.add_argument("text", nargs="?", default="emma", help="text to encode (default: emma)")
    add_data_arg(p)
    p.add_argument("--model", help="use this checkpoint's tokenizer instead of the data's")
    p.set_defaults(func=cmd_tokenizer)

    p = sub.add_parser("autograd", help="view: backprop on L = a*b + a", description="The worked example of the Value autograd.")
    p.add_argument("-a", type=finite_float, default=2.0, help="value of a (default: 2)")
    p.add_argument("-b", type=finite_float, default=3.0, help="value of b (default: 3)")
    p.set_defaults(func=cmd_autograd)

    for name, func, helptext in [
        ("parameters", cmd_parameters, "view: the parameter tree and total"),
        ("architecture", cmd_architecture, "view: one forward pass, logits and top next tokens"),
    ]:
        p = sub.add_parser(name, help=helptext, description=helptext[6:].capitalize() + ".")
        p.add_argument("--model", help="a saved model (default: a fresh one over the data's vocabulary)")
        add_data_arg(p)
        add_model_args(p)
        p.add_argument("--seed", type=int, default=42, help="init seed for a fresh model (default: 42)")
        if name == "architecture":
            p.add_argument("text", nargs="?", default="", help="context after BOS (default: empty)")
        p.set_defaults(func=func)
    from microgpt import inspect_cli

    inspect_cli.add_commands(sub, add_engine_arg)  # score, eval, plot, graph
    for p in sub.choices.values():  # --debug works after the command name too
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback on errors")
    return parser


def run_ladder(argv):
    """`microgpt ladder ...`: the ladder's own runner, with the data found as `train` finds it."""
    from microgpt import ladder
    from microgpt.data import resolve_data_path

    if not any(a == "--data" or a.startswith("--data=") for a in argv) and not {"-h", "--help"} & set(argv):
        try:
            argv = [*argv, "--data", str(resolve_data_path(None))]
        except MicroGPTError as e:
            print(f"microgpt ladder: error: {e}", file=sys.stderr)
            return e.exit_code
    return ladder.main(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["ladder"]:  # the ladder parses its own flags (its rungs are standalone scripts)
        return run_ladder(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    debug = args.debug or os.environ.get("MICROGPT_DEBUG")
    try:
        return args.func(args)
    except MicroGPTError as e:
        if debug:
            raise
        print(f"microgpt {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except OSError as e:  # a file we were told to write or read cannot be (no folder, no permission, disk full)
        if debug:
            raise
        where = f": {e.filename}" if getattr(e, "filename", None) else ""
        print(f"microgpt {args.command}: error: {e.strerror or e}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nmicrogpt {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `microgpt sample m.json | head -3`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
