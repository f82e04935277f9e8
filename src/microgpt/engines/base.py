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

from microgpt.config import TrainConfig
from microgpt.model import parameter_shapes


class Engine(abc.ABC):
    name = None  # the registry's name for it: make_engine(name, ...)
    # Keyword options the constructor takes besides config, weights and
    # train_config (the CLI's --device, --dtype, ...); the registry reads them
    # from the class, so a module must not need its library just to be imported.
    OPTIONS = ()
    REQUIRES = ()  # libraries it computes with: make_engine names a missing one instead of failing inside

    def __init__(self, config, train_config=None):
        self.config = config  # GPTConfig
        self.train_config = train_config or TrainConfig()

    # ---- training

    @abc.abstractmethod
    def train_step(self, batch, lr_t):
        """Forward, backward and one optimizer step at learning rate lr_t; the mean loss over real tokens, a float."""

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
