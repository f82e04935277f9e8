"""Exercise 12: linear learning-rate decay.

Oracle: the project's optim.linear_decay. Edge cases: step 0 (the full lr),
the last step (lr / num_steps, not 0), a one-step run.
"""

from microgpt.exercises.grading import check, expect
from microgpt.optim import linear_decay

TITLE = "linear learning-rate decay"
TEACHES = "lr * (1 - step / num_steps) for 0-based steps: full at the first, lr/num_steps at the last"
OBJECTIVES = (31, 33)

EARLY = ("this reaches 0 one step early: the last step (num_steps - 1) should still get lr / num_steps. "
         "Divide by num_steps, not num_steps - 1")


def _mistakes(step, n, lr):
    return [
        (lambda: lr * (1 - step / (n - 1)), EARLY),
        (lambda: lr * (1 - (step + 1) / n), "off by one: `step` counts from 0, so the first step (step 0) gets the "
                                            "full lr; use step, not step + 1"),
        (lambda: lr * (1 - step // n), "integer division: step // num_steps is 0 until the end, so the rate never "
                                       "decays; use step / num_steps"),
        (lambda: lr * step / n, "this grows from 0 to lr (a warmup): the rate should DEcay, lr * (1 - step / "
                                "num_steps)"),
        (lambda: 1 - step / n, "lr is missing: scale the decay factor by lr"),
    ]


def _one(s, step, n, lr):
    given = f"learning_rate(step={step}, num_steps={n}, lr={lr})"
    expect(s.call("learning_rate", step, n, lr, given=given,
                  errors={ZeroDivisionError: "a one-step run divided by num_steps - 1 = 0: divide by num_steps"}),
           linear_decay(lr, step, n), given, _mistakes(step, n, lr))


@check("step 0 gets the full learning rate")
def first(s):
    _one(s, 0, 1000, 0.01)


@check("the last step gets lr / num_steps, not 0")
def last(s):
    _one(s, 999, 1000, 0.01)
    _one(s, 9, 10, 0.5)


@check("halfway through, half the rate")
def middle(s):
    _one(s, 500, 1000, 0.01)


@check("every step of a 7-step run")
def every(s):
    for step in range(7):
        _one(s, step, 7, 0.03)


@check("a one-step run")
def single(s):
    _one(s, 0, 1, 0.02)


CHECKS = [first, last, middle, every, single]
