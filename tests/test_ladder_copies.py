"""The ladder's rungs are standalone files, so each carries its own copy of what it
shares with the rung before (load_docs, split, Value, linear, softmax, rmsnorm, ...).
A fix made in one copy and missed in the others would drift silently: here every
top-level definition two neighbouring rungs share must be identical, except those
the later rung changes on purpose, which are listed with the idea that changes them.
"""

import ast
from pathlib import Path

import pytest

LADDER = Path(__file__).resolve().parents[1] / "src" / "microgpt" / "ladder"

# rung k+1: {definition: why it differs from rung k's}
CHANGED = {
    1: {"DEFAULT_STEPS": "SGD needs steps where counting needs one pass",
        "evaluate": "a model's loss instead of a count table's",
        "run": "the training loop replaces counting", "main": "--steps counts SGD steps, not documents"},
    2: {"softmax": "on Values", "init_params": "Values instead of floats",
        "mlp": "on Values, no hand-written backward", "evaluate": "reads .data of Values",
        "run": "the cycle collector is paused while Value graphs are built", "train": "loss.backward() instead of hand gradients"},
    3: {"init_params": "position embeddings, attention and RMSNorm weights",
        "evaluate": "the GPT with a KV cache instead of the MLP", "train": "the GPT with a KV cache"},
    4: {"init_params": "one set of attention weights per layer", "gpt": "several heads and a loop over layers",
        "evaluate": "the GPT's signature over layers", "train": "the GPT's signature over layers"},
    5: {"train": "Adam with linear decay instead of SGD"},
}


def definitions(rung):
    """Each top-level function, class and single-name assignment of train{rung}.py, as its source text."""
    src = (LADDER / f"train{rung}.py").read_text(encoding="utf-8")
    out = {}
    for node in ast.parse(src).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out[node.name] = ast.get_source_segment(src, node)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.get_source_segment(src, node)
    return out


def differing(before, after):
    return {name for name in set(before) & set(after) if before[name] != after[name]}


@pytest.mark.parametrize("rung", sorted(CHANGED))
def test_what_a_rung_shares_with_the_one_before_is_the_same_text(rung):
    before, after = definitions(rung - 1), definitions(rung)
    assert differing(before, after) - set(CHANGED[rung]) == set(), "copies that drifted apart"
    # and what is listed as changed does change, so the list stays true
    assert set(CHANGED[rung]) - differing(before, after) == set()


def test_the_shared_blocks_are_the_ones_that_matter():
    """Value is one text from train2 to train5; linear, softmax, load_docs and split travel too."""
    for rung in range(3, 6):
        shared = set(definitions(rung - 1)) & set(definitions(rung))
        assert {"Value", "linear", "softmax", "load_docs", "split"} <= shared - differing(
            definitions(rung - 1), definitions(rung))


def test_a_drifted_copy_is_caught():
    before, after = definitions(3), definitions(4)
    after["Value"] = after["Value"].replace("self.grad = 0", "self.grad = 0.0", 1)
    assert after["Value"] != before["Value"]
    assert "Value" in differing(before, after) - set(CHANGED[4])
