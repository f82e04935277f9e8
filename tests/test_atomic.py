"""atomic.py: a file written atomically gets the permissions a plain write would give."""

import os
import stat

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
