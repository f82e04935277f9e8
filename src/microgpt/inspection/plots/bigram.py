"""The bigram table: how often each character follows each other in the data.

This is the whole of the ladder's first model (train0): count every pair
(current, next) over [BOS, c1, ..., cn, BOS], normalise each row, sample. The
row of BOS is how names start; the column of BOS is how they end. Counts span
several orders of magnitude, so colour is on a log scale and the numbers are
written in the cells.
"""

from microgpt.errors import MicroGPTError
from microgpt.inspection.plots import require_matplotlib, token_label


def bigram_counts(tokenizer, docs):
    """counts[current][next] over every document wrapped in BOS."""
    v = tokenizer.vocab_size
    counts = [[0] * v for _ in range(v)]
    for doc in docs:
        try:
            tokens = tokenizer.encode_doc(doc)
        except MicroGPTError:
            continue  # a character the model has no id for cannot be in its table
        for a, b in zip(tokens, tokens[1:]):
            counts[a][b] += 1
    return counts


def bigram_figure(tokenizer, counts, title):
    Figure = require_matplotlib()
    import numpy as np
    from matplotlib.colors import LogNorm

    v = tokenizer.vocab_size
    m = np.array(counts, dtype=float)
    shown = np.where(m > 0, m, np.nan)  # zero: blank, the pair never occurs
    side = max(5.0, min(12.0, 0.34 * v + 1.5))
    fig = Figure(figsize=(side + 1.2, side), layout="constrained")
    ax = fig.add_subplot()
    top = max(1.0, float(np.nanmax(shown)) if np.any(m > 0) else 1.0)
    # vmin below 1 so a count of 1 is visibly coloured, unlike a blank 0.
    im = ax.imshow(shown, cmap="Blues", norm=LogNorm(vmin=0.5, vmax=top))
    labels = [token_label(tokenizer, i) for i in range(v)]
    ax.set_xticks(range(v), labels, fontsize=8)
    ax.set_yticks(range(v), labels, fontsize=8)
    ax.tick_params(length=0, labeltop=True)
    ax.set_xlabel("next character")
    ax.set_ylabel("current character")
    if v <= 40:
        for i in range(v):
            for j in range(v):
                if m[i, j]:
                    dark = np.log(m[i, j]) > 0.6 * np.log(top)
                    ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", fontsize=6,
                            color="white" if dark else "black")
    fig.colorbar(im, ax=ax, shrink=0.7, label="count (log scale)")
    ax.set_title(title)
    return fig
