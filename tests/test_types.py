"""The public API's annotations: mypy, configured in pyproject.toml ([tool.mypy]), finds
no error in the modules it lists, and the annotations are live: a call with the wrong
types is reported, naming the parameter's declared type.

Where mypy is not installed these skip, saying so; under CI=true (which installs the
test extra, mypy included) that is a failure.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:
    tomllib = pytest.importorskip("tomli")

CHECKED = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]["files"]


def mypy(tmp_path, *files):
    if importlib.util.find_spec("mypy") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mypy is not installed, and CI=true requires it (pip install -e '.[test]')")
        pytest.skip("mypy is not installed (it comes with the test extra: pip install -e '.[test]')")
    # a fresh cache each time: nothing is written into the tree, and no stale result is trusted
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy_cache"), *map(str, files)]
    return subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_public_api_type_checks(tmp_path):
    assert {"src/microgpt/__init__.py", "src/microgpt/api.py", "src/microgpt/config.py", "src/microgpt/tokenizer.py",
            "src/microgpt/bpe.py", "src/microgpt/sample.py"} <= set(CHECKED)
    done = mypy(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Success: no issues found in {len(CHECKED)} source files" in done.stdout


def test_a_wrong_call_is_reported(tmp_path):
    user = tmp_path / "user_code.py"
    user.write_text(
        "import microgpt\n"
        "from microgpt.tokenizer import Tokenizer\n"
        "model = microgpt.load('m.json')\n"
        "names: list[str] = model.sample(3)\n"  # fine: sample gives strings
        "model.sample('3')\n"
        "Tokenizer.from_docs(['ab']).encode(5)\n"
        "count: str = model.evaluate()\n")
    done = mypy(tmp_path, user)
    assert done.returncode == 1, done.stdout + done.stderr
    errors = [line.split(": error: ", 1)[1] for line in done.stdout.splitlines() if ": error: " in line]
    assert errors == [
        'Argument 1 to "sample" of "Model" has incompatible type "str"; expected "int"  [arg-type]',
        'Argument 1 to "encode" of "Tokenizer" has incompatible type "int"; expected "str"  [arg-type]',
        'Incompatible types in assignment (expression has type "float", variable has type "str")  [assignment]',
    ], done.stdout
