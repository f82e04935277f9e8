"""Exercise 5: softmax, safe for large logits.

The model's last layer gives one score (a logit) per token of the vocabulary.
Softmax turns them into probabilities: exponentiate each, divide by the sum.

    softmax(logits)[i] = exp(logits[i]) / sum_j exp(logits[j])

Write softmax(logits) -> list of floats: logits is a non-empty list of
floats; the result has the same length, every entry >= 0, summing to 1.

A float holds numbers up to about 1.8e308, and exp(710) is already more than
that. Logits of 1000 happen (a very confident model, or logits divided by a
small temperature when sampling). Softmax does not change when the same
number is subtracted from every logit (it cancels in the fraction), so
subtract max(logits) first: the largest exp is then exp(0) = 1, and nothing
can overflow.

Where it lives in the project: softmax in src/microgpt/forward.py (on floats)
and in src/microgpt/model.py (on Values).
Check your answer with: microgpt exercise check 5
"""

import math


def softmax(logits):
    raise NotImplementedError
