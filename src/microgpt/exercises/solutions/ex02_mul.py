"""Exercise 2, a reference solution: Value multiplication."""

from microgpt.autograd import Value


def mul(self, other):
    other = other if isinstance(other, Value) else Value(other)
    return Value(self.data * other.data, (self, other), (other.data, self.data))
