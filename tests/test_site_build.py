"""`microgpt site --out DIR`: what the folder holds, what it refuses, and the wheel it
carries (no browser here: tests/test_site_train.py drives the pages)."""

import json
import re
import shlex
import subprocess
import sys
import tomllib
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import microgpt
from microgpt.cli import build_parser, main
from microgpt.errors import UsageError
from microgpt.files import checkpoint
from microgpt.site import build
from microgpt.site.wheel import build_wheel


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return microgpt.train(steps=2, seed=3).save(tmp_path_factory.mktemp("site_build") / "tiny.json")


def fake_pyodide(folder, version=build.PYODIDE_VERSION):
    folder.mkdir()
    for name in build.PYODIDE_FILES:
        (folder / name).write_text("{}" if name.endswith(".json") else name)
    (folder / "package.json").write_text(json.dumps({"name": "pyodide", "version": version}))
    return folder


def test_the_site_holds_the_pages_the_wheel_the_models_and_says_so(tmp_path, tiny_model, capsys):
    assert main(["site", "--out", str(tmp_path / "s"), "--model", str(tiny_model)]) == 0
    site = tmp_path / "s"
    record = json.loads((site / "site.json").read_text())
    assert record["pyodide"] == build.PYODIDE_CDN == f"https://cdn.jsdelivr.net/pyodide/v{build.PYODIDE_VERSION}/full/"
    assert not (site / "pyodide").exists()
    assert record["models"] == ["models/tiny.json"]
    assert (site / "models" / "tiny.json").read_bytes() == tiny_model.read_bytes()
    assert {"index.html", "train.html", "worker.js"} <= {p.name for p in site.iterdir()}
    with zipfile.ZipFile(site / record["wheel"]) as whl:
        assert "microgpt/site/calls.py" in whl.namelist()
    assert "wrote the site to" in capsys.readouterr().out


class Links(HTMLParser):
    """Every href and src of a page."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found += [value for name, value in attrs if name in ("href", "src") and value]


@pytest.mark.parametrize("with_lessons", [False, True])
def test_every_link_between_the_pages_leads_to_a_file_of_the_site(tmp_path, tiny_model, with_lessons):
    """With and without --lessons: a page's relative links (navigation, scripts, styles)
    all name files the site holds; a link may leave the site only for the project's docs."""
    lessons = None
    if with_lessons:
        lessons = tmp_path / "executed"
        lessons.mkdir()
        cell = {"cell_type": "code", "source": "print(1)", "metadata": {}, "execution_count": 1,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}]}
        notebook = {"cells": [{"cell_type": "markdown", "source": "# One", "metadata": {}}, cell],
                    "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (lessons / "01_one.ipynb").write_text(json.dumps(notebook))
    site = tmp_path / "s"
    build.build_site(site, [tiny_model], str(fake_pyodide(tmp_path / "core")), lessons=lessons)
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 5
    for page in pages:
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.found:
            target = urlsplit(link)
            if target.scheme in ("http", "https"):
                assert target.netloc == "github.com", (page.name, link)
                continue
            if target.scheme or not target.path:  # data:, blob:, javascript:, "#..."
                continue
            assert (page.parent / target.path).resolve().is_file(), (str(page.relative_to(site)), link)


def test_a_local_pyodide_is_copied_in(tmp_path, tiny_model):
    core = fake_pyodide(tmp_path / "core")
    record = build.build_site(tmp_path / "s", [tiny_model], str(core))
    assert record["pyodide"] == "pyodide/"
    for name in build.PYODIDE_FILES:
        assert (tmp_path / "s" / "pyodide" / name).read_bytes() == (core / name).read_bytes()


@pytest.mark.parametrize("case, message", [
    ("a file", "is a file, not a folder"),
    ("someone's folder", "holds other files"),
    ("a site, no --force", "add --force to replace it"),
    ("not pyodide", "lacks pyodide.mjs"),
    ("another pyodide", "holds Pyodide 0.1.0; this site is built for"),
    ("an empty --pyodide", "--pyodide is empty"),
])
def test_bad_input_is_one_line_and_nothing_is_touched(tmp_path, tiny_model, capsys, case, message):
    out = tmp_path / "out"
    args = ["site", "--out", str(out), "--model", str(tiny_model)]
    if case == "a file":
        out.write_text("notes")
    elif case == "someone's folder":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    elif case == "a site, no --force":
        assert main(args) == 0
    elif case == "not pyodide":
        (tmp_path / "core").mkdir()
        args += ["--pyodide", str(tmp_path / "core")]
    elif case == "another pyodide":
        args += ["--pyodide", str(fake_pyodide(tmp_path / "core", "0.1.0"))]
    else:
        args += ["--pyodide", ""]
    before = sorted((p.relative_to(tmp_path), p.read_bytes() if p.is_file() else None) for p in tmp_path.rglob("*"))
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("microgpt site: error:") and message in err, err
    after = sorted((p.relative_to(tmp_path), p.read_bytes() if p.is_file() else None) for p in tmp_path.rglob("*"))
    assert after == before  # no half-built folder left beside it either


def test_force_replaces_a_site_built_before(tmp_path, tiny_model):
    args = ["site", "--out", str(tmp_path / "s"), "--model", str(tiny_model)]
    assert main(args) == 0
    (tmp_path / "s" / "models" / "tiny.json").write_text("{}")
    assert main(args + ["--force"]) == 0
    assert (tmp_path / "s" / "models" / "tiny.json").read_bytes() == tiny_model.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_without_a_model_the_default_run_is_trained(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "DEFAULT_MODEL", {**build.DEFAULT_MODEL, "steps": 20})  # 1000 in a real build
    record = build.build_site(tmp_path / "s", say=lambda line: None)
    saved = checkpoint.load(tmp_path / "s" / record["models"][0])
    oracle = microgpt.Model.of(microgpt.train(steps=20, seed=42, engine="fused")).checkpoint
    assert saved.weights == oracle.weights


def test_an_installed_package_gives_the_wheel_the_tree_gives(tmp_path):
    """pip installs the tree's wheel into a folder; the site built from that install
    carries the same package files, byte for byte."""
    from_tree = build_wheel(tmp_path / "tree")
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target",
                          str(tmp_path / "installed"), str(tmp_path / "tree" / from_tree)], capture_output=True,
                         text=True, check=False)
    assert pip.returncode == 0, pip.stderr
    code = ("import sys; from microgpt.site.wheel import build_wheel, PACKAGE; "
            "assert str(PACKAGE).startswith(sys.argv[1]); print(build_wheel(sys.argv[2]))")
    made = subprocess.run([sys.executable, "-c", code, str(tmp_path / "installed"), str(tmp_path / "again")],
                          capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path / "installed")}, check=False)
    assert made.returncode == 0, made.stderr
    with zipfile.ZipFile(tmp_path / "tree" / from_tree) as a, \
            zipfile.ZipFile(tmp_path / "again" / made.stdout.strip()) as b:
        package = sorted(n for n in a.namelist() if n.startswith("microgpt/"))
        assert package == sorted(n for n in b.namelist() if n.startswith("microgpt/"))
        assert all(a.read(n) == b.read(n) for n in package)
        assert any(n.endswith(".dist-info/METADATA") for n in b.namelist())


def test_the_pages_workflow_runs_what_exists_today():
    """.github/workflows/pages.yml (run by GitHub, never here): its microgpt command parses
    with today's command line, the scripts it runs exist, and the extras it installs are
    the package's."""
    root = Path(__file__).resolve().parents[1]
    runs = re.findall(r"^\s+run: (.+)$", (root / ".github" / "workflows" / "pages.yml").read_text(), re.M)
    site = [shlex.split(r) for r in runs if r.startswith("microgpt site")]
    assert len(site) == 1 and "--lessons" in site[0]
    build_parser().parse_args(site[0][1:])  # an unknown flag would exit
    scripts = [word for r in runs for word in shlex.split(r) if word.startswith("scripts/")]
    assert scripts and all((root / s).is_file() for s in scripts)
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    asked = [e for r in runs for word in shlex.split(r) for e in re.findall(r"^\.\[(.+)\]$", word)]
    assert asked and all(name in extras for e in asked for name in e.split(","))


def test_the_train_pages_runs_hand_over_each_save_and_a_restored_one_keeps_its_name(tmp_path, monkeypatch):
    """train_bridge (the Train page's Python) natively: every checkpoint `--save-every` writes
    reaches the page as a snapshot, in step order, the last one the finished model; a
    snapshot restored into a fresh worker is a model the page can sample, and a later run
    does not take its name."""
    from microgpt.site import train_bridge

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train_bridge, "SAVE_EVERY", 2)
    events = []
    done = train_bridge.train({"steps": 5, "n_embd": 8, "n_head": 2}, emit=events.append)
    assert done["code"] == 0 and done["model"] == str(train_bridge.RUNS / "run-1.json")
    snaps = [e["snapshot"] for e in events if "snapshot" in e]
    assert [s["steps"] for s in snaps] == [2, 4, 5]
    assert snaps[-1]["text"] == (tmp_path / done["model"]).read_text()
    assert json.loads(snaps[0]["text"])["training"]["complete"] is False

    fresh = tmp_path / "fresh"  # the worker after a Stop: no files
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    path = train_bridge.restore("run-2.json", snaps[1]["text"])
    assert checkpoint.load(path).training.steps == 4
    assert train_bridge.sample(path, emit=events.append)["code"] == 0
    again = train_bridge.train({"steps": 1, "n_embd": 8, "n_head": 2}, emit=events.append)
    assert again["model"] == str(train_bridge.RUNS / "run-1.json")
    third = train_bridge.train({"steps": 1, "n_embd": 8, "n_head": 2}, emit=events.append)
    assert third["model"] == str(train_bridge.RUNS / "run-3.json")  # run-2 is the restored model
    assert checkpoint.load(path).training.steps == 4
    with pytest.raises(UsageError):
        train_bridge.restore("../notes.txt", snaps[1]["text"])
