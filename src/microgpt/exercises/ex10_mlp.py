"""Exercise 10: the MLP block (pre-norm, ReLU, residual).

Oracle: the project's forward.gpt on a random GPT (oracle.py): the
residual stream before and after layer 0's MLP, at every position. Mistakes
recognised by computing them: no residual, no rmsnorm, the residual added to
the normalised input, no ReLU, ReLU after fc2.
"""

from microgpt.exercises import oracle
from microgpt.exercises.grading import check, expect
from microgpt.forward import linear, rmsnorm

TITLE = "the MLP block (with residual)"
TEACHES = "x + fc2 relu(fc1 rmsnorm(x)): a per-position network, read pre-norm, added back on the residual"
OBJECTIVES = (18, 22, 23, 24)


def relu(v):
    return [max(0.0, a) for a in v]


def add(a, b):
    return [x + y for x, y in zip(a, b)]


def _mistakes(x, fc1, fc2):
    return [
        (lambda: linear(relu(linear(rmsnorm(x), fc1)), fc2), "the residual is missing: add the block's input x "
                                                            "to what fc2 gives (out = x + h)"),
        (lambda: add(x, linear(relu(linear(x, fc1)), fc2)), "the rmsnorm is missing: the block reads "
                                                           "rmsnorm(x) (pre-norm), and adds to x itself"),
        (lambda: add(rmsnorm(x), linear(relu(linear(rmsnorm(x), fc1)), fc2)),
         "the residual adds the normalised copy: add the ORIGINAL x, the input the block was given"),
        (lambda: add(x, linear(linear(rmsnorm(x), fc1), fc2)), "the ReLU is missing: max(0, h_i) between fc1 "
                                                               "and fc2"),
        (lambda: add(x, relu(linear(linear(rmsnorm(x), fc1), fc2))), "the ReLU comes between fc1 and fc2, not "
                                                                     "after fc2"),
    ]


def _check(s, x, fc1, fc2, given):
    expect(s.call("mlp_block", x, fc1, fc2, given=given), add(x, linear(relu(linear(rmsnorm(x), fc1)), fc2)), given,
           _mistakes(x, fc1, fc2))


@check("a 2-wide block with a readable fc1 and fc2")
def by_hand(s):
    x = [1.0, -3.0]
    fc1 = [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]
    fc2 = [[1.0, 2.0, 3.0, 4.0], [0.5, 0.5, 0.5, 0.5]]
    _check(s, x, fc1, fc2, "mlp_block([1, -3], fc1 (4x2), fc2 (2x4))")


@check("every position of a random GPT: equals the model's residual stream after the MLP")
def model_positions(s):
    trace, w = oracle.block_trace(n_embd=8, n_head=2, seed=4)
    fc1, fc2 = w["layer0.mlp_fc1"], w["layer0.mlp_fc2"]
    for pos, step in enumerate(trace):
        given = f"mlp_block(stream at position {pos}, fc1 32x8, fc2 8x32) of a random GPT"
        expect(s.call("mlp_block", step["mlp_in"], fc1, fc2, given=given), step["mlp_out"], given,
               _mistakes(step["mlp_in"], fc1, fc2))


@check("when every hidden unit is negative the block passes x through unchanged")
def all_negative(s):
    x = [0.5, 2.0, -1.0]
    fc1 = [[-1.0, -1.0, 0.0]] * 12  # every pre-activation is -(x0 + x1) normalised: negative
    fc2 = [[1.0] * 12] * 3
    _check(s, x, fc1, fc2, "mlp_block([0.5, 2, -1], fc1 with all-negative outputs, fc2)")


CHECKS = [by_hand, model_positions, all_negative]
