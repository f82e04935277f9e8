"""Continuous text (--text FILE): a positional split, seeded random windows,
training in any engine, resume, sampling that runs past block_size, and a
held-out loss that scores every held-out character once, whatever the tokenizer."""

import json
import math
import random
import re

import pytest

from microgpt import forward, training
from microgpt.api import load
from microgpt.batches import held_out_windows, random_windows, split_text, tile
from microgpt.cli import main
from microgpt.config import TrainConfig
from microgpt.data import read_text
from microgpt.errors import MicroGPTError, UsageError
from microgpt.evaluation import spread
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
    tiles = tile(list(range(50)), 8)
    assert [w[0] for w in tiles] == [0, 8, 16, 24, 32, 40, 48] and all(len(w) == 9 for w in tiles[:-1])
    assert tiles[-1] == [48, 49]  # the ids ran out: a shorter last window


@pytest.mark.parametrize("n_val", [1, 2, 7, 8, 9, 16, 17, 50])
@pytest.mark.parametrize("block", [1, 3, 8])
def test_held_out_windows_predict_every_validation_id_once(n_val, block):
    """Every window's first id is context; the ids after it, over all windows, are
    the validation ids in order, each once; the first is conditioned on the last
    training id. Ids are distinct numbers, so a repeat or a gap would show."""
    train, val = list(range(100)), list(range(1000, 1000 + n_val))
    windows = held_out_windows(train, val, block)
    assert windows[0][0] == 99
    assert [t for w in windows for t in w[1:]] == val
    assert all(2 <= len(w) <= block + 1 for w in windows)
    assert all(w[0] == prev[-1] for prev, w in zip(windows, windows[1:]))  # context: the id just before
    assert held_out_windows(train, [], block) == []


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
    printed = capsys.readouterr().out
    n = len(read_text(text_file)) - 1  # every character but the first, which is context only
    assert "all of" in printed and f"{n:,} tokens, {n:,} characters" in printed


def test_eval_of_a_text_with_nothing_held_out_is_one_line(tmp_path, capsys):
    path, out = tmp_path / "short.txt", tmp_path / "m.json"
    path.write_text("abcab\n")  # 10% of 6 characters is none
    assert main(["train", "--text", str(path), "--block-size", "2", "--n-embd", "4", "--n-head", "1",
                 "--steps", "1", "--samples", "0", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["eval", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has nothing to predict" in err[0]


# ---- the held-out loss covers every held-out character, whatever the tokenizer

def accented_text():
    """make_text with characters of two and three UTF-8 bytes, so a BPE token may hold part of one."""
    return make_text(120, seed=3).replace("cat", "café").replace("dog", "dög—")


def held_out_chars(text):
    """The last 10% of a text, by character: counted here, not taken from batches.py."""
    return text[len(text) - len(text) // 10 :]


@pytest.mark.parametrize("tokenizer", [{"tokenizer": "char"}, {"tokenizer": "bpe", "vocab_size": 300}])
def test_scored_characters_are_the_held_out_characters(tokenizer):
    """The predicted tokens spell exactly the held-out text: as many characters and
    bytes, and (decoded) the same string, for characters and for BPE."""
    text = accented_text()
    trainer = Trainer(text=text, n_embd=8, n_head=2, n_layer=1, block_size=8, train_config=TrainConfig(steps=1),
                      engine="fused", **tokenizer)
    held = held_out_chars(text)
    measured = trainer.validation()
    assert measured.chars == len(held) and measured.bytes == len(held.encode())
    assert not measured.sampled and measured.counts() == f"{measured.tokens:,} tokens, {len(held):,} characters"
    windows = trainer.source.val_batch(8)
    predicted = [t for w in windows for t in w[1:]]
    assert measured.tokens == len(predicted)
    assert trainer.tokenizer.decode(predicted) == held
    if tokenizer["tokenizer"] == "bpe":
        assert measured.tokens < len(held)  # merges were learned and used: fewer tokens than characters


def test_full_coverage_loss_is_the_sum_over_every_held_out_character():
    """The held-out loss (fused engine) equals an explicit sum, computed position by
    position with the float forward (forward.py), of -log p(character | the characters
    before it since the start of its window) over every held-out character. Window k
    of block_size B starts at the character before held-out character k*B."""
    text, block = make_text(60, seed=5), 8
    trainer = Trainer(text=text, n_embd=8, n_head=2, n_layer=2, block_size=block,
                      train_config=TrainConfig(steps=20, batch_size=4), engine="fused")
    trainer.run()
    measured = trainer.validation()
    weights, config, tok = trainer.engine.weights(), trainer.config, trainer.tokenizer
    start = len(text) - len(held_out_chars(text))  # the first held-out character
    total, n = 0.0, 0
    for j in range(start, len(text)):
        context = text[start - 1 + (j - start) // block * block : j]
        logits = forward.sequence_logits(weights, config, tok.encode(context))[-1]
        total += -math.log(forward.softmax(logits)[tok.stoi[text[j]]])
        n += 1
    assert n == measured.tokens == measured.chars
    assert measured.total == pytest.approx(total, rel=1e-12)


def held_out_count(line):
    """(tokens, characters) from '... (..: 1,234 tokens, 1,234 characters...)'."""
    m = re.search(r"([\d,]+) tokens, ([\d,]+) characters", line)
    return tuple(int(x.replace(",", "")) for x in m.groups())


@pytest.mark.parametrize("tokenizer", [["--tokenizer", "char"], ["--tokenizer", "bpe", "--vocab-size", "300"]])
def test_train_eval_and_api_print_the_count_they_scored(tmp_path, capsys, tokenizer):
    """train's line, eval's line and the API's Evaluation say every held-out character
    was scored, and the tokens and characters they say are the ones scored."""
    path, out = tmp_path / "book.txt", tmp_path / "m.json"
    text = accented_text()
    path.write_text(text, encoding="utf-8")
    assert main(["train", "--text", str(path), "--block-size", "8", "--n-embd", "8", "--n-head", "2",
                 "--steps", "2", "--samples", "0", "--out", str(out), *tokenizer]) == 0
    trained = [line for line in capsys.readouterr().out.splitlines() if line.startswith("val loss")]
    assert main(["eval", str(out)]) == 0
    evaluated = [line for line in capsys.readouterr().out.splitlines() if line.startswith("val loss")]
    evaluation = load(out).evaluation()
    n_held = len(held_out_chars(text))
    assert "(the held-out last 10%: " in trained[0]
    assert held_out_count(trained[0]) == held_out_count(evaluated[0]) == (evaluation.tokens, n_held)
    assert evaluation.chars == n_held == evaluation.measured.chars
    windows = evaluation.held_out.batch
    assert sum(len(w) - 1 for w in windows) == evaluation.tokens
    assert f"({len(windows):,} windows, " in evaluated[0]


def test_eval_every_on_a_long_text_is_a_labelled_sample(tmp_path, capsys, monkeypatch):
    """--eval-every reads about EVAL_EVERY_TOKENS held-out tokens and says 'sampled N of M
    characters' (M every held-out character); the log records N and M; the final
    validation reads them all."""
    monkeypatch.setattr(training, "EVAL_EVERY_TOKENS", 100)
    path, log = tmp_path / "book.txt", tmp_path / "log.jsonl"
    text = make_text(200)
    path.write_text(text)
    n_held = len(held_out_chars(text))
    assert main(["train", "--text", str(path), "--block-size", "8", "--n-embd", "8", "--n-head", "2",
                 "--steps", "4", "--eval-every", "2", "--samples", "0", "--log", str(log),
                 "--out", str(tmp_path / "m.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    periodic = [line for line in lines if line.startswith("step ") and "val loss" in line]
    assert len(periodic) == 2
    records = [r for r in map(json.loads, log.read_text().splitlines()) if "val_loss" in r]
    for line, record in zip(periodic, records):
        n = record["val_chars"]
        assert f"(sampled {n:,} of {n_held:,} characters)" in line and record["val_chars_of"] == n_held
        assert 100 - 8 < n <= 100  # whole windows of 8 predictions, about 100 of them
    final = next(line for line in lines if line.startswith("val loss"))
    assert held_out_count(final) == (n_held, n_held)


def test_spread_takes_evenly_spaced_lists_of_about_n_tokens():
    windows = [[i] * 9 for i in range(100)]  # 100 windows of 8 predictions; the first id names each
    picked = spread(windows, 8, 80)
    assert [w[0] for w in picked] == list(range(0, 100, 10))  # 10 windows, one in ten
    assert spread(windows, 8, 80) == picked  # the same each time
    assert spread(windows, 8, 800) is windows and len(spread(windows, 8, 3)) == 1
