"""Every output is checked before the first step, one run writes a checkpoint at a
time, and a killed save's temporary file is cleaned up (outputs.py, writelock.py)."""

import os
import subprocess
import sys

import pytest

from microgpt.cli import main
from microgpt.errors import UsageError
from microgpt.files import checkpoint, outputs, writelock
from microgpt.files.atomic import atomic_write_text

TINY = ["--n-embd", "8", "--n-head", "2", "--block-size", "8", "--samples", "0"]


@pytest.fixture
def data(tmp_path, tiny_docs):
    p = tmp_path / "docs.txt"
    p.write_text("\n".join(tiny_docs * 3) + "\n")
    return p


def train(data, *flags, steps=2):
    return main(["train", "--data", str(data), "--steps", str(steps), *TINY, *flags])


def refused(capsys, code, rc, needle):
    """The run was refused with one line, before its first step."""
    out, err = capsys.readouterr()
    assert rc == code, err
    assert needle in err and len(err.strip().splitlines()) == 1, err
    assert "step" not in out  # (a million steps were asked for: none ran)


def test_out_onto_the_data_is_refused_even_forced_or_through_a_symlink(tmp_path, data, capsys):
    before = data.read_bytes()
    link = tmp_path / "link.txt"
    link.symlink_to(data)
    hard = tmp_path / "hard.txt"
    os.link(data, hard)
    for target in (data, link, hard):
        refused(capsys, 2, train(data, "--out", str(target), "--force", steps=10**6), "is the training data")
        refused(capsys, 2, train(data, "--log", str(target), "--force", steps=10**6), "is the training data")
    assert data.read_bytes() == before


def test_out_onto_the_text_trained_on(tmp_path, capsys):
    text = tmp_path / "book.txt"
    text.write_text("the cat sat on the mat. " * 40)
    rc = main(["train", "--text", str(text), "--steps", "1000000", *TINY, "--out", str(text)])
    refused(capsys, 2, rc, "is the text trained on")


def test_a_foreign_file_is_kept_unless_forced(tmp_path, data, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    refused(capsys, 2, train(data, "--out", str(notes), steps=10**6), "add --force")
    assert notes.read_text() == "my notes\n"
    refused(capsys, 2, train(data, "--log", str(notes), steps=10**6), "is not a microgpt run log")
    assert train(data, "--out", str(notes), "--force") == 0
    assert checkpoint.load(notes).training.steps == 2


def test_checkpoints_and_logs_replace_their_own_kind(tmp_path, data, capsys):
    out, log = tmp_path / "m.json", tmp_path / "run.jsonl"
    assert train(data, "--out", str(out), "--log", str(log)) == 0
    assert train(data, "--out", str(out), "--log", str(log), steps=3) == 0  # re-run: same names
    assert main(["train", "--resume", str(out), "--steps", "4", "--samples", "0", "--log", str(log)]) == 0
    assert checkpoint.load(out).training.steps == 4
    capsys.readouterr()
    refused(capsys, 2, train(data, "--log", str(out), steps=10**6), "is not a microgpt run log")
    refused(capsys, 2, main(["train", "--resume", str(out), "--steps", "9", "--log", str(out)]),
            "is the checkpoint resumed")
    empty = tmp_path / "empty.json"
    empty.touch()  # nothing in it to lose
    assert train(data, "--out", str(empty)) == 0


def test_a_safetensors_checkpoint_replaces_one(tmp_path, data):
    pytest.importorskip("safetensors")
    out = tmp_path / "m.safetensors"
    assert train(data, "--out", str(out)) == 0
    assert train(data, "--out", str(out), steps=3) == 0
    assert checkpoint.load(out).training.steps == 3


@pytest.mark.parametrize("make,needle", [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: os.mkfifo(p), "FIFO"),
])
def test_directories_and_fifos_are_refused(tmp_path, data, capsys, make, needle):
    target = tmp_path / "target"
    make(target)
    for flag in ("--out", "--log"):
        refused(capsys, 2, train(data, flag, str(target), "--force", steps=10**6), needle)


def test_a_device_is_refused(data, capsys):
    refused(capsys, 2, train(data, "--out", "/dev/null", "--force", steps=10**6), "character device")


def test_two_outputs_of_one_run_may_not_be_one_file(tmp_path, data, capsys):
    x = tmp_path / "x.json"
    refused(capsys, 2, train(data, "--out", str(x), "--log", str(x), steps=10**6), "are the same file")
    refused(capsys, 2, train(data, "--out", str(x), "--log", str(tmp_path / "." / "x.json"), steps=10**6),
            "are the same file")
    refused(capsys, 2, train(data, "--out", str(x), "--eval-every", "1", "--keep-best", "--log",
                             str(tmp_path / "x.best.json"), steps=10**6), "are the same file")


@pytest.mark.parametrize("where,needle", [
    ("/sys/m.json", "Permission denied"),  # refuses even root
    ("/proc/m.json", "refuses new files"),
    ("{tmp}/docs.txt/m.json", "is a file, not a folder"),
])
def test_unwritable_places_are_found_before_training(tmp_path, data, capsys, where, needle):
    where = where.format(tmp=tmp_path)
    for flag in ("--out", "--log"):
        refused(capsys, 1, train(data, flag, where, steps=10**6), needle)


def test_the_message_names_the_users_path_not_a_temp_file(data, capsys):
    train(data, "--out", "/sys/m.json", steps=10**6)
    err = capsys.readouterr().err
    assert "/sys/m.json" in err and ".tmp" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a folder whatever its mode")
def test_a_read_only_folder_as_a_user(tmp_path, data, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        refused(capsys, 1, train(data, "--out", str(folder / "m.json"), steps=10**6), "refuses new files")
    finally:
        folder.chmod(0o755)


def test_log_folder_must_exist_but_out_folders_are_made(tmp_path, data, capsys):
    refused(capsys, 1, train(data, "--log", str(tmp_path / "no" / "run.jsonl"), steps=10**6), "does not exist")
    assert train(data, "--out", str(tmp_path / "new" / "dir" / "m.json")) == 0
    assert (tmp_path / "new" / "dir" / "m.json").exists()


def test_safetensors_without_the_extra_is_refused_before_training(tmp_path, data, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)  # import safetensors now raises ImportError
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    refused(capsys, 1, train(data, "--out", str(tmp_path / "m.safetensors"), steps=10**6), "pip install safetensors")


def test_atomic_writer_errors_name_the_target(tmp_path):
    with pytest.raises(PermissionError) as e:
        atomic_write_text("/sys/x.json", "{}")
    assert e.value.filename == "/sys/x.json"
    (tmp_path / "d").mkdir()
    with pytest.raises(OSError) as e:  # the rename onto a directory fails
        atomic_write_text(tmp_path / "d", "{}")
    assert e.value.filename == str(tmp_path / "d")
    assert [p.name for p in tmp_path.iterdir()] == ["d"]  # no temporary file left


def test_check_outputs_directly(tmp_path):
    """The function other commands (bench --json) call."""
    results = tmp_path / "r.json"
    kind = outputs.BENCH_RESULTS
    outputs.check_outputs([outputs.Output("--json", results, kind)])  # not there: fine
    results.write_text('{"format": "microgpt bench results", "rows": []}')
    outputs.check_outputs([outputs.Output("--json", results, kind)])  # its own kind: fine
    results.write_text('{"rows": []}')  # anyone's JSON with a "rows" key is not ours
    with pytest.raises(UsageError, match="--force"):
        outputs.check_outputs([outputs.Output("--json", results, kind)])
    outputs.check_outputs([outputs.Output("--json", results, kind)], force=True)
    with pytest.raises(UsageError, match="is the data"):
        outputs.check_outputs([outputs.Output("--json", results, kind)], [("the data", results)], force=True)


# ---- pictures and the ladder


def test_pictures_replace_pictures_of_their_format_only(tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert main(["graph", "--out", str(out)]) == 0
    assert main(["graph", "--out", str(out)]) == 0  # DOT over DOT
    mine = tmp_path / "mine.dot"
    mine.write_text("my own notes, not DOT\n")
    capsys.readouterr()
    assert main(["graph", "--out", str(mine)]) == 2
    assert "--force" in capsys.readouterr().err and mine.read_text() == "my own notes, not DOT\n"
    assert main(["graph", "--out", str(mine), "--force"]) == 0
    svg = tmp_path / "pic.svg"
    svg.write_text("not a picture")
    assert main(["graph", "--out", str(svg)]) == 2  # the .svg is checked even when Graphviz is missing


def test_plot_checks_out_before_reading_anything(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    log = tmp_path / "run.jsonl"
    log.write_text('{"step": 1, "loss": 3.0}\n{"step": 2, "loss": 2.5}\n')
    fake = tmp_path / "loss.png"
    fake.write_text("not a PNG")
    assert main(["plot", str(log), "--out", str(fake)]) == 2
    assert "is not a PNG picture" in capsys.readouterr().err
    assert main(["plot", str(log), "--out", str(fake), "--force"]) == 0
    assert main(["plot", str(log), "--out", str(fake)]) == 0  # now a PNG: replaced
    assert main(["plot", str(log), "--out", str(log)]) == 2  # (the extension is wrong before anything else)


@pytest.mark.parametrize("where,code,needle", [("{tmp}", 2, "is a directory"),
                                               ("{tmp}/no/such/r.json", 1, "does not exist"),
                                               ("{tmp}/docs.txt", 2, "is the data")])
def test_ladder_json_is_checked_before_the_rungs(tmp_path, data, capsys, where, code, needle):
    assert main(["ladder", "0", "1", "--data", str(data), "--json", where.format(tmp=tmp_path)]) == code
    err = capsys.readouterr().err
    assert needle in err and "[ladder" not in err  # no rung ran


# ---- one writer per checkpoint


def test_a_second_run_on_the_same_out_is_refused_at_once(tmp_path, data):
    out = tmp_path / "m.json"
    leftover = tmp_path / ".m.json.k3j9x_2a.tmp"
    with writelock.hold(out):  # this process plays the first run
        leftover.write_bytes(b"x" * 1000)  # (as if it were saving now)
        p = subprocess.run([sys.executable, "-m", "microgpt", "train", "--data", str(data), "--steps", "1000000",
                            *TINY, "--out", str(out)], capture_output=True, text=True, timeout=60)
        assert leftover.exists()  # never touched without the lock
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert f"being written by another run (pid {os.getpid()})" in p.stderr
    assert not (tmp_path / "m.json.lock").exists()  # removed when released


def test_leftover_temp_files_of_a_killed_save_are_removed(tmp_path, data, capsys):
    out = tmp_path / "m.json"
    leftovers = [tmp_path / ".m.json.abc_1234.tmp", tmp_path / ".m.json.zzzzzzzz.tmp"]
    kept = [tmp_path / ".m.json.notes.tmp", tmp_path / ".other.json.abcd1234.tmp", tmp_path / "m.json.abcd1234.tmp"]
    for p in leftovers + kept:
        p.write_bytes(b"partial")
    assert train(data, "--out", str(out)) == 0
    assert "removed .m.json.abc_1234.tmp" in capsys.readouterr().out
    assert not any(p.exists() for p in leftovers) and all(p.exists() for p in kept)
    assert not (tmp_path / "m.json.lock").exists()


def test_a_lock_file_that_is_not_ours_is_kept(tmp_path, data, capsys):
    out = tmp_path / "m.json"
    (tmp_path / "m.json.lock").write_text("my shopping list\n")
    assert train(data, "--out", str(out), steps=10**6) == 1
    assert "is not a lock file" in capsys.readouterr().err
    assert (tmp_path / "m.json.lock").read_text() == "my shopping list\n"


def test_stale_lock_of_a_killed_run_is_taken_over(tmp_path, data):
    out = tmp_path / "m.json"
    (tmp_path / "m.json.lock").write_text("999999\n")  # what kill -9 leaves: a file no one holds
    assert train(data, "--out", str(out)) == 0
    assert not (tmp_path / "m.json.lock").exists()


def test_hold_refuses_with_a_microgpt_error_naming_the_holder(tmp_path):
    out = tmp_path / "m.json"
    code = ("import sys; from microgpt.files import writelock\n"
            "try:\n with writelock.hold(sys.argv[1]): pass\n"
            "except Exception as e: print(type(e).__name__, e)")
    with writelock.hold(out):
        p = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=60)
    assert p.stdout.startswith("MicroGPTError") and f"pid {os.getpid()}" in p.stdout
