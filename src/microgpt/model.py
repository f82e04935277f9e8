"""The GPT: parameters and the forward pass, one token at a time, on `Value`s.

A GPT-2-like transformer with the simplifications of microgpt.py: RMSNorm
instead of LayerNorm, no biases, ReLU instead of GELU (GPT-2's GELU is an
option: GPTConfig.activation, `train --activation gelu`). The model is a plain
function over a `state_dict` of named matrices, each a list of rows; a matrix
of shape (nout, nin) maps a vector of nin numbers to nout (PyTorch's layout).

    wte      (vocab_size, n_embd)   token embeddings
    wpe      (block_size, n_embd)   position embeddings
    lm_head  (vocab_size, n_embd)   residual stream -> next-token logits
    layer{i}.attn_wq/wk/wv/wo (n_embd, n_embd)   attention projections
    layer{i}.mlp_fc1 (4*n_embd, n_embd), layer{i}.mlp_fc2 (n_embd, 4*n_embd)

`gpt()` sees one token at a position and the keys and values of the earlier
positions (the KV cache). Future positions are not in the cache yet, so no
causal mask is needed: causality comes from processing tokens in order.
"""

from microgpt.autograd import Value

INIT_STD = 0.08


def iter_parameter_shapes(config):
    """(name, (rows, cols)) of every matrix, in the order they are initialised,
    one at a time: a config read from a file may claim a billion layers."""
    yield "wte", (config.vocab_size, config.n_embd)
    yield "wpe", (config.block_size, config.n_embd)
    yield "lm_head", (config.vocab_size, config.n_embd)
    for i in range(config.n_layer):
        yield f"layer{i}.attn_wq", (config.n_embd, config.n_embd)
        yield f"layer{i}.attn_wk", (config.n_embd, config.n_embd)
        yield f"layer{i}.attn_wv", (config.n_embd, config.n_embd)
        yield f"layer{i}.attn_wo", (config.n_embd, config.n_embd)
        yield f"layer{i}.mlp_fc1", (4 * config.n_embd, config.n_embd)
        yield f"layer{i}.mlp_fc2", (config.n_embd, 4 * config.n_embd)


def parameter_shapes(config):
    """Names and (rows, cols) of every matrix, in the order they are initialised."""
    return dict(iter_parameter_shapes(config))


def num_params(config):
    """The sum of parameter_shapes' sizes, computed without listing them (so a
    huge config is sized at once, to be refused)."""
    n = config.n_embd
    return (2 * config.vocab_size + config.block_size) * n + config.n_layer * 12 * n * n


def init_weights(config, rng, std=INIT_STD):
    """Gaussian weights as plain floats, drawn matrix by matrix, row by row.

    The draw order is the original's, so the same seed gives the same model."""
    return {
        name: [[rng.gauss(0, std) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in parameter_shapes(config).items()
    }


def to_values(weights):
    """Wrap float weights in Values so gradients can flow into them."""
    return {name: [[Value(x) for x in row] for row in mat] for name, mat in weights.items()}


# ---- building blocks


def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def softmax(logits):
    max_val = max(val.data for val in logits)  # subtracting the max keeps exp() from overflowing
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x):
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


# ---- the model


def gpt(state_dict, config, token_id, pos_id, keys, values):
    """Logits for the token after `token_id` at position `pos_id`.

    keys[li] and values[li] hold one vector per earlier position of layer li;
    this call appends the current position's."""
    hd = config.head_dim
    tok_emb = state_dict["wte"][token_id]
    pos_emb = state_dict["wpe"][pos_id]
    x = [t + p for t, p in zip(tok_emb, pos_emb)]
    x = rmsnorm(x)
    for li in range(config.n_layer):
        # 1) attention: the only place where positions exchange information
        x_residual = x
        x = rmsnorm(x)
        q = linear(x, state_dict[f"layer{li}.attn_wq"])
        k = linear(x, state_dict[f"layer{li}.attn_wk"])
        v = linear(x, state_dict[f"layer{li}.attn_wv"])
        keys[li].append(k)
        values[li].append(v)
        x_attn = []
        for h in range(config.n_head):
            hs = h * hd
            q_h = q[hs : hs + hd]
            k_h = [ki[hs : hs + hd] for ki in keys[li]]
            v_h = [vi[hs : hs + hd] for vi in values[li]]
            attn_logits = [sum(q_h[j] * k_h[t][j] for j in range(hd)) / hd**0.5 for t in range(len(k_h))]
            attn_weights = softmax(attn_logits)
            head_out = [sum(attn_weights[t] * v_h[t][j] for t in range(len(v_h))) for j in range(hd)]
            x_attn.extend(head_out)
        x = linear(x_attn, state_dict[f"layer{li}.attn_wo"])
        x = [a + b for a, b in zip(x, x_residual)]
        # 2) MLP: each position thinks on its own about what it gathered
        x_residual = x
        x = rmsnorm(x)
        x = linear(x, state_dict[f"layer{li}.mlp_fc1"])
        x = [xi.gelu() for xi in x] if config.activation == "gelu" else [xi.relu() for xi in x]
        x = linear(x, state_dict[f"layer{li}.mlp_fc2"])
        x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, state_dict["lm_head"])


def empty_cache(config):
    return [[] for _ in range(config.n_layer)], [[] for _ in range(config.n_layer)]


def doc_losses(state_dict, config, tokens):
    """Cross-entropy at each position of a document [BOS, ..., BOS], as Values.

    Documents longer than block_size are truncated (as in the original)."""
    n = config.predicted(tokens)
    keys, values = empty_cache(config)
    losses = []
    for pos_id in range(n):
        token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
        logits = gpt(state_dict, config, token_id, pos_id, keys, values)
        probs = softmax(logits)
        losses.append(-probs[target_id].log())
    return losses
