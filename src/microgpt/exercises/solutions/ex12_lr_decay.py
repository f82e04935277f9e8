"""Exercise 12, a reference solution: linear learning-rate decay."""


def learning_rate(step, num_steps, lr):
    return lr * (1 - step / num_steps)
