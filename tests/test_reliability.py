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


# ---- one rule for overwriting: ours only if it reads, as a whole, as the kind we write


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    data = folder / "names.txt"
    data.write_text("emma\nolivia\nava\nisabella\nsophia\nmia\n" * 20)
    return microgpt.train(data=str(data), steps=2, n_embd=8, n_head=2, block_size=8, out=str(folder / "m.json"))


def test_a_file_quoting_a_checkpoint_is_not_one(tmp_path, capsys):
    notes = tmp_path / "notes.md"
    notes.write_text('To check: {"format": "microgpt", "version": 2} is how a checkpoint starts.\n')
    one_line_error(capsys, main(["train", "--steps", "1", *TINY, "--out", str(notes)]), "--force")
    assert notes.read_text().startswith("To check")


@pytest.mark.parametrize("argv, content", [
    (["ladder", "0", "--steps", "1", "--json", "{out}"], '{"results": [], "mine": true}'),
    (["bench", "--configs", "default", "--engines", "fused", "--steps", "1", "--json", "{out}"], '{"rows": [1]}'),
    (["train", "--steps", "1", *TINY, "--out", "{tmp}/m.json", "--log", "{out}"],
     '{"step": 1, "note": "my own experiment"}\n'),
])
def test_results_and_logs_of_another_tool_are_not_ours(tmp_path, capsys, argv, content):
    out = tmp_path / "theirs.json"
    out.write_text(content)
    code = main([a.format(out=out, tmp=tmp_path) for a in argv])
    out_err = capsys.readouterr()
    assert code == 2 and "--force" in out_err.err and "Traceback" not in out_err.err
    assert out.read_text() == content


def test_our_own_results_and_logs_are_replaced(tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    for _ in range(2):  # the second run replaces the first one's log
        assert main(["train", "--steps", "2", *TINY, "--out", str(tmp_path / "m.json"), "--log", str(log),
                     "--eval-every", "1", "--samples", "0", "--force"]) == 0
    assert main(["ladder", "0", "--steps", "1", "--json", str(tmp_path / "l.json")]) == 0
    assert main(["ladder", "0", "--steps", "1", "--json", str(tmp_path / "l.json")]) == 0
    text = tmp_path / "long.txt"  # a text's validation records (a labelled sample) are ours too
    text.write_text("the cat sat on the mat and the dog ate the hat. " * 4000)  # held out: > 16,384 chars
    for _ in range(2):
        assert main(["train", "--text", str(text), "--steps", "2", *TINY, "--out", str(tmp_path / "t.json"),
                     "--log", str(tmp_path / "t.jsonl"), "--eval-every", "1", "--samples", "0", "--engine",
                     "numpy"]) == 0
    assert "val_chars_of" in (tmp_path / "t.jsonl").read_text()


def test_a_png_microgpt_did_not_draw_is_not_replaced(tmp_path, capsys, small_run):
    pytest.importorskip("matplotlib")
    log = tmp_path / "run.jsonl"
    log.write_text('{"step": 1, "loss": 3.0}\n{"step": 2, "loss": 2.5}\n')
    theirs = tmp_path / "photo.png"
    theirs.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    one_line_error(capsys, main(["plot", str(log), "--out", str(theirs)]), "--force")
    assert theirs.read_bytes().endswith(b"\x00" * 100)
    ours = tmp_path / "loss.png"
    for _ in range(2):  # a picture microgpt drew is replaced
        assert main(["plot", str(log), "--out", str(ours)]) == 0


def test_the_api_saves_by_the_same_rule(small_run, tmp_path):
    data = small_run.data_path
    before = data.read_text()
    with pytest.raises(UsageError, match="is the training data"):
        small_run.save(str(data))
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(UsageError, match="force=True"):
        small_run.save(str(notes))
    model = microgpt.load(small_run.save(str(tmp_path / "a.json")))
    with pytest.raises(UsageError, match="force=True"):
        model.save(str(notes))
    assert notes.read_text() == "mine" and data.read_text() == before
    model.save(str(tmp_path / "a.json"))  # a checkpoint replaces a checkpoint
    model.save(str(notes), force=True)
    assert microgpt.load(str(notes)).config == model.config


def test_a_file_that_appears_at_out_during_a_run_is_kept_and_the_run_saved_beside_it(small_run):
    out = small_run.out
    if out.exists():
        out.unlink()
    small_run._written.clear()
    out.write_text("made by the user while the run trained")
    saved = small_run.save()
    assert saved != out and small_run.out == saved and small_run.moved_from == out
    assert out.read_text() == "made by the user while the run trained"
    assert microgpt.load(str(saved)).config == small_run.trainer.config


def test_a_log_that_cannot_be_written_stops_the_run_and_saves_it(tmp_path, monkeypatch, capsys):
    """A full disk under --log: one line naming the log, the model saved, a resume hint; exit 1."""
    import errno

    from microgpt.files import runlog

    class FullDisk:
        def __init__(self, *a, **k):
            self.flushes = 0

        def write(self, text):
            return len(text)

        def flush(self):
            self.flushes += 1
            if self.flushes > 5:
                raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            pass

    monkeypatch.setattr(runlog, "open", FullDisk, raising=False)
    out, log = tmp_path / "m.json", tmp_path / "run.jsonl"
    code = main(["train", "--steps", "50", *TINY, "--out", str(out), "--log", str(log), "--samples", "0"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and err.count("\n") == 1
    assert f"writing the log {log} failed at step 6: No space left on device; saved {out}" in err
    assert "--resume" in err and microgpt.load(str(out)).training.steps == 6


def test_score_with_the_numpy_engine_reads_each_string_in_one_pass_and_agrees(small_run, tmp_path, capsys):
    pytest.importorskip("numpy")
    path = small_run.save(str(tmp_path / "s.json"))
    fused, fast = microgpt.load(str(path)), microgpt.load(str(path), engine="numpy")
    for text in ["emma", "ava", "sophia", "m"]:
        a, b = fused.score(text), fast.score(text)
        assert [r[:3] for r in a.rows] == [r[:3] for r in b.rows]
        assert max(abs(x[3] - y[3]) for x, y in zip(a.rows, b.rows)) < 1e-12 and abs(a.total - b.total) < 1e-12
    names = tmp_path / "few.txt"
    names.write_text("emma\nava\nmia\n")
    assert main(["score", str(path), "--file", str(names), "--brief", "--engine", "numpy"]) == 0
    assert capsys.readouterr().out.count("NLL") == 4  # three strings and the total
