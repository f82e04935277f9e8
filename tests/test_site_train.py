"""The site's Train page in Chromium, served from a local folder with a local Pyodide:
the default run prints what `microgpt train` prints when piped (every loss line and
every name, digit for digit), a bad list gets the command's own message, and the
model the page offers for download samples, with `microgpt sample`, to the names
the page shows. No request leaves 127.0.0.1 and the console stays clean.

One site is built for the module and Pyodide loads once: the tests share one tab and
run in order (the bad list, the default run and its download, then Stop, which loads
Pyodide a second time). The last test checks the request guard itself.
"""

import json
import os
import re
import subprocess
import sys
import time

import pytest
from site_support import Tab, build, chromium, pyodide_dir, serve  # noqa: F401 (chromium: a fixture)

import microgpt
from microgpt.site.build import PYODIDE_CDN, build_site

# What differs between two runs of the same training: the speed and the time left
# on each step line, the "trained ... in" line and where the model was saved.
STEP_SPEED = re.compile(r" \| [\d,]+ tok/s \| eta \S+$")
VARYING = ("trained ", "saved model to ")


def comparable(lines):
    return [STEP_SPEED.sub("", line) for line in lines if line and not line.startswith(VARYING)]


def cli(*args, cwd=None):
    env = {k: v for k, v in os.environ.items() if k != "MICROGPT_DATA"}
    return subprocess.run([sys.executable, "-m", "microgpt", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, check=False)


@pytest.fixture(scope="module")
def tab(tmp_path_factory, chromium):
    pyodide_dir()
    d = tmp_path_factory.mktemp("site_train")
    model = microgpt.train(steps=3, seed=1).save(d / "tiny.json")  # the explorer's model: not under test here
    build(d / "site", [model])
    with serve(d / "site") as url:
        started = time.perf_counter()
        t = Tab(chromium, url + "train.html", accept_downloads=True)
        t.page.wait_for_selector("#train-start:not([disabled])", timeout=120_000)
        t.interactive_s = time.perf_counter() - started
        print(f"\nTrain page interactive (Pyodide and the wheel loaded) in {t.interactive_s:.1f} s")
        yield t
        t.check()
        t.close()


def wait_status(page, prefix, timeout_s):
    page.wait_for_function("p => document.getElementById('train-status').textContent.startsWith(p)", arg=prefix,
                           timeout=timeout_s * 1000)


def test_the_page_loads_with_no_error_and_nothing_from_outside(tab):
    assert tab.page.locator("#train-status").text_content() == "ready"
    assert tab.page.locator("select[name=engine]").input_value() == "fused"
    tab.check()


def test_a_bad_list_gets_the_commands_own_message(tab, tmp_path):
    text = "\n   \n"
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "pasted.txt").write_text(text)
    native = cli("train", "--data", "uploads/pasted.txt", "--steps", "1", cwd=tmp_path)
    assert native.returncode != 0 and native.stderr.startswith("microgpt train: error:")
    page = tab.page
    page.check("input[name=data][value=pasted]")
    page.fill("#train-text", text)
    page.click("#train-start")
    wait_status(page, "stopped with exit status", 60)
    assert page.locator("#train-log .stderr").text_content().strip() == native.stderr.strip()
    assert f"exit status {native.returncode}" in page.locator("#train-status").text_content()
    page.check("input[name=data][value=bundled]")


def test_the_default_run_prints_the_commands_lines_and_its_model_samples_the_same(tab, tmp_path):
    page = tab.page
    native = cli("train", "--out", str(tmp_path / "native.json"))  # piped: the lines a log or a script reads
    assert native.returncode == 0, native.stderr
    started = time.perf_counter()
    page.click("#train-start")
    wait_status(page, "done", 600)
    page_s = time.perf_counter() - started
    shown = page.locator("#train-log").text_content().splitlines()
    assert comparable(shown) == comparable(native.stdout.splitlines())
    assert sum(line.startswith("step ") for line in shown) == 1000
    assert sum(line.startswith("sample ") for line in shown) == 20
    print(f"\nthe default run in the page: {page_s:.1f} s, training and sampling included")
    print("  page:   " + next(line for line in shown if line.startswith("trained ")))
    print("  native: " + next(line for line in native.stdout.splitlines() if line.startswith("trained ")))

    with page.expect_download() as download:
        page.click("#train-download")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    sampled = cli("sample", str(saved))
    assert sampled.returncode == 0, sampled.stderr
    on_page = page.locator("#train-samples").text_content().splitlines()[1:]
    assert on_page == sampled.stdout.splitlines()
    assert len(on_page) == 20
    href = page.locator("#train-explore").get_attribute("href")
    assert href == f"explore.html?trained={saved.name}"
    stored = page.evaluate("k => sessionStorage.getItem(k)", f"microgpt.trained:{saved.name}")
    assert stored == saved.read_text()


def test_stop_ends_a_run_and_the_page_trains_again(tab):
    page = tab.page
    page.click("#train-start")
    wait_status(page, "training: step", 60)
    page.click("#train-stop")
    wait_status(page, "stopped at step", 10)
    page.wait_for_function("() => document.getElementById('train-status').textContent.endsWith('Ready.')",
                           timeout=120_000)
    page.fill("input[name=steps]", "3")
    page.click("#train-start")
    wait_status(page, "done", 120)
    steps = [line for line in page.locator("#train-log").text_content().splitlines() if line.startswith("step ")]
    assert [line[:16] for line in steps] == [f"step    {i} /    3" for i in (1, 2, 3)]


def test_stop_keeps_the_model_the_run_saved_last(tab, tmp_path):
    """The page's runs save every 100 steps; a Stop past step 100 offers that model, and
    `microgpt sample` reads the downloaded file to the names the page shows."""
    page = tab.page
    page.fill("input[name=steps]", "1000")
    page.click("#train-start")
    page.wait_for_function("() => /step (1[5-9]|[2-9])[0-9]{2} of/.test(document.getElementById('train-status')"
                           ".textContent)", timeout=300_000)
    page.click("#train-stop")
    page.wait_for_function("() => document.getElementById('train-status').textContent.endsWith('Ready.')",
                           timeout=120_000)
    status = page.locator("#train-status").text_content()
    found = re.match(r"stopped at step (\d+); kept the model saved at step (\d+)\. Ready\.$", status)
    assert found, status
    at, kept = int(found.group(1)), int(found.group(2))
    assert kept % 100 == 0 and 100 <= kept <= at < 1000
    with page.expect_download() as download:
        page.click("#train-download")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    training = json.loads(saved.read_text())["training"]
    assert training["steps"] == kept and training["complete"] is False
    sampled = cli("sample", str(saved))
    assert sampled.returncode == 0, sampled.stderr
    on_page = page.locator("#train-samples").text_content().splitlines()[1:]
    assert on_page == sampled.stdout.splitlines() and len(on_page) == 20


def test_the_guard_catches_a_request_for_the_cdn(tmp_path, chromium):
    """A site built without --pyodide loads Pyodide from its CDN: the tab must see
    that request, abort it and report it (this is what keeps the other tests honest)."""
    pyodide_dir()
    model = microgpt.train(steps=2, seed=1).save(tmp_path / "tiny.json")
    microgpt_site = tmp_path / "site"
    build_site(microgpt_site, [model], say=lambda line: None)
    with serve(microgpt_site) as url:
        t = Tab(chromium, url + "train.html")
        wait_status(t.page, "error:", 60)
        assert any(u.startswith(PYODIDE_CDN) for u in t.outside), t.outside
        with pytest.raises(AssertionError, match="would have left this machine"):
            t.check()
        t.close()
