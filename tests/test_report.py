"""`microgpt report`: one self-contained HTML file. Its embedded answers are the
explorer API's own; it holds no URL; and it opens from disk in headless
Chromium, every view working with no request leaving the file and no console
error (with test_explore_browser.py's browser: skipped with the reason where
Chromium or Playwright is missing, failed under CI=true)."""

import json
import re
import subprocess
import sys

import pytest

import microgpt
from microgpt.explore.models import load_models, load_runs
from microgpt.explore import report
from microgpt.explore.server import Explorer

from test_explore_browser import VIEWS, browser, open_view, shoot  # noqa: F401 (browser: a fixture)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    log = d / "run.jsonl"
    path = microgpt.train(steps=30, seed=2, log=str(log), eval_every=10).save(d / "m.json")
    out = d / "report.html"
    r = subprocess.run([sys.executable, "-m", "microgpt", "report", str(path), "--log", str(log), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return {"dir": d, "model": path, "log": log, "out": out, "stdout": r.stdout}


def bundle(html):
    m = re.search(r'<script type="application/json" id="bundle">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def test_the_embedded_answers_are_the_apis(made):
    answers = bundle(made["out"].read_text())
    explorer = Explorer(load_models([str(made["model"])]), load_runs([str(made["log"])]))
    strings = answers.pop("strings")["m"]
    assert strings[:3] == ["emma", "olivia", "zoe"]
    assert len(answers) > 10
    for key, answer in answers.items():
        path, params = json.loads(key)
        target = f"/api/{path}?" + "&".join(f"{k}={v}" for k, v in params)
        status, _, body = explorer.answer(target)
        assert status == 200 and json.loads(body) == answer, key


def test_the_file_names_nothing_outside_itself(made):
    html = made["out"].read_text()
    assert not re.search(r"(?i)\b(https?|ftp|wss?):|//[a-z0-9.-]+\.[a-z]{2,}", html.replace("http-equiv", ""))
    for attr in re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html):
        assert attr.startswith("data:"), attr
    assert not re.search(r"url\((?!#)", html) and "@import" not in html  # url(#arrow) is the page's own marker
    assert "default-src 'none'" in html and "wrote" in made["stdout"]


def test_bad_reports_are_refused_in_one_line(made):
    d = made["dir"]
    notes = d / "notes.txt"
    notes.write_text("mine")
    for args, words in ((["--out", str(notes)], "not a microgpt report"),
                        (["--out", str(made["model"])], "is a model it reads"),
                        (["--out", str(d / "r2.html"), "--text", "EMMA"], "not in the model's vocabulary")):
        r = subprocess.run([sys.executable, "-m", "microgpt", "report", str(made["model"]), *args],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert notes.read_text() == "mine"
    # an earlier report is replaced without --force
    r = subprocess.run([sys.executable, "-m", "microgpt", "report", str(made["model"]), "--out", str(made["out"]),
                        "--text", "ava"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and bundle(made["out"].read_text())["strings"]["m"] == ["ava"]
    made["out"].write_text(report.build(load_models([str(made["model"])]), load_runs([str(made["log"])])))


def test_the_report_opens_offline_in_chromium(browser, made):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(made["out"].as_uri())
    page.wait_for_selector("#card-samples li")
    page.wait_for_selector("#read-total[data-value]", state="attached")
    assert page.is_visible("#report-note") and not page.is_visible("#text")
    shoot(page, "report")
    page.select_option("#text-choice", "olivia")
    page.wait_for_selector("#read-chars .char:nth-child(7)", state="attached")
    for name in VIEWS:
        open_view(page, name)
    page.wait_for_selector("[data-testid=bp-svg]")
    for _ in range(3):
        page.click("#bp-step")
    assert page.text_content("[data-testid=bp-grad-a]") == "grad 4.0"
    open_view(page, "sampling")
    page.click("#smp-play")
    page.wait_for_selector("#smp-text[data-done=true]", state="attached", timeout=30000)
    assert page.text_content("#smp-text") == microgpt.load(made["model"]).sample(1)[0]
    page.close()
    assert errors == [], errors
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []


def test_a_string_that_would_close_the_script_still_renders(browser, tmp_path):
    """Strings a user asks for are data inside a <script>: "<!--<script>" or "</script>" must not end
    it early or hide the page (the JSON is written with \\u003c)."""
    text = tmp_path / "html.txt"
    text.write_text("<!--<script> a </script> -->\n" * 40)
    model = microgpt.train(text=str(text), steps=3, seed=1, n_embd=8, n_head=2, block_size=16).save(tmp_path / "h.json")
    out = tmp_path / "r.html"
    asked = ["<!--<script>", "</script> a"]
    r = subprocess.run([sys.executable, "-m", "microgpt", "report", str(model), "--out", str(out),
                        *[a for s in asked for a in ("--text", s)]], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert "<!--<script>" not in html.split('id="bundle">', 1)[1].split("</script>", 1)[0]
    assert bundle(html)["strings"]["h"][:2] == asked
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri())
    page.wait_for_selector("#card-samples li")
    page.wait_for_selector("#read-total[data-value]", state="attached")
    assert page.is_visible("#card-samples") and errors == []
    page.close()
