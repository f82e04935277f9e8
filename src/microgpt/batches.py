"""Where a training step's token lists come from: two batch sources.

`Documents` is the original's setup: one document per line (a name), shuffled
once by the run's random generator, the last n_val held out for validation,
and the training documents taken in order, step after step, wrapped in BOS on
both sides.

`TextWindows` is nanoGPT's shakespeare-char setup: one long text (a book, a
codebase) split by position, the first 90% for training and the last 10% for
validation (a later stretch the model never saw). Each step draws batch_size
windows of block_size + 1 characters at random offsets with the run's
generator, so a run is reproducible and, with the generator's state in the
checkpoint, resumable. The tokenizer keeps its BOS id, but no window holds it:
the model never learns to predict it.

Either way a batch is a list of token lists, so every engine trains on both
unchanged, and the Trainer (train.py) does not need to know which it has.
"""

from microgpt.data import default_val_size, split
from microgpt.errors import UsageError
from microgpt.tokenizer import Tokenizer

VAL_FRACTION = 0.1
MAX_VAL_WINDOWS = 256  # a text's validation loss reads at most this many windows, evenly spread


class Documents:
    """Documents, shuffled by `rng` (its first draw) and split; the vocabulary
    comes from all of them, as in the original."""

    kind = "documents"

    def __init__(self, docs, rng, val_docs=None):
        docs = list(docs)
        rng.shuffle(docs)
        self.tokenizer = Tokenizer.from_docs(docs)
        self.n_docs = len(docs)
        self.train, self.val = split(docs, default_val_size(len(docs)) if val_docs is None else val_docs)

    def batch(self, step, batch_size, block_size, rng):
        docs = self.train
        return [self.tokenizer.encode_doc(docs[(step * batch_size + b) % len(docs)]) for b in range(batch_size)]

    def val_batch(self, block_size):
        return [self.tokenizer.encode_doc(d) for d in self.val]

    def record(self):
        """What the checkpoint's training metadata says about the data."""
        return {"n_docs": self.n_docs, "n_train": len(self.train), "n_val": len(self.val)}

    def describe(self, block_size):
        return f"num docs: {self.n_docs} ({len(self.train)} train, {len(self.val)} validation)"

    def held_out(self):
        return f"{len(self.val)} docs"


class TextWindows:
    """One text: characters to ids, split by position, windows drawn from `rng`."""

    kind = "text"

    def __init__(self, text, block_size):
        self.tokenizer = Tokenizer.from_docs([text])
        ids = self.tokenizer.encode(text)
        self.n_chars = len(ids)
        self.train, self.val = split_text(ids, block_size)

    def batch(self, step, batch_size, block_size, rng):
        return random_windows(self.train, batch_size, block_size, rng)

    def val_batch(self, block_size):
        return val_windows(self.val, block_size)

    def record(self):
        # n_train / n_val count characters here; n_docs is 1 (the text)
        return {"format": "text", "n_chars": self.n_chars, "n_docs": 1, "n_train": len(self.train),
                "n_val": len(self.val)}

    def describe(self, block_size):
        return (f"text: {self.n_chars:,} characters ({len(self.train):,} train, {len(self.val):,} validation); "
                f"windows of {block_size + 1}")

    def held_out(self):
        return f"{len(self.val):,} characters"


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
