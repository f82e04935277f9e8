"""Exercise 11, a reference solution: one Adam update with bias correction."""

import math


def adam_update(p, grad, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    t = step + 1
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (math.sqrt(v_hat) + eps), m, v
