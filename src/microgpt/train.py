"""The training loop.

One random generator, seeded once, drives everything in the original's order:
shuffle the documents, draw the initial weights, (training itself draws
nothing), then draw the samples. So the same seed and config give the same run,
step for step, and the same samples.

Each step takes the next document(s) in order, runs forward and backward, and
lets the optimizer move the weights with a linearly decaying learning rate.
"""

import json
import random
import time

from microgpt.config import GPTConfig, TrainConfig
from microgpt.data import default_val_size, split
from microgpt.engines import make_engine
from microgpt.model import init_weights
from microgpt.optim import learning_rate
from microgpt.tokenizer import Tokenizer


def evaluate(engine, tokenizer, docs):
    """Mean per-token loss over documents, forward only (no graph)."""
    total, count = engine.nll([tokenizer.encode_doc(d) for d in docs])
    return total / count if count else float("nan")


class Trainer:
    """Holds a run: data split, tokenizer, engine, RNG, and how far it got."""

    def __init__(self, docs, n_embd=16, n_head=4, n_layer=1, block_size=16, train_config=None,
                 engine="scalar", val_docs=None):
        self.train_config = tc = train_config or TrainConfig()
        self.rng = random.Random(tc.seed)
        docs = list(docs)
        self.rng.shuffle(docs)
        self.tokenizer = Tokenizer.from_docs(docs)  # the vocabulary comes from all documents
        n_val = default_val_size(len(docs)) if val_docs is None else val_docs
        self.train_docs, self.val_docs = split(docs, n_val)
        self.config = GPTConfig(self.tokenizer.vocab_size, n_embd, n_head, n_layer, block_size)
        self.engine = make_engine(engine, self.config, init_weights(self.config, self.rng), tc)
        self.n_docs = len(docs)
        self.step = 0  # steps done
        self.losses = []
        self.tokens = 0
        self.seconds = 0.0

    def batch(self, step):
        bsz = self.train_config.batch_size
        docs = self.train_docs
        return [self.tokenizer.encode_doc(docs[(step * bsz + b) % len(docs)]) for b in range(bsz)]

    def train_step(self):
        """One optimizer step; returns (loss, tokens seen, learning rate)."""
        tc = self.train_config
        batch = self.batch(self.step)
        lr_t = learning_rate(tc, self.step)
        loss = self.engine.train_step(batch, lr_t)
        n_tokens = sum(min(self.config.block_size, len(t) - 1) for t in batch)
        self.step += 1
        self.losses.append(loss)
        self.tokens += n_tokens
        return loss, n_tokens, lr_t

    def run(self, on_step=None, log_file=None):
        """Train to train_config.steps. on_step(step, loss, tokens, lr) follows
        every step (1-based); log_file gets one JSON object per step."""
        start = time.perf_counter() - self.seconds
        while self.step < self.train_config.steps:
            loss, n_tokens, lr_t = self.train_step()
            self.seconds = time.perf_counter() - start
            if log_file is not None:
                record = {"step": self.step, "loss": loss, "lr": lr_t, "elapsed": round(self.seconds, 6),
                          "tokens": n_tokens}
                log_file.write(json.dumps(record) + "\n")
                log_file.flush()
            if on_step is not None:
                on_step(self.step, loss, n_tokens, lr_t)
        return self

    def val_loss(self):
        return evaluate(self.engine, self.tokenizer, self.val_docs) if self.val_docs else None
