"""Hyperparameters, as frozen dataclasses checked when they are made.

GPTConfig is the architecture (what a checkpoint must carry to be rebuilt);
TrainConfig is how it was trained. Bad values fail here, with a message that
names the flag, instead of deep inside the model.
"""

from collections.abc import Sequence
from dataclasses import MISSING, asdict, dataclass, fields, replace
from typing import Any

from microgpt.errors import MicroGPTError, UsageError


def _positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise UsageError(f"{name} must be a positive integer, got {value!r}")


def _number_in(name: str, value: object, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> None:
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
          and (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi))
    if not ok:
        lb, rb = ("(" if lo_open else "["), (")" if hi_open else "]")
        raise UsageError(f"{name} must be a number in {lb}{lo}, {hi}{rb}, got {value!r}")


ACTIVATIONS = ("relu", "gelu")


def predicted(tokens: Sequence[int], block_size: int) -> int:
    """Positions a token list predicts: each but the last, at most block_size."""
    return min(block_size, len(tokens) - 1)


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    n_embd: int = 16  # width of the residual stream
    n_head: int = 4  # attention heads; each sees n_embd // n_head dimensions
    n_layer: int = 1  # transformer blocks
    block_size: int = 16  # the longest context (positions) the model has embeddings for
    activation: str = "relu"  # the MLP's nonlinearity: "relu" (the original's) or "gelu" (GPT-2's)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name != "activation":
                _positive_int(f.name.replace("_", "-"), getattr(self, f.name))
        if self.activation not in ACTIVATIONS:
            raise UsageError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if self.n_embd % self.n_head:
            raise UsageError(
                f"n-embd ({self.n_embd}) must be divisible by n-head ({self.n_head}): "
                "each head takes an equal slice of the embedding"
            )

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def predicted(self, tokens: Sequence[int]) -> int:
        """How many next tokens a token list [BOS, ..., BOS] trains on: one per
        position, at most block_size (a longer document is cut, as in the original)."""
        return predicted(tokens, self.block_size)

    def to_dict(self) -> dict[str, int | str]:
        """The checkpoint's "config". A ReLU model leaves out `activation`, so its
        file is the one earlier versions wrote, and they can read it."""
        d = asdict(self)
        if d["activation"] == "relu":
            del d["activation"]
        return d


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1000
    lr: float = 0.01
    beta1: float = 0.85
    beta2: float = 0.99
    eps: float = 1e-8
    optimizer: str = "adam"  # or "sgd"
    seed: int = 42
    batch_size: int = 1  # documents per step
    weight_decay: float = 0.0  # decoupled (AdamW); 0 is the original's plain Adam
    schedule: str = "linear"  # learning rate: "linear" decay to 0 (the original), "cosine", "constant"
    warmup_steps: int = 0  # linear warmup from ~0 to lr before the schedule starts

    def __post_init__(self) -> None:
        _positive_int("steps", self.steps)
        _positive_int("batch-size", self.batch_size)
        _number_in("lr", self.lr, 0, float("inf"), lo_open=True, hi_open=True)
        _number_in("beta1", self.beta1, 0, 1, hi_open=True)
        _number_in("beta2", self.beta2, 0, 1, hi_open=True)
        _number_in("eps", self.eps, 0, float("inf"), hi_open=True)
        _number_in("weight-decay", self.weight_decay, 0, float("inf"), hi_open=True)
        if self.schedule not in ("linear", "cosine", "constant"):
            raise UsageError(f"schedule must be 'linear', 'cosine' or 'constant', got {self.schedule!r}")
        if not isinstance(self.warmup_steps, int) or not 0 <= self.warmup_steps < self.steps:
            raise UsageError(f"warmup-steps must be an integer in [0, steps), got {self.warmup_steps!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise UsageError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise UsageError(f"seed must be an integer, got {self.seed!r}")

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self)


def defaults(cls: type[GPTConfig] | type[TrainConfig]) -> dict[str, object]:
    """{field: default} of a config dataclass: the one home of every default, which
    the command line's help and the Python API read from here."""
    return {f.name: f.default for f in fields(cls) if f.default is not MISSING}


MODEL_DEFAULTS = defaults(GPTConfig)  # n_embd, n_head, n_layer, block_size, activation
TRAIN_DEFAULTS = defaults(TrainConfig)


def resolve_settings(given: dict[str, Any], resume: Any = None) -> tuple[TrainConfig, dict[str, Any]]:
    """(TrainConfig, model dims) from the settings the user gave; resuming (`resume` a
    checkpoint), the checkpoint's, where only --steps may change (to extend the run)."""
    unknown = sorted(set(given) - set(TRAIN_DEFAULTS) - set(MODEL_DEFAULTS))
    if unknown:
        raise UsageError(f"unknown setting {unknown[0]!r}; settings are: "
                         f"{', '.join(sorted({**MODEL_DEFAULTS, **TRAIN_DEFAULTS}))}")
    given = {k: v for k, v in given.items() if v is not None}
    if resume is None:
        tc = TrainConfig(**{k: v for k, v in given.items() if k in TRAIN_DEFAULTS})
        return tc, {k: given.get(k, MODEL_DEFAULTS[k]) for k in MODEL_DEFAULTS}
    if "block_size" in given and given["block_size"] > resume.config.block_size:
        raise UsageError(f"--block-size {given['block_size']} is larger than the checkpoint's "
                         f"{resume.config.block_size}: the model has no position embeddings beyond that")
    fixed = sorted(k for k in given if k != "steps")
    if fixed:
        flag = "--" + fixed[0].replace("_", "-")
        raise UsageError(f"{flag} cannot be changed when resuming: the checkpoint fixes it (drop the flag)")
    tc = resume.training.train_config
    if tc is None:
        raise MicroGPTError("checkpoint has no training config; it cannot be resumed")
    if "steps" in given:
        if given["steps"] <= resume.training.steps:
            raise UsageError(f"--steps {given['steps']} is not beyond the checkpoint's {resume.training.steps}")
        tc = replace(tc, steps=given["steps"])
    return tc, {}
