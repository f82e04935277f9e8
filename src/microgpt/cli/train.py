"""`microgpt train`: plan a run, train it with a progress bar, save, sample."""

import os
import shlex
import signal
import sys

from microgpt.cli.args import (add_data_arg, add_engine_arg, add_engine_options, add_model_args,
                               given_engine_options, nonneg_float, nonneg_int, positive_float, positive_int,
                               unit_float)
from microgpt.config import ACTIVATIONS, TrainConfig, defaults
from microgpt.sample import SAMPLES, TEMPERATURE

SETTINGS = ("n_embd", "n_head", "n_layer", "block_size", "activation", *defaults(TrainConfig))


def cmd_train(args):
    import contextlib

    from microgpt import distributed
    from microgpt.cli.pipes import keep_going
    from microgpt.files import writelock
    from microgpt.training import plan

    if not distributed.is_main():  # under torchrun only rank 0 speaks
        sys.stdout = open(os.devnull, "w")
    if args.samples:  # the samples come after training: a temperature they cannot use is refused first
        from microgpt.sample import check_temperature

        check_temperature(args.temperature)
    with keep_going() as stdout:  # a closed stdout must not cost the run: it trains on and saves, quietly
        run = plan(data=args.data, text=args.text, resume=args.resume, out=args.out, log=args.log,
                   engine=args.engine, engine_options=given_engine_options(args), val_docs=args.val_docs,
                   eval_every=args.eval_every, keep_best=args.keep_best, save_every=args.save_every,
                   force=args.force, tokenizer=args.tokenizer, vocab_size=args.vocab_size, log_stats=args.log_stats,
                   **{k: getattr(args, k) for k in SETTINGS if getattr(args, k) is not None})
        # one writer per checkpoint (writelock.py); under torchrun rank 0 writes
        with writelock.hold(run.out) if distributed.is_main() else contextlib.nullcontext([]) as removed:
            for name in removed:
                print(f"note: removed {name}, the temporary file of a save that was killed")
            return train_and_save(run, args, stdout)


def train_and_save(run, args, stdout):
    from microgpt import distributed
    from microgpt.files import interrupts
    from microgpt.progress import Progress

    trainer, steps = run.trainer, run.trainer.train_config.steps
    print_header(run)
    progress = Progress(steps, first_step=trainer.step)
    eval_bar = Progress(0, tty=False)  # the latest validation's bar (none yet)

    def new_eval_bar(n):  # a validation's bar, on a terminal, once it has taken a second
        nonlocal eval_bar  # (below the training bar while that holds its line: the run is not done yet)
        eval_bar = Progress(n, stream=progress.stream, tty=progress.tty, label="val", lines=False, delay=1.0,
                            below=not trainer.done)
        return eval_bar

    def say(line):  # a validation line: on a line of its own below a live bar
        if progress.tty and not eval_bar.drawn:  # (a bar that was drawn has ended its line)
            progress.stream.write("\n")
        print(line, flush=True)

    try:
        run.train(on_step=progress.update, say=say, signals=True, bar=new_eval_bar)
    finally:
        if eval_bar.holds_line:
            eval_bar.close()  # a validation cut short (its line is below the training bar's)
        elif not run.trainer.done:
            progress.close()
    if run.stopped_by:
        if distributed.is_main():  # (every rank got the signal; one reports)
            report_stop(run, args)
        return 128 + run.stopped_by
    if run.log_failed:
        print(f"microgpt train: error: {run.log_failed}; saved {run.out}. Resume with: {resume_command(run, args)}",
              file=sys.stderr)
        return 1
    tok_s = trainer.tokens / trainer.seconds if trainer.seconds else 0.0
    print(f"trained {trainer.step} steps in {trainer.seconds:.1f}s ({tok_s:,.0f} tokens/s, engine {trainer.engine_name})")
    from microgpt import flops

    speed = flops.of_run(trainer)  # against the matmul peak of the engine's library and dtype, measured now
    threads = trainer.engine.threads
    if speed or threads:
        print("speed: " + "; ".join(filter(None, [speed, threads and f"on {threads.describe()}"])))
    if run.validation is not None:
        print(f"{run.validation.line()} ({trainer.source.held_out()}: {run.validation.counts()})")
    with interrupts.Deferred() as signalled:  # a signal now waits for the save: the run is not lost
        run.save()
    if run.moved_from is not None:
        print(f"note: {run.moved_from} appeared during the run and is not a checkpoint; it was left as it is")
    print(f"saved model to {run.out}")
    if signalled.got:
        print(f"microgpt train: {signal.Signals(signalled.got[0]).name} while saving; saved {run.out}",
              file=sys.stderr)
        return 128 + signalled.got[0]
    if args.samples and distributed.is_main() and not stdout.reader_gone:
        print_run_samples(run, args)
    return 0


def print_header(run):
    from microgpt.data import describe_source
    from microgpt.model import num_params

    trainer = run.trainer
    if describe_source(run.data_path):
        print(describe_source(run.data_path))
    print(trainer.source.describe(trainer.config.block_size))
    print(f"vocab size: {trainer.tokenizer.vocab_size}{describe_vocab(trainer.tokenizer)}")
    print(f"num params: {num_params(trainer.config)}")
    if getattr(trainer.engine, "dtype_why", None):  # the torch engine: its number format may be chosen for the CPU
        print(f"engine: {trainer.engine_name} on {trainer.engine.device}, {trainer.engine.dtype} "
              f"({trainer.engine.dtype_why})")
    if not run.is_text:
        n_long = sum(len(d) + 1 > trainer.config.block_size for d in run.docs)
        if n_long:
            print(f"note: {n_long} documents are longer than block_size {trainer.config.block_size} allows "
                  "and are truncated (as in the original)")
    if run.resumed_from:
        print(f"resuming from {run.resumed_from} at step {trainer.step} of {trainer.train_config.steps}")


def describe_vocab(tokenizer):
    if tokenizer.kind != "bpe":
        return ""
    return f" (byte-level BPE learned on the training split: 256 bytes + {len(tokenizer.merges)} merges + BOS)"


def report_stop(run, args):
    name, steps = signal.Signals(run.stopped_by).name, run.trainer.train_config.steps
    if run.trainer.done:  # it came during the final validation
        print(f"microgpt train: {name} during the final validation; saved {run.out} (all {steps} steps "
              "trained, no validation loss recorded)", file=sys.stderr)
    else:
        print(f"microgpt train: {name} at step {run.trainer.step} of {steps}; saved {run.out}. "
              f"Resume with: {resume_command(run, args)}", file=sys.stderr)


def print_run_samples(run, args):
    """The samples after training, drawn with the run's own generator (as the original does)."""
    from microgpt.api import Model
    from microgpt.cli.use import print_samples

    model, rng = Model.of(run), run.trainer.rng
    if run.is_text:
        print("--- inference (a passage, from a newline) ---")
        print(next(model.samples(1, args.temperature, rng=rng)))
    else:
        print("--- inference (new, hallucinated names) ---")
        print_samples(model.samples(args.samples, args.temperature, rng=rng), run.training_data(),
                      summary_to=sys.stdout)


def resume_command(run, args):
    """The command that goes on with this run as it was going: --resume, and every
    flag that changes what the rest of the run does but is not in the checkpoint
    (the data is, but $MICROGPT_DATA would win over it: given, it is repeated)."""
    words = ["microgpt", "train", "--resume", str(run.out)]
    for flag, value in (("--data", args.data), ("--text", args.text), ("--log", args.log),
                        ("--log-stats", args.log_stats), ("--eval-every", args.eval_every),
                        ("--save-every", args.save_every), ("--device", args.device)):
        if value is not None:
            words += [flag, str(value)]
    if args.keep_best:
        words.append("--keep-best")
    if args.samples != SAMPLES:
        words += ["--samples", str(args.samples)]
    if args.temperature != TEMPERATURE:
        words += ["--temperature", f"{args.temperature:g}"]
    return " ".join(shlex.quote(w) for w in words)


def register(sub):
    d = defaults(TrainConfig)  # every default below is the dataclass's, not written again
    p = sub.add_parser("train", help="train a model, save it, print samples",
                       description="Train a GPT on one document per line, save it as JSON and print samples.")
    add_data_arg(p)
    p.add_argument("--text", metavar="FILE",
                   help="train on one long text (a book, a codebase) in random windows of block-size + 1 "
                        "characters, the last 10%% held out, instead of one document per line")
    p.add_argument("--tokenizer", choices=["char", "bpe"], default=None,
                   help="char: one token per character of the data (default); bpe: byte-level BPE, merges "
                        "learned on the training split (docs/tokenizers.md)")
    p.add_argument("--vocab-size", type=int, default=None, metavar="N",
                   help="with --tokenizer bpe: tokens in all, the 256 bytes and BOS included (default: 512)")
    model = add_model_args(p, resumable=True)
    model.add_argument("--activation", choices=ACTIVATIONS, default=None,
                       help="the MLP's nonlinearity: relu, the original's (default), or gelu, GPT-2's and "
                            "nanoGPT's (tanh form); every engine computes either")
    # Defaults are None here, so that --resume can tell a given flag from one left out.
    g = p.add_argument_group("training")
    g.add_argument("--steps", type=positive_int, default=None, help=f"optimizer steps (default: {d['steps']})")
    g.add_argument("--batch-size", type=positive_int, default=None,
                   help=f"documents per step (default: {d['batch_size']})")
    g.add_argument("--lr", type=positive_float, default=None,
                   help=f"peak learning rate, decayed linearly to 0 (default: {d['lr']})")
    g.add_argument("--beta1", type=unit_float, default=None, help=f"Adam first-moment decay (default: {d['beta1']})")
    g.add_argument("--beta2", type=unit_float, default=None,
                   help=f"Adam second-moment decay (default: {d['beta2']})")
    g.add_argument("--eps", type=positive_float, default=None, help=f"Adam epsilon (default: {d['eps']})")
    g.add_argument("--optimizer", choices=["adam", "sgd"], default=None,
                   help=f"optimizer (default: {d['optimizer']})")
    g.add_argument("--weight-decay", type=nonneg_float, default=None,
                   help=f"decoupled weight decay (AdamW); 0 = plain Adam (default: {d['weight_decay']:g})")
    g.add_argument("--schedule", choices=["linear", "cosine", "constant"], default=None,
                   help=f"learning-rate schedule after warmup (default: {d['schedule']} decay to 0)")
    g.add_argument("--warmup-steps", type=nonneg_int, default=None,
                   help=f"linear warmup steps (default: {d['warmup_steps']})")
    g.add_argument("--seed", type=int, default=None,
                   help=f"seed for shuffle, init and samples (default: {d['seed']})")
    g.add_argument("--val-docs", type=nonneg_int, default=None,
                   help="documents held out for validation (default: min(1000, 10%% of the data))")
    add_engine_arg(g, default=None)
    add_engine_options(p, training=True)
    g.add_argument("--eval-every", type=positive_int, metavar="N",
                   help="every N steps (and at the end) print the validation loss and log it to --log "
                        "as {\"step\": .., \"val_loss\": ..}; on a long text, from an evenly spread sample of it, "
                        "labelled so (the final line reads all of it)")
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
                        "an existing file of that name is kept and a numbered name used); it may replace a "
                        "checkpoint, other files only with --force. While the run writes it, PATH.lock beside "
                        "it keeps a second run from writing it too")
    # --log-file: the same flag under a name torchrun's own parser does not mistake for its --log-dir
    g.add_argument("--log", "--log-file", metavar="FILE",
                   help="write one JSON object per step (step, loss, lr, elapsed)")
    g.add_argument("--log-stats", type=positive_int, metavar="N",
                   help="every N steps, also log each weight matrix's weight norm, gradient norm and "
                        "update-to-weight ratio (the explorer charts them)")
    g.add_argument("--samples", type=nonneg_int, default=SAMPLES,
                   help=f"samples to print after training (default: {SAMPLES}; a --text run prints one passage, "
                        "or none with 0)")
    g.add_argument("--temperature", type=nonneg_float, default=TEMPERATURE,
                   help=f"sampling temperature; 0 = always the most likely (default: {TEMPERATURE})")
    g.add_argument("--force", action="store_true",
                   help="let --out, --log and --keep-best's file replace existing files that are not a "
                        "microgpt checkpoint / run log (never the data, a folder or a device); without it "
                        "such files are kept and the run refused")
    p.set_defaults(func=cmd_train)
