"""Exercise 6: the cross-entropy loss, at every position of a document.

A document is a list of token ids [BOS, c1, ..., cn, BOS]. The model reads it
one token at a time: after tokens[0..pos] it gives logits for what comes
next, so logits[pos] is a list of vocab_size floats predicting tokens[pos + 1].
Each position is a training example of its own, and the loss of the document
is the mean over all of them.

The loss at one position is cross-entropy: how surprised the model is by the
token that really came next,

    loss[pos] = -ln softmax(logits[pos])[tokens[pos + 1]]

(0 when the model gave that token probability 1; ln(vocab_size) when it
guessed uniformly; large when it was confidently wrong).

Write two functions (logits has len(tokens) - 1 rows):

position_losses(logits, tokens) -> list of floats, one per position
mean_loss(logits, tokens) -> float, the mean of position_losses

You may write a softmax here (exercise 5), or import the project's:
from microgpt.forward import softmax.
Where it lives in the project: doc_losses in src/microgpt/model.py, and
doc_nll in src/microgpt/forward.py.
Check your answer with: microgpt exercise check 6
"""

import math


def position_losses(logits, tokens):
    raise NotImplementedError


def mean_loss(logits, tokens):
    raise NotImplementedError
