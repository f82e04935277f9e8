"""The in-tree build backend: what pip gets from build_wheel, build_editable and
build_sdist, checked file by file and against importlib.metadata's reading."""

import base64
import csv
import hashlib
import importlib.metadata
import importlib.util
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INFO = "microgpt-0.1.0.dist-info"
WHEEL = "microgpt-0.1.0-py3-none-any.whl"

if sys.version_info >= (3, 11):
    import tomllib
else:
    tomllib = pytest.importorskip("tomli")

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture
def backend(monkeypatch):
    monkeypatch.chdir(ROOT)  # PEP 517 runs every hook in the source tree
    spec = importlib.util.spec_from_file_location("microgpt_build", ROOT / "build_backend" / "microgpt_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def unzip(path):
    with zipfile.ZipFile(path) as whl:
        return {name: whl.read(name) for name in whl.namelist()}


def check_record(files):
    """Every file is in RECORD with its size and urlsafe-base64 sha256, and nothing else is."""
    rows = list(csv.reader(files[f"{INFO}/RECORD"].decode().splitlines()))
    assert [row[0] for row in rows] == list(files)
    for path, digest, size in rows:
        if path == f"{INFO}/RECORD":
            assert digest == size == ""
            continue
        expected = base64.urlsafe_b64encode(hashlib.sha256(files[path]).digest()).rstrip(b"=").decode()
        assert digest == f"sha256={expected}" and int(size) == len(files[path]), path


def test_pyproject_uses_the_backend_and_needs_nothing_here():
    system = PYPROJECT["build-system"]
    assert system["build-backend"] == "microgpt_build" and system["backend-path"] == ["build_backend"]
    # the only build requirement is for Pythons without tomllib
    assert all(req.endswith("python_version < '3.11'") for req in system["requires"])


def test_wheel_carries_the_package_and_its_data(backend, tmp_path):
    assert backend.build_wheel(str(tmp_path)) == WHEEL
    files = unzip(tmp_path / WHEEL)
    package = ROOT / "src" / "microgpt"
    shipped = sorted(p.relative_to(ROOT / "src").as_posix() for p in package.rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts)
    assert [n for n in files if not n.startswith(INFO)] == shipped
    assert files["microgpt/datasets/names.txt.gz"] == (package / "datasets" / "names.txt.gz").read_bytes()
    assert files[f"{INFO}/WHEEL"].decode().splitlines()[2:] == ["Root-Is-Purelib: true", "Tag: py3-none-any"]
    check_record(files)
    # reproducible: the same tree gives the same bytes
    again = tmp_path / "again"
    again.mkdir()
    backend.build_wheel(str(again))
    assert (again / WHEEL).read_bytes() == (tmp_path / WHEEL).read_bytes()


def test_wheel_metadata_as_importlib_reads_it(backend, tmp_path):
    backend.build_wheel(str(tmp_path))
    site = tmp_path / "site"
    with zipfile.ZipFile(tmp_path / WHEEL) as whl:
        whl.extractall(site)
    dist = next(importlib.metadata.distributions(path=[str(site)]))
    project = PYPROJECT["project"]
    assert dist.metadata["Name"] == "microgpt" and dist.version == project["version"]
    assert dist.metadata["Requires-Python"] == project["requires-python"]
    assert dist.metadata["Summary"] == project["description"]
    assert dist.metadata.get_all("Provides-Extra") == list(project["optional-dependencies"])
    for extra, reqs in project["optional-dependencies"].items():
        assert [r for r in dist.requires if r.endswith(f'extra == "{extra}"')] == [
            f'{req}; extra == "{extra}"' for req in reqs]
    assert dist.metadata["Description-Content-Type"] == "text/markdown"
    assert dist.metadata.get_payload() == (ROOT / "README.md").read_text(encoding="utf-8")
    (script,) = dist.entry_points.select(group="console_scripts")
    assert (script.name, script.value) == ("microgpt", "microgpt.cli:main")
    # the unpacked wheel alone (not src/) finds its names through importlib.resources
    code = "from microgpt import data; print(data.bundled_names_file(), len(data.read_docs(data.BUNDLED_NAMES)))"
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(site)}, capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith(str(site / "microgpt" / "datasets" / "names.txt.gz")) and out.split()[-1] == "32033"


def test_editable_wheel_points_at_src(backend, tmp_path):
    assert backend.build_editable(str(tmp_path)) == WHEEL
    files = unzip(tmp_path / WHEEL)
    assert files["__editable__.microgpt.pth"].decode() == f"{ROOT / 'src'}\n"
    assert not any(name.startswith("microgpt/") for name in files)
    assert b"Requires-Dist: pytest>=7; extra == \"test\"" in files[f"{INFO}/METADATA"]
    check_record(files)


def test_sdist_builds_the_same_wheel(backend, tmp_path, monkeypatch):
    name = backend.build_sdist(str(tmp_path))
    assert name == "microgpt-0.1.0.tar.gz"
    with tarfile.open(tmp_path / name) as tar:
        members = tar.getnames()
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # no warning on 3.12+
        tar.extractall(tmp_path / "x", **safe)
    for needed in ("PKG-INFO", "pyproject.toml", "README.md", "build_backend/microgpt_build.py",
                   "src/microgpt/datasets/names.txt.gz", "src/microgpt/cli/__init__.py", "tests/test_data.py",
                   "lessons/README.md", "lessons/_tools.py"):
        assert f"microgpt-0.1.0/{needed}" in members, needed
    assert not any("__pycache__" in m or m.endswith(".pyc") for m in members)
    backend.build_wheel(str(tmp_path))
    monkeypatch.chdir(tmp_path / "x" / "microgpt-0.1.0")
    (tmp_path / "from_sdist").mkdir()
    backend.build_wheel(str(tmp_path / "from_sdist"))
    assert (tmp_path / "from_sdist" / WHEEL).read_bytes() == (tmp_path / WHEEL).read_bytes()


def test_unknown_project_keys_are_refused(backend, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\nurls = { a = "b" }\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="urls"):
        backend.build_wheel(str(tmp_path))
