"""Continuous text: one long string (a book, a codebase) instead of one document per line.

This is nanoGPT's shakespeare-char setup. The text is split by position: the
first 90% trains, the last 10% validates (a later stretch of the same book,
never seen in training). Each training step draws `batch_size` windows of
block_size + 1 characters at random offsets of the training part, with the
run's seeded RNG, so a run is reproducible and, since the RNG state is in the
checkpoint, resumable. A window is just a token list, so every engine trains
on it unchanged: it predicts characters 1..block_size from the ones before.

The vocabulary is the text's distinct characters, newline included. The
tokenizer still has its BOS id (the checkpoint format and every tool stay the
same), but no window contains it: the model never learns to predict it, and
sampling starts from a prefix (by default a newline) instead of from BOS.
"""

import math

from microgpt.config import GPTConfig, TrainConfig
from microgpt import data
from microgpt.engines import make_engine
from microgpt.errors import MicroGPTError, UsageError
from microgpt.model import init_weights
from microgpt.sample import next_token_probs
from microgpt.tokenizer import Tokenizer
from microgpt.train import Trainer, rng_from_json

VAL_FRACTION = 0.1
MAX_VAL_WINDOWS = 256  # the validation loss reads at most this many windows, evenly spread


def read_text(path):
    """The whole file as one string (newlines normalised to \\n, nothing stripped)."""
    return data.read_text(path, what="text file")


def split_text(ids, block_size, val_fraction=VAL_FRACTION):
    """Training ids (the start) and validation ids (the last val_fraction), by position."""
    n_val = int(len(ids) * val_fraction)
    train, val = ids[: len(ids) - n_val], ids[len(ids) - n_val :]
    if len(train) < block_size + 1:
        raise UsageError(f"the text has {len(ids)} characters; training needs more than block_size "
                         f"({block_size}) of them before the {val_fraction:.0%} held out for validation")
    if val and len(val) < block_size + 1:
        val = []  # too short for even one window: no validation
    return train, val


def random_windows(ids, n, block_size, rng):
    """n windows of block_size + 1 ids at offsets drawn from rng."""
    starts = [rng.randrange(len(ids) - block_size) for _ in range(n)]
    return [ids[s : s + block_size + 1] for s in starts]


def val_windows(ids, block_size, limit=MAX_VAL_WINDOWS):
    """Non-overlapping windows that tile the validation ids (each predicts
    block_size characters), at most `limit` of them, evenly spread."""
    starts = list(range(0, len(ids) - block_size, block_size))
    if len(starts) > limit:
        starts = [starts[i * len(starts) // limit] for i in range(limit)]
    return [ids[s : s + block_size + 1] for s in starts]


class TextTrainer(Trainer):
    """Trainer over random windows of one text. Same loop, logging, checkpoints
    and resume as Trainer; only where the batches come from differs."""

    def __init__(self, text, n_embd=16, n_head=4, n_layer=1, block_size=16, train_config=None,
                 engine="scalar", resume=None, engine_options=None):
        self.train_config = tc = train_config or TrainConfig()
        self.tokenizer = Tokenizer.from_docs([text])
        if resume is not None:
            block_size = resume.config.block_size
        ids = self.tokenizer.encode(text)
        self.train_ids, self.val_ids = split_text(ids, block_size)
        self.n_chars = len(ids)
        # What Trainer.checkpoint() records as the data's size, here in characters.
        self.n_docs, self.train_docs, self.val_docs = 1, self.train_ids, self.val_ids
        self.engine_name = engine
        self.step, self.losses, self.tokens, self.seconds = 0, [], 0, 0.0
        import random

        self.rng = random.Random(tc.seed)
        options = engine_options or {}
        if resume is None:
            self.config = GPTConfig(self.tokenizer.vocab_size, n_embd, n_head, n_layer, block_size)
            self.engine = make_engine(engine, self.config, init_weights(self.config, self.rng), tc, **options)
            return
        if resume.tokenizer.chars != self.tokenizer.chars:
            raise MicroGPTError("the text's characters differ from the checkpoint's: resume with the same --text")
        if resume.optimizer is None or resume.rng_state is None:
            raise MicroGPTError("checkpoint has no optimizer or RNG state; cannot resume")
        self.config = resume.config
        self.engine = make_engine(engine, self.config, resume.weights, tc, **options)
        self.engine.load_optimizer_state(resume.optimizer)
        self.rng = rng_from_json(resume.rng_state)  # the window draws go on where they stopped
        self.step = int(resume.training.get("steps", 0))
        self.tokens = int(resume.training.get("tokens", 0))
        self.seconds = float(resume.training.get("seconds", 0.0))
        self.losses = list(resume.training.get("recent_losses", []))

    def batch(self, step):
        return random_windows(self.train_ids, self.train_config.batch_size, self.config.block_size, self.rng)

    def val_loss(self):
        windows = val_windows(self.val_ids, self.config.block_size)
        if not windows:
            return None
        total, count = self.engine.nll(windows)
        return total / count

    def checkpoint(self, **metadata):
        return super().checkpoint(format="text", n_chars=self.n_chars, **metadata)


def evaluate_text(engine, ckpt, path=None, engine_name="scalar"):
    """`microgpt eval` for a model trained with --text: the loss on the windows
    that tile the held-out last 10% of its text, or on all of --data FILE."""
    import hashlib

    whole_file = path is not None  # --data FILE: all of it; else the training text's held-out part
    path = path or ckpt.training.get("data")
    if not path:
        raise UsageError("the checkpoint does not record its text file; pass --data FILE")
    text = read_text(path)
    ids = ckpt.tokenizer.encode(text)  # characters the model never saw are an error here
    block = ckpt.config.block_size
    if not whole_file:
        recorded = ckpt.training.get("data_sha256")
        if recorded not in (None, hashlib.sha256(text.encode("utf-8")).hexdigest()):
            raise MicroGPTError(f"{path} is not the text this model was trained on (it changed since)")
        ids, what = split_text(ids, block)[1], f"the held-out last 10% of {path}"
        label = "val loss"
    else:
        what, label = f"all of {path}", "loss"
    windows = val_windows(ids, block)
    if not windows:
        raise UsageError(f"{what} is shorter than one window of {block + 1} characters")
    print(f"evaluating on {what}", flush=True)
    total, count = engine.nll(windows)
    loss = total / count
    print(f"{label} {loss:.4f} | {label.replace('loss', 'perplexity')} {math.exp(loss):.2f} "
          f"({len(windows):,} windows, {count:,} tokens, engine {engine_name})")
    recorded = ckpt.training.get("val_loss")
    if label == "val loss" and isinstance(recorded, (int, float)):
        print(f"training recorded val loss {recorded:.4f}")
    return 0


def generate_text(engine, tokenizer, rng, n_chars, temperature=0.5, top_k=None, prefix="\n"):
    """prefix followed by n_chars sampled characters.

    The context holds block_size positions; when it is full, the last half is
    fed again into a fresh cache (positions restart at 0, as in training,
    where windows start anywhere) and generation goes on."""
    block = engine.config.block_size
    context = tokenizer.encode(prefix)
    if not context:
        raise UsageError("a text model needs a non-empty --prefix to start from")
    cache, pos = engine.new_cache(), 0

    def feed(ids):
        nonlocal pos
        for t in ids:
            logits = engine.next_logits(t, pos, cache)
            pos += 1
        return logits

    logits = feed(context[-block:])
    out = []
    while len(out) < n_chars:
        if temperature == 0:
            token_id = max((i for i in range(len(logits)) if i != tokenizer.bos), key=logits.__getitem__)
        else:
            probs = next_token_probs(logits, temperature, top_k)
            probs[tokenizer.bos] = 0.0  # never in the text: never drawn
            if not any(p > 0 for p in probs):  # top-k kept only BOS
                probs = [float(i != tokenizer.bos) for i in range(len(probs))]
            token_id = rng.choices(range(tokenizer.vocab_size), weights=probs)[0]
        out.append(token_id)
        context.append(token_id)
        if pos == block:  # the context is full: start again from its recent half
            cache, pos = engine.new_cache(), 0
            logits = feed(context[-(block // 2 or 1):])
        else:
            logits = feed([token_id])
    return prefix + tokenizer.decode(out)
