"""The canonical engine: the model of model.py on the Value autograd.

One Value node per atomic operation, the original's order of floating-point
operations, and the optimizer of optim.py. Slow (every multiply is a Python
object) but every number can be traced by hand.
"""

import gc

from microgpt import forward
from microgpt.config import TrainConfig
from microgpt.model import doc_losses, to_values
from microgpt.optim import make_optimizer


class ScalarEngine(forward.FloatInference):
    name = "scalar"

    def __init__(self, config, weights, train_config=None):
        self.config = config
        self.train_config = train_config or TrainConfig()
        self.state_dict = to_values(weights)
        self.params = [p for mat in self.state_dict.values() for row in mat for p in row]
        self.optimizer = make_optimizer(self.train_config.optimizer, self.params, self.train_config)

    def train_step(self, batch, lr_t):
        # The graph of one step holds no reference cycles, so reference counting
        # frees it; pausing the cyclic collector saves it scanning ~100k fresh nodes.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            losses = []
            for tokens in batch:
                losses.extend(doc_losses(self.state_dict, self.config, tokens))
            loss = (1 / len(losses)) * sum(losses)
            loss.backward()
            self.optimizer.step(lr_t)
            return loss.data
        finally:
            if was_enabled:
                gc.enable()

    # ---- weights and optimizer state in the checkpoint's form
    def weights(self):
        return {name: [[p.data for p in row] for row in mat] for name, mat in self.state_dict.items()}

    def _unflatten(self, flat):
        out, i = {}, 0
        for name, mat in self.state_dict.items():
            rows = []
            for row in mat:
                rows.append(list(flat[i : i + len(row)]))
                i += len(row)
            out[name] = rows
        return out

    def optimizer_state(self):
        state = self.optimizer.state()
        for key in ("m", "v"):
            if key in state:
                state[key] = self._unflatten(state[key])
        return state

    def load_optimizer_state(self, state):
        state = dict(state)
        for key in ("m", "v"):
            if key in state:
                state[key] = [x for name in self.state_dict for row in state[key][name] for x in row]
        self.optimizer.load_state(state)
