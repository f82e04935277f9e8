"""Reading documents, the split, and the names shipped inside the package."""

import gzip
import hashlib

import pytest

from microgpt import data
from microgpt import provenance as training_data
from microgpt.cli import main
from microgpt.errors import MicroGPTError
from microgpt.files.checkpoint import load
from microgpt.training import Trainer


def test_read_docs_strips_and_drops_empty(tmp_path):
    p = tmp_path / "d.txt"
    p.write_bytes(b"  emma \r\n\n olivia\n\t\nava")
    assert data.read_docs(p) == ["emma", "olivia", "ava"]


@pytest.mark.parametrize("content,message", [
    (b"", "no documents"),
    (b" \n\t\n  \n", "no documents"),
    (b"\xff\xfe\x00a\x00", "binary"),
    (b"caf\xe9\n", "not UTF-8"),
])
def test_read_docs_rejects(tmp_path, content, message):
    p = tmp_path / "d.txt"
    p.write_bytes(content)
    with pytest.raises(MicroGPTError, match=message):
        data.read_docs(p)


def test_read_docs_missing_and_directory(tmp_path):
    with pytest.raises(MicroGPTError, match="not found"):
        data.read_docs(tmp_path / "nope.txt")
    with pytest.raises(MicroGPTError, match="directory"):
        data.read_docs(tmp_path)


def test_split_takes_validation_from_the_end():
    docs = [str(i) for i in range(50)]
    train, val = data.split(docs, data.default_val_size(len(docs)))
    assert val == docs[-5:] and train == docs[:-5]
    assert data.default_val_size(32033) == 1000
    with pytest.raises(MicroGPTError):
        data.split(docs, 50)


# ---- the names shipped inside the package


def test_bundled_names_are_the_shared_names(names_path):
    raw = gzip.decompress(data.bundled_names_file().read_bytes())
    assert raw == names_path.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == data.NAMES_SHA256
    docs = data.read_docs(data.BUNDLED_NAMES)
    assert docs == data.read_docs(names_path) and len(docs) == data.NAMES_COUNT


def test_bundled_file_is_deterministic_gzip():
    header = data.bundled_names_file().read_bytes()[:10]
    assert header[:3] == b"\x1f\x8b\x08"  # gzip, deflate
    assert header[3] & 0x08 == 0 and header[4:8] == b"\0\0\0\0"  # `gzip -n`: no file name, no time stamp


@pytest.mark.parametrize("content,message", [
    (gzip.compress(b"emma\nolivia\nmallory\n", mtime=0), "sha256"),  # intact gzip, other names (mtime 0: the same test id on every xdist worker)
    (b"", "sha256"),  # decompresses to nothing
    (b"this is not gzip", "cannot be read"),
    ("half", "cannot be read"),  # the real file cut short
    ("missing", "cannot be read"),
])
def test_corrupted_bundled_copy_is_refused(tmp_path, monkeypatch, content, message):
    real = data.bundled_names_file().read_bytes()
    bad = tmp_path / "names.txt.gz"
    if content != "missing":
        bad.write_bytes(real[: len(real) // 2] if content == "half" else content)
    monkeypatch.setattr(data, "bundled_names_file", lambda: bad)
    with pytest.raises(MicroGPTError, match=message) as e:
        data.read_docs(data.BUNDLED_NAMES)
    assert "\n" not in str(e.value) and "--data FILE" in str(e.value)


def test_resolution_order(monkeypatch, tmp_path):
    monkeypatch.delenv("MICROGPT_DATA", raising=False)
    assert data.is_bundled(data.resolve_data_path(None))
    assert data.describe_source(data.resolve_data_path(None)) == (
        "data: the bundled names (32,033 names; no download needed)")
    monkeypatch.setenv("MICROGPT_DATA", str(tmp_path / "x.txt"))
    assert data.resolve_data_path(None) == tmp_path / "x.txt"
    assert data.describe_source(tmp_path / "x.txt") is None
    assert data.resolve_data_path("y.txt").name == "y.txt"
    assert data.is_bundled(data.resolve_data_path(data.BUNDLED_NAMES))  # named explicitly, it beats the variable


def test_commands_train_and_find_the_bundled_names(tmp_path, monkeypatch, capsys):
    """A checkpoint trained on the bundled names records their name, not a path
    inside this install, and sample, eval and resume find them from it."""
    monkeypatch.delenv("MICROGPT_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "m.json"
    tiny = ["--n-embd", "4", "--n-head", "1", "--block-size", "8", "--samples", "0"]
    assert main(["train", "--steps", "2", *tiny, "--val-docs", "50", "--out", str(model)]) == 0
    assert "num docs: 32033 (31983 train, 50 validation)" in capsys.readouterr().out
    ckpt = load(model)
    assert ckpt.training.data == data.BUNDLED_NAMES
    found = training_data.find(ckpt, model_path=model)
    assert found.exact and len(found.val) == 50
    assert main(["sample", str(model), "-n", "2"]) == 0
    assert "of 2 samples" in capsys.readouterr().err  # novelty marks: the data was found
    assert main(["eval", str(model)]) == 0
    assert "50 held-out documents" in capsys.readouterr().out
    assert main(["train", "--resume", str(model), "--steps", "3", "--samples", "0"]) == 0
    assert main(["dataset", "-n", "2"]) == 0
    assert "file: bundled:names.txt" in capsys.readouterr().out


def test_models_from_the_download_days_find_the_bundled_names(tmp_path):
    """Before the names shipped inside the package, train recorded the cache
    file it downloaded them to; the fingerprint still identifies them."""
    docs = data.read_docs(data.BUNDLED_NAMES)
    trainer = Trainer(docs, n_embd=4, n_head=1, val_docs=10)
    ckpt = trainer.checkpoint(data=str(tmp_path / ".cache" / "microgpt" / "names.txt"),
                              data_sha256=data.fingerprint(docs))
    found = training_data.find(ckpt)
    assert data.is_bundled(found.path) and found.exact and found.val == trainer.val_docs
    ckpt.training.data_sha256 = "0" * 64  # other data: not silently replaced by the names
    assert training_data.find(ckpt) is None


def test_ladder_runs_on_the_bundled_names(monkeypatch, capsys):
    from microgpt import ladder

    monkeypatch.delenv("MICROGPT_DATA", raising=False)
    assert ladder.main(["0", "--steps", "50"]) == 0
    assert "bigram counts" in capsys.readouterr().out
