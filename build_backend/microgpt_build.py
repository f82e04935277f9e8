"""The PEP 517 build backend that turns this source tree into a wheel or an sdist.

Why not setuptools: pip builds a source tree in an isolated environment and
first downloads the backend named in pyproject.toml into it, so `pip install .`
fails on a machine with no network. This backend lives in the tree
(`backend-path`) and needs only the standard library (plus tomli on Python 3.10,
which has no tomllib), so installing needs nothing from an index.

It builds one pure-Python package from the src layout, `src/<name>/` with every
file in it (the .py modules and package data such as datasets/names.txt.gz), and
reads the [project] table of pyproject.toml for the metadata. Outputs are
byte-for-byte reproducible: entries sorted, timestamps fixed.

Hooks: build_wheel, build_editable (PEP 660: a .pth file puts src/ on sys.path)
and build_sdist.
"""

import base64
import gzip
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10; pyproject's build-system.requires installs tomli there
    import tomli as tomllib

# Zip cannot store times before 1980; SOURCE_DATE_EPOCH is the reproducible-builds convention.
EPOCH = max(int(os.environ.get("SOURCE_DATE_EPOCH", 315532800)), 315532800)
KNOWN_PROJECT_KEYS = {"name", "version", "description", "readme", "requires-python", "license", "dependencies",
                      "optional-dependencies", "scripts"}
SDIST_ROOTS = ("pyproject.toml", "README.md", "build_backend", "src", "tests", "lessons")
WHEEL_TAG = "py3-none-any"


def _project():
    """The [project] table, refusing keys this backend would otherwise silently leave out."""
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    unknown = set(project) - KNOWN_PROJECT_KEYS
    if unknown:
        raise ValueError(f"build_backend/microgpt_build.py does not write [project] {', '.join(sorted(unknown))}; "
                         "teach it, or the wheel's metadata would lack them")
    return project


def _dist_name(project):
    return re.sub(r"[-_.]+", "_", project["name"]).lower()  # the escaped name in file names (PEP 427)


def _files_under(root):
    """Files below root, sorted, without bytecode caches, notebook checkpoints or another
    tool's build metadata (made per machine, not shipped)."""
    return sorted(p for p in Path(root).rglob("*")
                  if p.is_file() and not {"__pycache__", ".ipynb_checkpoints"} & set(p.parts)
                  and p.suffix not in (".pyc", ".pyo")
                  and not any(part.endswith(".egg-info") for part in p.parts))


def metadata(project):
    """Core metadata (PKG-INFO in an sdist, METADATA in a wheel), README as the long description."""
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}"]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "license" in project:  # the { text = "..." } form; others fail here rather than vanish
        lines.append(f"License: {project['license']['text']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {req}" for req in project.get("dependencies", [])]
    for extra, reqs in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for req in reqs:
            req, _, marker = (part.strip() for part in req.partition(";"))
            condition = f'({marker}) and extra == "{extra}"' if marker else f'extra == "{extra}"'
            lines.append(f"Requires-Dist: {req}; {condition}")
    readme = project.get("readme")
    body = ""
    if readme:
        kind = "text/markdown" if readme.endswith(".md") else "text/plain"
        lines.append(f"Description-Content-Type: {kind}")
        body = Path(readme).read_text(encoding="utf-8")
    return "\n".join(lines) + "\n\n" + body


def _dist_info(project):
    """The .dist-info files other than RECORD, as {name: bytes}."""
    files = {
        "METADATA": metadata(project).encode("utf-8"),
        "WHEEL": (f"Wheel-Version: 1.0\nGenerator: microgpt_build (in-tree)\n"
                  f"Root-Is-Purelib: true\nTag: {WHEEL_TAG}\n").encode(),
    }
    scripts = project.get("scripts", {})
    if scripts:
        entries = "".join(f"{name} = {target}\n" for name, target in scripts.items())
        files["entry_points.txt"] = f"[console_scripts]\n{entries}".encode()
    return files


def _write_wheel(wheel_directory, project, contents):
    """A wheel of contents ({archive name: bytes}) plus .dist-info, with its RECORD."""
    name, version = _dist_name(project), project["version"]
    info = f"{name}-{version}.dist-info"
    entries = dict(contents)
    entries.update({f"{info}/{k}": v for k, v in _dist_info(project).items()})
    record = []
    for arcname, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{arcname},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")  # RECORD cannot hold its own hash
    entries[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    filename = f"{name}-{version}-{WHEEL_TAG}.whl"
    stamp = time.gmtime(EPOCH)[:6]
    with zipfile.ZipFile(Path(wheel_directory) / filename, "w", zipfile.ZIP_DEFLATED) as whl:
        for arcname, data in entries.items():  # package first, .dist-info last, RECORD at the very end
            entry = zipfile.ZipInfo(arcname, date_time=stamp)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(entry, data)
    return filename


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project = _project()
    package = Path("src") / project["name"]
    if not (package / "__init__.py").is_file():
        raise ValueError(f"no package at {package}: this backend builds the src layout only")
    contents = {p.relative_to("src").as_posix(): p.read_bytes() for p in _files_under(package)}
    return _write_wheel(wheel_directory, project, contents)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """A wheel whose only file is a .pth naming src/: imports then read this tree, so edits show at once."""
    project = _project()
    pth = f"__editable__.{_dist_name(project)}.pth"
    return _write_wheel(wheel_directory, project, {pth: f"{Path('src').resolve()}\n".encode()})


def build_sdist(sdist_directory, config_settings=None):
    """name-version.tar.gz: the sources SDIST_ROOTS names, and PKG-INFO."""
    project = _project()
    base = f"{_dist_name(project)}-{project['version']}"
    files = []
    for root in SDIST_ROOTS:
        files += [Path(root)] if Path(root).is_file() else _files_under(root)
    entries = {f"{base}/{p.as_posix()}": p.read_bytes() for p in files}
    entries[f"{base}/PKG-INFO"] = metadata(project).encode("utf-8")
    filename = f"{base}.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for arcname, data in sorted(entries.items()):
            entry = tarfile.TarInfo(arcname)
            entry.size, entry.mtime, entry.mode = len(data), EPOCH, 0o644
            tar.addfile(entry, io.BytesIO(data))
    # mtime=0 keeps the gzip header free of the build time
    (Path(sdist_directory) / filename).write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return filename
