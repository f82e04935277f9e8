"""Exercise 2: one operation of the autograd engine, multiplication.

A Value (src/microgpt/autograd.py) holds a number (.data), the gradient of the
loss with respect to it (.grad, filled in later by backward()), the Values it
was made from (._children) and, for each child, the local derivative of the
operation with respect to that child (._local_grads). An operation computes
its result and its local derivatives side by side.

Write mul(self, other) -> Value, the body of Value.__mul__:

    c = mul(a, b)     c.data == a.data * b.data
                      c._children == (a, b)
                      c._local_grads == (dc/da, dc/db)

Work out dc/da and dc/db for c = a * b (each factor's derivative is ...?).
`other` may be a plain number (a * 3): wrap it in a Value first, so that the
result always has two Value children.

Build the result with Value(data, children, local_grads). Do not use `*`
between two Values here: that would call the project's own __mul__.
Where it lives in the project: Value.__mul__ in src/microgpt/autograd.py.
Check your answer with: microgpt exercise check 2
"""

from microgpt.autograd import Value


def mul(self, other):
    raise NotImplementedError
