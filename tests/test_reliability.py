"""Bad input to the newer parts ends in one line and an exit status, never a
traceback or a wait without end; each case once failed that way."""

import os
import subprocess
import sys

import pytest

import microgpt
from microgpt.cli import main
from microgpt.errors import UsageError

TINY = ["--n-embd", "8", "--n-head", "2", "--block-size", "8"]


def one_line_error(capsys, code, needle, expected=2):
    out, err = capsys.readouterr()
    assert code == expected, err
    assert err.count("\n") == 1 and "Traceback" not in err and needle in err, err
    return err


@pytest.fixture(scope="module")
def bpe_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("bpe") / "bpe.json"
    assert main(["train", "--steps", "2", "--tokenizer", "bpe", "--vocab-size", "300", *TINY, "--out", str(out),
                 "--samples", "0"]) == 0
    return out


def test_the_tokenizer_view_of_a_bpe_model_shows_its_merges(bpe_model, capsys):
    capsys.readouterr()
    assert main(["tokenizer", "--model", str(bpe_model), "emma"]) == 0
    out = capsys.readouterr().out
    assert "byte-level BPE of the model" in out and "decode -> 'emma'" in out


def test_diff_of_a_fifo_is_refused_at_once(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    log = tmp_path / "run.jsonl"
    log.write_text('{"step": 1, "loss": 3.0}\n')
    one_line_error(capsys, main(["diff", str(fifo), str(log)]), "FIFO (named pipe), not a regular file")


@pytest.mark.parametrize("flag", ["--data", "--text", "--out", "--log", "--resume"])
def test_an_empty_path_is_refused_not_taken_for_the_default(flag, capsys):
    one_line_error(capsys, main(["train", flag, "", "--steps", "1"]), f"{flag} is empty")


def test_the_api_refuses_engine_options_that_are_not_a_dict():
    with pytest.raises(UsageError, match="engine_options must be a dict"):
        microgpt.train(engine_options="x", steps=1)


def test_a_diff_of_a_fifo_does_not_hang_as_a_process(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "microgpt", "diff", str(fifo), str(fifo)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.fixture
def bad_data(tmp_path):
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "binary.dat").write_bytes(b"\x00\xfd\xff" * 100)
    return tmp_path


@pytest.mark.parametrize("name, needle", [("folder", "is a directory"), ("fifo", "FIFO (named pipe)"),
                                          ("binary.dat", "looks binary")])
def test_the_ladder_refuses_bad_data_as_train_does(bad_data, capsys, name, needle):
    path = str(bad_data / name)
    one_line_error(capsys, main(["ladder", "0", "--steps", "1", "--data", path]), needle, expected=1)
    train_err = one_line_error(capsys, main(["train", "--data", path, "--steps", "1"]), needle, expected=1)
    assert needle in train_err


@pytest.mark.parametrize("argv, needle", [
    (["--configs", ""], "--configs is empty"),
    (["--engines", ","], "--engines is empty"),
    (["--engines", "numpy", "--dtype", "bfloat16"], "--dtype is an option of the torch engine"),
    (["--threads", str((os.cpu_count() or 1) + 1)], "more than this machine's"),
])
def test_bench_refuses_what_it_would_silently_ignore(argv, needle, capsys):
    one_line_error(capsys, main(["bench", *argv]), needle)
