"""Byte-level BPE: a tokenizer that learns its vocabulary from the data.

The characters tokenizer (tokenizer.py) gives every character one id, so a
model reads and writes one character per position. Byte-pair encoding (BPE)
starts lower and ends higher:

  base tokens   the 256 possible bytes (ids 0..255). Text is UTF-8 encoded
                first, so any text at all can be written with them, as in
                GPT-2: there is no unknown character.
  merges        learned one at a time: find the pair of adjacent tokens that
                occurs most often in the training text, give it a new id
                (256, 257, ...), and replace it everywhere. "t" + "h" becomes
                "th", later "th" + "e" becomes "the", and so on, until the
                vocabulary has the size asked for.
  BOS           one special token after the merges (the last id), exactly as
                the characters tokenizer has it.

Text is first cut into chunks (SPLIT: a word with the space before it, a run
of digits, of punctuation, of spaces) and merges never cross a chunk, so a
token never glues the end of one word to the start of the next. The same
chunk is met thousands of times ("the" in Shakespeare), so learning counts
each distinct chunk once, with its frequency.

Learning is incremental: the count of every adjacent pair is kept, with an
index from each pair to the chunks that hold it. A merge rewrites only those
chunks, taking their old pairs out of the counts and putting their new pairs
in; the other chunks are not looked at. A heap finds the most frequent pair,
with stale entries skipped when they come out (a pair's count changes, and a
new entry is pushed; the old one stays in the heap until it surfaces).

Ties: among pairs of equal count, the one with the lowest (first id, second
id) is merged first, so the same data always gives the same merges. Counting:
the pairs of a chunk are its adjacent tokens, overlapping ("aaa" holds the
pair (a, a) twice), each counted as often as the chunk occurs. Learning stops
at the vocabulary size asked for, or earlier when no pair occurs twice (a
merge seen once teaches nothing).

Encoding applies the merges to each chunk in the order they were learned: of
the pairs present, the earliest learned is merged first, and so on, which
gives the training chunks exactly the tokens that learning gave them.
"""

import heapq
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from microgpt.errors import MicroGPTError, UsageError

N_BYTES = 256
# Chunks: letters with an optional space before, digits, other symbols, an
# underscore run, then runs of whitespace (a run before a word leaves its last
# space to the word). Every character of a text falls in exactly one chunk.
SPLIT_PATTERNS = {"words": r" ?[^\W\d_]+| ?\d+| ?[^\w\s]+| ?_+|\s+(?!\S)|\s+"}
DEFAULT_SPLIT = "words"
CACHE_LIMIT = 1 << 16  # encoded chunks kept; past this the cache starts again

Pair = tuple[int, int]  # two adjacent token ids; a merge replaces one with a new id


def to_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate: a str that is not Unicode text
        raise MicroGPTError(f"{text[e.start:e.end]!r} at position {e.start} is not a Unicode character "
                            "(a lone surrogate); it has no UTF-8 bytes to encode") from None


def min_vocab_size() -> int:
    return N_BYTES + 1  # the bytes and BOS


def check_vocab_size(vocab_size: object) -> int:
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < min_vocab_size():
        raise UsageError(f"--vocab-size must be at least {min_vocab_size()} (the {N_BYTES} bytes + BOS), "
                         f"got {vocab_size!r}")
    return vocab_size


def merge(ids: Sequence[int], pair: Pair, new_id: int) -> list[int]:
    """`ids` with every occurrence of `pair`, read left to right, replaced by new_id."""
    out: list[int] = []
    i, n = 0, len(ids)
    a, b = pair
    while i < n:
        if i + 1 < n and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def learn(texts: Iterable[str], vocab_size: int, split: str = DEFAULT_SPLIT) -> list[Pair]:
    """The merges, in order, learned from `texts` (strings: documents or one long text)."""
    check_vocab_size(vocab_size)
    pattern = re.compile(SPLIT_PATTERNS[split])
    chunks = Counter(c for t in texts for c in pattern.findall(t))
    if not chunks:
        raise MicroGPTError("BPE has nothing to learn from: the training text is empty")
    words = [list(to_bytes(c)) for c in chunks]  # one entry per distinct chunk...
    freqs = list(chunks.values())  # ...and how often it occurs
    counts: Counter[Pair] = Counter()  # pair -> occurrences
    where: defaultdict[Pair, set[int]] = defaultdict(set)  # pair -> chunks holding it
    for w, ids in enumerate(words):
        for pair in zip(ids, ids[1:]):
            counts[pair] += freqs[w]
            where[pair].add(w)
    heap = [(-c, pair) for pair, c in counts.items()]  # most frequent first; ties: lowest ids first
    heapq.heapify(heap)
    merges: list[Pair] = []
    while N_BYTES + len(merges) + 1 < vocab_size:
        best = _most_frequent(heap, counts)
        if best is None or counts[best] < 2:
            break
        new_id = N_BYTES + len(merges)
        merges.append(best)
        changed: set[Pair] = set()
        for w in where.pop(best):
            old = words[w]
            new = merge(old, best, new_id)
            if len(new) == len(old):  # the index is not pruned: this chunk lost the pair earlier
                continue
            f = freqs[w]
            for pair in zip(old, old[1:]):
                counts[pair] -= f
                changed.add(pair)
            for pair in zip(new, new[1:]):
                counts[pair] += f
                where[pair].add(w)
                changed.add(pair)
            words[w] = new
        for pair in changed:
            if counts[pair] > 0:
                heapq.heappush(heap, (-counts[pair], pair))
            else:
                del counts[pair]
    return merges


def _most_frequent(heap: list[tuple[int, Pair]], counts: Counter[Pair]) -> Pair | None:
    """The pair with the highest count (lowest ids among equals), or None when none is left."""
    while heap:
        neg, pair = heapq.heappop(heap)
        if counts.get(pair) == -neg:  # else stale: the count changed since this entry was pushed
            return pair
    return None


class BPETokenizer:
    """Byte-level BPE with BOS: ids 0..255 the bytes, 256.. the merges, then BOS."""

    kind = "bpe"
    unit = "token"

    def __init__(self, merges: Iterable[Sequence[int]], split: str = DEFAULT_SPLIT) -> None:
        if split not in SPLIT_PATTERNS:
            raise MicroGPTError(f"unknown BPE split {split!r}; known: {', '.join(SPLIT_PATTERNS)}")
        self.split = split
        self.pattern = re.compile(SPLIT_PATTERNS[split])
        self.merges = [tuple(m) for m in merges]
        self.ranks: dict[Pair, int] = {}  # pair -> the id it merges into
        self.token_bytes = [bytes([b]) for b in range(N_BYTES)]
        for a, b in self.merges:
            self.ranks[(a, b)] = len(self.token_bytes)
            self.token_bytes.append(self.token_bytes[a] + self.token_bytes[b])
        self.bos = len(self.token_bytes)
        self.vocab_size = self.bos + 1
        self.token_bytes.append(b"")  # BOS stands for no text
        # characters a token holds: its bytes that start a UTF-8 character (not 10xxxxxx)
        self.token_chars = [sum(1 for x in t if x & 0xC0 != 0x80) for t in self.token_bytes]
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def learn(cls, texts: Iterable[str], vocab_size: int, split: str = DEFAULT_SPLIT) -> "BPETokenizer":
        return cls(learn(texts, vocab_size, split), split)

    def _encode_chunk(self, chunk: str) -> list[int]:
        ids = self._cache.get(chunk)
        if ids is not None:
            return ids
        ids = list(to_bytes(chunk))
        while len(ids) > 1:
            # the pair learned earliest among those present (absent pairs rank last)
            pair = min(zip(ids, ids[1:]), key=lambda p: self.ranks.get(p, self.bos))
            if pair not in self.ranks:
                break
            ids = merge(ids, pair, self.ranks[pair])
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[chunk] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        """Text to ids (no BOS added). Any text works: every byte has an id."""
        out: list[int] = []
        for chunk in self.pattern.findall(text):
            out.extend(self._encode_chunk(chunk))
        return out

    def encode_doc(self, text: str) -> list[int]:
        return [self.bos] + self.encode(text) + [self.bos]

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        return b"".join(self.token_bytes[i] for i in ids)

    def decode(self, ids: Iterable[int]) -> str:
        """Ids to text; BOS is dropped. Bytes that do not form whole UTF-8
        characters (a sample may stop inside one) show as U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def label(self, i: int) -> str:
        """A token as text, for tables: 'BOS', or its bytes decoded (a byte that
        is only part of a character shows as \\xNN, so every label is distinct)."""
        if i == self.bos:
            return "BOS"
        return self.token_bytes[i].decode("utf-8", errors="backslashreplace")

    def covers(self, text: str) -> bool:
        return True  # bytes spell any text

    def n_chars(self, ids: Iterable[int]) -> int:
        """Characters the tokens spell (a BOS counts as one: the end of a document)."""
        return sum(self.token_chars[i] if i != self.bos else 1 for i in ids)

    def n_bytes(self, ids: Iterable[int]) -> int:
        """UTF-8 bytes the tokens spell (a BOS counts as one)."""
        return sum(len(self.token_bytes[i]) if i != self.bos else 1 for i in ids)

    def to_dict(self) -> dict[str, object]:
        return {"type": "bpe", "split": self.split, "merges": [list(m) for m in self.merges]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "BPETokenizer":
        merges = d.get("merges")
        if not isinstance(merges, list):
            raise MicroGPTError("checkpoint BPE tokenizer must have a list of merges")
        seen = set()
        for i, m in enumerate(merges):
            ok = isinstance(m, list) and len(m) == 2 and all(
                isinstance(x, int) and not isinstance(x, bool) and 0 <= x < N_BYTES + i for x in m)
            if not ok:
                raise MicroGPTError(f"checkpoint BPE merge {i} must be two ids of tokens made before it "
                                    f"(below {N_BYTES + i}), got {m!r:.40}")
            if tuple(m) in seen:
                raise MicroGPTError(f"checkpoint BPE merge {i} repeats the pair {m}")
            seen.add(tuple(m))
        split = d.get("split", DEFAULT_SPLIT)
        if split not in SPLIT_PATTERNS:
            raise MicroGPTError(f"checkpoint BPE split {split!r:.40} is not one this microgpt knows "
                                f"({', '.join(SPLIT_PATTERNS)})")
        return cls(merges, split)
