"""Exercise 5: softmax with max subtraction.

Oracle: the project's forward.softmax. Edge cases: logits of 1000 (exp
overflows without the max subtracted) and of -1000 (every exp underflows to 0
and the sum is 0), a range from 0 to 1000 either way (the min subtracted
instead of the max overflows there), one logit, equal logits.
"""

import math
import random

from microgpt import forward
from microgpt.exercises.grading import check, expect

TITLE = "softmax (with max subtraction)"
TEACHES = "exponentiate and normalise; subtracting the max changes nothing but keeps exp from overflowing"
OBJECTIVES = (19, 26)

OVERFLOW = ("exp(1000) is more than a float holds. Subtract max(logits) from every logit before exp: the "
            "result is the same, and the largest exp is exp(0) = 1")


def _mistakes(logits):
    top = max(logits)
    return [
        (lambda: [math.exp(x - top) for x in logits], "not normalised: divide each exp by their sum, so they "
                                                      "add up to 1"),
        (lambda: [x / sum(logits) for x in logits], "exp is missing: softmax divides exp(logit) by the sum of "
                                                    "exps, not the logits themselves"),
        (lambda: [math.exp(x - top) / sum(logits) for x in logits], "divide by the sum of the EXPS"),
    ]


def _check(s, logits, errors=None):
    expect(s.call("softmax", list(logits), errors=errors), forward.softmax(logits),
           f"softmax({[round(x, 4) for x in logits]})", _mistakes(logits))


@check("three small logits")
def small(s):
    _check(s, [1.0, 2.0, 3.0])


@check("random logits (seeded), lengths 1 to 27")
def random_logits(s):
    rng = random.Random(5)
    for n in (1, 2, 5, 27):
        _check(s, [rng.gauss(0, 3) for _ in range(n)])


@check("equal logits give a uniform distribution")
def uniform(s):
    _check(s, [0.7] * 4)


@check("huge logits [1000, 1001] do not overflow")
def huge(s):
    _check(s, [1000.0, 1001.0], errors={OverflowError: OVERFLOW})


@check("very negative logits [-1000, -1001] do not underflow to 0 / 0")
def tiny(s):
    _check(s, [-1000.0, -1001.0],
           errors={ZeroDivisionError: "exp(-1000) underflows to 0, so the sum is 0. Subtract max(logits) first: "
                                      "the largest logit becomes exp(0) = 1 and the sum is at least 1"})


@check("a wide range, [0, 1000] and [-1000, 0]: the MAX is subtracted, not the min")
def wide(s):
    wrong_end = ("exp overflowed: subtract max(logits), the largest logit, so that every exponent is at most 0 "
                 "(subtracting the smallest makes the largest exponent 1000)")
    _check(s, [0.0, 1000.0], errors={OverflowError: wrong_end})
    _check(s, [-1000.0, 0.0], errors={OverflowError: wrong_end})


@check("the logits given are left as they were")
def unchanged(s):
    logits = [3.0, 1.0, 2.0]
    s.call("softmax", logits)
    expect(logits, [3.0, 1.0, 2.0], "logits after softmax(logits)",
           hint="softmax changed its input list: build a new list for the result")


CHECKS = [small, random_logits, uniform, huge, tiny, wide, unchanged]
