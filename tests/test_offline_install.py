"""The README's first command on a machine with no network and empty caches:

    python -m venv v && v/bin/pip install . && v/bin/microgpt train --steps 50

and the same from the sdist the backend builds (no git there: its MANIFEST
lists the files). The network is cut with `unshare -n` (a new, empty network namespace), HOME and
XDG_CACHE_HOME are fresh folders, and pip reads no configuration: this machine's
points pip at local wheel folders, which would hide a build backend that has to
be downloaded.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from microgpt.data import BUNDLED_NAMES, describe_source

ROOT = Path(__file__).resolve().parents[1]


def cut_off(tmp_path):
    """The environment and command prefix for running offline, or a skip (a failure
    under CI=true where unshare should work: root on Linux, as CI runs)."""
    if sys.version_info < (3, 11):
        pytest.skip("on Python 3.10 pip downloads tomli to build (no tomllib), so this cannot be offline")
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, text=True) if unshare else None
    if probe is None or probe.returncode != 0:
        why = "no unshare command" if probe is None else probe.stderr.strip()
        if os.environ.get("CI") == "true" and sys.platform == "linux" and os.geteuid() == 0:
            pytest.fail(f"unshare -n fails as root under CI=true: {why}")
        pytest.skip(f"cannot cut the network with unshare -n here: {why}")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "XDG_CACHE_HOME": str(home / ".cache"), "PIP_CONFIG_FILE": os.devnull, "LANG": "C.UTF-8"}
    return env, [unshare, "-n"]


def run(prefix, args, env, cwd):
    return subprocess.run([*prefix, *map(str, args)], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # about 30 s: two venvs, three installs, a short training run
def test_install_and_train_offline(tmp_path):
    env, offline = cut_off(tmp_path)
    venv, work = tmp_path / "v", tmp_path / "run"
    work.mkdir()
    # sys.executable may itself be a venv's python; venv builds on the base interpreter either way
    done = run(offline, [sys.executable, "-m", "venv", venv], env, ROOT)
    assert done.returncode == 0, done.stderr
    done = run(offline, [venv / "bin" / "pip", "install", "."], env, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Successfully installed microgpt-0.1.0" in done.stdout
    train = run(offline, [venv / "bin" / "microgpt", "train", "--steps", "50"], env, work)
    assert train.returncode == 0, train.stderr
    assert "num docs: 32033 (31033 train, 1000 validation)" in train.stdout
    (model,) = work.glob("model_*.json")
    assert json.loads(model.read_text())["training"]["data"] == BUNDLED_NAMES
    assert not (Path(env["XDG_CACHE_HOME"]) / "microgpt").exists()  # nothing downloaded or cached
    sample = run(offline, [venv / "bin" / "microgpt", "sample", model, "-n", "2"], env, work)
    assert sample.returncode == 0 and "novelty:" in sample.stderr, sample.stderr  # the data was found again

    # The README's test command installs in editable mode (PEP 660): offline too.
    done = run(offline, [venv / "bin" / "pip", "install", "-e", "."], env, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    where = run(offline, [venv / "bin" / "python", "-c", "import microgpt; print(microgpt.__file__)"], env, work)
    assert where.stdout.strip() == str(ROOT / "src" / "microgpt" / "__init__.py")

    assert describe_source(BUNDLED_NAMES) in train.stdout, train.stdout

    # The sdist, built here and installed into a fresh venv: pip unpacks it and builds the wheel from it.
    build = ("import sys; sys.path.insert(0, 'build_backend'); import microgpt_build; "
             "print(microgpt_build.build_sdist(sys.argv[1]))")
    done = run(offline, [sys.executable, "-c", build, tmp_path], env, ROOT)
    assert done.returncode == 0, done.stderr
    sdist = tmp_path / done.stdout.strip()
    venv2 = tmp_path / "v2"
    assert run(offline, [sys.executable, "-m", "venv", venv2], env, ROOT).returncode == 0
    done = run(offline, [venv2 / "bin" / "pip", "install", sdist], env, work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Successfully installed microgpt-0.1.0" in done.stdout
    sample = run(offline, [venv2 / "bin" / "microgpt", "sample", model, "-n", "2"], env, work)
    assert sample.returncode == 0 and "novelty:" in sample.stderr, sample.stderr
    look = ("import importlib.metadata as m, microgpt, pathlib; d = m.distribution('microgpt'); "
            "print(pathlib.Path(microgpt.__file__).with_name('py.typed').is_file(), d.metadata['License-Expression'], "
            "d.read_text('licenses/LICENSE').splitlines()[2])")
    installed = run(offline, [venv2 / "bin" / "python", "-c", look], env, work)
    assert installed.stdout.splitlines() == ["True MIT Copyright (c) 2026 the microgpt authors"], installed.stderr
