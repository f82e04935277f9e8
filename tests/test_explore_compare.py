"""Comparing two models, with answers arriving out of order. The browser holds
chosen API requests (Playwright's `page.route`) and lets them through later, so
side 1's answers arrive before side 0's, or an old answer after a newer one;
then each column must show its own model's numbers, the newest asked for, in
its visible text. The oracle is the server's JSON API for that model.

With test_explore_browser.py's browser: skipped with the reason where Chromium
or Playwright is missing, failed under CI=true.
"""

import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from microgpt.explore.models import load_models
from microgpt.explore.server import Explorer, make_server
from microgpt.training import plan

from test_explore_browser import api, browser, open_page  # noqa: F401 (browser: a fixture)

COLUMNS = (("early", ""), ("late", "--b"))  # model id, and the suffix of its column's element ids


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """One run saved at step 10 and at step 40, served side by side."""
    d = tmp_path_factory.mktemp("compare")
    run = plan(steps=40, seed=3, out=str(d / "late.json"))
    run.train(until=10).save(d / "early.json")
    run.train().save()
    explorer = Explorer(load_models([str(d / "early.json"), str(d / "late.json")]), [])
    server = make_server(explorer, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "explorer": explorer}
    server.shutdown()
    server.server_close()


def settled(pg):
    pg.wait_for_selector("#status[data-busy='0']", state="attached", timeout=30000)


def comparing(chromium, pair):
    pg, errors = open_page(chromium, pair)
    pg.select_option("#compare", "late")
    pg.wait_for_selector("#read-total--b[data-value]", state="attached")
    settled(pg)
    return pg, errors


def as_page_prints(p):
    """A probability as the bars label it (explore's fmtP: three significant digits, e-notation below 1e-3)."""
    if p >= 1e-3:
        return f"{p:#.3g}"
    mantissa, exponent = f"{p:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def bars_text(pair, model, temperature):
    """The visible text of the next-character bars for `model`: each token and its probability, likeliest first."""
    d = api(pair, f"/api/next?model={model}&text=emma&pos=4&temperature={temperature}")
    order = sorted((i for i, p in enumerate(d["probs"]) if p > 0), key=lambda i: (-d["probs"][i], i))
    label = {"BOS": "⏎", " ": "␣", "\n": "↵"}
    return [t for i in order for t in (label.get(d["vocab"][i], d["vocab"][i]), as_page_prints(d["probs"][i]))]


def shown_bars(pg, suffix):
    return pg.locator(f"#next-bars{suffix} svg text").all_text_contents()


def hold(pg, which):
    """Hold every API request whose query `which` picks, until `release`; the held requests collect in the list."""
    held = []

    def route(r):
        query = {k: v[0] for k, v in parse_qs(urlsplit(r.request.url).query).items()}
        if which(query):
            held.append(r)
        else:
            r.continue_()
    pg.route(is_api, route)
    return held


def is_api(url):
    return urlsplit(url).path.startswith("/api/")


def release(pg, held):
    for r in held:
        r.continue_()
    pg.unroute(is_api)


def eventually(pg, check, what):
    """Wait (at most 30 s) for check() to hold, letting Playwright dispatch events meanwhile."""
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, f"still not so after 30 s: {what}"
        pg.wait_for_timeout(20)


def test_side_1_answering_first_keeps_each_columns_numbers(browser, pair):
    """Two computations at once on both sides (the bars at a new temperature, a
    new sample); side 0's requests are held until both have been asked, while
    side 1's go through, then side 0's answers come together."""
    pg, errors = comparing(browser, pair)
    held = hold(pg, lambda q: q.get("model") == "early")
    pg.eval_on_selector("#next-temp", "e => { e.value = '0.5'; e.dispatchEvent(new Event('input')); }")
    pg.dispatch_event("#smp-new", "click")
    eventually(pg, lambda: len(held) == 2, "side 0's next and sample are asked for")
    release(pg, held)
    settled(pg)
    for model, suffix in COLUMNS:
        assert pg.text_content(f"#next-temp-value{suffix}") == "0.50"
        assert shown_bars(pg, suffix) == bars_text(pair, model, 0.5), f"the bars of {model}'s column"
        s = api(pair, f"/api/sample?model={model}&seed=42&temperature=0.5")
        assert pg.text_content(f"#smp-info{suffix}") == f"{len(s['steps'])} steps ready (seed 42, temperature 0.5).", \
            f"the sample of {model}'s column"
        score = api(pair, f"/api/score?model={model}&text=emma")
        assert pg.text_content(f"#read-total{suffix}") == f"{score['total']:.4f}"
    assert bars_text(pair, "early", 0.5) != bars_text(pair, "late", 0.5)  # the columns can be told apart
    pg.close()
    assert errors == [], f"browser console errors: {errors}"


def test_an_answer_older_than_the_shown_one_is_dropped(browser, pair):
    """The bars at temperature 0.5 are held while 1.5 is asked and drawn; when the
    0.5 answers come at last, each column still shows 1.5."""
    pg, errors = comparing(browser, pair)
    held = hold(pg, lambda q: q.get("temperature") == "0.5")
    pg.eval_on_selector("#next-temp", "e => { e.value = '0.5'; e.dispatchEvent(new Event('input')); }")
    eventually(pg, lambda: len(held) >= 1, "the bars at 0.5 are asked for")
    pg.eval_on_selector("#next-temp", "e => { e.value = '1.5'; e.dispatchEvent(new Event('input')); }")
    newer = {suffix: bars_text(pair, model, 1.5) for model, suffix in COLUMNS}
    eventually(pg, lambda: all(shown_bars(pg, suffix) == bars for suffix, bars in newer.items()),
               "both columns show the bars at 1.5")
    release(pg, held)
    settled(pg)
    for model, suffix in COLUMNS:
        assert pg.text_content(f"#next-temp-value{suffix}") == "1.50"
        assert shown_bars(pg, suffix) == bars_text(pair, model, 1.5), f"the bars of {model}'s column"
    pg.close()
    assert errors == [], f"browser console errors: {errors}"
