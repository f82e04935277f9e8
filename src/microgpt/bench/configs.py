"""The model sizes `microgpt bench` times, by name: one set of names for every measurement.

From the original's model up to nanoGPT's shakespeare-char baseline. A config
is an architecture and a batch size; the vocabulary comes from the data, so
the parameter counts below are for the names (27 characters).
"""

from dataclasses import dataclass

from microgpt.config import GPTConfig
from microgpt.errors import UsageError
from microgpt.model import num_params


@dataclass(frozen=True)
class BenchConfig:
    name: str
    n_embd: int
    n_head: int
    n_layer: int
    block_size: int
    batch_size: int
    about: str
    # A pure-Python step grows with every multiply: "slow" configs take seconds (fused) to
    # minutes (scalar) a step there, timed only with --slow; "never" ones hours, not timed.
    pure_python: str = "timed"

    def arch(self):
        return dict(n_embd=self.n_embd, n_head=self.n_head, n_layer=self.n_layer, block_size=self.block_size)

    def gpt_config(self, vocab_size):
        return GPTConfig(vocab_size, **self.arch())


CONFIGS = {c.name: c for c in [
    BenchConfig("default", 16, 4, 1, 16, 1, "the original microgpt.py: 4,192 params, one document a step"),
    BenchConfig("default-b32", 16, 4, 1, 16, 32, "the same model, 32 documents a step"),
    BenchConfig("small", 64, 4, 2, 32, 32, "64 wide, 2 layers, block 32, B=32: 103,808 params", "slow"),
    BenchConfig("large", 128, 4, 4, 32, 32, "128 wide, 4 layers, block 32, B=32: 797,440 params", "slow"),
    BenchConfig("shakespeare-cpu", 128, 4, 4, 64, 12,
                "nanoGPT's shakespeare-char on a CPU (its README): 128 wide, 4 layers, block 64, B=12", "slow"),
    BenchConfig("shakespeare-gpu", 384, 6, 6, 256, 64,
                "nanoGPT's shakespeare-char: 384 wide, 6 layers, 6 heads, block 256, B=64: 10.7M params, for a GPU",
                "never"),
]}
DEFAULT_CONFIGS = ("default", "default-b32", "large")
ORIGINAL_ARCH = CONFIGS["default"].arch()  # what microgpt.py computes: --reference rows go beside these

# scripts/bench_torch.py's names, gone with it. A user who types one is told the new
# name rather than silently given it, so that every table and JSON file says one name.
RENAMED = {"tiny": "default", "tiny-b32": "default-b32", "big": "shakespeare-gpu"}


def resolve(names):
    """BenchConfigs for a list of names; one line naming the right ones for a wrong one."""
    out = []
    for name in names:
        if name in RENAMED:
            raise UsageError(f"bench config {name!r} is now called {RENAMED[name]!r}; "
                             f"choose from: {', '.join(CONFIGS)}")
        if name not in CONFIGS:
            raise UsageError(f"unknown bench config {name!r}; choose from: {', '.join(CONFIGS)}")
        out.append(CONFIGS[name])
    return out


def describe_configs(config_names, vocab_size):
    lines = []
    for cfg in resolve(config_names):
        c = cfg.gpt_config(vocab_size)
        lines.append(f"{cfg.name}: n_embd {c.n_embd}, n_head {c.n_head}, n_layer {c.n_layer}, "
                     f"block_size {c.block_size}, batch {cfg.batch_size}, {num_params(c):,} params")
    return lines
