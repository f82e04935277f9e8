"""Exercise 2: Value.__mul__, its result and its local gradients.

Oracles: finite differences of x * y for the local gradients, and the
project's Value.backward for the gradients that flow through the student's op.
"""

from microgpt.autograd import Value
from microgpt.exercises.grading import Failed, check, expect, finite_difference

TITLE = "a Value op's local gradient: __mul__"
TEACHES = "an op stores its result, its children and d(result)/d(child) for each child, side by side"
OBJECTIVES = (7, 8, 10)

NOT_A_VALUE = "return a Value: Value(a.data * b.data, (a, b), (local grad for a, local grad for b))"


def _result(s, a, b, given):
    c = s.call("mul", a, b, given=given)
    if not isinstance(c, Value):
        raise Failed(given, note=f"got a {type(c).__name__}, not a Value", hint=NOT_A_VALUE)
    return c


@check("mul(Value(2.0), Value(3.0)).data is 6")
def data(s):
    c = _result(s, Value(2.0), Value(3.0), "mul(Value(2.0), Value(3.0))")
    expect(c.data, 6.0, "mul(Value(2.0), Value(3.0)).data")


def _local_grads(s, x, y):
    a, b = Value(x), Value(y)
    given = f"mul(Value({x}), Value({y}))"
    c = _result(s, a, b, given)
    if tuple(c._children) != (a, b):
        hint = ("the children are (self, other), in that order: the two Values multiplied"
                if len(c._children) == 2 else "the result has two children, the two Values multiplied")
        raise Failed(given + "._children", note=f"got {len(c._children)} children, not (a, b)", hint=hint)
    fd = (finite_difference(lambda t: t * y, x), finite_difference(lambda t: x * t, y))
    expect(tuple(c._local_grads), fd, given + "._local_grads, against finite differences", tol=1e-6, mistakes=[
        ((x, y), "the local gradients are swapped: d(a*b)/da is b (the OTHER factor), d(a*b)/db is a"),
        ((1, 1), "(1, 1) is addition's local gradient; for a product, each factor's derivative is the other one"),
        ((x * y, x * y), "that is the result, not its derivative: d(a*b)/da = b, d(a*b)/db = a"),
    ])


@check("local gradients agree with finite differences")
def local_grads(s):
    _local_grads(s, 2.0, -3.5)
    _local_grads(s, 0.25, 4.0)


@check("mul(a, 3): a plain number is wrapped in a Value")
def plain_number(s):
    a = Value(1.5)
    given = "mul(Value(1.5), 3)"
    c = s.call("mul", a, 3, given=given, errors={AttributeError: "3 has no .data: wrap a plain number first, "
                                                                 "other = other if isinstance(other, Value) "
                                                                 "else Value(other)"})
    if not isinstance(c, Value):
        raise Failed(given, note=f"got a {type(c).__name__}, not a Value", hint=NOT_A_VALUE)
    expect(c.data, 4.5, given + ".data")
    if len(c._children) != 2 or not all(isinstance(ch, Value) for ch in c._children):
        raise Failed(given + "._children", note="both children must be Values",
                     hint="wrap 3 in a Value, so backward() can visit it like any child")
    expect(tuple(c._local_grads), (3, 1.5), given + "._local_grads")


@check("gradients flow through it: L = mul(a, b) + a at a=2, b=3 gives a.grad 4, b.grad 2")
def backward_through(s):
    a, b = Value(2.0), Value(3.0)
    given = "L = mul(a, b) + a; L.backward() with a=2, b=3"
    L = _result(s, a, b, given) + a
    L.backward()
    expect([a.grad, b.grad], [4.0, 2.0], given + "  -> [a.grad, b.grad]", [
        ([3.0, 3.0], "a.grad should be b + 1 = 4: check the local gradient stored for `self`"),
        ([1.0, 0.0], "no gradient flowed through mul: are the children (self, other)?"),
    ])


@check("mul(a, a): a used twice gets the gradient of both uses (2a)")
def square(s):
    a = Value(-1.5)
    given = "mul(a, a).backward() with a = -1.5"
    _result(s, a, a, given).backward()
    expect(a.grad, 2 * -1.5, given + "  -> a.grad")


CHECKS = [data, local_grads, plain_number, backward_through, square]
