"""docs/errata.md: every command in it still parses, and the key numbers still hold.

The cheap numbers are recomputed here, each against an independent oracle:
the parameter count by hand from the config, the graph's node count with the
ladder's own train5 (its own Value class and model code), the copies among
the reference run's 20 samples by plain set membership after train0's
shuffle and split. The slow commands (bench, the full ladder) are only parsed.
"""
import random
import re
import shlex
from pathlib import Path

import pytest

from microgpt.cli import build_parser, main
from microgpt.ladder import build_parser as ladder_parser
from microgpt.ladder import train0, train5

ERRATA = Path(__file__).resolve().parents[1] / "docs" / "errata.md"
TEXT = ERRATA.read_text(encoding="utf-8")
COMMANDS = [shlex.split(line[len("$ microgpt "):]) for line in TEXT.splitlines() if line.startswith("$ microgpt ")]


def test_errata_lists_commands():
    assert {argv[0] for argv in COMMANDS} >= {"parameters", "train", "graph", "sample", "bench", "ladder"}


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_every_command_parses(argv):
    if argv[0] == "ladder":
        ladder_parser().parse_args(argv[1:])
    else:
        assert build_parser().parse_args(argv).command == argv[0]


def test_parameter_count(capsys):
    n_embd, block_size, vocab = 16, 16, 27
    by_hand = 2 * vocab * n_embd + block_size * n_embd + 4 * n_embd * n_embd + 2 * 4 * n_embd * n_embd
    assert main(["parameters"]) == 0
    printed = capsys.readouterr().out
    assert f"total: {by_hand:,} parameters" in printed and f"total: {by_hand:,} parameters" in TEXT
    assert by_hand == 4192


def nodes_in_one_token_loss():
    """Every Value the loss of BOS -> 'a' at position 0 depends on, in train5's own code."""
    sd = train5.init_params(random.Random(0), 27)
    keys, values = [[] for _ in range(train5.n_layer)], [[] for _ in range(train5.n_layer)]
    loss = -train5.softmax(train5.gpt(sd, 26, 0, keys, values))[0].log()
    seen, stack = {id(loss)}, [loss]
    while stack:
        for child in stack.pop()._children:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def test_value_node_count(tmp_path, monkeypatch, capsys):
    # Any data with the 26 letters gives the default model's vocabulary of 27; a short file trains fast.
    letters = "abcdefghijklmnopqrstuvwxyz"
    (tmp_path / "d.txt").write_text("\n".join([letters] + [letters[i:i + 5] for i in range(20)]) + "\n")
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data", "d.txt", "--steps", "1", "--samples", "0", "--out", "m1.json"]) == 0
    assert main(["graph", "--model", "m1.json", "--out", "g.dot"]) == 0
    printed = capsys.readouterr().out
    oracle = nodes_in_one_token_loss()
    assert f"wrote g.dot ({oracle} nodes)" in printed and f"wrote g.dot ({oracle} nodes)" in TEXT
    assert oracle == 11223


def test_copies_among_the_reference_samples(names_path, reference):
    """The 20 names of the default run (the reference file, which `microgpt train` reproduces), looked up
    in the training split that run used: train0's shuffle with seed 42, the last 1000 held out."""
    docs = [line.strip() for line in names_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(42).shuffle(docs)
    train_docs, val_docs = map(set, train0.split(docs))
    _, samples = reference
    copies = sum(s in train_docs for s in samples)
    only_val = sum(s in val_docs - train_docs for s in samples)  # a name in both splits counts as in train
    assert (copies, only_val, len(samples)) == (11, 0, 20)
    assert f"{20 - copies} new, {copies} in train, 0 in val of 20 samples" in TEXT


def test_ladder_numbers_in_errata_come_from_a_class_run():
    """Section 4 quotes `microgpt ladder --class`: its claim lines have the runner's own format."""
    lines = re.findall(r"^claim: .* — (?:holds|does not hold|not checked|within the noise)", TEXT, re.M)
    assert len(lines) >= 2
