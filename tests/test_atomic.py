"""atomic.py: a file written atomically gets the permissions a plain write would give."""

import os
import stat

import pytest

from microgpt.files.atomic import atomic_write_text


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_gets_the_umasks_permissions_not_mkstemps(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
        with open(tmp_path / "plain.json", "w") as f:  # the oracle: what open() makes under the same umask
            f.write("{}")
    finally:
        os.umask(old)
    assert mode(tmp_path / "a.json") == mode(tmp_path / "plain.json") == 0o644


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    p = tmp_path / "b.json"
    p.write_text("old")
    os.chmod(p, 0o640)
    atomic_write_text(p, "new")
    assert p.read_text() == "new" and mode(p) == 0o640


def test_without_hard_links_a_no_replace_write_still_refuses_an_existing_file(tmp_path, monkeypatch):
    """Pyodide (the browser's Python) has no os.link: replace=False then checks and renames."""
    monkeypatch.delattr(os, "link")
    path = tmp_path / "new.json"
    atomic_write_text(path, "first", replace=False)
    assert path.read_text() == "first"
    with pytest.raises(FileExistsError):
        atomic_write_text(path, "second", replace=False)
    assert path.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json"]  # no temporary file left
