"""Look at one part of the system at a time: dataset, tokenizer, autograd,
parameters, architecture. Each view returns text for the CLI to print."""

import random
from dataclasses import replace
from itertools import islice

from microgpt import forward
from microgpt.autograd import Value
from microgpt.data import default_val_size
from microgpt.model import iter_parameter_shapes, num_params


def dataset_view(docs, path, seed=42, n=10):
    shuffled = list(docs)
    random.Random(seed).shuffle(shuffled)
    chars = sorted(set("".join(docs)))
    lengths = [len(d) for d in docs]
    n_val = default_val_size(len(docs))
    lines = [
        f"file: {path}",
        f"num docs: {len(docs):,}",
        f"characters: {len(chars)} ({''.join(chars)!r})",
        f"doc length: min {min(lengths)}, mean {sum(lengths) / len(lengths):.2f}, max {max(lengths)}",
        f"split (seed {seed}): {len(docs) - n_val:,} train, {n_val:,} validation (from the end of the shuffled list)",
        f"first {min(n, len(docs))} docs in the file: {', '.join(docs[:n])}",
        f"first {min(n, len(docs))} docs after the shuffle: {', '.join(shuffled[:n])}",
    ]
    return "\n".join(lines)


def tokenizer_view(tokenizer, text):
    ids = tokenizer.encode_doc(text)
    table = "  ".join(f"{ch}={i}" for i, ch in enumerate(tokenizer.chars))
    return "\n".join([
        f"vocab size: {tokenizer.vocab_size} ({len(tokenizer.chars)} characters + BOS)",
        f"ids: {table}  BOS={tokenizer.bos}",
        f"encode {text!r} -> {ids}",
        f"decode {ids} -> {tokenizer.decode(ids)!r}",
    ])


def bpe_view(tokenizer, text, source, limit=None):
    """A BPE tokenizer: its merges in the order learned, and `text` cut into tokens."""
    merges = tokenizer.merges if limit is None else tokenizer.merges[:limit]
    ids = tokenizer.encode_doc(text)
    lines = [
        f"byte-level BPE of {source}",
        f"vocab size: {tokenizer.vocab_size} ({256} bytes 0-255 + {len(tokenizer.merges)} merges "
        f"256-{tokenizer.bos - 1} + BOS={tokenizer.bos})",
        f"merges, in the order learned (the {len(merges)} first of {len(tokenizer.merges)}):"
        if len(merges) < len(tokenizer.merges) else "merges, in the order learned:",
    ]
    for i, (a, b) in enumerate(merges):
        new = 256 + i
        lines.append(f"  {new:>5}: {tokenizer.label(a)!r} + {tokenizer.label(b)!r} -> {tokenizer.label(new)!r}")
    pieces = "  ".join(f"{tokenizer.label(i)!r}={i}" for i in ids[1:-1])
    lines += [
        f"encode {text!r} -> {len(ids) - 2} tokens ({len(text)} characters): {pieces}",
        f"as a document: {ids}",
        f"decode -> {tokenizer.decode(ids)!r}",
    ]
    return "\n".join(lines)


def autograd_view(a=2.0, b=3.0):
    av, bv = Value(a), Value(b)
    c = av * bv
    loss = c + av
    loss.backward()
    h = 1e-6
    f = lambda x, y: x * y + x  # noqa: E731
    da = (f(a + h, b) - f(a - h, b)) / (2 * h)
    db = (f(a, b + h) - f(a, b - h)) / (2 * h)
    return "\n".join([
        f"a = {a}, b = {b}",
        f"c = a * b      = {c.data}",
        f"L = c + a      = {loss.data}",
        "L.backward()",
        f"a.grad = {av.grad}   (dL/da = b + 1: a reaches L twice, and the two paths add up)",
        f"b.grad = {bv.grad}   (dL/db = a)",
        f"finite differences: dL/da ~ {da:.6f}, dL/db ~ {db:.6f}",
    ])


MAX_LISTED_LAYERS = 8  # past this, the layers between the first two and the last are one line


def parameters_view(config):
    L = config.n_layer
    elided = L > MAX_LISTED_LAYERS
    shown = (0, 1, L - 1) if elided else range(L)
    shapes = [(n, rc) for n, rc in islice(iter_parameter_shapes(config), 3)]
    last = iter_parameter_shapes(replace(config, n_layer=1))  # every layer has layer 0's shapes
    per_layer = list(islice(last, 3, None))
    for i in shown:
        if elided and i == L - 1:
            shapes.append((f"  ... layer2 to layer{L - 2}: {L - 3:,} more layers, the same 6 matrices each", None))
        shapes += [(n.replace("layer0.", f"layer{i}.", 1), rc) for n, rc in per_layer]
    width = max(len(n) for n, rc in shapes if rc)
    lines = [f"config: n_embd {config.n_embd}, n_head {config.n_head} (head_dim {config.head_dim}), "
             f"n_layer {config.n_layer}, block_size {config.block_size}, vocab_size {config.vocab_size}"
             + (f", activation {config.activation}" if config.activation != "relu" else "")]  # (relu: the original's)
    for name, rc in shapes:
        if rc is None:
            lines.append(name)
            continue
        r, c = rc
        lines.append(f"  {name:<{width}}  {r:>4} x {c:<4} {r * c:>8,}")
    lines.append(f"total: {num_params(config):,} parameters")
    return "\n".join(lines)


def architecture_view(weights, config, tokenizer, text="", top=5):
    """One forward pass over BOS + text: the logits and the most likely next tokens."""
    ids = [tokenizer.bos] + tokenizer.encode(text)
    ids = ids[: config.block_size]
    logits = forward.sequence_logits(weights, config, ids)[-1]
    probs = forward.softmax(logits)
    ranked = sorted(range(len(probs)), key=lambda i: -probs[i])[:top]
    label = lambda i: "BOS" if i == tokenizer.bos else repr(tokenizer.label(i))  # noqa: E731
    lines = [
        f"input: BOS + {text!r} ({len(ids)} positions; one layer = rmsnorm -> attention -> +residual "
        f"-> rmsnorm -> MLP -> +residual, x{config.n_layer})",
        f"logits ({len(logits)}): [" + ", ".join(f"{x:.3f}" for x in logits) + "]",
        f"top {top} next tokens:",
    ]
    for i in ranked:
        lines.append(f"  {label(i):>5}  p = {probs[i]:.4f}  (-ln p = {forward.surprise(probs[i]):.3f})")
    return "\n".join(lines)
