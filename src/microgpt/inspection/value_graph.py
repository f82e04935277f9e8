"""The Value computation graph, drawn: every node with its data and its grad.

Two graphs: the worked example L = a*b + a (four nodes: the gradient of a is
b + 1 because a reaches L by two paths), and the loss of one token through a
tiny GPT (BOS at position 0 predicting the first character), where every
weight that took part is a leaf with the gradient the optimizer would follow.

A Value does not record which operation made it, only its children and the
local derivatives. Each of the six operations leaves a distinct fingerprint in
those numbers (e.g. exp: the local derivative equals the result), so the label
is read back from them and checked against the data; no change to the core.

The output is Graphviz DOT text, always; `dot`, when installed, renders it.
"""

import math
import shutil
import subprocess
from pathlib import Path

from microgpt import model
from microgpt.autograd import Value, gelu_and_slope
from microgpt.errors import MicroGPTError, UsageError
from microgpt.files import resources
from microgpt.files.outputs import MARK
from microgpt.model import num_params

MAX_RENDER_NODES = 4000  # beyond this `dot` takes minutes and the picture is a grey smear


def worked_example(a=2.0, b=3.0):
    """The seed's example: the loss Value and a name for each node."""
    av, bv = Value(a), Value(b)
    c = av * bv
    loss = c + av
    loss.backward()
    return loss, {id(av): "a", id(bv): "b", id(c): "c = a*b", id(loss): "L = c + a"}


def model_example(weights, config, tokenizer, target):
    """-log p(target | BOS) at position 0, backpropagated; weights named by matrix and index."""
    state_dict = model.to_values(weights)
    keys, values = model.empty_cache(config)
    logits = model.gpt(state_dict, config, tokenizer.bos, 0, keys, values)
    probs = model.softmax(logits)
    target_id = check_target(tokenizer, target)
    if probs[target_id].data <= 0:  # underflowed: ln 0 has no value and no gradient to draw
        raise MicroGPTError(f"the model gives {target!r} a probability of exactly 0 after BOS (its logits are "
                            "extreme), so its loss is infinite and has no gradient; pick another --target")
    loss = -probs[target_id].log()
    loss.backward()
    names = {id(p): f"{name}[{r}][{c}]" for name, mat in state_dict.items()
             for r, row in enumerate(mat) for c, p in enumerate(row)}
    names.update({id(v): f"logit[{tokenizer.label(i)}]" for i, v in enumerate(logits)})
    names[id(probs[target_id])] = f"p({target!r})"
    names[id(loss)] = "loss = -ln p"
    return loss, names


def nodes_of(root):
    """Every Value root depends on, children before parents (iterative DFS)."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append((child, iter(child._children)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _close(x, y):
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


def op_of(v):
    """The operation that made v, read back from its children and local derivatives."""
    ch, lg = v._children, v._local_grads
    if not ch:
        return ""
    if len(ch) == 2:
        a, b = ch[0].data, ch[1].data
        if tuple(lg) == (1, 1) and _close(v.data, a + b):
            return "+"
        return "*"
    x, d = ch[0].data, lg[0]
    if d in (0.0, 1.0) and isinstance(d, float) and v.data == max(0, x):
        return "relu"
    y, slope = gelu_and_slope(x)
    if _close(v.data, y) and _close(d, slope):
        return "gelu"
    if _close(d, v.data) and _close(v.data, math.exp(x)):
        return "exp"
    if x > 0 and _close(v.data, math.log(x)) and _close(d, 1 / x):
        return "log"
    if x != 0 and v.data != 0:
        k = d * x / v.data  # d/dx x**k = k x**(k-1) = k * (x**k) / x
        for nice in (-1, -0.5, 0.5, 2, 3):
            if _close(k, nice):
                return f"**{nice:g}"
        return f"**{k:.3g}"
    return "**"


def _esc(s):
    """Escape the characters that structure a DOT record label."""
    for ch in "\\{}|<>\"":
        s = s.replace(ch, "\\" + ch)
    return s


def to_dot(root, names, title, edge_labels=None):
    nodes = nodes_of(root)
    index = {id(v): i for i, v in enumerate(nodes)}
    if edge_labels is None:
        edge_labels = len(nodes) <= 60  # local derivatives on the edges, while they stay readable
    lines = [
        f"// {MARK}: the Value graph",  # how `microgpt graph` knows a .dot file it may replace (files/outputs.py)
        "digraph values {",
        f'  graph [rankdir=LR, label="{_esc(title)}", labelloc=t, fontname="Helvetica", fontsize=14];',
        '  node [shape=record, fontname="Helvetica", fontsize=10, style=filled, fillcolor="#ffffff"];',
        '  edge [fontname="Helvetica", fontsize=8, color="#777777"];',
    ]
    for i, v in enumerate(nodes):
        op = op_of(v)
        name = names.get(id(v), "")
        head = f"{name}  ({op})" if name and op else name or op or "const"
        fill = "#ffe9a8" if v is root else "#d8e8ff" if not v._children and name else "#ffffff"
        label = f"{_esc(head)} | data {v.data:.4g} | grad {v.grad:.4g}"
        lines.append(f'  n{i} [label="{{{label}}}", fillcolor="{fill}"];')
    for i, v in enumerate(nodes):
        for child, local in zip(v._children, v._local_grads):
            attr = f' [label="{local:.3g}"]' if edge_labels else ""
            lines.append(f"  n{index[id(child)]} -> n{i}{attr};")
    lines.append("}")
    return "\n".join(lines) + "\n", len(nodes)


def dot_program():
    return shutil.which("dot")


def render(dot_path, out_path):
    """Run Graphviz on a .dot file; the format is the output's extension."""
    fmt = Path(out_path).suffix.lower().lstrip(".")
    try:
        p = subprocess.run([dot_program(), f"-T{fmt}", str(dot_path), "-o", str(out_path)],
                           capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise MicroGPTError(f"Graphviz took over 5 minutes on {dot_path}; the DOT file is kept") from None
    if p.returncode != 0:
        first = (p.stderr.strip().splitlines() or ["no message"])[0]
        raise MicroGPTError(f"Graphviz could not render {dot_path}: {first}")


# Per node, all told: the Value and its tuples, its name (every weight is named)
# and its lines of DOT text. Measured with tracemalloc: 1.8 KB (8 wide), 1.1 KB
# (16, the default), 0.9 KB (32); larger graphs only lower it.
BYTES_PER_NODE = 1024


def nodes_estimate(config):
    """About how many Values the graph of one token at position 0 holds: every
    weight that takes part, and a multiply and an add per multiply-add."""
    n, V = config.n_embd, config.vocab_size
    return num_params(config) + 2 * (config.n_layer * 12 * n * n + V * n)


def check_memory(config):
    """Refuse, before building it, a graph the machine cannot hold."""
    nodes = nodes_estimate(config)
    resources.check_bytes(nodes * BYTES_PER_NODE, f"the graph of this model (about {nodes:,} Values)")


def check_target(tokenizer, target):
    """The id of --target: one character of a characters model, one token's text of a BPE model."""
    if tokenizer.kind == "bpe":
        ids = tokenizer.encode(target)
        if len(ids) != 1:
            raise UsageError(f"--target must be the text of one token of the model's BPE vocabulary; {target!r} "
                             f"is {len(ids)} tokens")
        return ids[0]
    if len(target) != 1 or target not in tokenizer.stoi:
        raise UsageError(f"--target must be one character of the model's vocabulary "
                         f"({''.join(tokenizer.chars)!r}), got {target!r}")
    return tokenizer.stoi[target]
