"""Exercise 4: the iterative topological sort and backward in reverse order.

Oracles: the definition of a topological order (checked node by node), and the
project's Value.backward on an identical copy of each graph. Typical mistakes
are recognised by running them on another copy: `=` for `+=`, the order not
reversed, root.grad never set.
"""

import random

from microgpt.autograd import Value
from microgpt.exercises.grading import Failed, check, expect

TITLE = "the iterative topological sort + backward (reverse topological order)"
TEACHES = "visit children before parents without recursion; push gradients root-first with +="
OBJECTIVES = (10, 11, 12)


def worked_example():
    a, b = Value(2.0), Value(3.0)
    return a * b + a, [a, b]


def neuron(seed):
    """relu(sum w_i x_i + b) ** 2 + x_0: shared leaves, every op kind."""
    rng = random.Random(seed)
    xs = [Value(rng.uniform(-1, 1)) for _ in range(3)]
    ws = [Value(rng.uniform(-1, 1)) for _ in range(3)]
    b = Value(0.5)
    act = sum((w * x for w, x in zip(ws, xs)), b).relu()
    out = (act ** 2 + xs[0]) * (xs[1].exp() + 1).log()
    return out, xs + ws + [b]


def two_paths():
    """L = c * (c + a), c = a * b: c is reached from L directly and through c + a, by paths of
    different lengths. Breadth-first, c would pass its gradient on before the longer path adds to it."""
    a, b = Value(1.5), Value(-2.0)
    c = a * b
    return c * (c + a), [a, b]


def deep_sum(n=3000):
    xs = [Value(i % 7 * 0.1) for i in range(n)]
    total = Value(0.0)
    for x in xs:
        total = total * 1.0 + x * x
    return total, xs[:3] + xs[-3:]


def reachable(root):
    seen, stack = {root}, [root]
    while stack:
        for c in stack.pop()._children:
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return seen


def reference_order(root):
    """Post-order depth-first search with a stack: the order Value.backward uses."""
    order, seen, stack = [], {root}, [(root, iter(root._children))]
    while stack:
        node, children = stack[-1]
        child = next((c for c in children if c not in seen), None)
        if child is None:
            stack.pop()
            order.append(node)
        else:
            seen.add(child)
            stack.append((child, iter(child._children)))
    return order


def breadth_first(root, once):
    """Gradients pushed breadth-first from the root, each node visited once (`once`) or once per path."""
    root.grad, queue, seen = 1, [root], {root}
    while queue:
        node = queue.pop(0)
        for child, local in zip(node._children, node._local_grads):
            child.grad += local * node.grad
            if not once or child not in seen:
                seen.add(child)
                queue.append(child)


def simulate(root, assign=False, reverse=True, seed_grad=True, bfs=None):
    """A backward pass as a typical mistake would do it (on its own copy of the graph)."""
    if bfs is not None:
        return breadth_first(root, once=bfs == "once")
    order = reference_order(root)
    root.grad = 1 if seed_grad else 0
    for node in (reversed(order) if reverse else order):
        for child, local in zip(node._children, node._local_grads):
            if assign:
                child.grad = local * node.grad
            else:
                child.grad += local * node.grad


def _check_order(s, root, given):
    order = s.call("topological_order", root, given=given,
                   errors={RecursionError: "Python's recursion limit: this graph is thousands of levels deep. "
                                           "Use an explicit stack of (node, iterator over its children) instead "
                                           "of a recursive call"})
    if not isinstance(order, (list, tuple)):
        raise Failed(given, note=f"got a {type(order).__name__}, not a list of Values")
    ids = [id(v) for v in order]
    if len(set(ids)) != len(ids):
        raise Failed(given, note=f"{len(ids) - len(set(ids))} node(s) appear more than once",
                     hint="a node reached by two paths (a in a*b + a) must be listed once: keep a set of the "
                          "nodes already visited")
    want = reachable(root)
    if set(ids) != {id(v) for v in want}:
        raise Failed(given, note=f"{len(order)} nodes listed; {len(want)} are reachable from the root",
                     hint="every node reachable through _children belongs in the order, the leaves included")
    place = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for c in v._children:
            if place[id(c)] > place[id(v)]:
                raise Failed(given, note=f"a child comes after its parent ({c} after {v})",
                             hint="append a node only after ALL of its children are in the list (post-order); "
                                  "the root comes last" + (" -- this order is reversed" if order[0] is root else ""))
    if order[-1] is not root:
        raise Failed(given, note="the root is not last", hint="the root comes last: it depends on everything")


@check("topological_order of L = a*b + a: each node once, children first")
def order_small(s):
    _check_order(s, worked_example()[0], "topological_order(L), L = a*b + a")


@check("topological_order of a neuron with shared inputs")
def order_neuron(s):
    _check_order(s, neuron(1)[0], "topological_order(L), L = a small neuron")


@check("topological_order of a graph 6,000 levels deep (no recursion)")
def order_deep(s):
    _check_order(s, deep_sum()[0], "topological_order(L), L = a sum of 3,000 squares, 6,000 levels deep")


def _grads(s, build, given):
    root, leaves = build()
    own = Value.backward

    def refuse(self):
        raise Failed(given, note="backward() called root.backward(), the project's own version",
                     hint="write the loop yourself: topological_order, root.grad = 1, then reverse order with +=")

    Value.backward = refuse
    try:
        s.call("backward", root, given=given)
    finally:
        Value.backward = own
    got = [v.grad for v in leaves]
    ref_root, ref_leaves = build()
    ref_root.backward()

    def wrong(**how):
        r, lv = build()
        simulate(r, **how)
        return [v.grad for v in lv]

    expect(got, [v.grad for v in ref_leaves], given + "  -> gradients of the leaves", [
        (lambda: wrong(assign=True), "`child.grad = ...` overwrites: a node used twice (a in a*b + a) keeps only "
                                     "its last contribution. Accumulate with `child.grad += local * node.grad`"),
        (lambda: wrong(reverse=False), "the nodes were visited children-first: backward must go in REVERSE "
                                       "topological order (root first), so a node's gradient is complete before "
                                       "it is passed on"),
        (lambda: wrong(seed_grad=False), "every gradient is 0: set root.grad = 1 (dL/dL) before the loop"),
        (lambda: wrong(bfs="once"), BREADTH_FIRST),
        (lambda: wrong(bfs="every"), BREADTH_FIRST),
    ])


BREADTH_FIRST = ("the gradients were pushed breadth-first from the root: a node reached by a longer path too "
                 "(c in c * (c + a)) passed its gradient on before that path added to it. Go in reverse "
                 "topological order, so every node's gradient is complete before it is passed on")


@check("backward on L = a*b + a at a=2, b=3: a.grad 4, b.grad 2")
def backward_small(s):
    _grads(s, worked_example, "backward(L), L = a*b + a, a=2, b=3")


@check("backward on a neuron with shared inputs matches Value.backward")
def backward_neuron(s):
    _grads(s, lambda: neuron(2), "backward(L), L = a small neuron")


@check("backward where a node is reached by paths of different lengths: L = c * (c + a), c = a * b")
def backward_two_paths(s):
    _grads(s, two_paths, "backward(L), L = c * (c + a), c = a * b, a=1.5, b=-2")


@check("backward on the 6,000-level graph matches Value.backward")
def backward_deep(s):
    _grads(s, deep_sum, "backward(L), L = a sum of 3,000 squares")


CHECKS = [order_small, order_neuron, order_deep, backward_small, backward_neuron, backward_two_paths,
          backward_deep]
