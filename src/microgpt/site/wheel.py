"""The wheel a site carries: this package, for Pyodide to unpack into its site-packages.

Two places the package can come from, and one rule for each:

- a source checkout (the package's folder is src/microgpt under a tree holding
  pyproject.toml and build_backend/): the tree's own build backend builds it, in
  a child process run in the tree, so the site's wheel is byte for byte the one
  `pip install .` builds: the files git tracks, nothing lying untracked beside them;
- an installed package (pip installed a wheel into site-packages): the files its
  .dist-info RECORD lists, which are exactly the files that wheel held, zipped
  again with that .dist-info. Stray files (caches, .pyc) are never among them.
"""

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

from microgpt.errors import MicroGPTError

PACKAGE = Path(__file__).resolve().parents[1]  # the microgpt package folder
STAMP = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the same files give the same wheel


def build_wheel(into):
    """Writes the wheel into the folder `into` (made if missing) and returns its file name."""
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    tree = PACKAGE.parents[1]
    if PACKAGE.parent.name == "src" and (tree / "build_backend").is_dir() and (tree / "pyproject.toml").is_file():
        return from_tree(tree, into)
    return from_installed(into)


def from_tree(tree, into):
    code = "import sys, microgpt_build; print(microgpt_build.build_wheel(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", code, str(into.resolve())], cwd=tree, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(tree / "build_backend")}, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise MicroGPTError(f"building the wheel from {tree} failed: {last}")
    return done.stdout.strip().splitlines()[-1]


def from_installed(into):
    dist = metadata.distribution("microgpt")
    listed = [f for f in dist.files or () if not f.name.endswith(".pyc") and "__pycache__" not in f.parts]
    if not any(f.as_posix() == "microgpt/__init__.py" for f in listed):
        raise MicroGPTError("the installed microgpt lists no package files (an editable install outside its "
                            "source tree?); build the site from a checkout or a regular install")
    info = next(f.parts[0] for f in listed if f.parts[0].endswith(".dist-info"))
    entries = {f.as_posix(): Path(dist.locate_file(f)).read_bytes() for f in listed
               if f.as_posix() != f"{info}/RECORD" and f.parts[0] in ("microgpt", info)}
    rows = [[name, "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode(),
             str(len(data))] for name, data in entries.items()]
    record = f"{info}/RECORD"
    lines = [",".join(row) for row in rows] + [f"{record},,"]
    entries[record] = ("\n".join(lines) + "\n").encode()
    name = f"microgpt-{dist.version}-py3-none-any.whl"
    with zipfile.ZipFile(into / name, "w", zipfile.ZIP_DEFLATED) as whl:
        for arcname in sorted(entries, key=lambda n: (n.startswith(info), n == record, n)):
            entry = zipfile.ZipInfo(arcname, date_time=STAMP)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(entry, entries[arcname])
    return name
