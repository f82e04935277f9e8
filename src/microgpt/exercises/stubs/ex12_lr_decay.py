"""Exercise 12: the learning rate, decayed linearly to zero.

Large steps help early in training, when the parameters are far from good
values; late in training they make the loss jump around the minimum. microgpt
lowers the learning rate in a straight line over the run: the full lr at the
first step, shrinking by lr / num_steps each step, so that the step after the
last one would be exactly 0.

Write learning_rate(step, num_steps, lr) -> float, for step = 0 .. num_steps - 1
(counted from 0, as the training loop counts). The first step gets lr; the
last step, num_steps - 1, still gets a small positive rate (not 0: a step
with rate 0 would be wasted).

Where it lives in the project: linear_decay in src/microgpt/optim.py.
Check your answer with: microgpt exercise check 12
"""


def learning_rate(step, num_steps, lr):
    raise NotImplementedError
