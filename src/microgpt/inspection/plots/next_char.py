"""What comes next? The next-character distribution after a prefix, as bars.

Sampling divides the logits by a temperature T before the softmax. The bars at
T = 1.0 are the model's own distribution; next to them, the one sampling draws
from at T: below 1 the likely characters take more of the mass, above 1 it is
spread out, and at 0 all of it goes to the single most likely character.
"""

from microgpt import forward
from microgpt.errors import MicroGPTError, UsageError
from microgpt.inspection.plots import require_matplotlib, token_label
from microgpt.sample import next_token_probs


def next_probs(weights, config, tokenizer, prefix, temperature):
    """(probabilities at T = 1, probabilities at `temperature`) after BOS + prefix."""
    try:
        ids = [tokenizer.bos] + tokenizer.encode(prefix)
    except MicroGPTError as e:
        raise UsageError(f"--next: {e}") from None
    if len(ids) > config.block_size:
        raise UsageError(f"--next: {prefix!r} and BOS are {len(ids)} positions; the model's context is "
                         f"{config.block_size}")
    logits = forward.sequence_logits(weights, config, ids)[-1]
    base = next_token_probs(logits, 1.0)
    if temperature == 0:  # greedy: what sample.generate does at 0
        best = max(range(len(logits)), key=logits.__getitem__)
        return base, [1.0 if i == best else 0.0 for i in range(len(logits))]
    return base, next_token_probs(logits, temperature)


def next_figure(weights, config, tokenizer, prefix, temperature, title):
    base, at_t = next_probs(weights, config, tokenizer, prefix, temperature)  # bad prefix fails first
    Figure = require_matplotlib()
    v = tokenizer.vocab_size
    labels = [token_label(tokenizer, i) if i != tokenizer.bos else "end" for i in range(v)]
    fig = Figure(figsize=(max(6.0, 0.36 * v + 1.5), 4.2), layout="constrained")
    ax = fig.add_subplot()
    xs = range(v)
    width = 0.4
    ax.bar([x - width / 2 for x in xs], base, width, color="0.65", label="T = 1.0 (the model)")
    if temperature != 1.0:
        ax.bar([x + width / 2 for x in xs], at_t, width, color="C0", label=f"T = {temperature:g} (sampling)")
    ax.set_xticks(list(xs), labels)
    ax.set_xlim(-0.7, v - 0.3)
    ax.set_ylim(0, min(1.0, max(max(base), max(at_t)) * 1.12))
    ax.set_xlabel("next character (end = the name stops here)")
    ax.set_ylabel("probability")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper right")
    ax.set_title(title)
    return fig
