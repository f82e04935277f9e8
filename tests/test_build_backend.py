"""The in-tree build backend: what pip gets from build_wheel, build_editable and
build_sdist, checked file by file and against importlib.metadata's reading.

Which files ship is checked in a fresh clone of this repository with files
lying around untracked (a saved run, an editor's swap file, a cache): git's own
list of tracked files is the oracle, and none of the strays may ship. The clone
gets this checkout's uncommitted changes applied, so it holds the tree as it is
now, not as it was at the last commit.
"""

import base64
import csv
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INFO = "microgpt-0.1.0.dist-info"
WHEEL = "microgpt-0.1.0-py3-none-any.whl"
SDIST = "microgpt-0.1.0.tar.gz"
BASE = "microgpt-0.1.0"
# What an sdist must hold: enough to build, test, and read the docs and lessons.
SDIST_HOLDS = ("pyproject.toml", "README.md", "LICENSE", "build_backend", "src", "tests", "lessons", "docs")
# Files a working tree gathers that are not the project's: none may ship.
STRAYS = ("src/microgpt/my_run.json", "src/microgpt/.api.py.swp", "src/microgpt/__pycache__/api.cpython-311.pyc",
          "docs/draft.md", "tests/scratch.py", "lessons/notes.txt", "my_run.json")

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


def git(cwd, *args, **options):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True, **options).stdout


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A clone of this repository as it is now, with STRAYS written into it, as the current folder."""
    why = ("no git command" if shutil.which("git") is None else
           "this tree is not a git checkout (an unpacked sdist?)" if not (ROOT / ".git").exists() else None)
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true runs from a clone with git, but: {why}")
        pytest.skip(why)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(ROOT), str(clone))
    # staged and unstaged changes, files added but not committed included
    changes = git(ROOT, "diff", "--binary", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", "HEAD")
    if changes:
        git(clone, "apply", "--index", input=changes)
    for stray in STRAYS:
        (clone / stray).parent.mkdir(parents=True, exist_ok=True)
        (clone / stray).write_text("not the project's\n")
    monkeypatch.chdir(clone)
    return clone


def tracked(clone):
    return sorted(git(clone, "ls-files", "-z", text=True).split("\0")[:-1])


def unzip(path):
    with zipfile.ZipFile(path) as whl:
        return {name: whl.read(name) for name in whl.namelist()}


def unpack(sdist, into):
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # no warning on 3.12+
        tar.extractall(into, **safe)
    return members


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


def test_wheel_ships_the_tracked_package_and_no_stray(backend, checkout, tmp_path):
    assert backend.build_wheel(str(tmp_path)) == WHEEL
    files = unzip(tmp_path / WHEEL)
    package = [name.removeprefix("src/") for name in tracked(checkout) if name.startswith("src/microgpt/")]
    assert sorted(n for n in files if not n.startswith(INFO)) == package
    assert not any(stray.removeprefix("src/") in files for stray in STRAYS)
    assert "microgpt/py.typed" in files  # type checkers read the package's annotations (PEP 561)
    assert files["microgpt/datasets/names.txt.gz"] == (checkout / "src/microgpt/datasets/names.txt.gz").read_bytes()
    assert files[f"{INFO}/licenses/LICENSE"] == (checkout / "LICENSE").read_bytes()
    assert files[f"{INFO}/WHEEL"].decode().splitlines()[2:] == ["Root-Is-Purelib: true", "Tag: py3-none-any"]
    check_record(files)
    # reproducible: the same tree gives the same bytes
    again = tmp_path / "again"
    again.mkdir()
    backend.build_wheel(str(again))
    assert (again / WHEEL).read_bytes() == (tmp_path / WHEEL).read_bytes()


def test_a_file_git_add_names_ships_before_it_is_committed(backend, checkout, tmp_path):
    (checkout / "src/microgpt/new_module.py").write_text("ANSWER = 42\n")
    backend.build_wheel(str(tmp_path))
    assert "microgpt/new_module.py" not in unzip(tmp_path / WHEEL)
    git(checkout, "add", "src/microgpt/new_module.py")
    backend.build_wheel(str(tmp_path))
    assert unzip(tmp_path / WHEEL)["microgpt/new_module.py"] == b"ANSWER = 42\n"


def test_wheel_metadata_as_importlib_reads_it(backend, checkout, tmp_path):
    backend.build_wheel(str(tmp_path))
    site = tmp_path / "site"
    with zipfile.ZipFile(tmp_path / WHEEL) as whl:
        whl.extractall(site)
    dist = next(importlib.metadata.distributions(path=[str(site)]))
    project = PYPROJECT["project"]
    assert dist.metadata["Name"] == "microgpt" and dist.version == project["version"]
    assert dist.metadata["Requires-Python"] == project["requires-python"]
    assert dist.metadata["Summary"] == project["description"]
    assert dist.metadata["License-Expression"] == project["license"] == "MIT"
    assert dist.metadata.get_all("License-File") == project["license-files"] == ["LICENSE"]
    notice = (site / INFO / "licenses" / "LICENSE").read_text()
    assert notice.startswith("MIT License\n\nCopyright (c) 2026 the microgpt authors\n")
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
    assert files[f"{INFO}/licenses/LICENSE"] == (ROOT / "LICENSE").read_bytes()
    check_record(files)


def test_sdist_holds_the_tracked_sources_and_builds_the_same_wheel(backend, checkout, tmp_path, monkeypatch):
    assert backend.build_sdist(str(tmp_path)) == SDIST
    members = unpack(tmp_path / SDIST, tmp_path / "x")
    sources = [name for name in tracked(checkout) if name.split("/")[0] in SDIST_HOLDS]
    assert sorted(members) == sorted(f"{BASE}/{name}" for name in [*sources, "PKG-INFO", "MANIFEST"])
    for folder in ("docs/", "lessons/", "tests/", "src/microgpt/", "build_backend/"):
        assert any(name.startswith(folder) for name in sources), folder
    for needed in ("README.md", "LICENSE", "pyproject.toml", "src/microgpt/py.typed", "docs/errors.md",
                   "lessons/README.md", "tests/test_build_backend.py"):
        assert needed in sources, needed
    unpacked = tmp_path / "x" / BASE
    listed = (unpacked / "MANIFEST").read_text().splitlines()
    assert [line for line in listed if not line.startswith("#")] == sources
    pkg_info = (unpacked / "PKG-INFO").read_text()
    assert "License-Expression: MIT\nLicense-File: LICENSE\n" in pkg_info

    # Built from the unpacked sdist (no git), with a stray beside the listed files: the same wheel,
    # and the same sdist again.
    backend.build_wheel(str(tmp_path))
    (unpacked / "src/microgpt/stray.json").write_text("{}\n")
    monkeypatch.chdir(unpacked)
    (tmp_path / "from_sdist").mkdir()
    backend.build_wheel(str(tmp_path / "from_sdist"))
    assert (tmp_path / "from_sdist" / WHEEL).read_bytes() == (tmp_path / WHEEL).read_bytes()
    backend.build_sdist(str(tmp_path / "from_sdist"))
    assert (tmp_path / "from_sdist" / SDIST).read_bytes() == (tmp_path / SDIST).read_bytes()


def test_an_sdist_unpacked_inside_a_checkout_reads_its_manifest(backend, checkout, tmp_path, monkeypatch):
    backend.build_sdist(str(tmp_path))
    backend.build_wheel(str(tmp_path))
    unpack(tmp_path / SDIST, checkout / "build")  # git sees an untracked folder of the clone here
    monkeypatch.chdir(checkout / "build" / BASE)
    (tmp_path / "inside").mkdir()
    backend.build_wheel(str(tmp_path / "inside"))
    assert (tmp_path / "inside" / WHEEL).read_bytes() == (tmp_path / WHEEL).read_bytes()


def test_without_git_an_sdist_still_builds(backend, checkout, tmp_path, monkeypatch):
    backend.build_sdist(str(tmp_path))
    backend.build_wheel(str(tmp_path))
    unpack(tmp_path / SDIST, tmp_path / "x")
    monkeypatch.chdir(tmp_path / "x" / BASE)
    monkeypatch.setenv("PATH", str(tmp_path / "no_programs_here"))
    with pytest.raises(FileNotFoundError):
        subprocess.run(["git", "--version"], check=False)
    (tmp_path / "nogit").mkdir()
    backend.build_wheel(str(tmp_path / "nogit"))
    assert (tmp_path / "nogit" / WHEEL).read_bytes() == (tmp_path / WHEEL).read_bytes()


def test_a_tree_with_no_list_of_files_is_refused(backend, tmp_path, monkeypatch):
    (tmp_path / "src" / "microgpt").mkdir(parents=True)
    (tmp_path / "src" / "microgpt" / "__init__.py").write_text("")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    monkeypatch.chdir(tmp_path)
    refused = r"neither the top of a git checkout \(.+\) nor an unpacked sdist \(no MANIFEST\)"
    with pytest.raises(ValueError, match=refused):
        backend.build_wheel(str(tmp_path))


def test_an_sdist_missing_a_listed_file_is_refused(backend, checkout, tmp_path, monkeypatch):
    backend.build_sdist(str(tmp_path))
    unpack(tmp_path / SDIST, tmp_path / "x")
    (tmp_path / "x" / BASE / "src/microgpt/sample.py").unlink()
    monkeypatch.chdir(tmp_path / "x" / BASE)
    with pytest.raises(ValueError, match="MANIFEST names src/microgpt/sample.py, which is missing"):
        backend.build_wheel(str(tmp_path))


def test_unknown_project_keys_are_refused(backend, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\nurls = { a = "b" }\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="urls"):
        backend.build_wheel(str(tmp_path))
