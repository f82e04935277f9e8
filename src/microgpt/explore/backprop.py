"""Backpropagation, one node at a time, on the worked example L = a*b + a.

Value.backward() walks the graph in reverse topological order and, at each
node, pushes the node's gradient to its children: child.grad += local * grad.
Here the same walk is taken one node at a time, with a snapshot of every grad
after each node, so a page can show the chain rule filling them in. The graph
is built with the project's own Value and ordered by its own
topological_order(); the final grads are checked against backward() itself.
"""

from microgpt.autograd import Value

OPS = {"c": "*", "L": "+"}


def worked_example(a=2.0, b=3.0):
    """The graph of L = a*b + a and every step of its backward pass."""
    va, vb = Value(a), Value(b)
    c = va * vb
    loss = c + va
    names = {id(va): "a", id(vb): "b", id(c): "c", id(loss): "L"}
    order = loss.topological_order()
    nodes = [{"name": names[id(v)], "data": v.data, "op": OPS.get(names[id(v)])} for v in order]
    edges = [{"from": names[id(child)], "to": names[id(v)], "local_grad": local}
             for v in order for child, local in zip(v._children, v._local_grads)]

    def grads():
        return {names[id(v)]: v.grad for v in order}

    loss.grad = 1
    steps = [{"node": "L", "pushes": [], "grads": grads(),
              "says": "L.grad = 1: the loss changes one for one with itself"}]
    for v in reversed(order):
        pushes = []
        for child, local in zip(v._children, v._local_grads):
            child.grad += local * v.grad
            pushes.append({"to": names[id(child)], "local_grad": local, "grad": v.grad, "adds": local * v.grad})
        if pushes:
            says = "; ".join(f"{p['to']}.grad += {p['local_grad']:g} × {p['grad']:g}" for p in pushes)
            steps.append({"node": names[id(v)], "pushes": pushes, "grads": grads(), "says": says})
    final = grads()
    # The same graph through backward() itself: the walk above must end where it does.
    check_a, check_b = Value(a), Value(b)
    (check_a * check_b + check_a).backward()
    assert (final["a"], final["b"]) == (check_a.grad, check_b.grad)
    return {"expression": "L = a*b + a", "a": a, "b": b, "nodes": nodes, "edges": edges, "steps": steps,
            "order": [names[id(v)] for v in reversed(order)]}
