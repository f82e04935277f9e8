"""Exercise 3: two more operations of the autograd engine, exp and log.

Each operation of a Value (src/microgpt/autograd.py) computes its result and,
beside it, the local derivative of the result with respect to each child:
Value(data, children, local_grads). backward() later multiplies those local
derivatives along every path from the loss (the chain rule).

Write two functions, each taking one Value x and returning a new Value:

exp(x) -> Value     data e**x (math.exp), one child x, local gradient d(e**x)/dx
log(x) -> Value     data ln x (math.log), one child x, local gradient d(ln x)/dx

children and local_grads are tuples of one item each: (x,) and (derivative,).
Work out the two derivatives (one of them is its own result).

The model uses both: softmax exponentiates the logits, and the loss is -log of
a probability. Where it lives in the project: Value.exp and Value.log in
src/microgpt/autograd.py.
Check your answer with: microgpt exercise check 3
"""

import math

from microgpt.autograd import Value


def exp(x):
    raise NotImplementedError


def log(x):
    raise NotImplementedError
