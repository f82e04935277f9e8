"""The PEP 517 build backend that turns this source tree into a wheel or an sdist.

Why not setuptools: pip builds a source tree in an isolated environment and
first downloads the backend named in pyproject.toml into it, so `pip install .`
fails on a machine with no network. This backend lives in the tree
(`backend-path`) and needs only the standard library (plus tomli on Python 3.10,
which has no tomllib), so installing needs nothing from an index.

Which files: only the project's own, never one that merely lies in the folder
(a saved model, an editor's swap file, a cache). In a git checkout those are the
files git tracks (`git ls-files`: committed or added). An sdist has no git, so
build_sdist writes the list into it as MANIFEST, and a build from the unpacked
sdist reads it back. With neither, the build stops and says so.

The wheel is one pure-Python package from the src layout, `src/<name>/` (the .py
modules and package data such as datasets/names.txt.gz), with the license files
in its .dist-info/licenses/ (PEP 639). The sdist is the folders and files
SDIST_ROOTS names and the license files. The [project] table of pyproject.toml
gives the metadata. Outputs are byte-for-byte reproducible: entries sorted, timestamps fixed.

Hooks: build_wheel, build_editable (PEP 660: a .pth file puts src/ on sys.path)
and build_sdist.
"""

import base64
import gzip
import hashlib
import io
import os
import re
import subprocess
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
KNOWN_PROJECT_KEYS = {"name", "version", "description", "readme", "requires-python", "license", "license-files",
                      "dependencies", "optional-dependencies", "scripts"}
# What an sdist holds (with the license files pyproject names): enough to build the wheel, run the
# tests and read the docs and lessons.
SDIST_ROOTS = ("pyproject.toml", "README.md", "build_backend", "src", "tests", "lessons", "docs")
MANIFEST = "MANIFEST"  # the sdist's list of its source files, one path a line
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


class NotACheckout(Exception):
    """Why this folder is not the top of a git checkout."""


def source_files():
    """The project's files, as sorted relative Paths: git's tracked files in a checkout,
    else the MANIFEST an sdist carries. Files lying untracked in the tree are never among them."""
    try:
        return _git_tracked()
    except NotACheckout as why:
        if Path(MANIFEST).is_file():
            return _manifest_files()
        raise ValueError(f"this tree is neither the top of a git checkout ({why}) nor an unpacked sdist "
                         f"(no {MANIFEST}), so there is no list of the project's files to build from") from None


def _git_tracked():
    """Files git tracks here (committed or added). A folder below the top of a checkout is not
    one: an unpacked sdist may lie inside another project's checkout."""
    try:
        where = subprocess.run(["git", "rev-parse", "--show-prefix"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise NotACheckout("no git command") from None
    if where.returncode != 0:  # not a repository, or one git refuses to read (another user's)
        raise NotACheckout((where.stderr.strip() or "git rev-parse failed").splitlines()[0])
    if where.stdout.strip():
        raise NotACheckout(f"this is {where.stdout.strip()} inside one")
    listed = subprocess.run(["git", "ls-files", "-z"], capture_output=True, text=True, check=True).stdout
    # A tracked file deleted from the tree is left out, as is a submodule (a folder).
    return sorted(Path(name) for name in listed.split("\0") if name and Path(name).is_file())


def _manifest_files():
    files = []
    for line in Path(MANIFEST).read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        path = Path(line)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"{MANIFEST} names {line!r}, which is outside this tree")
        if not path.is_file():
            raise ValueError(f"{MANIFEST} names {line}, which is missing: this sdist is incomplete")
        files.append(path)
    return sorted(files)


def license_files(project, sources):
    """The files pyproject's license-files names (plain paths; this backend takes no glob patterns)."""
    names = project.get("license-files", [])
    for name in names:
        if any(ch in name for ch in "*?["):
            raise ValueError(f"license-files: {name!r} is a pattern; this backend takes file names")
        if Path(name) not in sources:
            raise ValueError(f"license-files names {name}, which is not one of the project's files")
    return names


def metadata(project, licenses):
    """Core metadata (PKG-INFO in an sdist, METADATA in a wheel), README as the long description.
    Version 2.4 is the first with License-Expression and License-File (PEP 639)."""
    lines = ["Metadata-Version: 2.4", f"Name: {project['name']}", f"Version: {project['version']}"]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    license = project.get("license")
    if isinstance(license, str):  # an SPDX expression such as "MIT"
        lines.append(f"License-Expression: {license}")
    elif license is not None:  # the older { text = "..." } table; { file = ... } fails here rather than vanish
        lines.append(f"License: {license['text']}")
    lines += [f"License-File: {name}" for name in licenses]
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


def _dist_info(project, licenses):
    """The .dist-info files other than RECORD, as {name: bytes}."""
    files = {
        "METADATA": metadata(project, licenses).encode("utf-8"),
        "WHEEL": (f"Wheel-Version: 1.0\nGenerator: microgpt_build (in-tree)\n"
                  f"Root-Is-Purelib: true\nTag: {WHEEL_TAG}\n").encode(),
    }
    scripts = project.get("scripts", {})
    if scripts:
        entries = "".join(f"{name} = {target}\n" for name, target in scripts.items())
        files["entry_points.txt"] = f"[console_scripts]\n{entries}".encode()
    files.update({f"licenses/{name}": Path(name).read_bytes() for name in licenses})
    return files


def _write_wheel(wheel_directory, project, contents, licenses):
    """A wheel of contents ({archive name: bytes}) plus .dist-info, with its RECORD."""
    name, version = _dist_name(project), project["version"]
    info = f"{name}-{version}.dist-info"
    entries = dict(contents)
    entries.update({f"{info}/{k}": v for k, v in _dist_info(project, licenses).items()})
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
    sources = source_files()
    package = Path("src") / project["name"]
    if package / "__init__.py" not in sources:
        raise ValueError(f"no package at {package} among the project's files: this backend builds the src "
                         "layout only, from files git tracks")
    contents = {p.relative_to("src").as_posix(): p.read_bytes() for p in sources if package in p.parents}
    return _write_wheel(wheel_directory, project, contents, license_files(project, sources))


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """A wheel whose only file is a .pth naming src/: imports then read this tree, so edits show at once."""
    project = _project()
    pth = f"__editable__.{_dist_name(project)}.pth"
    licenses = license_files(project, source_files())
    return _write_wheel(wheel_directory, project, {pth: f"{Path('src').resolve()}\n".encode()}, licenses)


def build_sdist(sdist_directory, config_settings=None):
    """name-version.tar.gz: the project's files under SDIST_ROOTS, their list as MANIFEST, and PKG-INFO."""
    project = _project()
    sources = source_files()
    licenses = license_files(project, sources)
    shipped = sorted({p for p in sources if p.parts[0] in SDIST_ROOTS} | {Path(name) for name in licenses})
    base = f"{_dist_name(project)}-{project['version']}"
    entries = {f"{base}/{p.as_posix()}": p.read_bytes() for p in shipped}
    listing = "".join(f"{p.as_posix()}\n" for p in shipped)
    entries[f"{base}/{MANIFEST}"] = (f"# The files of this sdist: a build from it takes these and no others.\n"
                                     f"{listing}").encode("utf-8")
    entries[f"{base}/PKG-INFO"] = metadata(project, licenses).encode("utf-8")
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
