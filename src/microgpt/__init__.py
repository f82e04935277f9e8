"""microgpt: train and sample a GPT from first principles, in pure Python.

    import microgpt
    run = microgpt.train(data="names.txt", steps=200)
    model = microgpt.load(run.save("m.json"))
    model.sample(5)

See api.py; the `microgpt` command (cli/) is built on the same calls.
"""

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["train", "load", "Model", "Run", "Ablation", "MicroGPTError", "UsageError", "__version__"]

if TYPE_CHECKING:  # the names __getattr__ gives, for type checkers (at run time they load on first use)
    from microgpt.ablation import Ablation
    from microgpt.api import Model, load, train
    from microgpt.errors import MicroGPTError, UsageError
    from microgpt.training import Run


def __getattr__(name: str) -> object:
    # Loaded on first use, so `import microgpt` (and every command's start) stays light.
    if name in ("train", "load", "Model"):
        from microgpt import api

        return getattr(api, name)
    if name == "Run":
        from microgpt.training import Run

        return Run
    if name == "Ablation":
        from microgpt.ablation import Ablation

        return Ablation
    if name in ("MicroGPTError", "UsageError"):
        from microgpt import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'microgpt' has no attribute {name!r}")
