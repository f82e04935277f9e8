"""`microgpt bench`: the engines timed side by side, on the same work.

    configs.py      the model sizes, by name: default, default-b32, small, large, shakespeare-gpu
    variants.py     what can be timed: the engines, numpy in float32, plain PyTorch
    timing.py       the engines taking turns; wall and CPU time
    losses.py       whether engines that should compute the same losses do
    original.py     the original microgpt.py, timed as a subprocess
    runner.py       run(): all of it, one row per engine and config
    plain_torch.py  the same GPT written plainly in PyTorch: a yardstick, not an engine

The command line (cli/bench.py) parses, calls run() and prints.
"""

from microgpt.bench.configs import CONFIGS, DEFAULT_CONFIGS, RENAMED, describe_configs
from microgpt.bench.losses import disagreements
from microgpt.bench.runner import check_names, run

__all__ = ["CONFIGS", "DEFAULT_CONFIGS", "RENAMED", "check_names", "describe_configs", "disagreements", "run"]
