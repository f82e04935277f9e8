"""Sampling: let the model write, one token (a character, or a BPE piece) at a time.

Start from BOS (and an optional prefix), ask the model for the next token's
logits, turn them into probabilities at a temperature, draw one, feed it back,
and stop at BOS or when the context is full. Temperature divides the logits:
below 1 it sharpens the distribution (safer, more typical names), above 1 it
flattens it (more surprising ones); 0 means always take the most likely token.
top-k keeps only the k most likely tokens before drawing; top-p (nucleus
sampling) then keeps only the most likely tokens whose probabilities add up to
at least p, so the number kept follows the model's confidence: one or two when
it is sure, many when it is not.

A model trained on one long text (--text) writes passages instead: it starts
from a prefix (a newline by default), never draws BOS (no window held one), and
when its context is full goes on from the recent half of it.
"""

import codecs
import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from microgpt import forward
from microgpt.config import GPTConfig
from microgpt.errors import MicroGPTError, UsageError
from microgpt.tokenizer import AnyTokenizer

# Logits of a model microgpt trains stay within a few dozen; a temperature is
# refused when logits this large, scaled by 1/T, would overflow a float.
LOGIT_HEADROOM = 1e6


TEMPERATURE = 0.5  # the original's: typical names, a little variety
SAMPLES = 20  # how many names train prints, and sample draws
SEED = 42  # sample's default seed, so the same command gives the same names
PASSAGE_CHARS = 300  # characters in a text model's passage


class Inference(Protocol):
    """What sampling asks of an engine (every engines.base.Engine, and an ablation.AblatedEngine):
    next-token logits, one position at a time, with a KV cache of the engine's own kind."""

    config: GPTConfig

    def new_cache(self) -> Any: ...

    def next_logits(self, token_id: int, pos_id: int, cache: Any) -> list[float]: ...


# on_step(position, the distribution drawn from, the token taken); what it returns is ignored
OnStep = Callable[[int, list[float], int], object]


def next_token_probs(logits: Sequence[float], temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None) -> list[float]:
    """Probabilities of the next token, computed as the original does
    (logits / temperature, then softmax), with all but the top-k set to 0, then
    all but the top-p nucleus. They are weights for random.choices, which
    renormalises them: dividing here would change the draws of every sample
    made without top-p."""
    scale = temperature**-1  # the original divides a Value, which multiplies by t**-1
    scaled = [l * scale for l in logits]
    if not all(map(math.isfinite, scaled)):  # logits beyond the headroom: shift by the max first (no inf - inf)
        top = max(logits)
        scaled = [(l - top) * scale for l in logits]
    probs = forward.softmax(scaled)
    if top_k is not None and top_k < len(probs):
        keep = set(sorted(range(len(probs)), key=lambda i: -probs[i])[:top_k])
        probs = [p if i in keep else 0.0 for i, p in enumerate(probs)]
    if top_p is not None:
        probs = nucleus(probs, top_p)
    return probs


def nucleus(weights: list[float], top_p: float) -> list[float]:
    """The weights with all but the nucleus set to 0: the fewest most likely
    tokens whose share of the total weight reaches top_p (ties go to the lower
    id, as top-k's do)."""
    by_weight = sorted(range(len(weights)), key=lambda i: -weights[i])
    needed = top_p * math.fsum(weights)
    keep: set[int] = set()
    total = 0.0
    for i in by_weight:
        keep.add(i)
        total += weights[i]
        if total >= needed:
            break
    return [w if i in keep else 0.0 for i, w in enumerate(weights)]


def check_temperature(temperature: float) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise UsageError(f"temperature must be a number, got {temperature!r:.40}")
    if temperature != temperature or temperature < 0 or temperature == float("inf"):
        raise UsageError(f"temperature must be a finite number >= 0, got {temperature}")
    if temperature > 0:
        try:
            too_cold = not math.isfinite(temperature**-1 * LOGIT_HEADROOM)
        except OverflowError:
            too_cold = True
        if too_cold:
            raise UsageError(f"temperature {temperature!r} is too small: logits divided by it overflow a float; "
                             "use 0 for greedy sampling (always the most likely token)")


def check_top_p(top_p: float | None) -> None:
    if top_p is None:
        return
    if isinstance(top_p, bool) or not isinstance(top_p, (int, float)):
        raise UsageError(f"top-p must be a number (or None), got {top_p!r:.40}")
    if not 0 < top_p <= 1:  # NaN fails this too
        raise UsageError(f"top-p must be a number in (0, 1]: the share of probability to keep, got {top_p}")


def check_sampling_args(tokenizer: AnyTokenizer, config: GPTConfig, temperature: float, top_k: int | None,
                        prefix: str, n: int = 1, top_p: float | None = None) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise UsageError(f"-n must be an integer, got {n!r:.40}")
    if n < 1:
        raise UsageError(f"-n must be at least 1, got {n}")
    check_temperature(temperature)
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)):
        raise UsageError(f"top-k must be an integer (or None), got {top_k!r:.40}")
    check_top_p(top_p)
    if not isinstance(prefix, str):
        raise UsageError(f"prefix must be a string, got {type(prefix).__name__}")
    if top_k is not None and not 1 <= top_k <= tokenizer.vocab_size:
        raise UsageError(f"top-k must be between 1 and the vocabulary size {tokenizer.vocab_size}, got {top_k}")
    if prefix:
        try:
            n = len(tokenizer.encode(prefix))
        except MicroGPTError as e:
            raise UsageError(f"--prefix: {e}") from None
        if n >= config.block_size:
            raise UsageError(
                f"prefix has {n} {tokenizer.unit}s; the model's context is {config.block_size}, "
                "leaving no room to generate"
            )


def checked(logits: list[float], engine: Inference) -> list[float]:
    """The logits, unless one is NaN or infinite: no distribution can be drawn
    from those (random.choices would fail on NaN weights, argmax would guess)."""
    if not all(map(math.isfinite, logits)):
        hint = "" if getattr(engine, "name", "") in ("scalar", "fused") else \
            " (--engine fused computes in float64, which holds larger numbers)"
        raise MicroGPTError("the model's logits are not finite numbers: its weights are too large for the "
                            f"engine's arithmetic{hint}")
    return logits


def generate(engine: Inference, tokenizer: AnyTokenizer, rng: random.Random, temperature: float = 0.5,
             top_k: int | None = None, prefix: str = "", on_step: OnStep | None = None,
             top_p: float | None = None) -> str:
    """One sample, as a string (the prefix included). on_step(pos, probs,
    token_id), if given, sees every step: the distribution the token was drawn
    from (the plain one, at temperature 1, for a prefix token or a greedy pick)
    and the token taken; the explorer's step-by-step view is built on it."""
    config = engine.config
    prefix_ids = tokenizer.encode(prefix)
    cache = engine.new_cache()
    token_id = tokenizer.bos
    out = []
    for pos_id in range(config.block_size):
        logits = checked(engine.next_logits(token_id, pos_id, cache), engine)
        probs = None
        if pos_id < len(prefix_ids):  # feed the prefix, drawing nothing
            token_id = prefix_ids[pos_id]
        elif temperature == 0:
            token_id = max(range(len(logits)), key=logits.__getitem__)
        else:
            probs = next_token_probs(logits, temperature, top_k, top_p)
            token_id = rng.choices(range(tokenizer.vocab_size), weights=probs)[0]
        if on_step:
            on_step(pos_id, probs if probs is not None else next_token_probs(logits), token_id)
        if token_id == tokenizer.bos:
            break
        out.append(token_id)
    return tokenizer.decode(out)


def default_text_prefix(tokenizer: AnyTokenizer) -> str:
    """Where a text model's passage starts: a newline, if the text had any (BPE has them all),
    else the text's first character (id 0)."""
    return "\n" if tokenizer.covers("\n") else tokenizer.decode([0])


def generate_text(engine: Inference, tokenizer: AnyTokenizer, rng: random.Random, n_chars: int,
                  temperature: float = 0.5, top_k: int | None = None, prefix: str = "\n",
                  on_step: OnStep | None = None, top_p: float | None = None) -> str:
    """prefix followed by n_chars sampled characters."""
    return "".join(stream_text(engine, tokenizer, rng, n_chars, temperature, top_k, prefix, on_step, top_p))


def stream_text(engine: Inference, tokenizer: AnyTokenizer, rng: random.Random, n_chars: int,
                temperature: float = 0.5, top_k: int | None = None, prefix: str = "\n",
                on_step: OnStep | None = None, top_p: float | None = None) -> Iterator[str]:
    """generate_text as it is generated: the prefix, then one token's text at a
    time (so a long passage can be shown, or piped, while it is written).

    The context holds block_size positions; when it is full, the last half is
    fed again into a fresh cache (positions restart at 0, as in training,
    where windows start anywhere) and generation goes on.

    Pieces are whole characters: a BPE token may hold part of a UTF-8
    character, whose bytes wait for the tokens that complete it (an
    incremental decoder; bytes that can never form one show as U+FFFD). Tokens
    are drawn until n_chars characters are written; the last piece is cut to
    exactly that many. on_step is generate's: it sees each drawn token (its
    number after the prefix, the distribution, the token)."""
    block = engine.config.block_size
    context = tokenizer.encode(prefix)
    if not context:
        raise UsageError("a text model needs a non-empty --prefix to start from")
    cache, pos = engine.new_cache(), 0

    def feed(ids: list[int]) -> list[float]:
        nonlocal pos
        for t in ids:
            logits = engine.next_logits(t, pos, cache)
            pos += 1
        return checked(logits, engine)

    logits = feed(context[-block:])
    yield prefix
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
    written, step = 0, 0
    while written < n_chars:
        probs = None
        if temperature == 0:
            token_id = max((i for i in range(len(logits)) if i != tokenizer.bos), key=logits.__getitem__)
        else:
            probs = next_token_probs(logits, temperature, top_k, top_p)
            probs[tokenizer.bos] = 0.0  # never in the text: never drawn
            if not any(p > 0 for p in probs):  # top-k or top-p kept only BOS
                probs = [float(i != tokenizer.bos) for i in range(len(probs))]
            token_id = rng.choices(range(tokenizer.vocab_size), weights=probs)[0]
        if on_step:
            on_step(step, probs if probs is not None else next_token_probs(logits), token_id)
        step += 1
        piece = utf8.decode(tokenizer.token_bytes[token_id])[: n_chars - written]
        if piece:
            written += len(piece)
            yield piece
        context.append(token_id)
        if pos == block:  # the context is full: start again from its recent half
            cache, pos = engine.new_cache(), 0
            logits = feed(context[-(block // 2 or 1):])
        else:
            logits = feed([token_id])
