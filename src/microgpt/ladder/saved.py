"""The GPT rungs' trained models (train3 to train5), as microgpt checkpoints.

Each of those rungs puts its trained weights and its vocabulary in its result
(and so in `microgpt ladder --json`), under the same parameter names as the
package, except that train3, with one layer and one head, names its block's
matrices without the "layer0." prefix. Built into a Checkpoint, a rung's model
is read by every tool that reads a saved model: the explorer shows the rungs
side by side (`microgpt explore --ladder ladder.json`).
"""

import importlib

from microgpt.config import GPTConfig
from microgpt.errors import MicroGPTError
from microgpt.files.checkpoint import Checkpoint, from_dict
from microgpt.tokenizer import Tokenizer

BLOCK = ("attn_wq", "attn_wk", "attn_wv", "attn_wo", "mlp_fc1", "mlp_fc2")


def rung_checkpoint(result):
    """A ladder result (one rung's) holding weights, as a Checkpoint; None when it holds none."""
    if not isinstance(result, dict) or "weights" not in result or "vocab" not in result:
        return None
    rung = result.get("rung")
    if rung not in (3, 4, 5):
        raise MicroGPTError(f"ladder result of rung {rung!r} holds weights, but only train3 to train5 are GPTs")
    module = importlib.import_module(f"microgpt.ladder.train{rung}")
    weights = {("layer0." + k if k in BLOCK else k): v for k, v in result["weights"].items()}
    chars = result["vocab"]
    config = GPTConfig(len(chars) + 1, module.n_embd, getattr(module, "n_head", 1), getattr(module, "n_layer", 1),
                       module.block_size)
    record = {"steps": result.get("steps"), "seed": result.get("seed"), "val_loss": result.get("val_loss"),
              "ladder_rung": f"train{rung}"}
    ckpt = Checkpoint(config, Tokenizer(chars), weights, {k: v for k, v in record.items() if v is not None})
    return from_dict(ckpt.to_dict(), f"train{rung}")  # the loader's checks: every shape and number
