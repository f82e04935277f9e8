"""The loss of a model on data it did not train on: one evaluate for every caller.

`evaluate` is what `microgpt train` prints as the validation loss (at the end,
and with --eval-every), what `microgpt eval` prints, and what the Python API's
`Model.evaluate()` returns, so the three agree bit for bit: the same token
lists, the same engine arithmetic, summed in the same order.

`held_out` finds those token lists again for a saved model: the validation
documents rebuilt from the checkpoint (provenance.py), the windows
tiling the last 10% of a --text model's text, or all of a file the user names.
A text's windows predict every held-out token exactly once (batches.tile), so
the characters scored are all the held-out characters, whatever the tokenizer.

Loss per token depends on what a token is: a BPE token holds a few characters,
so its loss is larger than a character's for the same model quality. `measure`
also gives bits per character (and per byte): the summed loss in nats,
divided by ln 2 and by the characters (bytes) the predicted tokens spell. A
document's closing BOS, the "end" a names model predicts, counts as one
character (and one byte) for every tokenizer, so a characters model and a BPE
model of any vocabulary are compared on one scale. Only predicted tokens count:
the BOS a document starts with, the context token a text window starts with
and what a block_size cut drops are not predicted, and not counted.
"""

import math
from dataclasses import dataclass

from microgpt import provenance
from microgpt.batches import held_out_windows, text_ids, tile
from microgpt.config import predicted
from microgpt.data import fingerprint, read_docs
from microgpt.errors import MicroGPTError, UsageError

CHUNK = 32  # token lists per engine call: big enough for the tensor engines, small enough for a live bar


def evaluate(engine, batch, progress=None):
    """(mean loss per token, summed loss, token count) over token lists [BOS, ..., BOS]
    or text windows; `progress` (progress.Progress) is updated after each chunk."""
    total, count = 0.0, 0
    for start in range(0, len(batch), CHUNK):
        s, n = engine.nll(batch[start : start + CHUNK])
        total, count = total + s, count + n
        if progress is not None and count:
            progress.update(min(start + CHUNK, len(batch)), total / count)
    return (total / count if count else float("nan")), total, count


class PerCharacter:
    """Bits per character and per byte, of anything with a summed loss in nats
    (`total`) and the characters and bytes its predictions spell (`chars`, `bytes`):
    a scale on which tokenizers of any vocabulary compare."""

    @property
    def bits_per_char(self):
        return bits(self.total, self.chars)

    @property
    def bits_per_byte(self):
        return bits(self.total, self.bytes)


@dataclass
class Measured(PerCharacter):
    """A loss over token lists, with the characters and bytes its predicted tokens spell."""

    total: float  # summed loss, nats
    tokens: int
    chars: int
    bytes: int
    of_chars: int = None  # a sample: the characters all the token lists predict (else None, all were read)

    @property
    def sampled(self):
        return self.of_chars is not None and self.of_chars != self.chars

    @property
    def loss(self):  # per token
        return self.total / self.tokens if self.tokens else float("nan")

    def counts(self):
        """What was scored: '110,520 tokens, 110,520 characters', or 'sampled 16,384 of 110,520 characters'."""
        if self.sampled:
            return f"sampled {self.chars:,} of {self.of_chars:,} characters"
        return f"{self.tokens:,} tokens, {self.chars:,} characters"

    def record(self):
        """What a run log records of a validation (val_chars_of: only for a sample)."""
        return {"val_loss": self.loss, "val_bits_per_char": self.bits_per_char, "val_chars": self.chars,
                **({"val_chars_of": self.of_chars} if self.sampled else {})}

    def line(self, label="val loss"):
        """'val loss 2.1 | val perplexity 8.2 | 3.0 bits/char | 3.0 bits/byte'"""
        return (f"{label} {self.loss:.4f} | {label.replace('loss', 'perplexity')} {perplexity(self.loss):.2f} | "
                f"{self.bits_per_char:.4f} bits/char | {self.bits_per_byte:.4f} bits/byte")


def bits(nats, n):
    return nats / math.log(2) / n if n else float("nan")


def predicted_tokens(tokens, block_size):
    """The tokens a token list predicts: each after the first, at most block_size."""
    return tokens[1 : 1 + min(block_size, len(tokens) - 1)]


def measure(engine, tokenizer, batch, progress=None, sample_of=None):
    """evaluate(), as a Measured: also the characters and bytes of what was predicted.
    When `batch` is a sample (spread()) of the token lists `sample_of`, of_chars says
    how many characters all of those would have scored."""
    _, total, count = evaluate(engine, batch, progress)
    block = engine.config.block_size
    of_chars = None if sample_of is None else chars_predicted(tokenizer, sample_of, block)
    n_bytes = sum(tokenizer.n_bytes(predicted_tokens(t, block)) for t in batch)
    return Measured(total, count, chars_predicted(tokenizer, batch, block), n_bytes, of_chars)


def measure_sample(engine, tokenizer, batch, n_tokens=None, bar=None):
    """measure() of spread(batch, ..., n_tokens), a quick estimate whose Measured says what
    it sampled (of_chars), or of all of `batch` without n_tokens. bar(n) may give a Progress
    for the n token lists read."""
    sample = batch if n_tokens is None else spread(batch, engine.config.block_size, n_tokens)
    return measure(engine, tokenizer, sample, bar and bar(len(sample)),
                   sample_of=batch if sample is not batch else None)


def chars_predicted(tokenizer, batch, block_size):
    return sum(tokenizer.n_chars(predicted_tokens(t, block_size)) for t in batch)


def spread(batch, block_size, n_tokens):
    """For a quick estimate: token lists predicting about n_tokens tokens (at least one
    list), evenly spread over `batch`, the same ones each time (so estimates at different
    steps compare); all of `batch` when it predicts no more than that."""
    n_predicted = sum(predicted(t, block_size) for t in batch)
    if n_predicted <= n_tokens:
        return batch
    keep = max(1, len(batch) * n_tokens // n_predicted)
    return [batch[i * len(batch) // keep] for i in range(keep)]


def perplexity(loss):
    return math.exp(loss) if loss < 700 else float("inf")


def encode_all(tokenizer, docs):
    out = []
    for i, doc in enumerate(docs):
        try:
            out.append(tokenizer.encode_doc(doc))
        except MicroGPTError as e:
            raise MicroGPTError(f"document {i + 1} ({doc[:40]!r}) cannot be evaluated: {e}") from None
    return out


@dataclass
class HeldOut:
    """What to evaluate a saved model on, and the words to say it with."""

    batch: list  # token lists
    what: str  # "the 1,000 held-out documents of names.txt (seed 42)"
    label: str  # "val loss" on the held-out split, "loss" on a file the user named
    unit: str  # "docs" or "windows"


def held_out(ckpt, data=None, model_path=None):
    """The held-out split the model was trained with (or all of `data`), as a HeldOut."""
    if ckpt.training.is_text:
        return _held_out_text(ckpt, data, model_path)

    if data:
        docs = read_docs(data)
        what, label = f"all {len(docs):,} documents of {data}", "loss"
    else:
        found = provenance.find(ckpt, model_path=model_path)
        if found is None:
            raise UsageError(f"cannot rebuild the validation split: {provenance.unknown_reason(ckpt)} "
                             "to evaluate on all of its documents")
        if not found.exact:
            raise UsageError(f"cannot rebuild the validation split of {found.path}: {found.note}; "
                             "pass --data FILE to evaluate on all of a file's documents")
        if not found.val:
            raise UsageError("the model was trained with no validation split (--val-docs 0); "
                             "pass --data FILE to evaluate on a file")
        docs = found.val
        what, label = f"the {len(docs):,} held-out documents of {found.path} (seed {ckpt.training.seed})", "val loss"
    return HeldOut(encode_all(ckpt.tokenizer, docs), what, label, "docs")


def _held_out_text(ckpt, path=None, model_path=None):
    """A --text model: windows predicting every token of the held-out last 10% of its text
    (the first conditioned on the last training token), or every token but the first of `path`."""
    whole_file = path is not None
    if not whole_file and not ckpt.training.data:
        raise UsageError("the checkpoint does not record its text file; pass --data FILE")
    if whole_file:
        text = provenance.read_text_file(path)
    else:  # as recorded, else (an older, relative record) from here or beside the model
        path, text = provenance.read_recorded(ckpt.training, model_path, provenance.read_text_file)
    block = ckpt.config.block_size
    if whole_file:
        windows = tile(ckpt.tokenizer.encode(text), block)  # characters the model never saw are an error here
        what, label = f"all of {path}", "loss"
    else:
        if ckpt.training.data_sha256 not in (None, fingerprint([text])):
            raise MicroGPTError(f"{path} is not the text this model was trained on (it changed since)")
        windows = held_out_windows(*text_ids(ckpt.tokenizer, text, block), block)
        what, label = f"the held-out last 10% of {path}", "val loss"
    if not windows:
        need = "2 " + ckpt.tokenizer.unit + "s (the first is context)" if whole_file else "1 " + ckpt.tokenizer.unit
        raise UsageError(f"{what} has nothing to predict: it needs at least {need}")
    return HeldOut(windows, what, label, "windows")
