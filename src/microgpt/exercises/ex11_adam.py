"""Exercise 11: Adam with bias correction.

Oracle: the project's optim.Adam, stepped on one parameter from the given
state. Edge case: step 0, where the correction matters most (and where using
`step` for t divides by zero). Mistakes are recognised by running them.
"""

import math

from microgpt.exercises.grading import check, expect
from microgpt.optim import Adam

TITLE = "Adam with bias correction"
TEACHES = "two running averages per parameter, corrected by 1 - beta**t (t = step + 1), step by m_hat/sqrt(v_hat)"
OBJECTIVES = (28, 29, 30)

B1, B2, EPS = 0.85, 0.99, 1e-8
T_IS_STEP = ("t = step + 1: `step` counts from 0, and the first update is the first (t = 1); with t = step, "
             "1 - beta ** 0 is 0 and the first update divides by zero")


class _Param:
    def __init__(self, data, grad):
        self.data, self.grad = data, grad


def ref(p, g, m, v, step, lr, b1=B1, b2=B2, eps=EPS):
    param = _Param(p, g)
    opt = Adam([param], b1, b2, eps)
    opt.m, opt.v, opt.t = [m], [v], step  # Adam.step adds one to t first: t = step + 1
    opt.step(lr)
    return (param.data, opt.m[0], opt.v[0])


def variant(p, g, m, v, step, lr, b1=B1, b2=B2, eps=EPS, correct=True, t=None, eps_inside=False, square=True,
            sign=1):
    t = step + 1 if t is None else t
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * (g * g if square else g)
    m_hat, v_hat = (m / (1 - b1**t), v / (1 - b2**t)) if correct else (m, v)
    denom = math.sqrt(v_hat + eps) if eps_inside else math.sqrt(v_hat) + eps
    return (p - sign * lr * m_hat / denom, m, v)


def _mistakes(args):
    p, g, m, v, step, lr = args
    return [
        (lambda: variant(*args, correct=False),
         "this is the UNcorrected update: m and v start at 0, so divide them by (1 - beta1 ** t) and "
         "(1 - beta2 ** t) before stepping (bias correction)"),
        (lambda: variant(*args, t=step), T_IS_STEP),
        (lambda: variant(*args, eps_inside=True), "eps goes outside the square root: sqrt(v_hat) + eps"),
        (lambda: variant(*args, square=False), "v averages the SQUARED gradient: (1 - beta2) * grad ** 2"),
        (lambda: variant(*args, sign=-1), "the sign: step against the gradient, p - lr * ..."),
        (lambda: (p, *variant(*args)[1:]), "p was returned unchanged: return the updated parameter"),
    ]


def _one(s, args):
    given = "adam_update(p={}, grad={}, m={}, v={}, step={}, lr={})".format(*args)
    got = s.call("adam_update", *args, given=given, errors={ZeroDivisionError: T_IS_STEP})
    expect(tuple(got) if isinstance(got, (list, tuple)) else got, ref(*args), given + "  -> (p, m, v)",
           _mistakes(args))


@check("step 0 from a fresh state (bias correction matters most)")
def first_step(s):
    _one(s, (1.0, 0.5, 0.0, 0.0, 0, 0.01))


@check("step 0 with a negative gradient moves p up by about lr")
def first_step_negative(s):
    _one(s, (-0.3, -2.0, 0.0, 0.0, 0, 0.1))


@check("a later step from a running state (step 9)")
def later_step(s):
    _one(s, (0.25, -0.7, 0.05, 0.02, 9, 0.01))


@check("a zero gradient from a fresh state leaves p where it is")
def zero_grad(s):
    _one(s, (0.4, 0.0, 0.0, 0.0, 0, 0.01))


@check("five steps in a row, feeding m and v back, equal the project's Adam")
def trajectory(s):
    grads = [0.3, -0.1, 0.25, 0.0, -0.6]
    p, m, v = 1.0, 0.0, 0.0
    param = _Param(1.0, 0.0)
    opt = Adam([param], B1, B2, EPS)
    for step, g in enumerate(grads):
        args = (p, g, m, v, step, 0.05)
        given = "adam_update(p={:.6g}, grad={}, m={:.6g}, v={:.6g}, step={}, lr={})".format(*args)
        got = s.call("adam_update", *args, given=given, errors={ZeroDivisionError: T_IS_STEP})
        param.grad = g
        opt.step(0.05)
        expect(tuple(got) if isinstance(got, (list, tuple)) else got, (param.data, opt.m[0], opt.v[0]),
               given + "  -> (p, m, v)", _mistakes(args))
        p, m, v = got


CHECKS = [first_step, first_step_negative, later_step, zero_grad, trajectory]
