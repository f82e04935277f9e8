"""Byte-level BPE (bpe.py): what it learns, checked by hand and against an
independent implementation; that it learns from the training split only; that
models trained with it save, load, sample and score as character models do;
and bits per character, counted independently of the tokenizer."""

import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microgpt import api
from microgpt.batches import Documents, TextWindows
from microgpt.bpe import BPETokenizer, learn
from microgpt.data import read_bundled_names
from microgpt.errors import MicroGPTError, UsageError
from microgpt.evaluation import measure
from microgpt.files import checkpoint
from microgpt.sample import stream_text
from microgpt.tokenizer import Tokenizer

SMALL = dict(n_embd=8, n_head=2, n_layer=1, block_size=16, steps=3, engine="scalar")


def test_merges_equal_a_hand_computation():
    # "ab ab ab cd cd" is cut into the chunks "ab", " ab" twice, " cd" twice (a space goes with the word
    # after it). Pair counts: (a,b) 1+2 = 3; (' ',a) 2; (' ',c) 2; (c,d) 2.
    #   merge 1: (a,b) -> 256.                      now (' ',256) 2, (' ',c) 2, (c,d) 2: a three-way tie,
    #   merge 2: (' ',c) -> 257 (32,99) is lowest.  now (' ',256) 2, (257,d) 2 ((c,d) is gone)
    #   merge 3: (' ',256) -> 258 (32 < 257).       then (257,d) -> 259; then no pair occurs twice.
    assert learn(["ab ab ab cd cd"], 1000) == [(97, 98), (32, 99), (32, 256), (257, 100)]
    tok = BPETokenizer.learn(["ab ab ab cd cd"], 1000)
    assert tok.vocab_size == 256 + 4 + 1 and tok.bos == 260
    assert [tok.label(i) for i in (256, 257, 258, 259, 260)] == ["ab", " c", " ab", " cd", "BOS"]
    assert tok.encode("ab ab cd") == [256, 258, 259]
    assert learn(["ab ab ab cd cd"], 258) == [(97, 98)]  # 256 bytes + 1 merge + BOS


def test_overlapping_pairs_are_counted_as_documented():
    # "aaa" holds (a,a) twice: 4 docs of it give 8, more than the 6 of (b,c) in "bcbc" x 3 -- whereas
    # counting only non-overlapping occurrences (4) would merge (b,c) first.
    assert learn(["aaa"] * 4 + ["bcbc"] * 3, 257 + 1) == [(97, 97)]
    assert BPETokenizer.learn(["aaa"] * 4, 258).encode("aaaaa") == [256, 256, 97]  # left to right
    # with a second merge, (aa, a) -> 257, learned from "aaa" = [aa, a]
    assert BPETokenizer.learn(["aaa"] * 4, 300).encode("aaaaa") == [256, 257]


def test_same_data_same_merges():
    names = read_bundled_names().split()[:3000]
    assert learn(names, 400) == learn(list(names), 400)
    assert BPETokenizer.learn(names, 400).to_dict() == BPETokenizer.from_dict(
        json.loads(json.dumps(BPETokenizer.learn(names, 400).to_dict()))).to_dict()


TRAINED = BPETokenizer.learn(["the cat sat on the mat. Der Käse, la crème brûlée, 東京 東京 東京!!\n\n  x_y_z 12 123"],
                             300)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_round_trip_on_any_unicode(s):
    ids = TRAINED.encode(s)
    assert TRAINED.decode(ids) == s
    assert TRAINED.decode_bytes(ids) == s.encode("utf-8")
    assert TRAINED.n_chars(ids) == len(s) and TRAINED.n_bytes(ids) == len(s.encode("utf-8"))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=8), st.integers(257, 320))
def test_learned_on_anything_still_round_trips(texts, vocab):
    try:
        tok = BPETokenizer.learn(texts, vocab)
    except MicroGPTError:  # every text empty
        assert not "".join(texts)
        return
    for t in texts:
        assert tok.decode(tok.encode(t)) == t
    # each merge makes a token of the bytes of both its parts
    for i, (a, b) in enumerate(tok.merges):
        assert tok.token_bytes[256 + i] == tok.token_bytes[a] + tok.token_bytes[b]


def test_a_lone_surrogate_is_one_line():
    with pytest.raises(MicroGPTError, match="lone surrogate"):
        TRAINED.encode("a\ud800")


def test_compression_equals_an_independent_bpe():
    """Hugging Face's `tokenizers` (byte-level BPE, GPT-2's pre-tokenizer) learns the same vocabulary
    size from the same names; the number of tokens the names encode to must agree."""
    hf = pytest.importorskip("tokenizers", reason="the `tokenizers` library (the oracle) is not installed")
    names = read_bundled_names().split()
    for vocab in (300, 512):
        ours = BPETokenizer.learn(names, vocab)
        theirs = hf.Tokenizer(hf.models.BPE())
        theirs.pre_tokenizer = hf.pre_tokenizers.ByteLevel(add_prefix_space=False)
        # theirs has no BOS: one fewer token; min_frequency 2 as ours (a pair seen once is not merged)
        trainer = hf.trainers.BpeTrainer(vocab_size=vocab - 1, min_frequency=2, show_progress=False,
                                         initial_alphabet=hf.pre_tokenizers.ByteLevel.alphabet())
        theirs.train_from_iterator(names, trainer)
        n_ours = sum(len(ours.encode(n)) for n in names)
        n_theirs = sum(len(e.ids) for e in theirs.encode_batch(names))
        assert abs(n_ours / n_theirs - 1) < 0.005, (vocab, n_ours, n_theirs)
        assert n_ours < 0.8 * sum(map(len, names))  # and it does compress


def test_a_text_learns_from_its_training_part_only():
    # 900 characters of "ab " then 100 of "xyz ": the held-out last 10% is exactly the "xyz " part
    text = "ab " * 300 + "xyz " * 25
    source = TextWindows(text, 8, "bpe", 300)
    assert source.tokenizer.decode(source.val) == "xyz " * 25
    merged = source.tokenizer.token_bytes[256:]  # (the bytes themselves are all there, x and y too)
    assert merged and all(b"x" not in t and b"y" not in t for t in merged)
    assert len(source.val) == 100  # one byte, one token: nothing merged
    assert any(b"x" in t for t in TextWindows(text * 2, 8, "bpe", 300).tokenizer.token_bytes[256:])  # control


def test_documents_learn_from_the_training_split_only():
    docs = ["abab"] * 40 + ["qzqzqzqz"]
    seed = next(s for s in range(200) if "qzqzqzqz" in Documents(docs, random.Random(s), 10).val)
    source = Documents(docs, random.Random(seed), 10, "bpe", 300)
    assert "qzqzqzqz" in source.val and "qzqzqzqz" not in source.train
    assert all(b"q" not in t for t in source.tokenizer.token_bytes[256:])
    assert any(b"qz" in t for t in Documents(docs, random.Random(seed), 0, "bpe", 300).tokenizer.token_bytes[256:])


def test_bad_choices_are_one_line():
    with pytest.raises(UsageError, match="at least 257"):
        BPETokenizer.learn(["abc"], 256)
    with pytest.raises(MicroGPTError, match="nothing to learn"):
        BPETokenizer.learn(["", ""], 300)
    with pytest.raises(UsageError, match="--vocab-size is for --tokenizer bpe"):
        Documents(["ab", "cd"], random.Random(0), 0, "char", 300)


@pytest.fixture(scope="module")
def names_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bpe") / "names.txt"
    path.write_text("\n".join(read_bundled_names().split()[:400]) + "\nzoë\nchloé\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bpe_model(names_file, tmp_path_factory):
    run = api.train(str(names_file), tokenizer="bpe", vocab_size=290, val_docs=40, **SMALL)
    out = tmp_path_factory.mktemp("bpe_model") / "m.json"
    run.save(out)
    return run, out


def test_checkpoint_round_trip(bpe_model):
    run, path = bpe_model
    saved = json.loads(path.read_text())
    assert saved["version"] == checkpoint.VERSION == 2 and saved["tokenizer"]["type"] == "bpe"
    assert saved["config"]["vocab_size"] == 256 + len(saved["tokenizer"]["merges"]) + 1 <= 290
    loaded = api.load(path, engine="scalar")
    live = api.Model.of(run)
    assert loaded.tokenizer.merges == run.trainer.tokenizer.merges
    assert loaded.sample(5, seed=3) == live.sample(5, seed=3)
    for text in ("emma", "zoë", "anna-lisa"):
        a, b = loaded.score(text), live.score(text)
        assert a.total == b.total and [r[2] for r in a.rows] == [r[2] for r in b.rows]
        # a position is a token: the rows' next tokens spell the text (a part of a character as \xNN)
        spelled = "".join(r[2] for r in a.rows if r[2] is not None)
        assert spelled == text.replace("ë", "\\xc3\\xab") or spelled == text
    assert loaded.evaluate() == run.val_loss


def test_bits_per_char_count_every_character_and_the_end(bpe_model):
    run, path = bpe_model
    model = api.load(path, engine="scalar")
    ev = model.evaluation()
    val = run.trainer.val_docs
    assert ev.measured.chars == sum(len(d) + 1 for d in val)  # the closing BOS counts as one character
    assert ev.measured.bytes == sum(len(d.encode("utf-8")) + 1 for d in val)
    assert ev.tokens == sum(len(model.tokenizer.encode(d)) + 1 for d in val) < ev.measured.chars
    assert math.isclose(ev.bits_per_char, ev.loss * ev.tokens / math.log(2) / ev.measured.chars)
    s = model.score("zoë")
    assert s.chars == 4 and s.bytes == 5
    assert math.isclose(s.bits_per_char, s.total / math.log(2) / 4)
    assert model.training.val_bits_per_char == pytest.approx(ev.bits_per_char)


def test_a_char_model_bits_per_char_is_its_loss_in_bits(names_file):
    run = api.train(str(names_file), val_docs=40, **SMALL)
    m = run.trainer.validation()
    assert m.tokens == m.chars  # one token, one character (the end included)
    assert math.isclose(m.bits_per_char, run.val_loss / math.log(2))


def test_text_model_streams_whole_characters():
    """Forced to write the bytes of 'é' as two tokens (0xC3, then 0xA9), the stream still yields 'é' whole."""
    tok = BPETokenizer([])
    want = list("éa東".encode("utf-8")) * 10

    class Forced:  # an engine whose next token is always the next of `want`
        config = type("C", (), {"block_size": 64})  # (no refill of the context: one call per token)

        def __init__(self):
            self.n = -1

        def new_cache(self):
            return None

        def next_logits(self, token, pos, cache):
            self.n += 1
            return [10.0 if i == want[self.n % len(want)] else 0.0 for i in range(tok.vocab_size)]

    engine = Forced()  # (the logits after the prefix "\n" ask for want[0])
    pieces = list(stream_text(engine, tok, random.Random(0), 7, temperature=0, prefix="\n"))
    assert pieces == ["\n", "é", "a", "東", "é", "a", "東", "é"]


def test_old_char_checkpoints_still_load(names_file, tmp_path):
    run = api.train(str(names_file), val_docs=40, **SMALL)
    d = run.checkpoint().to_dict()
    d["version"] = 1
    (tmp_path / "old.json").write_text(json.dumps(d))
    old = api.load(tmp_path / "old.json", engine="scalar")
    assert isinstance(old.tokenizer, Tokenizer)
    assert old.sample(3, seed=1) == api.Model.of(run).sample(3, seed=1)
    d["tokenizer"] = {"type": "bpe", "merges": []}
    d["config"]["vocab_size"] = 257
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(MicroGPTError, match="has no BPE tokenizer"):
        checkpoint.load(tmp_path / "bad.json")


@pytest.mark.parametrize("merges, needle", [
    ([[97, 300]], "below 256"), ([[97, 98], [97, 98]], "repeats"), ("ab", "list of merges"), ([[1.5, 2]], "below"),
])
def test_damaged_merges_are_one_line(merges, needle):
    with pytest.raises(MicroGPTError, match=needle):
        BPETokenizer.from_dict({"type": "bpe", "merges": merges})


def test_resume_keeps_the_tokenizer(names_file, tmp_path):
    half = api.plan(data=str(names_file), tokenizer="bpe", vocab_size=290, val_docs=40, **SMALL).train(until=2)
    half.save(tmp_path / "h.json")
    with pytest.raises(UsageError, match="--tokenizer cannot be changed"):
        api.train(resume=str(tmp_path / "h.json"), steps=3, tokenizer="bpe")
    resumed = api.train(resume=str(tmp_path / "h.json"), steps=3)
    whole = api.train(str(names_file), tokenizer="bpe", vocab_size=290, val_docs=40, **SMALL)
    assert resumed.trainer.engine.weights() == whole.trainer.engine.weights()


def test_measure_counts_only_predicted_tokens():
    tok = Tokenizer.from_docs(["abcdef"])

    class Zero:
        config = type("C", (), {"block_size": 3})

        def nll(self, batch):
            return 0.0, sum(min(3, len(t) - 1) for t in batch)

    m = measure(Zero(), tok, [tok.encode_doc("abcdef")])  # block 3 cuts after 'c': 'a', 'b', 'c' predicted
    assert (m.tokens, m.chars) == (3, 3)


def test_the_tokenizer_view_shows_the_merges_train_learns(names_file, capsys):
    from microgpt.cli import main

    assert main(["tokenizer", "--bpe", str(names_file), "--vocab-size", "262", "anna"]) == 0
    out = capsys.readouterr().out
    docs = names_file.read_text(encoding="utf-8").split()
    train = Documents(docs, random.Random(42), None).train  # the split train makes with its default seed
    expected = learn(train, 262)
    tok = BPETokenizer(expected)
    shown = [line.strip() for line in out.splitlines() if " + " in line and "->" in line]
    assert len(expected) == 5 and shown == [f"{256 + i}: {chr(a) if a < 128 else tok.label(a)!r} + "
                                            f"{chr(b) if b < 128 else tok.label(b)!r} -> {tok.label(256 + i)!r}"
                                            for i, (a, b) in enumerate(expected)]
    assert f"encode 'anna' -> {len(tok.encode('anna'))} tokens" in out
    assert all(f"={i}" in out for i in tok.encode("anna"))


def test_train_prints_bits_per_char_for_both_tokenizers(names_file, tmp_path, capsys):
    from microgpt.cli import main

    for kind in ("char", "bpe"):
        argv = ["train", "--data", str(names_file), "--steps", "2", "--n-embd", "8", "--val-docs", "40",
                "--samples", "2", "--tokenizer", kind, "--out", str(tmp_path / f"{kind}.json")]
        assert main(argv) == 0
        out = capsys.readouterr().out
        line = next(x for x in out.splitlines() if x.startswith("val loss"))
        assert main(["eval", str(tmp_path / f"{kind}.json")]) == 0
        again = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("val loss"))
        assert " bits/char | " in line and line.split(" (")[0] == again.split(" (")[0]
