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

The tokenizer is made here too (`new_tokenizer`): the characters tokenizer
from all the data, as the original does (a validation character unseen in
training would otherwise have no id), or byte-level BPE (bpe.py) learned on
the training split only, so no merge is learned from text the validation loss
is then measured on. BPE has an id for every byte: the validation part always
encodes. A text is split by character first, then each part is encoded.
"""

from microgpt.bpe import BPETokenizer, check_vocab_size
from microgpt.data import default_val_size, split
from microgpt.errors import UsageError
from microgpt.tokenizer import Tokenizer

TOKENIZERS = ("char", "bpe")
DEFAULT_BPE_VOCAB = 512


def check_tokenizer(kind=None, vocab_size=None, resume=None):
    """(kind, vocab_size) of the tokenizer a run asks for, checked before any data is read:
    ("char", None), ("bpe", N), or a resumed run's own tokenizer (which no flag may change)."""
    if resume is not None:
        if kind is not None or vocab_size is not None:
            flag = "--tokenizer" if kind is not None else "--vocab-size"
            raise UsageError(f"{flag} cannot be changed when resuming: the checkpoint fixes it (drop the flag)")
        return resume.tokenizer, None
    kind = kind or "char"
    if kind not in TOKENIZERS:
        raise UsageError(f"--tokenizer must be one of {', '.join(TOKENIZERS)}, got {kind!r}")
    if kind == "char":
        new_tokenizer(kind, [], [], vocab_size)  # refuses a vocab_size
        return kind, None

    return kind, check_vocab_size(DEFAULT_BPE_VOCAB if vocab_size is None else vocab_size)


def new_tokenizer(kind, all_texts, train_texts, vocab_size=None):
    """A fresh tokenizer of `kind` ("char" or "bpe"), or `kind` itself when it is one
    already (a resumed run's, from its checkpoint)."""
    if not isinstance(kind, str):
        return kind
    if kind == "char":
        if vocab_size is not None:
            raise UsageError("--vocab-size is for --tokenizer bpe; the char tokenizer's vocabulary is the "
                             "data's characters + BOS")
        return Tokenizer.from_docs(all_texts) if all_texts else None
    if kind == "bpe":
        return BPETokenizer.learn(train_texts, DEFAULT_BPE_VOCAB if vocab_size is None else vocab_size)
    raise UsageError(f"--tokenizer must be one of {', '.join(TOKENIZERS)}, got {kind!r}")

VAL_FRACTION = 0.1


class Documents:
    """Documents, shuffled by `rng` (its first draw) and split; the vocabulary
    comes from all of them, as in the original."""

    kind = "documents"

    def __init__(self, docs, rng, val_docs=None, tokenizer="char", vocab_size=None):
        docs = list(docs)
        rng.shuffle(docs)
        self.n_docs = len(docs)
        self.train, self.val = split(docs, default_val_size(len(docs)) if val_docs is None else val_docs)
        self.tokenizer = new_tokenizer(tokenizer, docs, self.train, vocab_size)

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
        return f"{len(self.val):,} held-out docs"


class TextWindows:
    """One text: split by position, each part encoded, windows drawn from `rng`."""

    kind = "text"

    def __init__(self, text, block_size, tokenizer="char", vocab_size=None):
        train_text, _ = split_chars(text)
        self.tokenizer = new_tokenizer(tokenizer, [text], [train_text], vocab_size)
        self.n_chars = len(text)
        self.n_train_chars = len(train_text)
        self.train, self.val = text_ids(self.tokenizer, text, block_size)

    def batch(self, step, batch_size, block_size, rng):
        return random_windows(self.train, batch_size, block_size, rng)

    def val_batch(self, block_size):
        return held_out_windows(self.train, self.val, block_size)

    def record(self):
        # n_train / n_val count characters here (not tokens); n_docs is 1 (the text)
        return {"format": "text", "n_chars": self.n_chars, "n_docs": 1, "n_train": self.n_train_chars,
                "n_val": self.n_chars - self.n_train_chars if self.val else 0}

    def describe(self, block_size):
        unit = self.tokenizer.unit
        n_val = self.n_chars - self.n_train_chars if self.val else 0
        tokens = f"; {len(self.train):,} + {len(self.val):,} tokens" if unit != "character" else ""
        return (f"text: {self.n_chars:,} characters ({self.n_train_chars:,} train, {n_val:,} validation"
                f"{tokens}); windows of {block_size + 1} {unit}s")

    def held_out(self):
        return f"the held-out last {VAL_FRACTION:.0%}"


def split_chars(seq, val_fraction=VAL_FRACTION):
    """The start (trained on) and the last val_fraction (held out) of a text or of its ids."""
    n_val = int(len(seq) * val_fraction)
    return seq[: len(seq) - n_val], seq[len(seq) - n_val :]


def split_text(ids, block_size, val_fraction=VAL_FRACTION):
    """Training ids (the start) and validation ids (the last val_fraction), by position."""
    train, val = split_chars(ids, val_fraction)
    return _windowable(train, val, f"{len(ids)} characters", block_size, "characters")


def text_ids(tokenizer, text, block_size):
    """(training ids, validation ids) of a text: split by character (the last 10% held out),
    then each part encoded. With characters this is split_text of the whole text's ids.

    Split first, encode after, so that the validation tokens decode to exactly the
    held-out characters, for every tokenizer: bits per character are then over the
    same characters whatever the vocabulary. (Encoding the whole text and cutting
    its tokens would leave a BPE token straddling the split, half trained on, half
    held out.) The price is at the cut itself: a BPE word cut there is encoded as
    two pieces the merges would have joined."""
    train, val = (tokenizer.encode(part) for part in split_chars(text))
    unit = tokenizer.unit + "s"
    size = f"{len(text)} characters" + (f" ({len(train) + len(val)} {unit})" if unit != "characters" else "")
    return _windowable(train, val, size, block_size, unit)


def _windowable(train, val, size, block_size, unit, val_fraction=VAL_FRACTION):
    if len(train) < block_size + 1:
        raise UsageError(f"the text has {size}; training needs more than block_size "
                         f"({block_size}) {unit} before the {val_fraction:.0%} held out for validation")
    return train, val


def random_windows(ids, n, block_size, rng):
    """n windows of block_size + 1 ids at offsets drawn from rng."""
    starts = [rng.randrange(len(ids) - block_size) for _ in range(n)]
    return [ids[s : s + block_size + 1] for s in starts]


def tile(ids, block_size):
    """Windows that predict every id after the first exactly once: window k is
    ids[k * block_size : (k + 1) * block_size + 1], its first id the context (the
    last one the window before predicted), the last window shorter when the ids
    run out. Each prediction sees between 1 and block_size ids of context."""
    return [ids[s : s + block_size + 1] for s in range(0, len(ids) - 1, block_size)]


def held_out_windows(train, val, block_size):
    """Windows that predict every validation id exactly once: tile() of the validation
    ids after the last training id, which conditions the first prediction as every
    window's first id conditions the rest (it is context, never a target)."""
    return tile(train[-1:] + val, block_size) if val else []
