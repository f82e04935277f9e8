"""What the site's browser tests share (tests/test_site_*.py): Pyodide's core, a site
built once per module, a local server for it, and Chromium tabs that fail on a
console error or on any request that would leave this machine.

Pyodide's core comes from $MICROGPT_PYODIDE_DIR, the unpacked npm package
(`npm pack pyodide@314.0.8; tar xzf pyodide-314.0.8.tgz` gives package/; .ci/run
fetches it and checks its checksum). Locally a test skips, saying why, when it,
Chromium or Playwright is missing; under CI=true it fails instead.
"""

import contextlib
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from microgpt.site.build import PYODIDE_FILES, build_site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                  # a second guard under the Tab's: no name resolves but the local server's address
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
LOCAL_HOSTS = ("127.0.0.1",)


def missing(why):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}, and CI=true requires the site's browser tests to run")
    pytest.skip(why)


def pyodide_dir():
    """The unpacked Pyodide core named by $MICROGPT_PYODIDE_DIR (skips or fails without it)."""
    given = os.environ.get("MICROGPT_PYODIDE_DIR")
    if not given:
        missing("MICROGPT_PYODIDE_DIR is not set (npm pack pyodide@314.0.8, tar xzf, point it at package/)")
    folder = Path(given)
    lacking = [n for n in PYODIDE_FILES if not (folder / n).is_file()]
    if lacking:
        missing(f"MICROGPT_PYODIDE_DIR={given} lacks {', '.join(lacking)}")
    return folder


def build(out, models):
    """The site in `out`, with a local Pyodide (the tests never reach a CDN)."""
    return build_site(out, models=models, pyodide=str(pyodide_dir()), say=lambda line: None)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm"}

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder):
    """A static server on 127.0.0.1 for `folder`; yields its base URL (ending in /)."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, headless, driven by Playwright: one per test module (import this
    fixture into the module; Playwright's sync API allows one at a time)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing("Chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                              args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


class Tab:
    """A page in a fresh browser context, with `errors` (console errors, uncaught
    exceptions) and `outside` (every request for a host other than 127.0.0.1,
    aborted). check() asserts both are empty."""

    def __init__(self, b, url, **context_options):
        self.errors, self.outside = [], []
        self.context = b.new_context(viewport={"width": 1200, "height": 900}, **context_options)
        self.context.route("**/*", self._guard)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("worker", lambda w: w.on("console", lambda m: self.errors.append(f"worker: {m.text}")
                                               if m.type == "error" else None))
        self.page.goto(url)

    def _guard(self, route):
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def check(self):
        assert self.outside == [], f"requests that would have left this machine: {self.outside}"
        assert self.errors == [], f"browser console errors: {self.errors}"

    def close(self):
        self.context.close()
