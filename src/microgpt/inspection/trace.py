"""Everything a "look inside" view shows about one string, computed in one pass.

    t = microgpt.load("m.json").trace("emma")
    t.total, t.perplexity                    # == model.score("emma")'s
    p = t.positions[1]                       # reading "e", predicting "m"
    p.logits, p.probs, p.p_next, p.surprise  # the full next-token distribution
    p.attention[layer][head]                 # weights over positions 0..1 (None: an ablated layer's)
    p.stream[i].vector, .norm, .lens         # the residual stream, and what it would predict
    p.mlp[layer].active                      # which hidden neurons fired
    p.attention_steps[layer].scaled[head]    # q.k / sqrt(head_dim) over positions 0..1: the softmax's input
    json.dumps(t.to_dict())                  # plain lists, dicts, floats and str

The string is read as `score` reads it (inspection/score.py): for a names model
[BOS, t1..tn, BOS], one prediction per position 0..n, the last one the closing
BOS; for a --text model without BOS, the first token being context only. A
token is a character, or with BPE a piece of text (labelled with its text).
The numbers come from forward.gpt itself, through its `attn=` and `record=`
arguments, so the probabilities (and the totals) are exactly score's, and a
browser or a lesson built on this never recomputes the model.

The residual stream is shown at each point the model passes it along:

    embed         wte[token] + wpe[pos]
    embed.norm    rmsnorm of that: the stream the first layer reads (the model
                  normalises its embeddings before any block)
    layer{i}.attn after layer i's attention adds its output
    layer{i}.mlp  after layer i's MLP adds its output; the last one is what
                  lm_head turns into the logits

At each point the "logit lens" applies lm_head to the vector, exactly as the
model does at its end: with no norm first, since the model has no final norm
(forward.gpt returns linear(x, lm_head) of the last residual). So the lens of
the last point is the model's own prediction, bit for bit. A point's
`norm_scale` is the factor (mean(x**2) + 1e-5) ** -0.5 by which the rmsnorm that
reads it multiplies it: the first rmsnorm for `embed`, layer i's attention norm
for the point before layer i, its MLP norm for `layer{i}.attn`; None after the
last MLP, which nothing normalises.

Inside each layer's attention, `attention_steps` keeps every number on the
way from the stream to the block's output, as forward.attention made them:

    x             the normalised stream the layer reads (n_embd)
    q, k, v       this position's query, key and value, heads side by side:
                  head h owns [h * head_dim, (h + 1) * head_dim)
    scores[h]     q_h . k_h of every position so far, 0..pos
    scaled[h]     each score times 1 / sqrt(head_dim); their softmax is
                  attention[layer][h]
    heads         each head's weights times the cached values, summed, the
                  heads concatenated (n_embd)
    out           attn_wo times heads: what the block adds to the stream

The keys a position's query meets are the cache: position j's own `k` (and
`v`), for j = 0..pos. No later position is there yet, which is all the
causal mask is.

With an ablation (model.ablate(spec), ablation.py) the same points are shown
for the model with those parts switched off: a skipped attention layer has
None for its heads' weights and leaves the stream as it was, a skipped MLP
fires no neuron, a zeroed head still shows where it would have looked.
"""

import math
from dataclasses import asdict, dataclass

from microgpt import forward
from microgpt.inspection.score import new_score, read_tokens, row

TOP_K = 5


@dataclass
class Point:
    name: str  # "embed", "embed.norm", "layer{i}.attn", "layer{i}.mlp"
    layer: int | None  # None before the first layer
    vector: list  # (n_embd,)
    norm: float  # L2 norm of vector
    norm_scale: float | None  # what the rmsnorm reading this vector multiplies it by
    lens: list  # the TOP_K most likely next tokens through lm_head: [{"token": str, "p": float}]


@dataclass
class MLP:
    hidden: list  # (4 * n_embd,) after the ReLU (or GELU)
    active: list  # indices of the neurons that fired (> 0)


@dataclass
class AttentionSteps:
    x: list  # (n_embd,) the normalised stream the layer reads
    q: list  # (n_embd,) this position's query, every head's slice side by side
    k: list  # (n_embd,) its key, as cached for the positions after it
    v: list  # (n_embd,) its value, likewise
    scores: list  # [head] -> q_h . k_h over positions 0..pos
    scaled: list  # [head] -> those times 1/sqrt(head_dim): the softmax's input
    heads: list  # (n_embd,) each head's weighted sum of the values, concatenated (zeros for a zeroed head)
    out: list  # (n_embd,) attn_wo times heads, before the residual add


@dataclass
class Position:
    pos: int
    token: str  # the token read here ("BOS" for BOS)
    next: str  # the token that actually comes next
    logits: list  # (vocab_size,) lm_head's output, before the softmax
    probs: list  # (vocab_size,) the model's next-token distribution, in vocab order
    p_next: float
    surprise: float  # -ln p_next (inf if p_next underflowed to 0)
    attention: list  # [layer][head] -> weights over positions 0..pos
    stream: list  # Points, in the order the model computes them
    mlp: list  # [layer] -> MLP
    attention_steps: list  # [layer] -> AttentionSteps (None: an ablated layer's)


@dataclass
class Trace:
    text: str
    is_text: bool
    vocab: list  # token id -> label (a character, or a BPE token's text with \xNN for a partial one), "BOS" last
    tokens: list  # every token of the read string; position i reads tokens[i], predicts tokens[i + 1]
    positions: list
    total: float  # summed surprise, == score(text).total
    mean: float
    perplexity: float
    chars: int  # characters the predicted tokens spell (the end counts as one)
    bits_per_char: float  # total / ln 2 / chars: comparable across tokenizers

    def to_dict(self):
        """Plain, strictly JSON-serialisable data: an infinite surprise or
        perplexity (a probability that underflowed to 0) becomes None."""
        return _finite(asdict(self))


def _finite(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def top_k(probs, vocab, k=TOP_K):
    """The k most likely tokens, most likely first (ties: lower id first)."""
    best = sorted(range(len(probs)), key=lambda i: (-probs[i], i))[:k]
    return [{"token": vocab[i], "p": probs[i]} for i in best]


def stream_points(config):
    """(name, layer) of each point of the residual stream, in the model's order."""
    return [("embed", None), ("embed.norm", None)] + [
        (f"layer{li}.{block}", li) for li in range(config.n_layer) for block in ("attn", "mlp")
    ]


def read_position(weights, config, vocab, token, pos, keys, values, k, ablate=None):
    """One forward step, and everything it passed along."""
    attn, record = [], {}
    logits = forward.gpt(weights, config, token, pos, keys, values, attn=attn, record=record, ablate=ablate)
    probs = forward.softmax(logits)
    attention = [[None] * config.n_head for _ in range(config.n_layer)]
    for layer, head, w in attn:
        attention[layer][head] = w
    points = stream_points(config)
    stream = []
    for i, (name, layer) in enumerate(points):
        x = record[name]
        # every point but the last residual is read next by an rmsnorm
        scale = forward.rms_scale(x) if i + 1 < len(points) else None
        lens = forward.softmax(forward.linear(x, weights["lm_head"]))
        stream.append(Point(name, layer, list(x), math.sqrt(forward.fsum(xi * xi for xi in x)), scale,
                            top_k(lens, vocab, k)))
    mlp = []
    for li in range(config.n_layer):
        hidden = [float(h) for h in record[f"layer{li}.mlp_hidden"]]  # max(0, x) keeps the int 0
        mlp.append(MLP(hidden, [j for j, h in enumerate(hidden) if h > 0]))
    steps = [attention_steps(record, f"layer{li}.attn.") for li in range(config.n_layer)]
    return logits, probs, attention, stream, mlp, steps


def attention_steps(record, prefix):
    """A layer's attention intermediates, copied out of forward.gpt's record
    (None when the layer's attention was skipped)."""
    if prefix + "x" not in record:
        return None
    vectors = {name: list(record[prefix + name]) for name in ("x", "q", "k", "v", "heads", "out")}
    per_head = {name: [list(row) for row in record[prefix + name]] for name in ("scores", "scaled")}
    return AttentionSteps(**vectors, **per_head)


def trace(weights, config, tokenizer, text, is_text=False, k=TOP_K, ablate=None):
    """Trace `text` through the model (see the module docstring), or with
    `ablate` (an ablation.Ablation) through the model with those parts switched
    off. Bad text (an unknown character, too long for the context) raises
    score's UsageError."""
    bos = not is_text
    tokens = read_tokens(tokenizer, config, text, bos)
    vocab = [tokenizer.label(i) for i in range(tokenizer.vocab_size)]  # a character, or a BPE token's text
    keys, values = forward.empty_cache(config)
    positions, rows = [], []
    for pos in range(len(tokens) - 1):
        logits, probs, attention, stream, mlp, steps = read_position(weights, config, vocab, tokens[pos], pos,
                                                                     keys, values, k, ablate)
        rows.append(row(tokenizer, tokens, pos, probs, bos))
        p_next = probs[tokens[pos + 1]]
        positions.append(Position(pos, vocab[tokens[pos]], vocab[tokens[pos + 1]], list(logits), probs, p_next,
                                  forward.surprise(p_next), attention, stream, mlp, steps))
    s = new_score(tokenizer, text, tokens, rows)  # the totals, summed as score sums them
    return Trace(text, is_text, vocab, [vocab[t] for t in tokens], positions, s.total, s.mean, s.perplexity,
                 s.chars, s.bits_per_char)
