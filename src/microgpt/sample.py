"""Sampling: let the model write, one character at a time.

Start from BOS (and an optional prefix), ask the model for the next token's
logits, turn them into probabilities at a temperature, draw one, feed it back,
and stop at BOS or when the context is full. Temperature divides the logits:
below 1 it sharpens the distribution (safer, more typical names), above 1 it
flattens it (more surprising ones); 0 means always take the most likely token.
top-k keeps only the k most likely tokens before drawing.
"""

from microgpt import forward
from microgpt.errors import MicroGPTError, UsageError


def next_token_probs(logits, temperature=1.0, top_k=None):
    """Probabilities of the next token, computed as the original does
    (logits / temperature, then softmax), with all but the top-k set to 0."""
    scale = temperature**-1  # the original divides a Value, which multiplies by t**-1
    probs = forward.softmax([l * scale for l in logits])
    if top_k is not None and top_k < len(probs):
        keep = set(sorted(range(len(probs)), key=lambda i: -probs[i])[:top_k])
        probs = [p if i in keep else 0.0 for i, p in enumerate(probs)]
    return probs


def check_sampling_args(tokenizer, config, temperature, top_k, prefix, n=1):
    if not isinstance(n, int) or n < 1:
        raise UsageError(f"-n must be at least 1, got {n}")
    if temperature != temperature or temperature < 0 or temperature == float("inf"):
        raise UsageError(f"temperature must be a finite number >= 0, got {temperature}")
    if top_k is not None and not 1 <= top_k <= tokenizer.vocab_size:
        raise UsageError(f"top-k must be between 1 and the vocabulary size {tokenizer.vocab_size}, got {top_k}")
    if prefix:
        try:
            tokenizer.encode(prefix)
        except MicroGPTError as e:
            raise UsageError(f"--prefix: {e}") from None
        if len(prefix) >= config.block_size:
            raise UsageError(
                f"prefix has {len(prefix)} characters; the model's context is {config.block_size}, "
                "leaving no room to generate"
            )


def generate(engine, tokenizer, rng, temperature=0.5, top_k=None, prefix=""):
    """One sample, as a string (the prefix included)."""
    config = engine.config
    prefix_ids = tokenizer.encode(prefix)
    cache = engine.new_cache()
    token_id = tokenizer.bos
    out = []
    for pos_id in range(config.block_size):
        logits = engine.next_logits(token_id, pos_id, cache)
        if pos_id < len(prefix_ids):  # feed the prefix, drawing nothing
            token_id = prefix_ids[pos_id]
        elif temperature == 0:
            token_id = max(range(len(logits)), key=logits.__getitem__)
        else:
            probs = next_token_probs(logits, temperature, top_k)
            token_id = rng.choices(range(tokenizer.vocab_size), weights=probs)[0]
        if token_id == tokenizer.bos:
            break
        out.append(token_id)
    return tokenizer.decode(out)
