"""Exercise 3, a reference solution: exp and log as Value operations."""

import math

from microgpt.autograd import Value


def exp(x):
    e = math.exp(x.data)
    return Value(e, (x,), (e,))


def log(x):
    return Value(math.log(x.data), (x,), (1 / x.data,))
