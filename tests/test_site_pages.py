"""The site's explorer, exercises and lessons pages in Chromium, served from a
local folder, with no request leaving this machine (tests/site_support.py).

- The explorer in the site shows the numbers `microgpt explore` shows for the
  same model: both pages are opened and read, and both against the server's
  own JSON answers.
- An exercise checked in the page prints, byte for byte, what `microgpt
  exercise check` prints for the same file (saved under the stub's name, as
  the page names it), for a right and a wrong answer; an answer that loops
  forever is stopped at the grader's budget, reported as the command reports
  it, and the page checks the next answer as usual.
- A lesson executed beforehand is a page with its prose, its printed output
  and its figures.

One site is built for the module; each page loads Pyodide once in its worker.
"""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import jupytext
import nbclient
import nbformat
import pytest
from site_support import Tab, chromium, pyodide_dir, serve  # noqa: F401 (chromium: a fixture)

import microgpt
from microgpt import exercises
from microgpt.exercises import sandbox
from microgpt.explore.models import load_models
from microgpt.explore.server import Explorer, make_server
from microgpt.site.build import build_site

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
LESSON = "19_reading_loss_curves"  # a short lesson with figures
# Wrong numbers, not an exception: the text of an exception is the interpreter's, and
# Pyodide's Python is newer than the one running these tests ("float division by zero"
# became "division by zero"), so a report quoting one differs by those words.
WRONG_SOFTMAX = """import math

print("my softmax is loaded")  # shown above the report, by the command and by the page


def softmax(logits):
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    return [e / len(exps) for e in exps]  # divided by the count, not by the sum
"""
ENDLESS_SOFTMAX = """def softmax(logits):
    while True:
        pass
"""
LOAD_TIMEOUT = 90_000  # ms: Pyodide's first load in a worker, on a busy two-core machine


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("site_model")
    return microgpt.train(steps=60, seed=5).save(d / "model_s60.json")


@pytest.fixture(scope="module")
def site(tmp_path_factory, model, chromium):
    pyodide = pyodide_dir()  # skips (or fails under CI) before anything is built without it
    notebooks = tmp_path_factory.mktemp("executed_lessons")
    lesson = jupytext.read(LESSONS / f"{LESSON}.py")
    nbclient.NotebookClient(lesson, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(LESSONS)}}).execute()
    nbformat.write(lesson, notebooks / f"{LESSON}.ipynb")
    out = tmp_path_factory.mktemp("site") / "site"
    record = build_site(out, [model], str(pyodide), say=lambda line: None, lessons=notebooks)
    with serve(out) as url:
        yield {"url": url, "browser": chromium, "record": record, "notebook": lesson}


@pytest.fixture(scope="module")
def explore_server(model):
    explorer = Explorer(load_models([str(model)]), [])
    server = make_server(explorer, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield explorer, f"http://127.0.0.1:{server.server_address[1]}/?token={explorer.token}"
    server.shutdown()
    server.server_close()


def answer(explorer, target):
    status, _, body = explorer.answer(target)
    assert status == 200, body
    return json.loads(body)


def read_explorer(page, text):
    """What the page shows: the card's parameters and samples, then `text` read."""
    page.wait_for_selector("#card-samples li", state="attached", timeout=LOAD_TIMEOUT)
    shown = {"params": page.text_content("[data-testid=param-total]"),
             "samples": page.locator("#card-samples li").all_text_contents()}
    page.click("#tabs button[data-view=read]")
    page.fill("#text", text)
    page.wait_for_function(f"document.querySelectorAll('#read-chars .char').length === {len(text) + 1}"
                           " && document.querySelector('#status').dataset.busy === '0'", timeout=LOAD_TIMEOUT)
    for field in ("read-total", "read-mean", "read-ppl"):
        shown[field] = page.text_content(f"#{field}")
    shown["p"] = page.eval_on_selector_all("#read-chars .char", "els => els.map(e => e.dataset.p)")
    shown["train-tab"] = page.is_visible("#tabs button[data-view=train]")
    return shown


def test_the_sites_explorer_shows_the_numbers_of_microgpt_explore(site, explore_server):
    explorer, local_url = explore_server
    local = Tab(site["browser"], local_url, bypass_csp=True)  # its policy forbids the waits' JavaScript predicates
    in_site = Tab(site["browser"], site["url"] + "explore.html")
    try:
        here, there = read_explorer(local.page, "olivia"), read_explorer(in_site.page, "olivia")
        local.check()
        in_site.check()
    finally:
        local.close()
        in_site.close()
    assert here.pop("train-tab") is True and there.pop("train-tab") is False  # the site's Train page trains
    assert there == here
    card, score = answer(explorer, "/api/card"), answer(explorer, "/api/score?text=olivia")
    assert there["params"] == f"{card['params']:,}"
    assert there["samples"] == [s["text"] + s["mark"] for s in card["samples"]]
    assert there["read-total"] == f"{score['total']:.4f}" and there["read-ppl"] == f"{score['perplexity']:.2f}"
    assert [float(p) for p in there["p"]] == [r["p"] for r in score["rows"]]


def test_the_sites_explorer_opens_the_model_the_train_page_kept(site, model, explore_server):
    """The Train page keeps its model in the tab's sessionStorage and links to explore.html?trained=NAME."""
    explorer, _ = explore_server
    tab = Tab(site["browser"], site["url"] + "lessons/index.html")  # the site's origin, without Python
    try:
        tab.page.evaluate("([key, text]) => sessionStorage.setItem(key, text)",
                          ["microgpt.trained:kept_s60.json", model.read_text(encoding="utf-8")])
        tab.page.goto(site["url"] + "explore.html?trained=kept_s60.json")
        shown = read_explorer(tab.page, "emma")
        menu = tab.page.eval_on_selector_all("#model option", "els => els.map(e => e.value)")
        chosen = tab.page.input_value("#model")
        tab.check()
    finally:
        tab.close()
    assert menu == ["kept_s60", model.stem] and chosen == "kept_s60"  # the kept model first, and shown
    score = answer(explorer, "/api/score?text=emma")  # the same checkpoint, served by microgpt explore
    assert shown["read-total"] == f"{score['total']:.4f}"
    assert [float(p) for p in shown["p"]] == [r["p"] for r in score["rows"]]


def cli_check(folder, n, source):
    """(stdout, exit code) of `microgpt exercise check N` on `source`, saved under the stub's name in folder."""
    folder.mkdir()
    (folder / exercises.stub_filename(n)).write_text(source, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "microgpt", "exercise", "check", str(n)], cwd=folder,
                          capture_output=True, text=True, timeout=60, check=False)
    return done.stdout, done.returncode


def page_check(page, tmp_path, name, source):
    """The report the page shows for `source`, opened as a file and checked, and its verdict."""
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    page.set_input_files("#open-file", str(path))
    page.wait_for_selector("#check:not([disabled])", timeout=LOAD_TIMEOUT)  # the page reads the file, then checks
    assert page.text_content(".cm-line") == source.splitlines()[0]  # the editor holds it
    page.click("#check")
    page.wait_for_selector("#report[data-passed]", timeout=LOAD_TIMEOUT)
    return page.text_content("#report"), page.get_attribute("#report", "data-passed")


def test_an_exercise_checked_in_the_page_reports_as_the_command_does(site, tmp_path):
    tab = Tab(site["browser"], site["url"] + "exercises.html?n=5")
    try:
        tab.page.wait_for_selector("#check:not([disabled])", timeout=LOAD_TIMEOUT)  # the catalogue is read
        assert "def softmax(logits):" in tab.page.text_content(".cm-content")  # the stub, in the editor
        # an endless answer first; the command's own run (its 10 s budget) goes on beside the page's
        endless = {}
        command = threading.Thread(target=lambda: endless.update(
            cli=cli_check(tmp_path / "cli-endless", 5, ENDLESS_SOFTMAX)))
        command.start()
        t0 = time.monotonic()
        shown, verdict = page_check(tab.page, tmp_path, "endless", ENDLESS_SOFTMAX)
        waited = time.monotonic() - t0
        command.join()
        assert verdict == "false" and waited >= sandbox.BUDGET
        assert f"ran past {sandbox.BUDGET:g} s and were stopped" in shown
        assert (shown, "false") == (endless["cli"][0], "false") and endless["cli"][1] == 1
        # the page is still usable: a right answer, then a wrong one, each reported as the command reports it
        right = exercises.solution_path(5).read_text(encoding="utf-8")
        for name, source, code in (("right", right, 0), ("wrong", WRONG_SOFTMAX, 1)):
            shown, verdict = page_check(tab.page, tmp_path, name, source)
            expected, rc = cli_check(tmp_path / f"cli-{name}", 5, source)
            assert (rc, verdict) == (code, "true" if code == 0 else "false")
            assert shown == expected
            assert ("all 7 checks passed" in shown) == (code == 0)
            assert shown.startswith("my softmax is loaded\n") == (name == "wrong")  # the student's print, first
        tab.check()
    finally:
        tab.close()


def test_a_lesson_is_a_page_with_its_outputs_and_figures(site):
    notebook = site["notebook"]
    heading = notebook.cells[0].source.splitlines()[0].lstrip("# ").strip()
    printed = [o["text"] for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if o.get("output_type") == "stream"]
    figures = sum("image/png" in o.get("data", {}) for c in notebook.cells if c.cell_type == "code"
                  for o in c.get("outputs", []))
    assert site["record"]["lessons"] == [{"n": LESSON[:2], "title": heading, "page": f"lessons/{LESSON[:2]}.html"}]
    tab = Tab(site["browser"], site["url"] + "lessons/index.html")
    try:
        tab.page.click(f"text={heading}")
        tab.page.wait_for_selector("h1")
        assert tab.page.text_content("h1") == heading
        assert printed and all(text.strip() in tab.page.inner_text("body") for text in printed)
        images = tab.page.locator("img")
        assert images.count() == figures >= 1
        sizes = images.evaluate_all("els => els.map(e => e.complete && e.naturalWidth > 0)")
        assert all(sizes)
        tab.check()
    finally:
        tab.close()
