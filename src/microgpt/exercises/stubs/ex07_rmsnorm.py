"""Exercise 7: RMSNorm.

Numbers passing through many layers drift: some vectors grow, others shrink,
and the next layer sees inputs of any size. RMSNorm rescales a vector so that
its root-mean-square is (about) 1, before each block reads it:

    ms    = mean of x_i ** 2            (the mean, over the n entries)
    scale = 1 / sqrt(ms + 1e-5)         (1e-5 keeps an all-zero vector finite)
    out_i = x_i * scale

Unlike LayerNorm, it does not subtract the mean, and microgpt gives it no
learned gain.

Write rmsnorm(x) -> list of floats, the same length as x (a non-empty list
of floats). Leave x itself unchanged.

Where it lives in the project: rmsnorm and rms_scale in src/microgpt/forward.py
(and rmsnorm on Values in src/microgpt/model.py).
Check your answer with: microgpt exercise check 7
"""

import math


def rmsnorm(x):
    raise NotImplementedError
