"""Exercise 7: RMSNorm.

Oracle: the project's forward.rmsnorm. Edge cases: the zero vector (finite
only thanks to the 1e-5), a tiny vector (where the 1e-5 dominates), one entry.
"""

import math
import random

from microgpt import forward
from microgpt.exercises.grading import Failed, check, expect

TITLE = "RMSNorm"
TEACHES = "divide by the root of the mean square (plus 1e-5); no mean subtracted"
OBJECTIVES = (16, 17, 18)


def _mistakes(x):
    n = len(x)
    ms = sum(v * v for v in x) / n
    mean = sum(x) / n
    return [
        (lambda: [v / math.sqrt(ms) for v in x], "the 1e-5 is missing: scale = 1 / sqrt(mean(x**2) + 1e-5)"),
        (lambda: [v / (math.sqrt(ms) + 1e-5) for v in x], "the 1e-5 goes INSIDE the square root: "
                                                          "1 / sqrt(ms + 1e-5)"),
        (lambda: [v / math.sqrt(ms * n + 1e-5) for v in x], "that divides by the root of the SUM of squares: "
                                                           "take the mean, sum / len(x)"),
        (lambda: [v / (ms + 1e-5) for v in x], "the square root is missing: scale = (ms + 1e-5) ** -0.5"),
        (lambda: [v * math.sqrt(ms + 1e-5) for v in x], "multiplied by the RMS: divide by it (scale = 1 / rms)"),
        (lambda: forward.rmsnorm([v - mean for v in x]), "the mean was subtracted: that is LayerNorm. RMSNorm only "
                                                         "rescales, it does not centre"),
    ]


def _check(s, x, errors=None):
    given = f"rmsnorm({[round(v, 4) for v in x]})"
    expect(s.call("rmsnorm", list(x), given=given, errors=errors), forward.rmsnorm(x), given, _mistakes(x))


@check("rmsnorm([3, 4])")
def by_hand(s):
    _check(s, [3.0, 4.0])


@check("random vectors (seeded), lengths 1, 4, 16")
def random_vectors(s):
    rng = random.Random(3)
    for n in (1, 4, 16):
        _check(s, [rng.gauss(0, 2) for _ in range(n)])


@check("the output's root-mean-square is about 1")
def unit_rms(s):
    x = [5.0, -1.0, 2.0, 0.5]
    out = s.call("rmsnorm", x)
    if not isinstance(out, list) or len(out) != 4:
        _check(s, x)
    rms = math.sqrt(sum(v * v for v in out) / len(out))
    expect(rms, math.sqrt(sum(v * v for v in x) / 4 / (sum(v * v for v in x) / 4 + 1e-5)),
           "root-mean-square of rmsnorm([5, -1, 2, 0.5])", tol=1e-6,
           hint="the output should have RMS sqrt(ms / (ms + 1e-5)), just under 1")


@check("the zero vector stays zero (and finite)")
def zero(s):
    _check(s, [0.0, 0.0, 0.0], errors={ZeroDivisionError: "mean(x**2) is 0 here: the 1e-5 inside the square root "
                                                          "is what keeps this finite"})


@check("a tiny vector, where the 1e-5 matters most")
def tiny(s):
    _check(s, [0.001, -0.002, 0.0005])


@check("the input list is left as it was")
def unchanged(s):
    x = [1.0, -2.0]
    s.call("rmsnorm", x)
    if x != [1.0, -2.0]:
        raise Failed("x after rmsnorm(x)", [1.0, -2.0], x, "rmsnorm changed its input: build a new list")


CHECKS = [by_hand, random_vectors, unit_rms, zero, tiny, unchanged]
