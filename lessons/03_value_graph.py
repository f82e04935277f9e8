# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 3 — The Value graph, and why backward walks it in reverse topological order
#
# Every number microgpt trains is a `Value` (`src/microgpt/autograd.py`): a
# scalar that remembers how it was made. Arithmetic on Values builds a graph;
# `backward()` walks that graph from the loss back to the inputs and applies
# the chain rule at every node. This lesson builds small graphs, follows the
# numbers forward and the gradients back, and breaks `backward` on purpose.
#
# Objectives served: what a Value stores and why; how operator overloading
# builds the graph; tracing a forward computation; the chain rule through
# several steps; why reverse topological order; tracing gradient flow.

# %%
import math

from matplotlib.figure import Figure

from microgpt.autograd import Value
from microgpt.inspection.value_graph import nodes_of, op_of

from _tools import show

# %% [markdown]
# ## Four fields
#
# `data` is the number; `grad` will hold d(loss)/d(this number); `_children`
# are the Values it was computed from; `_local_grads` holds, for each child,
# the derivative of this operation with respect to that child, computed in the
# forward pass when the numbers are at hand. Nothing else is needed: the
# operation itself is not even stored.

# %%
a, b = Value(2.0), Value(3.0)
c = a * b  # Value.__mul__: a new Value, children (a, b), local grads (b.data, a.data)
L = c + a  # Value.__add__: children (c, a), local grads (1, 1)
for name, v in [("a", a), ("b", b), ("c = a*b", c), ("L = c + a", L)]:
    print(f"{name:10s} data={v.data:<4} children={[ch.data for ch in v._children]} local_grads={list(v._local_grads)}")
assert Value.__slots__ == ("data", "grad", "_children", "_local_grads")
assert c._local_grads == (3.0, 2.0) and L._children == (c, a)

# %% [markdown]
# `a * b` calls `a.__mul__(b)`: Python's operator overloading is the whole
# graph-building mechanism. A plain number mixed in (`2 * a`, `a + 1`) is
# wrapped in a Value first; subtraction and division are written with the six
# primitives (+, *, ** by a constant, exp, log, relu), so they make graphs of
# those.

# %%
d = 1 - a / b  # rsub, truediv: a * b**-1, then 1 + (-(that))
print(f"1 - a/b = {d.data:.6f}, made of {len(nodes_of(d))} nodes:",
      [op_of(v) or f"leaf {v.data:g}" for v in nodes_of(d)])
assert math.isclose(d.data, 1 - 2 / 3)
assert {op_of(v) for v in nodes_of(d)} - {""} <= {"+", "*", "**-1"}

# %% [markdown]
# ## The chain rule, by hand and by `backward`
#
# L = a·b + a, with a = 2 and b = 3 (c = a·b).

# %% [markdown]
# **Predict:** what are dL/da and dL/db? Careful: a reaches L by two paths.

# %%
L.backward()
print(f"dL/da = {a.grad}, dL/db = {b.grad}")
assert a.grad == b.data + 1 == 4.0 and b.grad == a.data == 2.0

# %% [markdown]
# dL/da = 4 and dL/db = 2. The gradient of a has two parts, because a
# reaches L by two paths: through c (dL/dc · dc/da = 1 · b = 3) and directly
# (1), so dL/da = b + 1. `backward()` adds the contributions (`+=`), which is
# why a Value used twice collects both. If you predicted 3, you followed only
# the path through c.

# %% [markdown]
# **Break it:** in `Value.backward`, change the line
# `child.grad += local_grad * v.grad` to `child.grad = local_grad * v.grad`.
# Predict: what will dL/da be for L = a·b + a now: 4, 3, or 1? The cell
# below runs a copy of `backward` with that one change on a fresh graph.

# %%
def backward_overwriting(root):
    root.grad = 1
    for v in reversed(root.topological_order()):
        for child, local_grad in zip(v._children, v._local_grads):
            child.grad = local_grad * v.grad  # the broken line: = instead of +=


a_b, b_b = Value(2.0), Value(3.0)
L_b = a_b * b_b + a_b
backward_overwriting(L_b)
print(f"with = instead of +=: dL/da = {a_b.grad}, dL/db = {b_b.grad} (right: {a.grad} and {b.grad})")
assert a_b.grad in (1.0, 3.0) and a_b.grad != a.grad  # one path's share, the other lost
assert b_b.grad == b.grad  # b has one path: overwriting loses nothing there

# %% [markdown]
# One path's share only: whichever path reaches a last overwrites the
# other's. b has a single path, so its gradient stays right; a value used
# twice (a weight read at every position of a name) would silently learn
# from one use only.

# %% [markdown]
# A longer chain: y = exp(w·x + k)·log(x), several steps deep. The chain rule
# multiplies the local derivatives along each path; the lesson writes that
# product out by hand and checks it, and `backward`, against central finite
# differences.

# %%
def f(x, w, k):
    return (w * x + k).exp() * x.log()


xv, wv, kv = 1.5, -0.7, 0.3
X, W, K = Value(xv), Value(wv), Value(kv)
y = f(X, W, K)
y.backward()
# by hand: u = w x + k, y = e^u · ln x
u = wv * xv + kv
by_hand = {"x": math.exp(u) * wv * math.log(xv) + math.exp(u) / xv,
           "w": math.exp(u) * xv * math.log(xv),
           "k": math.exp(u) * math.log(xv)}
h = 1e-6
fd = {}
for name in by_hand:
    args_p = {"x": xv, "w": wv, "k": kv}
    args_m = dict(args_p)
    args_p[name] += h
    args_m[name] -= h
    fd[name] = (f(*map(Value, args_p.values())).data - f(*map(Value, args_m.values())).data) / (2 * h)
for name, v in zip("xwk", (X, W, K)):
    print(f"dy/d{name}: backward {v.grad:+.8f} | by hand {by_hand[name]:+.8f} | finite differences {fd[name]:+.8f}")
    assert math.isclose(v.grad, by_hand[name], rel_tol=1e-12)
    assert abs(v.grad - fd[name]) < 1e-7

# %% [markdown]
# ## The graph, drawn
#
# Leaves on the left, the result on the right; each node shows its operation,
# data and grad (from the `backward` above).

# %%
def draw(root, title):
    nodes = nodes_of(root)  # children before parents: a topological order
    depth = {}
    for v in nodes:
        depth[id(v)] = 1 + max((depth[id(c)] for c in v._children), default=-1)
    rows = {}
    pos = {}
    for v in nodes:
        d = depth[id(v)]
        pos[id(v)] = (d, rows.get(d, 0))
        rows[d] = rows.get(d, 0) + 1
    fig = Figure(figsize=(2 + 1.6 * max(depth.values()), 1 + 0.9 * max(rows.values())))
    ax = fig.add_subplot()
    for v in nodes:
        for ch in v._children:
            (x0, y0), (x1, y1) = pos[id(ch)], pos[id(v)]
            ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="->", color="0.6"))
    for v in nodes:
        x, y0 = pos[id(v)]
        ax.text(x, y0, f"{op_of(v) or 'leaf'}\ndata {v.data:.3g}\ngrad {v.grad:.3g}", ha="center", va="center",
                fontsize=8, bbox=dict(boxstyle="round", fc="#d8e8ff" if not v._children else "white"))
    ax.set_xlim(-0.6, max(depth.values()) + 0.6)
    ax.set_ylim(-0.6, max(rows.values()) - 0.4)
    ax.axis("off")
    ax.set_title(title)
    return fig


show(draw(y, "y = exp(w*x + k) * log(x)"))

# %% [markdown]
# ## Why reverse topological order
#
# When `backward` pushes a node's gradient to its children, that gradient must
# be *complete*: every path from the loss to that node must already have
# delivered its share. Reverse topological order (every node after all the
# nodes that use it) guarantees this. `autograd.py` gets the order from a
# depth-first search that lists children before parents, and then walks the
# list backwards.
#
# To see the rule matter, here is a backward pass that visits nodes in the
# order it first reaches them from the loss (breadth-first), which is *not*
# always a reverse topological order. The graph: p = a·b is used directly by
# L and also, through q = p·c, later (a = 2, b = 3, c = 4).

# %% [markdown]
# **Predict:** the right dL/da is b·(1 + c) = 15. Will the breadth-first pass
# give dL/da too small, too large, or right?

# %%
def bfs_backward(root):
    """A wrong backward: pushes each node's gradient as soon as the node is dequeued."""
    root.grad = 1
    queue, seen = [root], {id(root)}
    while queue:
        v = queue.pop(0)
        for child, local in zip(v._children, v._local_grads):
            child.grad += local * v.grad
            if id(child) not in seen:
                seen.add(id(child))
                queue.append(child)


def build():
    a, b, c = Value(2.0), Value(3.0), Value(4.0)
    p = a * b
    q = p * c
    return p + q, (a, b, c, p)  # L = p + p*c: p's gradient is 1 + c = 5


L1, (a1, b1, c1, p1) = build()
L1.backward()
L2, (a2, b2, c2, p2) = build()
bfs_backward(L2)
print(f"correct:  dL/dp = {p1.grad}, dL/da = {a1.grad}, dL/db = {b1.grad}")
print(f"BFS order: dL/dp = {p2.grad}, dL/da = {a2.grad}, dL/db = {b2.grad}")
# analytic: L = ab(1 + c), so dL/da = b(1 + c) = 15, dL/db = a(1 + c) = 10
assert (a1.grad, b1.grad, p1.grad) == (15.0, 10.0, 5.0)
assert p2.grad == p1.grad and a2.grad != a1.grad  # p ends up right, but too late: it had already pushed
assert a2.grad == 3.0

# %% [markdown]
# Too small: 3 instead of 15. The breadth-first pass reached p directly from L and pushed p's gradient to
# a and b when it held only the direct path's 1; the share arriving later
# through q changed p but never reached a and b. In the reverse topological
# order, q is handled before p, so p is complete when it pushes.

# %%
order = nodes_of(L1)
names = {id(a1): "a", id(b1): "b", id(c1): "c", id(p1): "p", id(L1): "L"}
names[id(L1._children[1])] = "q"
walk = [names[id(v)] for v in reversed(order)]
print("backward visits:", " -> ".join(walk))
assert walk.index("q") < walk.index("p") < walk.index("a")

# %% [markdown]
# ## Discussion
#
# The same four fields and the same walk compute every gradient microgpt
# trains with: the model is tens of thousands of these nodes per step, and
# the graph is rebuilt from scratch on every forward pass.
#
# Try it: `microgpt exercise 2` (the gradient of `__mul__`), `microgpt
# exercise 3` (exp and log backward) and `microgpt exercise 4` (the
# topological sort and backward); `microgpt graph` draws these graphs for a
# real model.
