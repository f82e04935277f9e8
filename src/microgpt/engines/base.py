"""The engine contract: what every engine does, whatever it computes with.

Every engine takes the same config and the same named float weights (the
checkpoint's), and gives back the same names in the same form, so a model
trained by one is sampled, scored and resumed by any other. A batch is a list
of documents, each a token list [BOS, ..., BOS]; a document longer than
block_size + 1 is truncated, as in the original.

tests/test_engine_contract.py runs one set of checks over every registered
engine, with the scalar engine as the oracle.
"""

import abc
import contextlib
import gc
import math

from microgpt.config import TrainConfig
from microgpt.model import parameter_shapes


class Engine(abc.ABC):
    name = None  # the registry's name for it: make_engine(name, ...)
    # Keyword options the constructor takes besides config, weights and
    # train_config (the CLI's --device, --dtype, ...); the registry reads them
    # from the class, so a module must not need its library just to be imported.
    OPTIONS = ()
    REQUIRES = ()  # libraries it computes with: make_engine names a missing one instead of failing inside
    threads = None  # a cpu.Threads where the engine computes on CPU threads (numpy, torch on a CPU)

    def __init__(self, config, train_config=None):
        self.config = config  # GPTConfig
        self.train_config = train_config or TrainConfig()

    # ---- training

    @abc.abstractmethod
    def train_step(self, batch, lr_t):
        """Forward, backward and one optimizer step at learning rate lr_t; the mean loss over real tokens, a float."""

    # Set by train_step_with_stats: train_step then leaves the step's gradient, before the
    # optimizer uses it (and before any clipping), in last_grads in the checkpoint's form.
    keep_grads = False
    last_grads = None

    def train_step_with_stats(self, batch, lr_t):
        """train_step, and what it did to each weight matrix: (loss, {name: {"weight_norm",
        "grad_norm", "update_ratio"}}). The norms are Frobenius norms of the weights the step
        started from and of their gradient; the ratio is the norm of the change the optimizer
        made (all of it: Adam's step and any weight decay) over the weight norm, None where
        that is 0. The step itself computes exactly what train_step computes."""
        before = self.weights()
        self.keep_grads = True
        try:
            loss = self.train_step(batch, lr_t)
        finally:
            self.keep_grads = False
        grads, self.last_grads = self.last_grads, None
        return loss, matrix_stats(before, grads, self.weights())

    @abc.abstractmethod
    def loss_and_grads(self, batch):
        """(mean loss over real tokens, {name: its gradient as rows, like weights()}); moves no weight or moment."""

    # ---- weights and optimizer state in the checkpoint's form

    @abc.abstractmethod
    def weights(self):
        """{name: [[float, ...], ...]} for every matrix of model.parameter_shapes."""

    @abc.abstractmethod
    def optimizer_state(self):
        """{"t": steps taken} and, for Adam, "m" and "v" shaped like weights(); plain JSON values."""

    @abc.abstractmethod
    def load_optimizer_state(self, state):
        """Continue from any engine's optimizer_state(), as if this engine had taken those steps."""

    # ---- forward only

    @abc.abstractmethod
    def nll(self, batch):
        """(sum of -log p(next token) over every real position, the number of positions); no gradients."""

    @abc.abstractmethod
    def new_cache(self):
        """An empty KV cache for next_logits, for one document."""

    @abc.abstractmethod
    def next_logits(self, token_id, pos_id, cache):
        """Logits (a list of floats) for the token after token_id at pos_id; adds this position to the cache."""

    # ---- helpers for engines that keep their numbers in one flat list

    def _rows(self, flat):
        """A flat sequence, row-major in parameter_shapes order, as {name: [[float, ...], ...]}."""
        out, i = {}, 0
        for name, (rows, cols) in parameter_shapes(self.config).items():
            out[name] = [list(flat[i + r * cols : i + (r + 1) * cols]) for r in range(rows)]
            i += rows * cols
        return out

    def _flat(self, named_rows):
        """The inverse of _rows: {name: rows} as one flat list of floats."""
        return [float(x) for name in parameter_shapes(self.config) for row in named_rows[name] for x in row]

    @staticmethod
    @contextlib.contextmanager
    def _gc_paused():
        """For a step that makes many short-lived objects and no reference cycles:
        reference counting frees them, and the cyclic collector, left on, would
        scan them all again and again for nothing."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if was_enabled:
                gc.enable()


def matrix_stats(before, grads, after):
    """Per matrix: the weight and gradient norms, and the update-to-weight ratio
    ||after - before|| / ||before||; summed in full precision (math.fsum), so engines
    differ here only by the differences in their numbers."""
    def norm(values):
        return math.sqrt(math.fsum(x * x for x in values))

    def flat(rows):
        return [x for row in rows for x in row]

    stats = {}
    for name, w in before.items():
        w, w_after = flat(w), flat(after[name])
        weight = norm(w)
        update = norm([a - b for a, b in zip(w_after, w)])
        stats[name] = {"weight_norm": weight, "grad_norm": norm(flat(grads[name])),
                       "update_ratio": update / weight if weight > 0 else None}
    return stats
