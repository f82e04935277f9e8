"""Exercise 4: backpropagation: a topological sort, then the chain rule.

A Value (src/microgpt/autograd.py) knows its children and the local derivative
with respect to each. To get d(root)/d(node) for every node of the graph:

1. Order the nodes so that every node comes AFTER all of its children (a
   topological order). Each node appears exactly once, even one used in two
   places (in L = a*b + a, `a` is a child of both * and +).
2. Set root.grad = 1 (dL/dL). Then visit the nodes in REVERSE topological
   order (the root first) and push each node's gradient to its children:
       child.grad += local_grad * node.grad
   Reverse order guarantees a node's gradient is complete before it is pushed
   on. `+=`, not `=`: a node used twice collects gradient from both uses.

Write two functions:

topological_order(root) -> list of Values
    Every Value reachable from root, children before parents, root last.
    Write it WITHOUT recursion (an explicit stack): a sum of thousands of
    terms is a graph thousands of levels deep, and Python stops a recursion
    at about 1000 levels.

backward(root) -> None
    Fill in .grad of every node reachable from root, using your
    topological_order. Assume every .grad starts at 0. Do not call
    root.backward(): that is the project's answer, not yours.

Use node._children and node._local_grads (tuples of the same length).
Where it lives in the project: Value.backward in src/microgpt/autograd.py.
Check your answer with: microgpt exercise check 4
"""


def topological_order(root):
    raise NotImplementedError


def backward(root):
    raise NotImplementedError
