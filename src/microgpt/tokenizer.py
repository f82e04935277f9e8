"""Character-level tokenizer with one special token, BOS.

Every distinct character of the training data gets an id, in sorted order
(0..n-1); BOS ("beginning of sequence") gets id n. A document is wrapped in BOS
on both sides, so the model learns both how names start and when they end.

The other tokenizer, byte-level BPE, is in bpe.py; both answer the same calls
(encode, decode, label, n_chars, ...), and `from_dict` reads either back from
a checkpoint.
"""

from collections.abc import Iterable, Sequence
from typing import TypeAlias

from microgpt.bpe import BPETokenizer
from microgpt.errors import MicroGPTError


class Tokenizer:
    kind = "char"
    unit = "character"  # what one position of the model reads

    def __init__(self, chars: Iterable[str]) -> None:
        chars = list(chars)
        if not chars:
            raise MicroGPTError("the tokenizer needs at least one character (is the data empty?)")
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise MicroGPTError("tokenizer characters must be single-character strings")
        if sorted(set(chars)) != chars:
            raise MicroGPTError("tokenizer characters must be unique and sorted")
        self.chars = chars
        self.stoi = {ch: i for i, ch in enumerate(chars)}
        self.bos = len(chars)
        self.vocab_size = len(chars) + 1
        self.token_bytes = [ch.encode("utf-8", errors="surrogatepass") for ch in chars] + [b""]

    @classmethod
    def from_docs(cls, docs: Iterable[str]) -> "Tokenizer":
        return cls(sorted(set("".join(docs))))

    def encode(self, text: str) -> list[int]:
        """Characters to ids (no BOS added). Unknown characters are an error."""
        try:
            return [self.stoi[ch] for ch in text]
        except KeyError as e:
            raise MicroGPTError(
                f"character {e.args[0]!r} is not in the model's vocabulary "
                f"({''.join(self.chars)!r})"
            ) from None

    def encode_doc(self, text: str) -> list[int]:
        """A training document: [BOS, c1, c2, ..., BOS]."""
        return [self.bos] + self.encode(text) + [self.bos]

    def decode(self, ids: Iterable[int]) -> str:
        """Ids to characters; BOS is dropped."""
        return "".join(self.chars[i] for i in ids if i != self.bos)

    def label(self, i: int) -> str:
        """A token as text, for tables: its character, or 'BOS'."""
        return "BOS" if i == self.bos else self.chars[i]

    def covers(self, text: str) -> bool:
        return all(ch in self.stoi for ch in text)

    def n_chars(self, ids: Sequence[int]) -> int:
        """Characters the tokens spell: one each (a BOS counts as one: the end of a document)."""
        return len(ids)

    def n_bytes(self, ids: Iterable[int]) -> int:
        """UTF-8 bytes the tokens spell (a BOS counts as one)."""
        return sum(len(self.token_bytes[i]) if i != self.bos else 1 for i in ids)

    def to_dict(self) -> dict[str, str]:
        return {"type": "char", "chars": "".join(self.chars)}

    @classmethod
    def from_dict(cls, d: object) -> "Tokenizer":
        if not isinstance(d, dict) or d.get("type", "char") != "char" or not isinstance(d.get("chars"), str):
            raise MicroGPTError("checkpoint tokenizer must be {'type': 'char', 'chars': '<characters>'}")
        return cls(list(d["chars"]))


# Either tokenizer: both answer the same calls.
AnyTokenizer: TypeAlias = Tokenizer | BPETokenizer


def from_dict(d: object, version: int | None = None) -> AnyTokenizer:
    """A checkpoint's tokenizer: characters (every format version) or BPE (version 2 on)."""
    if isinstance(d, dict) and d.get("type") == "bpe":
        if version is not None and version < 2:
            raise MicroGPTError(f"checkpoint format version {version} has no BPE tokenizer (BPE came in version 2)")
        return BPETokenizer.from_dict(d)
    return Tokenizer.from_dict(d)
