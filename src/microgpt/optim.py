"""Optimizers over a flat list of parameters, each with `.data` and `.grad`.

SGD moves every parameter by the same multiple of its gradient. Adam keeps two
running averages per parameter: m, of the gradient (momentum: keep going where
the gradient has pointed for a while) and v, of its square (a per-parameter
scale: parameters with large gradients take smaller steps). Both start at zero,
so early averages are too small; dividing by (1 - beta**t) corrects that bias.

The learning rate decays linearly to zero over the run, as in microgpt.py.
Weight decay, when asked for, is decoupled from the gradient (AdamW): each
step also shrinks every weight by lr * weight_decay * weight.
"""

import math


def linear_decay(lr, step, num_steps):
    """Learning rate for 0-based `step` of `num_steps`."""
    return lr * (1 - step / num_steps)


def learning_rate(train_config, step):
    """The learning rate of 0-based `step` under the config's warmup and schedule.

    With no warmup and the linear schedule this is exactly the original's
    lr * (1 - step / num_steps)."""
    tc = train_config
    if step < tc.warmup_steps:
        return tc.lr * (step + 1) / tc.warmup_steps
    if tc.schedule == "constant":
        return tc.lr
    if tc.warmup_steps == 0 and tc.schedule == "linear":
        return linear_decay(tc.lr, step, tc.steps)
    progress = (step - tc.warmup_steps) / (tc.steps - tc.warmup_steps)
    if tc.schedule == "linear":
        return tc.lr * (1 - progress)
    return tc.lr * 0.5 * (1 + math.cos(math.pi * progress))


class SGD:
    def __init__(self, params):
        self.params = params
        self.t = 0

    def step(self, lr_t):
        self.t += 1
        for p in self.params:
            p.data -= lr_t * p.grad
            p.grad = 0

    def state(self):
        return {"t": self.t}

    def load_state(self, state):
        self.t = int(state["t"])


class Adam:
    def __init__(self, params, beta1=0.85, beta2=0.99, eps=1e-8, weight_decay=0.0):
        self.params = params
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.weight_decay = weight_decay
        self.m = [0.0] * len(params)
        self.v = [0.0] * len(params)
        self.t = 0  # steps taken; the bias correction uses it

    def step(self, lr_t):
        self.t += 1
        beta1, beta2, eps, m, v = self.beta1, self.beta2, self.eps, self.m, self.v
        for i, p in enumerate(self.params):
            m[i] = beta1 * m[i] + (1 - beta1) * p.grad
            v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
            m_hat = m[i] / (1 - beta1**self.t)
            v_hat = v[i] / (1 - beta2**self.t)
            if self.weight_decay:
                p.data -= lr_t * self.weight_decay * p.data
            p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
            p.grad = 0

    def state(self):
        return {"t": self.t, "m": list(self.m), "v": list(self.v)}

    def load_state(self, state):
        self.t = int(state["t"])
        self.m = [float(x) for x in state["m"]]
        self.v = [float(x) for x in state["v"]]


def make_optimizer(name, params, train_config):
    if name == "sgd":
        return SGD(params)
    return Adam(params, train_config.beta1, train_config.beta2, train_config.eps, train_config.weight_decay)
