"""The training loop.

One random generator, seeded once, drives everything in the original's order:
shuffle the documents, draw the initial weights, (training itself draws
nothing), then draw the samples. So the same seed and config give the same run,
step for step, and the same samples.

Each step takes the next document(s) in order, runs forward and backward, and
lets the optimizer move the weights with a linearly decaying learning rate.

A run can stop and go on later: a checkpoint carries the weights, the
optimizer's moments, the step, and the random generator's state. The data
position and the learning rate follow from the step, so a resumed run computes
exactly what the uninterrupted one would have, bit for bit.
"""

import json
import math
import random
import time

from microgpt.checkpoint import Checkpoint
from microgpt.config import GPTConfig, TrainConfig
from microgpt.data import default_val_size, split
from microgpt.engines import make_engine
from microgpt.errors import MicroGPTError
from microgpt.model import init_weights
from microgpt.optim import learning_rate
from microgpt.tokenizer import Tokenizer


class Diverged(MicroGPTError):
    """The loss stopped being a finite number."""


def evaluate(engine, tokenizer, docs):
    """Mean per-token loss over documents, forward only (no graph)."""
    total, count = engine.nll([tokenizer.encode_doc(d) for d in docs])
    return total / count if count else float("nan")


def rng_to_json(rng):
    version, state, gauss_next = rng.getstate()
    return {"version": version, "state": list(state), "gauss_next": gauss_next}


def rng_from_json(d):
    try:
        rng = random.Random()
        rng.setstate((d["version"], tuple(d["state"]), d["gauss_next"]))
        return rng
    except (KeyError, TypeError, ValueError):
        raise MicroGPTError("checkpoint has a malformed random-generator state; it cannot be resumed") from None


class Trainer:
    """Holds a run: data split, tokenizer, engine, RNG, and how far it got.

    With `resume` (a loaded Checkpoint) the architecture, training config,
    weights, optimizer state, step and RNG come from it; the documents must be
    the ones it was trained on (they are shuffled and split the same way)."""

    def __init__(self, docs, n_embd=16, n_head=4, n_layer=1, block_size=16, train_config=None,
                 engine="scalar", val_docs=None, resume=None):
        if resume is not None:
            train_config = TrainConfig(**resume.training["train_config"]) if train_config is None else train_config
            val_docs = resume.training.get("n_val", val_docs)
        self.train_config = tc = train_config or TrainConfig()
        self.rng = random.Random(tc.seed)
        docs = list(docs)
        self.rng.shuffle(docs)
        self.tokenizer = Tokenizer.from_docs(docs)  # the vocabulary comes from all documents
        n_val = default_val_size(len(docs)) if val_docs is None else val_docs
        self.train_docs, self.val_docs = split(docs, n_val)
        self.n_docs = len(docs)
        self.engine_name = engine
        self.step = 0  # steps done
        self.losses = []
        self.tokens = 0
        self.seconds = 0.0
        if resume is None:
            self.config = GPTConfig(self.tokenizer.vocab_size, n_embd, n_head, n_layer, block_size)
            self.engine = make_engine(engine, self.config, init_weights(self.config, self.rng), tc)
            return
        if resume.tokenizer.chars != self.tokenizer.chars:
            raise MicroGPTError("the data's characters differ from the checkpoint's: resume with the same --data")
        if resume.optimizer is None or resume.rng_state is None:
            raise MicroGPTError("checkpoint has no optimizer or RNG state (saved by an older version?); cannot resume")
        self.config = resume.config
        self.engine = make_engine(engine, self.config, resume.weights, tc)
        self.engine.load_optimizer_state(resume.optimizer)
        self.rng = rng_from_json(resume.rng_state)
        self.step = int(resume.training.get("steps", 0))
        self.tokens = int(resume.training.get("tokens", 0))
        self.seconds = float(resume.training.get("seconds", 0.0))
        self.losses = list(resume.training.get("recent_losses", []))

    @property
    def done(self):
        return self.step >= self.train_config.steps

    def batch(self, step):
        bsz = self.train_config.batch_size
        docs = self.train_docs
        return [self.tokenizer.encode_doc(docs[(step * bsz + b) % len(docs)]) for b in range(bsz)]

    def train_step(self):
        """One optimizer step; returns (loss, tokens seen, learning rate)."""
        tc = self.train_config
        batch = self.batch(self.step)
        lr_t = learning_rate(tc, self.step)
        try:
            loss = self.engine.train_step(batch, lr_t)
        except (ArithmeticError, ValueError) as e:  # log(0), exp overflow: the weights blew up
            raise Diverged(f"training diverged at step {self.step + 1} ({e}); try a lower --lr") from None
        if not math.isfinite(loss):
            raise Diverged(f"loss became {loss} at step {self.step + 1}; try a lower --lr")
        n_tokens = sum(min(self.config.block_size, len(t) - 1) for t in batch)
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
                log_file.write(json.dumps(record) + "\n")
                log_file.flush()
            if on_step is not None:
                on_step(self.step, loss, n_tokens, lr_t)
            if should_stop is not None and should_stop():
                break
        return self

    def val_loss(self):
        return evaluate(self.engine, self.tokenizer, self.val_docs) if self.val_docs else None

    def checkpoint(self, **metadata):
        """Everything needed to sample from the model or to go on training it."""
        training = {
            "steps": self.step,
            "seed": self.train_config.seed,
            "final_loss": self.losses[-1] if self.losses else None,
            "complete": self.done,
            "engine": self.engine_name,
            "train_config": self.train_config.to_dict(),
            "n_docs": self.n_docs,
            "n_train": len(self.train_docs),
            "n_val": len(self.val_docs),
            "seconds": round(self.seconds, 3),
            "tokens": self.tokens,
            "recent_losses": self.losses[-100:],
        }
        training.update(metadata)
        return Checkpoint(self.config, self.tokenizer, self.engine.weights(), training,
                          self.engine.optimizer_state(), rng_to_json(self.rng))
