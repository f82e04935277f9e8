"""Training: the loop (Trainer) and a whole run around it (plan, Run).

One random generator, seeded once, drives everything in the original's order:
shuffle the documents, draw the initial weights, (training itself draws
nothing, except a text's random windows), then draw the samples. So the same
seed and config give the same run, step for step, and the same samples. Each
step takes the next batch from its source (batches.py: documents in order, or
random windows of a text, with their tokenizer), runs forward and backward,
and lets the optimizer move the weights with the scheduled learning rate.

A run can stop and go on later: a checkpoint carries the weights, the
optimizer's moments, the step, and the random generator's state. The data
position and the learning rate follow from the step, so a resumed run computes
exactly what the uninterrupted one would have, bit for bit.

`plan(...)` decides everything about a run before its first step (the data,
how a resume merges settings, the engine, where it saves, the data's
fingerprint) and refuses what cannot work; `Run.train()` then trains with the
periodic hooks (validation, keep-best, save-every, stopping on a signal). The
command line and the Python API (api.py) both go through here.
"""

import json
import math
import os
import random
import signal
import time
from pathlib import Path

from microgpt import distributed
from microgpt.batches import Documents, TextWindows, check_tokenizer
from microgpt.config import MODEL_DEFAULTS, GPTConfig, TrainConfig, resolve_settings
from microgpt.data import fingerprint, read_docs, read_text, recorded_path, resolve_data_path
from microgpt.engines import DEFAULT_ENGINE, check_engine_options, make_engine
from microgpt.errors import MicroGPTError, UsageError
from microgpt.evaluation import measure_sample
from microgpt.files import checkpoint, interrupts, outputs, resources
from microgpt.files.runlog import RunLog
from microgpt.files.inputs import check_path
from microgpt.model import init_weights
from microgpt.optim import learning_rate
from microgpt.provenance import TrainingData
from microgpt.tokenizer import Tokenizer

EVAL_EVERY_TOKENS = 16_384  # --eval-every reads about this many held-out tokens (the end reads all)


class Diverged(MicroGPTError):
    """The loss stopped being a finite number."""


class Trainer:
    """Holds a run: its batch source, tokenizer, engine, RNG, and how far it got.

    Give `docs` (one document each) or `text` (one long string). With `resume`
    (a loaded Checkpoint) the architecture, training config, weights, optimizer
    state, step and RNG come from it; the data must be what it was trained on
    (documents are shuffled and split the same way)."""

    def __init__(self, docs=None, n_embd=None, n_head=None, n_layer=None, block_size=None, train_config=None,
                 engine=DEFAULT_ENGINE, val_docs=None, resume=None, engine_options=None, *, text=None,
                 tokenizer="char", vocab_size=None, activation=None):
        if (docs is None) == (text is None):
            raise UsageError("train on documents or on a text: give one of them")
        if resume is not None:
            record = resume.training
            train_config = train_config or record.train_config
            if train_config is None:
                raise MicroGPTError("checkpoint has no training config; it cannot be resumed")
            val_docs = record.n_val if record.n_val is not None and text is None else val_docs
            block_size = resume.config.block_size
            tokenizer, vocab_size = resume.tokenizer, None  # a resumed run keeps its tokenizer
            if tokenizer.kind == "char" and Tokenizer.from_docs(docs or [text]).chars != tokenizer.chars:
                raise MicroGPTError("the data's characters differ from the checkpoint's: resume with the same "
                                    + ("--data" if text is None else "--text"))
        self.train_config = tc = train_config or TrainConfig()
        self.rng = random.Random(tc.seed)
        dims = dict(n_embd=n_embd, n_head=n_head, n_layer=n_layer, block_size=block_size, activation=activation)
        dims = {k: MODEL_DEFAULTS[k] if v is None else v for k, v in dims.items()}
        # Documents are shuffled with the generator's first draws, before the weights.
        self.source = Documents(docs, self.rng, val_docs, tokenizer, vocab_size) if text is None else \
            TextWindows(text, dims["block_size"], tokenizer, vocab_size)
        self.tokenizer = self.source.tokenizer
        self.engine_name = engine
        self.step, self.losses, self.tokens, self.seconds = 0, [], 0, 0.0
        # every log_stats steps (--log-stats N), a step also measures each weight matrix (Engine.train_step_with_stats)
        self.log_stats, self.last_stats = None, None
        options = engine_options or {}  # e.g. {"dtype": "float32"} for the numpy engine
        if resume is None:
            self.config = GPTConfig(self.tokenizer.vocab_size, **dims)
            self.engine = make_engine(engine, self.config, init_weights(self.config, self.rng), tc, **options)
            return
        resume.check_resumable()  # one line naming what is missing or wrong, not a crash inside an engine
        self.config = resume.config
        self.engine = make_engine(engine, self.config, resume.weights, tc, **options)
        self.engine.load_optimizer_state(resume.optimizer)
        self.rng = checkpoint.rng_from_json(resume.rng_state)  # a text's window draws go on where they stopped
        self.step, self.tokens, self.seconds = record.steps, record.tokens, record.seconds
        self.losses = list(record.recent_losses)

    # the documents of a Documents source (tests and tools read them)
    @property
    def train_docs(self):
        return self.source.train

    @property
    def val_docs(self):
        return self.source.val

    @property
    def done(self):
        return self.step >= self.train_config.steps

    def batch(self, step):
        return self.source.batch(step, self.train_config.batch_size, self.config.block_size, self.rng)

    def train_step(self):
        """One optimizer step; returns (loss, tokens seen, learning rate). On a
        --log-stats step, last_stats holds the step's per-matrix stats, else None."""
        tc = self.train_config
        batch = self.batch(self.step)
        lr_t = learning_rate(tc, self.step)
        self.last_stats = None
        try:
            if self.log_stats and (self.step + 1) % self.log_stats == 0:
                loss, self.last_stats = self.engine.train_step_with_stats(batch, lr_t)
            else:
                loss = self.engine.train_step(batch, lr_t)
        except (ArithmeticError, ValueError) as e:  # log(0), exp overflow: the weights blew up
            raise Diverged(f"training diverged at step {self.step + 1} ({e}); try a lower --lr") from None
        if not math.isfinite(loss):
            raise Diverged(f"loss became {loss} at step {self.step + 1}; try a lower --lr")
        n_tokens = sum(self.config.predicted(t) for t in batch)
        self.step += 1
        self.losses.append(loss)
        self.tokens += n_tokens
        return loss, n_tokens, lr_t

    def run(self, on_step=None, log_file=None, should_stop=None):
        """Train to train_config.steps, or until should_stop() says so.

        on_step(step, loss, tokens, lr) follows every step (1-based); log_file
        gets one JSON object per step."""
        start = time.perf_counter() - self.seconds
        while not self.done:
            loss, n_tokens, lr_t = self.train_step()
            self.seconds = time.perf_counter() - start
            if log_file is not None:
                record = {"step": self.step, "loss": loss, "lr": lr_t, "elapsed": round(self.seconds, 6),
                          "tokens": n_tokens}
                if self.last_stats is not None:
                    record["stats"] = self.last_stats
                log_file.write(json.dumps(record) + "\n")
                log_file.flush()
            if on_step is not None:
                on_step(self.step, loss, n_tokens, lr_t)
            if should_stop is not None and should_stop():
                break
        return self

    def val_loss(self):
        """Mean loss per token on the held-out documents or windows; None without any."""
        return self.validation().loss if self.source.val else None

    def validation(self, sample_tokens=None, bar=None):
        """The held-out loss as an evaluation.Measured (also bits per character), or None; with sample_tokens
        an estimate from about that many (evaluation.measure_sample). bar(n): a Progress for n token lists."""
        held = self.source.val_batch(self.config.block_size)
        return measure_sample(self.engine, self.tokenizer, held, sample_tokens, bar) if held else None

    def checkpoint(self, **metadata):
        """Everything needed to sample from the model or to go on training it."""
        training = {"steps": self.step, "seed": self.train_config.seed,
                    "final_loss": self.losses[-1] if self.losses else None, "complete": self.done,
                    "engine": self.engine_name, "train_config": self.train_config.to_dict(),
                    **self.source.record(), "seconds": round(self.seconds, 3), "tokens": self.tokens,
                    "recent_losses": self.losses[-100:], **metadata}
        return checkpoint.Checkpoint(self.config, self.tokenizer, self.engine.weights(), training,
                                     self.engine.optimizer_state(), checkpoint.rng_to_json(self.rng))


# ---- a run: decided up front, then trained with its hooks


def plan(*, data=None, text=None, resume=None, out=None, log=None, engine=None, engine_options=None,
         val_docs=None, eval_every=None, keep_best=False, save_every=None, force=False, tokenizer=None,
         vocab_size=None, log_stats=None, **settings):
    """A Run, with everything decided and checked before its first step.

    `settings` are GPTConfig's and TrainConfig's fields (n_embd=..., steps=...);
    left out, they take those classes' defaults, or the checkpoint's when resuming;
    tokenizer="char" (default) or "bpe", with vocab_size (batches.check_tokenizer).
    Where it saves and logs is checked too (outputs.py); force=True lets those replace
    existing files that are not a checkpoint / a run log. log_stats=N adds to the log,
    every N steps, each weight matrix's weight norm, gradient norm and update-to-weight
    ratio (files/runlog.py)."""
    for flag, path in (("--data", data), ("--text", text), ("--resume", resume), ("--out", out), ("--log", log)):
        if path is not None:  # "" is not the default: a variable that came out empty, most likely
            check_path(path, flag)
    for flag, n, low in (("--val-docs", val_docs, 0), ("--eval-every", eval_every, 1), ("--save-every", save_every, 1),
                         ("--log-stats", log_stats, 1)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < low):
            raise UsageError(f"{flag} must be an integer of at least {low}, got {n!r:.40}")
    if log_stats is not None and log is None:
        raise UsageError("--log-stats N writes its numbers into the run log: give --log FILE too")
    ckpt = checkpoint.load(resume) if resume else None
    record = ckpt.training if ckpt else None
    tc, dims = resolve_settings(settings, ckpt)
    tokenizer, vocab_size = check_tokenizer(tokenizer, vocab_size, ckpt)
    if text and data:
        raise UsageError("--text FILE and --data FILE are two ways to give the data: use one")
    text_mode = bool(text) or (record is not None and record.is_text)
    if text_mode and val_docs is not None:
        raise UsageError("--val-docs counts documents of --data; --text holds out the last 10% of the text")
    if text_mode:
        data_path = Path(text or record.data or "")
        if not text and not record.data:
            raise MicroGPTError("the checkpoint does not record its text file; pass --text FILE")
        docs = [read_text(data_path, what="text file")]
    else:
        if record is not None and not data and not os.environ.get("MICROGPT_DATA") and record.data:
            data = record.data  # the same file it was trained on
        data_path = resolve_data_path(data)
        docs = read_docs(data_path)
    sha = fingerprint(docs)
    if record is not None and record.data_sha256 not in (None, sha):
        raise MicroGPTError(f"{data_path} is not the data this checkpoint was trained on; "
                            "resume with the same --data")
    engine = engine or (record.engine if record else None) or DEFAULT_ENGINE
    if distributed.world_size() > 1 and engine != "torch":
        raise UsageError(f"torchrun runs need --engine torch (got {engine}): the other engines are one process")
    # A resumed run keeps its dtype and clipping unless told otherwise (not its device
    # or threads: it may go on on another machine).
    saved = record.engine_options if record is not None and record.engine == engine else None
    options = check_engine_options(engine, engine_options, saved)
    if keep_best and not eval_every:
        raise UsageError("--keep-best needs --eval-every N: the best model is judged at each validation")
    source = {"docs": docs} if not text_mode else {"text": docs[0]}
    # a run the machine cannot hold is refused now, not after drawing the weights (resources.py)
    config = ckpt.config if ckpt else GPTConfig(vocab_size, **dims) if vocab_size else \
        resources.config_for(docs, dims)  # (a BPE vocabulary is at most vocab_size)
    resources.check(engine, config, tc, options, docs, text_mode)
    if ckpt is None:
        trainer = Trainer(**source, **dims, train_config=tc, engine=engine, val_docs=val_docs,
                          engine_options=options, tokenizer=tokenizer, vocab_size=vocab_size)
        out = Path(out) if out else checkpoint.unused_name(checkpoint.default_name(trainer.config, tc.steps))
    else:
        trainer = Trainer(**source, train_config=tc, engine=engine, resume=ckpt, engine_options=options)
        out = Path(out or resume)
    if eval_every and not trainer.source.val:
        raise UsageError("--eval-every needs validation data; --val-docs is 0")
    _check_outputs(out, log, keep_best and best_name(out), resume, force, [("the checkpoint resumed", resume),
                   ("the text trained on" if text_mode else "the training data", data_path)])
    kept = {k: v for k, v in options.items() if k not in ("device", "threads")}  # (the machine's, not the run's)
    trainer.log_stats = log_stats
    return Run(trainer, out, data_path, sha, kept, docs=docs, resumed_from=resume, log=log,
               eval_every=eval_every, keep_best=keep_best, save_every=save_every,
               best_val_loss=record.best_val_loss if record else None, force=force)


def best_name(out):  # where --keep-best saves
    return out.with_name(out.stem + ".best.json")


def _check_outputs(out, log, best, resume, force, inputs):
    wanted = [outputs.checkpoint_output("--out", out, replaces=resume)]  # resuming saves back over its input
    wanted += [outputs.Output("--log", Path(log), outputs.RUN_LOG, in_place=True)] if log else []
    wanted += [outputs.checkpoint_output("--keep-best's file", best)] if best else []
    outputs.check_outputs(wanted, inputs, force)


class Run:
    """A planned run: its Trainer, where it saves, and what it records about its data."""

    def __init__(self, trainer, out, data_path, data_sha256, engine_options, docs=(), resumed_from=None,
                 log=None, eval_every=None, keep_best=False, save_every=None, best_val_loss=None, force=False):
        self.trainer = trainer
        self.out = Path(out)
        self.force = force  # planned with --force: `out` may replace a file that is not a checkpoint
        self.moved_from = None  # `out` as planned, when a file that appeared there made the run save elsewhere
        self._written = {}  # path -> outputs.identity of what this run saved there: replaced unchecked
        self.best_out = best_name(self.out)
        self.data_path, self.data_sha256 = Path(data_path), data_sha256
        self.engine_options = engine_options  # what the checkpoint records (never the device)
        self.docs, self.resumed_from, self.log = docs, resumed_from, log
        self.eval_every, self.keep_best, self.save_every = eval_every, keep_best, save_every
        self.best_val_loss = best_val_loss
        self.validation = None  # at the end of training: an evaluation.Measured (loss, bits per character)
        self.stopped_by = None  # the signal that stopped the run early, if one did
        self.log_failed = None  # why the --log file could not be written, if it could not (the run stopped)

    @property
    def val_loss(self):
        return self.validation.loss if self.validation is not None else None

    @property
    def is_text(self):
        return self.trainer.source.kind == "text"

    def checkpoint(self, **extra):
        if self.best_val_loss is not None:
            extra.setdefault("best_val_loss", self.best_val_loss)
        if self.validation is not None:
            extra.setdefault("val_loss", self.val_loss)
            extra.setdefault("val_bits_per_char", self.validation.bits_per_char)
        return self.trainer.checkpoint(data=recorded_path(self.data_path), data_sha256=self.data_sha256,
                                       engine_options=self.engine_options, **extra)

    def training_data(self):
        """The run's documents and their exact split (to mark samples new or copied)."""
        return TrainingData(self.data_path, self.docs, self.trainer.train_docs, self.trainer.val_docs)

    def save(self, path=None, force=False, **extra):
        """Write the checkpoint (to `out` by default); under torchrun, rank 0 writes.

        The name is checked again now, as before the first step: a file this run did
        not write that appeared there since is never replaced (outputs.save_checked).
        For `out`, the run then saves beside it under a free name (`out` and
        `moved_from` say so); a `path` given here is refused unless force=True."""
        explicit = path is not None
        path = Path(path or self.out)
        if not distributed.is_main():  # every rank holds the same weights; one writes them
            return path
        saved = outputs.save_checked(self.checkpoint(**extra).save, path, [("the training data", self.data_path)],
                                     force or (self.force and path in (self.out, self.best_out)),  # as planned
                                     self._written.get(path), None if explicit else checkpoint.unused_name)
        if saved != path and path == self.out:
            self.moved_from, self.out = path, saved
        self._written[saved] = outputs.identity(saved)
        return saved

    def validate(self, step, say, log_file, bar=None):
        """Val loss now (a long text's: a labelled sample): reported, logged, saved if best (keep_best)."""
        measured = self.trainer.validation(EVAL_EVERY_TOKENS, bar)
        val, note = measured.loss, ""
        sampled = f" ({measured.counts()})" if measured.sampled else ""
        if self.best_val_loss is None or val < self.best_val_loss:
            self.best_val_loss = val
            if self.keep_best:
                self.save(self.best_out, val_loss=val)
                note = f" (best; saved {self.best_out})"
        say(f"step {step}: val loss {val:.4f} | {measured.bits_per_char:.4f} bits/char{sampled}{note}")
        if log_file is not None:
            log_file.write(json.dumps({"step": step, **measured.record()}) + "\n")
            log_file.flush()
        return val

    def train(self, on_step=None, say=None, signals=False, until=None, bar=None):
        """Train to the end (then compute the validation loss), or to step `until`
        (to look at the model and go on later: call train() again), or until a signal.

        on_step(step, loss, tokens, lr) follows each step; say(line) gets the validation lines (default:
        none printed), bar(n) a validation's Progress. With signals=True, SIGINT and SIGTERM finish the
        step under way (or cut a validation short), save the checkpoint and set stopped_by. Returns self."""
        say = say or (lambda line: None)
        trainer, steps = self.trainer, self.trainer.train_config.steps
        with interrupts.Deferred(active=signals) as signalled:
            stop = signalled.got

            def after_step(step, loss, n, lr):
                if on_step is not None:
                    on_step(step, loss, n, lr)
                if self.eval_every and (step % self.eval_every == 0 or step == steps):
                    signalled.attempt(lambda: self.validate(step, say, log_file, bar))  # a signal: stop and save
                if self.save_every and step % self.save_every == 0 and step < steps:
                    self.save()

            # a fresh run starts its log; a resumed or continued one adds to it (under torchrun, rank 0 logs)
            log_file = RunLog(self.log, "a" if self.resumed_from or trainer.step else "w") \
                if self.log and distributed.is_main() else None
            log_failed = lambda: log_file is not None and log_file.error is not None  # noqa: E731
            try:
                trainer.run(on_step=after_step, log_file=log_file, should_stop=lambda: distributed.any_rank(stop)
                            or log_failed() or (until is not None and trainer.step >= until))
            except Diverged as e:
                kept = f"; the last good checkpoint {self.out} is kept" if self.out.exists() else ""
                raise Diverged(f"{e}{kept}") from None
            finally:
                if log_file:
                    log_file.close()
            if log_failed():  # (a full disk): the run stops where it is, and is saved if it can be
                self.log_failed = f"writing the log {self.log} failed at step {trainer.step}: {log_file.error}"
                try:
                    self.save()
                except OSError as e:
                    raise MicroGPTError(f"{self.log_failed}; saving {self.out} failed too: {e.strerror or e}") \
                        from None
                return self
            if not stop and not trainer.done and (until is None or trainer.step < until):
                stop.append(signal.SIGTERM)  # under torchrun: another rank got the signal, all stopped
            if not stop and trainer.done:
                self.validation = signalled.attempt(lambda: trainer.validation(bar=bar))  # cut short: saved without
            if stop:
                self.stopped_by = stop[0]
                self.save()  # (a second signal is only noted: the save is not cut in half)
        return self
