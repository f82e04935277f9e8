"""The canonical engine: the model of model.py on the Value autograd.

One Value node per atomic operation, the original's order of floating-point
operations, and the optimizer of optim.py. Slow (every multiply is a Python
object) but every number can be traced by hand.
"""

from microgpt import forward
from microgpt.engines.base import Engine
from microgpt.model import doc_losses, parameter_shapes, to_values
from microgpt.optim import make_optimizer


class ScalarEngine(forward.FloatInference, Engine):
    name = "scalar"

    def __init__(self, config, weights, train_config=None):
        super().__init__(config, train_config)
        # in parameter_shapes order: the optimizer's flat lists and _rows/_flat agree on it
        self.state_dict = to_values({name: weights[name] for name in parameter_shapes(config)})
        self.params = [p for mat in self.state_dict.values() for row in mat for p in row]
        self.optimizer = make_optimizer(self.train_config.optimizer, self.params, self.train_config)

    def _backprop(self, batch):
        """The mean loss of the batch; leaves its gradient in every parameter's .grad."""
        losses = []
        for tokens in batch:
            losses.extend(doc_losses(self.state_dict, self.config, tokens))
        loss = (1 / len(losses)) * sum(losses)
        loss.backward()
        return loss.data

    def train_step(self, batch, lr_t):
        with self._gc_paused():  # the graph of one step is ~100k fresh nodes, and no cycles
            loss = self._backprop(batch)
            if self.keep_grads:
                self.last_grads = self._grads()
            self.optimizer.step(lr_t)
            return loss

    def loss_and_grads(self, batch):
        with self._gc_paused():
            loss = self._backprop(batch)
        grads = self._grads()
        for p in self.params:  # as the optimizer's step would: the next backward starts from zero
            p.grad = 0
        return loss, grads

    def _grads(self):
        return {name: [[float(p.grad) for p in row] for row in mat] for name, mat in self.state_dict.items()}

    # ---- weights and optimizer state in the checkpoint's form
    def weights(self):
        return {name: [[p.data for p in row] for row in mat] for name, mat in self.state_dict.items()}

    def optimizer_state(self):
        state = self.optimizer.state()
        for key in ("m", "v"):
            if key in state:
                state[key] = self._rows(state[key])
        return state

    def load_optimizer_state(self, state):
        state = dict(state)
        for key in ("m", "v"):
            if key in state:
                state[key] = self._flat(state[key])
        self.optimizer.load_state(state)
