"""Exercise 3: exp and log as Value operations, forward and backward.

Oracles: math.exp / math.log for the values, finite differences for the local
gradients, and the project's Value.backward for gradients through a chain.
"""

import math

from microgpt.autograd import Value
from microgpt.exercises.grading import Failed, check, expect, finite_difference

TITLE = "exp and log, forward and backward"
TEACHES = "d(e^x)/dx = e^x and d(ln x)/dx = 1/x, stored beside the result; the chain rule composes them"
OBJECTIVES = (8, 10, 12)

POINTS = (0.5, -1.25, 2.0)


def _op(s, name, x):
    given = f"{name}(Value({x}))"
    y = s.call(name, Value(x), given=given,
               errors={TypeError: "math.exp / math.log take a number: use x.data, and return a Value"})
    if not isinstance(y, Value):
        raise Failed(given, note=f"got a {type(y).__name__}, not a Value",
                     hint=f"return Value({name}'s result, (x,), (its derivative,))")
    if len(y._children) != 1 or len(y._local_grads) != 1:
        raise Failed(given, note=f"got {len(y._children)} children and {len(y._local_grads)} local gradients",
                     hint="one child, x, and one local gradient: Value(data, (x,), (derivative,))")
    return y


@check("exp(x).data is e**x")
def exp_data(s):
    for x in POINTS:
        expect(_op(s, "exp", x).data, math.exp(x), f"exp(Value({x})).data")


@check("exp's local gradient agrees with finite differences")
def exp_grad(s):
    for x in POINTS:
        y = _op(s, "exp", x)
        expect(y._local_grads[0], finite_difference(math.exp, x), f"exp(Value({x}))._local_grads[0]", tol=1e-6,
               mistakes=[(x, "that is x itself: the derivative of e**x is e**x (the result, y.data)"),
                         (1, "1 is the derivative of x, not of e**x: it is e**x itself")])


@check("log(x).data is ln x")
def log_data(s):
    for x in (0.5, 2.0, 10.0):
        expect(_op(s, "log", x).data, math.log(x), f"log(Value({x})).data",
               [(math.log10(x), "that is log base 10: the natural log is math.log")])


@check("log's local gradient agrees with finite differences")
def log_grad(s):
    for x in (0.5, 2.0, 10.0):
        y = _op(s, "log", x)
        expect(y._local_grads[0], finite_difference(math.log, x), f"log(Value({x}))._local_grads[0]", tol=1e-6,
               mistakes=[(math.log(x), "that is ln x, the result: the derivative of ln x is 1/x"),
                         (x, "that is x: the derivative of ln x is 1 / x"),
                         (-1 / x, "the sign: d(ln x)/dx = +1/x (the minus of the loss comes later, from -log p)")])


@check("the chain rule through both: d/dx log(exp(x) * 3) is 1, d/dx exp(log(x)) is 1")
def chain(s):
    x = Value(0.7)
    given = "L = log(exp(x) * 3); L.backward() at x = 0.7"
    y = s.call("log", s.call("exp", x, given=given) * 3, given=given)
    if not isinstance(y, Value):
        raise Failed(given, note=f"log returned a {type(y).__name__}, not a Value")
    y.backward()
    expect(x.grad, 1.0, given + "  -> x.grad",
           [(0.0, "no gradient reached x: does each result keep its input as its child, (x,)?")])
    x = Value(2.5)
    given = "L = exp(log(x)); L.backward() at x = 2.5"
    y = s.call("exp", s.call("log", x, given=given), given=given)
    y.backward()
    expect(x.grad, 1.0, given + "  -> x.grad")


CHECKS = [exp_data, exp_grad, log_data, log_grad, chain]
