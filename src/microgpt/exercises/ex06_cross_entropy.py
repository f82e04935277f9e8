"""Exercise 6: cross-entropy at every position of a document.

Oracles: the project's forward.softmax and surprise (-ln p) per position, and
forward.doc_nll on a small random GPT, whose logits the student's loss is given.
"""

import math
import random

from microgpt import forward
from microgpt.config import GPTConfig
from microgpt.exercises.grading import check, expect
from microgpt.model import init_weights

TITLE = "cross-entropy at every position"
TEACHES = "position pos predicts tokens[pos + 1]; -ln of its softmax probability; the document's loss is the mean"
OBJECTIVES = (25, 26, 27, 32)


def ref_losses(logits, tokens):
    return [forward.surprise(forward.softmax(row)[tokens[pos + 1]]) for pos, row in enumerate(logits)]


def _mistakes(logits, tokens):
    def at(targets):
        return [-math.log(forward.softmax(row)[t]) for row, t in zip(logits, targets)]

    ref = ref_losses(logits, tokens)
    return [
        (lambda: at(tokens[:-1]), "off by one: position pos predicts the NEXT token, tokens[pos + 1], not "
                                  "tokens[pos] (which the model has already seen)"),
        (lambda: [-row[t] for row, t in zip(logits, tokens[1:])], "the raw logit is not a probability: take "
                                                                  "softmax(logits[pos]) first, then -ln of it"),
        (lambda: [-x for x in ref], "the sign: the loss is MINUS ln p (it is >= 0)"),
        (lambda: [math.log(forward.softmax(row)[t]) for row, t in zip(logits, tokens[1:])],
         "the sign: the loss is MINUS ln p (it is >= 0)"),
        (lambda: ref[-1:], "only the last position: every position is a prediction, and each has a loss"),
        (lambda: sum(ref), "that is the sum; mean_loss is the mean over positions"),
        (lambda: sum(ref) / (len(ref) + 1), "divided by one too many: there are len(tokens) - 1 positions"),
    ]


def random_doc(seed, vocab=5, n=4):
    rng = random.Random(seed)
    tokens = [vocab - 1] + [rng.randrange(vocab - 1) for _ in range(n)] + [vocab - 1]
    logits = [[rng.gauss(0, 2) for _ in range(vocab)] for _ in range(len(tokens) - 1)]
    return logits, tokens


def _check_losses(s, logits, tokens, given, expected=None, hints=True):
    expected = ref_losses(logits, tokens) if expected is None else expected
    expect(s.call("position_losses", logits, tokens, given=given), expected, given,
           _mistakes(logits, tokens) if hints else ())


@check("position_losses of a two-position document by hand")
def by_hand(s):
    # logits [0, 0] everywhere: every probability is 1/2, every loss ln 2
    _check_losses(s, [[0.0, 0.0], [0.0, 0.0]], [1, 0, 1],
                  "position_losses([[0, 0], [0, 0]], [1, 0, 1])", [math.log(2)] * 2,
                  hints=False)  # every loss is ln 2 here: no mistake can be told from another


@check("position_losses on random logits (seeded)")
def random_positions(s):
    for seed in (1, 2):
        logits, tokens = random_doc(seed)
        _check_losses(s, logits, tokens, f"position_losses(random 5x5 logits, {tokens})")


@check("mean_loss on random logits")
def mean(s):
    logits, tokens = random_doc(3, n=6)
    ref = ref_losses(logits, tokens)
    given = f"mean_loss(random 7x5 logits, {tokens})"
    expect(s.call("mean_loss", logits, tokens, given=given), sum(ref) / len(ref), given,
           _mistakes(logits, tokens) + [(lambda: forward.surprise(forward.softmax(logits[-1])[tokens[-1]]), "only the last position: the "
             "mean is over every position")])


@check("a one-letter document: two positions, [BOS, c, BOS]")
def shortest(s):
    logits, tokens = random_doc(4, n=1)
    _check_losses(s, logits, tokens, f"position_losses(random 2x5 logits, {tokens})")


@check("mean_loss on a small GPT's logits equals the project's doc_nll")
def model_loss(s):
    config = GPTConfig(vocab_size=6, n_embd=8, n_head=2, n_layer=1, block_size=8)
    weights = init_weights(config, random.Random(7))
    tokens = [5, 0, 3, 3, 1, 5]
    logits = forward.sequence_logits(weights, config, tokens)[: len(tokens) - 1]
    total, n = forward.doc_nll(weights, config, tokens)
    given = f"mean_loss(logits of a random GPT over {tokens}, {tokens})"
    expect(s.call("mean_loss", logits, tokens, given=given), total / n, given, _mistakes(logits, tokens))


CHECKS = [by_hand, random_positions, mean, shortest, model_loss]
