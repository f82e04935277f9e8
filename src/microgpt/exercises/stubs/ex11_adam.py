"""Exercise 11: one step of Adam, with bias correction.

Plain gradient descent moves every parameter by lr * grad: parameters whose
gradients are large or noisy jump around, those with small gradients barely
move. Adam keeps two running averages per parameter and steps by their ratio:

    m = beta1 * m + (1 - beta1) * grad           average of the gradient (momentum)
    v = beta2 * v + (1 - beta2) * grad ** 2      average of its square (its scale)

Both start at 0, so in the first steps they are too small (after one step m
is only (1 - beta1) * grad). Bias correction divides that out; with
t = step + 1 (the number of updates made so far, this one included):

    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    p     = p - lr * m_hat / (sqrt(v_hat) + eps)

Write adam_update(p, grad, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8)
-> (new p, new m, new v), all floats, for ONE scalar parameter. `step` counts
from 0 (the training loop's step), so the first update has step = 0, t = 1.

Where it lives in the project: Adam.step in src/microgpt/optim.py.
Check your answer with: microgpt exercise check 11
"""

import math


def adam_update(p, grad, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    raise NotImplementedError
