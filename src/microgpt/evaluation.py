"""Validation loss of a saved model, on the held-out split or on any file.

The held-out split is rebuilt from the checkpoint (training_data.py), so the
number is the one `microgpt train` printed when it finished: the same
documents, the same engine arithmetic, summed in the same order (one document
at a time, as the engines' nll() does internally).
"""

import math
import sys
import time

from microgpt.errors import MicroGPTError
from microgpt.progress import format_duration


class Bar:
    """A one-line bar on stderr, redrawn in place; silent when stderr is not a
    terminal, so logs and pipes only get the result."""

    def __init__(self, total, label="eval", stream=None, width=24):
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.width = width
        self.start = time.perf_counter()
        self._last = 0.0

    def update(self, done, loss):
        if not self.live:
            return
        now = time.perf_counter()
        if done != self.total and now - self._last < 0.1:
            return
        self._last = now
        filled = int(self.width * done / self.total)
        eta = (now - self.start) / done * (self.total - done) if done else 0.0
        bar = "█" * filled + "·" * (self.width - filled)
        self.stream.write(f"\r{self.label} {done:{len(str(self.total))}d}/{self.total} {bar} "
                          f"loss {loss:.4f} | eta {format_duration(eta)} ")
        if done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def encode_all(tokenizer, docs):
    out = []
    for i, doc in enumerate(docs):
        try:
            out.append(tokenizer.encode_doc(doc))
        except MicroGPTError as e:
            raise MicroGPTError(f"document {i + 1} ({doc[:40]!r}) cannot be evaluated: {e}") from None
    return out


def evaluate(engine, tokenizer, docs, bar=None):
    """(mean loss per token, summed loss, token count) over the documents."""
    batch = encode_all(tokenizer, docs)
    total, count = 0.0, 0
    for i, tokens in enumerate(batch):
        s, n = engine.nll([tokens])
        total, count = total + s, count + n
        if bar is not None:
            bar.update(i + 1, total / count)
    return total / count, total, count


def perplexity(loss):
    return math.exp(loss) if loss < 700 else float("inf")
