"""Continuous text (--text FILE): a positional split, seeded random windows,
training in any engine, resume, and sampling that runs past block_size."""

import json
import random

import pytest

from microgpt.cli import main
from microgpt.config import TrainConfig
from microgpt.errors import MicroGPTError, UsageError
from microgpt.batches import random_windows, split_text, val_windows
from microgpt.data import read_text
from microgpt.sample import generate_text
from microgpt.training import Trainer


def make_text(n_lines=300, seed=1):
    """A small generated 'book': lines of words from a tiny vocabulary."""
    rng = random.Random(seed)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"]
    return "\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(3, 8))) for _ in range(n_lines)) + "\n"


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text(make_text())
    return path


def test_split_is_by_position():
    ids = list(range(1000))
    train, val = split_text(ids, block_size=8)
    assert train == list(range(900)) and val == list(range(900, 1000))
    with pytest.raises(UsageError, match="block_size"):
        split_text(list(range(20)), block_size=32)


def test_windows_are_seeded_and_inside_the_part():
    ids = list(range(100))
    a = random_windows(ids, 5, 8, random.Random(0))
    assert a == random_windows(ids, 5, 8, random.Random(0))
    assert a != random_windows(ids, 5, 8, random.Random(1))
    for w in a:
        assert len(w) == 9 and w == list(range(w[0], w[0] + 9))  # contiguous
    tiles = val_windows(list(range(50)), 8)
    assert [w[0] for w in tiles] == [0, 8, 16, 24, 32, 40] and all(len(w) == 9 for w in tiles)
    assert len(val_windows(list(range(10_000)), 8, limit=7)) == 7


def test_read_text_keeps_newlines_and_refuses_binary(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes(b"a b\r\nc\n\n  d\n")
    assert read_text(p) == "a b\nc\n\n  d\n"
    p.write_bytes(b"ab\x00c")
    with pytest.raises(MicroGPTError, match="binary"):
        read_text(p)


def test_trains_the_same_in_scalar_and_torch(text_file):
    """A window is a token list, so any engine trains on it; float64 torch follows
    the scalar engine to 1e-9 (seen ~1e-15) over 3 steps of 4 windows."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # tiny tensors: extra threads only wait
    text = read_text(text_file)
    tc = TrainConfig(steps=3, batch_size=4)
    runs = {}
    for engine, opts in [("scalar", {}), ("torch", {"device": "cpu", "dtype": "float64"})]:
        trainer = Trainer(text=text, n_embd=8, n_head=2, n_layer=1, block_size=12, train_config=tc, engine=engine,
                              engine_options=opts)
        trainer.run()
        runs[engine] = trainer
    s, t = runs["scalar"], runs["torch"]
    assert s.tokens == 3 * 4 * 12
    assert max(abs(a - b) for a, b in zip(s.losses, t.losses)) <= 1e-9
    assert abs(s.val_loss() - t.val_loss()) <= 1e-9
    assert "\n" in s.tokenizer.chars and s.tokenizer.bos == len(s.tokenizer.chars)


def test_generation_runs_past_the_context():
    """block_size 8, 40 characters: the context is refilled several times; BOS is never drawn."""
    text = make_text(50)
    trainer = Trainer(text=text, n_embd=8, n_head=2, n_layer=1, block_size=8, train_config=TrainConfig(steps=1),
                      engine="scalar")
    out = generate_text(trainer.engine, trainer.tokenizer, random.Random(0), 40, temperature=1.0, prefix="\n")
    assert out.startswith("\n") and len(out) == 41
    assert set(out) <= set(trainer.tokenizer.chars)
    again = generate_text(trainer.engine, trainer.tokenizer, random.Random(0), 40, temperature=1.0, prefix="\n")
    assert out == again
    greedy = generate_text(trainer.engine, trainer.tokenizer, random.Random(0), 20, temperature=0, prefix="the ")
    assert greedy.startswith("the ") and len(greedy) == 24


def test_cli_train_resume_and_sample(tmp_path, text_file, capsys):
    """--text end to end in the scalar engine: 4 steps in one go equal 2 + resume 2
    (windows come from the saved RNG state), and `sample` writes passages."""
    common = ["--text", str(text_file), "--block-size", "12", "--n-embd", "8", "--n-head", "2",
              "--batch-size", "2", "--schedule", "constant", "--samples", "0"]
    assert main(["train", *common, "--steps", "4", "--out", str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr().out
    assert "windows of 13" in out and "val loss" in out
    assert main(["train", *common, "--steps", "2", "--out", str(tmp_path / "b.json")]) == 0
    assert main(["train", "--resume", str(tmp_path / "b.json"), "--steps", "4", "--samples", "0"]) == 0
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert a["training"]["format"] == b["training"]["format"] == "text"
    assert a["weights"] == b["weights"]  # bit for bit: the scalar engine and the same windows
    capsys.readouterr()
    assert main(["sample", str(tmp_path / "a.json"), "-n", "2", "--chars", "30"]) == 0
    out = capsys.readouterr().out
    assert out.count("--- sample") == 2
    assert main(["train", "--text", str(text_file), "--data", str(text_file), "--steps", "1"]) == 2


def test_eval_of_a_text_model(tmp_path, text_file, capsys):
    """`microgpt eval` on a --text model reads windows of the held-out part and
    finds the val loss training recorded; --data FILE evaluates all of a file."""
    out = tmp_path / "m.json"
    assert main(["train", "--text", str(text_file), "--block-size", "12", "--n-embd", "8", "--n-head", "2",
                 "--steps", "3", "--samples", "0", "--out", str(out)]) == 0
    recorded = json.loads(out.read_text())["training"]["val_loss"]
    capsys.readouterr()
    assert main(["eval", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"val loss {recorded:.4f}" in printed and "windows" in printed
    assert main(["eval", str(out), "--data", str(text_file)]) == 0
    assert "all of" in capsys.readouterr().out
