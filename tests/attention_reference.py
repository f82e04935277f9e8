"""An independent GPT forward, written from the model's description (model.py's
docstring) and nothing of forward.py: exact sums (math.fsum), a true division
by sqrt(head_dim), the softmax as exp / sum. It keeps every number of each
layer's attention, so the trace's `attention_steps`, and the explorer page that
shows them, can be checked against it. A ReLU model only."""

import math


def matvec(w, x):
    return [math.fsum(a * b for a, b in zip(row, x)) for row in w]


def normalised(x):
    return [v / math.sqrt(math.fsum(v * v for v in x) / len(x) + 1e-5) for v in x]


def read(weights, config, tokens):
    """For each position of `tokens` (at most block_size): (logits, [per layer
    {x, q, k, v, scores, scaled, weights, heads, out}]), scores, scaled and
    weights per head over positions 0..pos."""
    d, n_head = config.n_embd // config.n_head, config.n_head
    keys = [[] for _ in range(config.n_layer)]
    values = [[] for _ in range(config.n_layer)]
    out = []
    for pos, token in enumerate(tokens[: config.block_size]):
        stream = normalised([a + b for a, b in zip(weights["wte"][token], weights["wpe"][pos])])
        layers = []
        for li in range(config.n_layer):
            w = {name: weights[f"layer{li}.{name}"] for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo",
                                                                 "mlp_fc1", "mlp_fc2")}
            x = normalised(stream)
            q, k, v = matvec(w["attn_wq"], x), matvec(w["attn_wk"], x), matvec(w["attn_wv"], x)
            keys[li].append(k)
            values[li].append(v)
            part = lambda vec, h: vec[h * d:(h + 1) * d]
            scores = [[math.fsum(a * b for a, b in zip(part(q, h), part(kj, h))) for kj in keys[li]]
                      for h in range(n_head)]
            scaled = [[s / math.sqrt(d) for s in row] for row in scores]
            attention = []
            for row in scaled:
                e = [math.exp(s - max(row)) for s in row]
                attention.append([ei / math.fsum(e) for ei in e])
            heads = [math.fsum(wj * part(vj, h)[i] for wj, vj in zip(attention[h], values[li]))
                     for h in range(n_head) for i in range(d)]
            attn_out = matvec(w["attn_wo"], heads)
            layers.append({"x": x, "q": q, "k": k, "v": v, "scores": scores, "scaled": scaled, "weights": attention,
                           "heads": heads, "out": attn_out})
            stream = [a + b for a, b in zip(stream, attn_out)]
            hidden = [max(0.0, h) for h in matvec(w["mlp_fc1"], normalised(stream))]
            stream = [a + b for a, b in zip(stream, matvec(w["mlp_fc2"], hidden))]
        out.append((matvec(weights["lm_head"], stream), layers))
    return out


def block_params(config):
    """Each diagram block's parameter count, by its formula (no biases; RMSNorm
    has no gain): [(kind, layer, count)] in the stream's order."""
    n, v = config.n_embd, config.vocab_size
    blocks = [("wte", None, v * n), ("wpe", None, config.block_size * n), ("norm", None, 0)]
    for li in range(config.n_layer):
        blocks += [("norm", li, 0), ("attention", li, 4 * n * n), ("norm", li, 0), ("mlp", li, 2 * 4 * n * n)]
    return blocks + [("lm_head", None, v * n)]
