"""Where each position looks: one heatmap of attention weights per layer and head.

Row q is the query position (the token being processed), column k a key
position; cell (q, k) is how much of position k's value vector head h mixed
into position q. Each row sums to 1, and only k <= q exists (the model reads
left to right), so the upper triangle is blank.
"""

from microgpt import forward
from microgpt.errors import MicroGPTError, UsageError
from microgpt.inspection.plots import require_matplotlib, token_label


def attention_weights(weights, config, tokenizer, text):
    """[layer][head] -> rows of weights, row q over positions 0..q, for BOS + text."""
    try:
        ids = [tokenizer.bos] + tokenizer.encode(text)
    except MicroGPTError as e:
        raise UsageError(f"--attention: {e}") from None
    if len(ids) > config.block_size:
        raise UsageError(f"--attention: {text!r} and BOS are {len(ids)} positions; the model's context is "
                         f"{config.block_size}")
    grid = [[[] for _ in range(config.n_head)] for _ in range(config.n_layer)]
    keys, values = forward.empty_cache(config)
    for pos, token in enumerate(ids):
        seen = []
        forward.gpt(weights, config, token, pos, keys, values, attn=seen)
        for layer, head, row in seen:
            grid[layer][head].append(row)
    return ids, grid


def attention_figure(weights, config, tokenizer, text, title):
    ids, grid = attention_weights(weights, config, tokenizer, text)  # bad text fails first, with or without matplotlib
    Figure = require_matplotlib()
    labels = [token_label(tokenizer, i) for i in ids]
    n = len(ids)
    rows, cols = config.n_layer, config.n_head
    side = max(2.2, min(4.0, 0.45 * n + 1.0))
    fig = Figure(figsize=(side * cols + 1.2, side * rows + 0.9), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    import numpy as np  # matplotlib depends on numpy, so it is here whenever plotting is

    for layer in range(rows):
        for head in range(cols):
            ax = axes[layer][head]
            m = np.full((n, n), np.nan)  # NaN: the future, which no head can see
            for q, row in enumerate(grid[layer][head]):
                m[q, : len(row)] = row
            im = ax.imshow(m, cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_xticks(range(n), labels)
            ax.set_yticks(range(n), labels)
            ax.tick_params(length=0)
            if n <= 10:  # the numbers themselves, while they fit
                for q in range(n):
                    for k in range(q + 1):
                        v = m[q, k]
                        ax.text(k, q, f"{v:.2f}", ha="center", va="center", fontsize=7,
                                color="black" if v > 0.6 else "white")
            ax.set_title(f"layer {layer}, head {head}", fontsize=10)
            if head == 0:
                ax.set_ylabel("query (position reading)")
            if layer == rows - 1:
                ax.set_xlabel("key (position read)")
    fig.colorbar(im, ax=axes, shrink=0.8, label="attention weight")
    fig.suptitle(title)
    return fig
