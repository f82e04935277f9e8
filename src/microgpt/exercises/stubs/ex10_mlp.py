"""Exercise 10: the MLP block, with its residual connection.

After attention has gathered information from other positions, each position
processes it on its own in a small two-layer network (the MLP): widen to
4 * n_embd numbers, keep only the positive parts (ReLU), narrow back.

microgpt uses the pre-norm pattern: the block reads a normalised copy of its
input, and ADDS its result to the input it was given (the residual
connection), so the signal, and its gradient, can also pass the block by:

    h   = rmsnorm(x)                    n_embd numbers
    h   = fc1 h                         4 * n_embd numbers   (fc1: 4*n_embd rows of n_embd)
    h   = relu(h)                       max(0, h_i) for each i
    h   = fc2 h                         n_embd numbers       (fc2: n_embd rows of 4*n_embd)
    out = x + h                         elementwise

where (w x)[i] = sum_j w[i][j] * x[j].

Write mlp_block(x, fc1, fc2) -> list of n_embd floats.

You may use: from microgpt.forward import linear, rmsnorm
(linear(x, w) is w x; rmsnorm is exercise 7).
Where it lives in the project: the "2) MLP" part of gpt() in
src/microgpt/model.py and src/microgpt/forward.py.
Check your answer with: microgpt exercise check 10
"""


def mlp_block(x, fc1, fc2):
    raise NotImplementedError
