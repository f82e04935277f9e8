"""A scalar autograd engine: the `Value` class.

Every number the model computes with is a `Value`. It holds the number (`data`),
the derivative of the final loss with respect to it (`grad`), the Values it was
made from (`_children`) and, for each child, the local derivative of this
operation with respect to that child (`_local_grads`).

Six atomic operations build everything: +, *, ** (by a constant), log, exp and
relu. Each one computes its result and its local derivatives side by side.
Subtraction, division and negation are written in terms of those six. A
seventh, gelu, is there for models trained with `--activation gelu`.

`backward()` applies the chain rule: visit the graph in reverse topological
order and push each node's gradient to its children, `child.grad += local * grad`.
The `+=` matters: a Value used in two places collects gradient from both.
"""

import math

GELU_C = math.sqrt(2 / math.pi)


def gelu_and_slope(x):
    """GPT-2's GELU, x times (roughly) the chance that a standard normal is below x,
    in its tanh form: 0.5 x (1 + tanh(c (x + 0.044715 x^3))), c = sqrt(2 / pi).
    Returns it and its derivative. Unlike ReLU it is smooth, and slightly negative
    for negative x, so a neuron below zero still passes some gradient back.
    The float engines (forward.py, fused.py) call this too: the same arithmetic
    gives the same bits."""
    t = math.tanh(GELU_C * (x + 0.044715 * x * x * x))
    slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x)
    return 0.5 * x * (1 + t), slope


class Value:
    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data  # the scalar this node holds, computed in the forward pass
        self.grad = 0  # d(loss)/d(this node), filled in by backward()
        self._children = children  # the Values this one was computed from
        self._local_grads = local_grads  # d(this)/d(child), one per child

    # ---- the six atomic operations: forward value and local derivatives together
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k):  # k is a plain number, not a Value
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def relu(self):
        return Value(max(0, self.data), (self,), (float(self.data > 0),))

    def gelu(self):  # a seventh atomic operation: the local derivative in closed form
        y, slope = gelu_and_slope(self.data)
        return Value(y, (self,), (slope,))

    # ---- derived operations, built only from the six above
    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    # ---- the chain rule
    def topological_order(self):
        """Every Value this one depends on, each after all of its children (this one last)."""
        # Post-order depth-first search, children in order, done with an explicit
        # stack so a deep graph (a sum of 100,000 terms) cannot hit Python's
        # recursion limit. The order is the one a recursive DFS would give.
        topo, visited = [], set()
        stack = [(self, iter(self._children))]
        visited.add(self)
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child._children)))
                    break
            else:  # every child is done: the node itself goes next
                stack.pop()
                topo.append(node)
        return topo

    def backward(self):
        """Fill in .grad for every Value this one depends on."""
        # In reverse topological order a node's grad is complete (every use of it
        # has pushed its share) before the node pushes it on to its children.
        self.grad = 1
        for v in reversed(self.topological_order()):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"
