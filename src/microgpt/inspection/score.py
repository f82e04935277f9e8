"""How surprised is the model by a string? One probability per token.

A string is scored as a training document is: [BOS, c1, ..., cn, BOS]. At each
position the model gives a distribution over the next token; the probability it
gave the token that actually comes next is p, and its surprise is -ln p (the
per-position training loss). The last prediction is the closing BOS: how sure
the model is that the name ends there. The mean surprise is the string's loss,
and exp(mean) its perplexity: the number of equally likely choices the model
was, on average, hesitating between.

A model trained on one long text (--text) never saw BOS: its training windows
start anywhere in the text. Its string is scored as a window is: the first
token is context, and each later one is predicted from those before it.

A token is a character for the characters tokenizer, a few bytes for BPE
(bpe.py): a row is a position either way, labelled with the token's text.
Bits per character divide the total by ln 2 and by the characters the
predicted tokens spell, the end counted as one (evaluation.py), so the same
string scored by a characters model and a BPE model compares.
"""

import math

from microgpt import forward
from microgpt.errors import MicroGPTError, UsageError
from microgpt.evaluation import PerCharacter


class Score(PerCharacter):
    def __init__(self, text, rows, chars=None, n_bytes=None):
        self.text = text
        self.rows = rows  # (position, text so far, next token as text or None for the end, p)
        self.total = sum(forward.surprise(p) for *_, p in rows)
        self.n = len(rows)
        self.chars = len(rows) if chars is None else chars  # characters predicted (the end counts as one)
        self.bytes = self.chars if n_bytes is None else n_bytes

    @property
    def mean(self):
        return self.total / self.n

    @property
    def perplexity(self):
        return math.exp(self.mean) if self.mean < 700 else math.inf  # exp overflows a float past ~709

    def to_dict(self):
        """`score --json`'s answer and the explorer's: plain JSON data, None for
        an infinite surprise (a probability that underflowed to 0)."""
        finite = lambda x: x if math.isfinite(x) else None  # noqa: E731
        rows = [{"pos": pos, "after": before, "next": nxt, "p": p, "surprise": finite(forward.surprise(p))}
                for pos, before, nxt, p in self.rows]
        return {"text": self.text, "rows": rows, "total": finite(self.total), "mean": finite(self.mean),
                "perplexity": finite(self.perplexity), "tokens": self.n}


def check_text(tokenizer, config, text, bos=True):
    """The tokens of `text`, or one line saying why it cannot be scored."""
    try:
        ids = tokenizer.encode(text)
    except MicroGPTError as e:
        raise UsageError(f"cannot score {text!r}: {e}") from None
    n, unit = len(ids), tokenizer.unit
    if not bos:
        if n < 2:
            raise UsageError(f"cannot score {text!r}: a text model predicts each {unit} from the ones before "
                             f"it, so the first is context; give at least 2 {unit}s")
        if n - 1 > config.block_size:
            raise UsageError(f"cannot score {text!r}: the {n - 1} {unit}s after the first need "
                             f"{n - 1} predictions, the model's context holds {config.block_size}")
        return ids
    if n + 1 > config.block_size:
        raise UsageError(
            f"cannot score {text!r}: {n} {unit}s and the end need {n + 1} predictions, "
            f"the model's context holds {config.block_size}"
        )
    return ids


def score(weights, config, tokenizer, text, bos=True, ablate=None):
    """The probability of each next token of `text`, the closing BOS included;
    with bos=False (a --text model), of each character after the first; with
    `ablate` (an ablation.Ablation), by the model with those parts switched off."""
    tokens = read_tokens(tokenizer, config, text, bos)
    keys, values = forward.empty_cache(config)
    rows = []
    for pos in range(len(tokens) - 1):
        # Same softmax as training's loss, so the total equals forward.doc_nll's.
        probs = forward.softmax(forward.gpt(weights, config, tokens[pos], pos, keys, values, ablate=ablate))
        rows.append(row(tokenizer, tokens, pos, probs, bos))
    return new_score(tokenizer, text, tokens, rows)


def score_all_at_once(logits_of, config, tokenizer, text, bos=True):
    """score(), with the logits of every position from one call, logits_of(tokens) -> (n, V)
    rows (a tensor engine's: the numpy engine reads a whole string in one forward pass,
    where the float forward goes position by position). The same rows, to float precision."""
    tokens = read_tokens(tokenizer, config, text, bos)
    rows = [row(tokenizer, tokens, pos, forward.softmax([float(x) for x in logits]), bos)
            for pos, logits in enumerate(logits_of(tokens[:-1]))]
    return new_score(tokenizer, text, tokens, rows)


def read_tokens(tokenizer, config, text, bos=True):
    """The tokens a string is read as: [BOS, ..., BOS], or (a text model) its tokens alone."""
    ids = check_text(tokenizer, config, text, bos)
    return [tokenizer.bos] + ids + [tokenizer.bos] if bos else ids


def new_score(tokenizer, text, tokens, rows):
    predicted = tokens[1:]  # every token but the first is predicted (the closing BOS included)
    return Score(text, rows, tokenizer.n_chars(predicted), tokenizer.n_bytes(predicted))


def row(tokenizer, tokens, pos, probs, bos=True):
    """Score's row for the prediction made at `pos`; trace.py builds the same."""
    nxt = tokens[pos + 1]
    if bos:
        return pos, tokenizer.decode(tokens[1 : pos + 1]), None if nxt == tokenizer.bos else tokenizer.label(nxt), \
            probs[nxt]
    # the token at pos + 1, after the text up to it
    return pos + 1, tokenizer.decode(tokens[: pos + 1]), tokenizer.label(nxt), probs[nxt]


def format_table(s, seen=""):
    """The per-character table of one score, and its totals."""
    head = f"{s.text!r}" + (f"  (in training data: {seen})" if seen else "")
    width = max(7, len(s.text) + 2)
    lines = [head, f"  {'pos':>3}  {'after':<{width}}  {'next':<5}  {'p':>8}  {'-ln p':>7}"]
    for pos, before, nxt, p in s.rows:
        shown_before = repr(before) if pos else "(start)"
        shown_next = "(end)" if nxt is None else repr(nxt)
        surprise = forward.surprise(p)
        lines.append(f"  {pos:>3}  {shown_before:<{width}}  {shown_next:<5}  {_p(p):>8}  {surprise:>7.3f}")
    lines.append(f"  total NLL {s.total:.4f} over {s.n} tokens | mean {s.mean:.4f} | perplexity {s.perplexity:.2f}"
                 f" | {s.bits_per_char:.4f} bits/char over {s.chars} characters"
                 + (" (the end counted as one)" if s.rows and s.rows[-1][2] is None else ""))
    return "\n".join(lines)


def format_ablated_table(s, a, seen="", what=""):
    """One string scored intact (s) and ablated (a), side by side: each row's p and
    surprise both ways and the change in surprise (positive: the part helped here)."""
    head = f"{s.text!r}" + (f"  (in training data: {seen})" if seen else "") + (f"  ablated: {what}" if what else "")
    width = max(7, len(s.text) + 2)
    lines = [head, f"  {'pos':>3}  {'after':<{width}}  {'next':<5}  {'p':>8}  {'-ln p':>7}  {'p abl':>8}  "
                   f"{'-ln p':>7}  {'change':>7}"]
    for (pos, before, nxt, p), (*_, q) in zip(s.rows, a.rows):
        shown_before = repr(before) if pos else "(start)"
        shown_next = "(end)" if nxt is None else repr(nxt)
        d = forward.surprise(q) - forward.surprise(p)
        lines.append(f"  {pos:>3}  {shown_before:<{width}}  {shown_next:<5}  {_p(p):>8}  {forward.surprise(p):>7.3f}  "
                     f"{_p(q):>8}  {forward.surprise(q):>7.3f}  {d:>+7.3f}")
    lines.append(f"  total NLL {s.total:.4f} -> {a.total:.4f} ({a.total - s.total:+.4f}) over {s.n} tokens | "
                 f"mean {s.mean:.4f} -> {a.mean:.4f} | {s.bits_per_char:.4f} -> {a.bits_per_char:.4f} bits/char")
    return "\n".join(lines)


def _p(p):
    return f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}"  # a tiny p is the interesting one: keep its digits
