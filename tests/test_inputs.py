"""Inputs are regular files, read with a size bound; a byte-order mark is not text.

A FIFO or a device as --data, --text, a checkpoint, a run log or a file to
score used to wait forever (or read /dev/zero until MemoryError). Each case
runs in a subprocess with a timeout, so a regression fails instead of hanging.
"""

import json
import os
import subprocess
import sys

import pytest

from microgpt import data
from microgpt.cli import main
from microgpt.errors import MicroGPTError
from microgpt.files import checkpoint, inputs
from microgpt.tokenizer import Tokenizer

DOCS = "ab\nba\naab\nbba\nabab\nbaba\naa\nbb\naba\nbab\nabba\nbaab\n" * 3


def cli(*argv, timeout=60, cwd=None):
    env = {k: v for k, v in os.environ.items() if k != "MICROGPT_DATA"}
    p = subprocess.run([sys.executable, "-m", "microgpt", *map(str, argv)], capture_output=True, text=True,
                       timeout=timeout, env=env, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def one_line(err):
    return len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inputs")
    (tmp / "docs.txt").write_text(DOCS)
    model = tmp / "m.json"
    rc, _, err = cli("train", "--data", tmp / "docs.txt", "--steps", "2", "--n-embd", "8", "--n-head", "2",
                     "--block-size", "8", "--out", model, "--samples", "0")
    assert rc == 0, err
    os.mkfifo(tmp / "fifo")
    return tmp


FIFO_CASES = [
    (["train", "--data", "{fifo}", "--steps", "1"], "data file"),
    (["train", "--text", "{fifo}", "--steps", "1"], "text file"),
    (["info", "{fifo}"], "checkpoint"),
    (["sample", "{fifo}"], "checkpoint"),
    (["train", "--resume", "{fifo}"], "checkpoint"),
    (["score", "{model}", "--file", "{fifo}"], "data file"),
    (["eval", "{model}", "--data", "{fifo}"], "data file"),
    (["plot", "{fifo}"], "run log"),
    (["tokenizer", "--data", "{fifo}"], "data file"),
]


@pytest.mark.parametrize("argv, what", FIFO_CASES, ids=[" ".join(a[:2]) for a, _ in FIFO_CASES])
def test_a_fifo_is_refused_not_waited_on(files, argv, what):
    args = [a.format(fifo=files / "fifo", model=files / "m.json") for a in argv]
    rc, _, err = cli(*args, timeout=30)
    assert rc == 1 and one_line(err), err
    assert f"{what} {files / 'fifo'} is a FIFO (named pipe), not a regular file" in err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
@pytest.mark.parametrize("argv", [["info", "/dev/zero"], ["sample", "/dev/zero"], ["train", "--data", "/dev/zero"],
                                  ["train", "--text", "/dev/zero"], ["plot", "/dev/zero"]])
def test_a_device_is_refused_at_once(argv):
    rc, _, err = cli(*argv, timeout=30)
    assert rc == 1 and one_line(err), err
    assert "/dev/zero is a character device, not a regular file" in err


def test_a_link_to_a_regular_file_is_read(tmp_path):
    (tmp_path / "docs.txt").write_text(DOCS)
    os.symlink(tmp_path / "docs.txt", tmp_path / "link.txt")
    assert data.read_docs(tmp_path / "link.txt") == data.read_docs(tmp_path / "docs.txt")


def test_reading_stops_at_the_bound(tmp_path):
    p = tmp_path / "big.txt"
    p.write_bytes(b"a" * 5000)
    assert inputs.read_bytes(p, "data file", 5000) == b"a" * 5000
    with pytest.raises(MicroGPTError, match="more than the 4.88 KiB microgpt reads"):
        inputs.read_bytes(p, "data file", 4999)


def test_a_file_that_grows_while_read_is_read_on_to_the_bound(tmp_path):
    p = tmp_path / "growing.txt"
    p.write_bytes(b"x" * 10)
    with inputs.open_regular(p, "data file") as f:
        with open(p, "ab") as g:  # grows after its size was taken
            g.write(b"y" * 100)
        got = inputs.read_at_most(f, 50, p, "data file")
    assert got == b"x" * 10 + b"y" * 40


def test_the_data_limit_is_checked_before_reading(tmp_path, monkeypatch):
    p = tmp_path / "d.txt"
    p.write_text(DOCS)
    monkeypatch.setattr(data, "MAX_DATA_BYTES", 10)
    with pytest.raises(MicroGPTError, match="more than the 1 GiB this trainer reads"):
        data.read_docs(p)


# ---- a byte-order mark is not a character of the text


BOM = "\ufeff"


def test_a_bom_is_not_a_vocabulary_character(tmp_path):
    plain, marked = tmp_path / "plain.txt", tmp_path / "marked.txt"
    plain.write_text(DOCS, encoding="utf-8")
    marked.write_bytes(BOM.encode("utf-8") + DOCS.encode("utf-8"))
    docs = data.read_docs(marked)
    assert docs == data.read_docs(plain)  # nothing else changes
    assert BOM not in Tokenizer.from_docs(docs).chars
    assert data.fingerprint(docs) == data.fingerprint(data.read_docs(plain))
    assert data.read_text(marked, what="text file") == data.read_text(plain, what="text file")


def test_only_a_leading_bom_is_dropped(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text(BOM + "ab\nb" + BOM + "a\n", encoding="utf-8")
    assert data.read_docs(p) == ["ab", "b" + BOM + "a"]  # one inside the text is the text's


def test_training_on_a_file_with_a_bom_gives_the_same_model(tmp_path):
    plain, marked = tmp_path / "plain.txt", tmp_path / "marked.txt"
    plain.write_text(DOCS)
    marked.write_bytes(BOM.encode() + DOCS.encode())
    for src in (plain, marked):
        assert main(["train", "--data", str(src), "--steps", "2", "--n-embd", "8", "--n-head", "2",
                     "--block-size", "8", "--out", str(tmp_path / f"{src.stem}.json"), "--samples", "0"]) == 0
    a, b = checkpoint.load(tmp_path / "plain.json"), checkpoint.load(tmp_path / "marked.json")
    assert a.tokenizer.chars == b.tokenizer.chars == ["a", "b"]
    assert a.weights == b.weights


def test_score_file_with_a_bom(files, tmp_path, capsys):
    strings = tmp_path / "strings.txt"
    strings.write_bytes(BOM.encode() + b"ab\nba\n")
    assert main(["score", str(files / "m.json"), "--file", str(strings), "--brief"]) == 0
    out = capsys.readouterr().out
    assert "'ab': NLL" in out and "'ba': NLL" in out


def test_checkpoint_and_run_log_with_a_bom(files, tmp_path, capsys):
    ck = tmp_path / "bom.json"
    ck.write_bytes(BOM.encode() + (files / "m.json").read_bytes())
    assert checkpoint.load(ck).weights == checkpoint.load(files / "m.json").weights
    log = tmp_path / "run.jsonl"
    log.write_bytes(BOM.encode() + b'{"step": 1, "loss": 3.0}\n{"step": 2, "loss": 2.5}\n')
    pytest.importorskip("matplotlib")
    assert main(["plot", str(log), "--out", str(tmp_path / "loss.png")]) == 0


def test_a_safetensors_checkpoint_is_read_through_the_same_door(files, tmp_path):
    pytest.importorskip("safetensors")
    ck = checkpoint.load(files / "m.json")
    st = tmp_path / "m.safetensors"
    ck.save(st)
    assert checkpoint.load(st).weights == ck.weights
    os.mkfifo(tmp_path / "f.safetensors")
    rc, _, err = cli("info", tmp_path / "f.safetensors", timeout=30)
    assert rc == 1 and "FIFO" in err and one_line(err)


def test_a_json_number_too_long_to_read_is_one_line(files, tmp_path):
    d = json.loads((files / "m.json").read_text())
    text = json.dumps(d).replace(repr(d["weights"]["wte"][0][0]), "9" * 5000, 1)
    (tmp_path / "long.json").write_text(text)
    rc, _, err = cli("info", tmp_path / "long.json")
    assert rc == 1 and one_line(err) and "too long to read" in err
