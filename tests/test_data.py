"""Reading documents, the split, and the names download (against a local server)."""

import hashlib

import pytest
from loopback import Server

from microgpt import data
from microgpt.errors import MicroGPTError


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


PAYLOAD = b"emma\nolivia\nava\n"
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "NAMES_SHA256", PAYLOAD_SHA)
    return tmp_path / "cache" / "microgpt" / "names.txt"


def test_download_into_cache_then_reuse(cache):
    with Server(PAYLOAD) as srv:
        path = data.default_names_path(srv.url)
    assert path == cache and cache.read_bytes() == PAYLOAD
    # the cache is used without the network now (this URL would refuse)
    assert data.default_names_path("http://127.0.0.1:9/none") == cache
    assert list(cache.parent.iterdir()) == [cache]  # no temp files left


def test_checksum_mismatch_saves_nothing(cache):
    with Server(b"mallory\n") as srv:
        with pytest.raises(MicroGPTError, match="sha256"):
            data.default_names_path(srv.url)
    assert not cache.exists()
    assert not list(cache.parent.glob("*"))


def test_interrupted_download_saves_nothing(cache):
    with Server(PAYLOAD, truncate=True) as srv:
        with pytest.raises(MicroGPTError):
            data.default_names_path(srv.url)
    assert not cache.exists()


def test_corrupted_cache_is_replaced(cache):
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"half a fi")
    with Server(PAYLOAD) as srv:
        assert data.default_names_path(srv.url).read_bytes() == PAYLOAD


def test_offline_error_says_how_to_pass_data(cache):
    with pytest.raises(MicroGPTError, match="--data"):
        data.default_names_path("http://127.0.0.1:9/names.txt")  # port 9: nothing listens


def test_data_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROGPT_DATA", str(tmp_path / "x.txt"))
    assert data.resolve_data_path(None) == tmp_path / "x.txt"
    assert data.resolve_data_path("y.txt").name == "y.txt"
