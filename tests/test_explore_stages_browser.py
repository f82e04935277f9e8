"""The architecture diagram and attention in stages, in headless Chromium, for a
2-layer, 4-head model: every number the stages show (the text on the page, and
the full value it rounds) is the independent forward's of
tests/attention_reference.py; the diagram's parameter counts are each block's
formula and sum to the model's; a click on a block opens its view; and the
same view works in a `microgpt report` opened from disk. No console error.
(test_explore_browser.py's browser fixture: skipped with the reason where
Chromium or Playwright is missing, failed under CI=true.)"""

import os
import threading

import attention_reference as reference
import pytest
from test_explore_browser import browser, open_page, open_view, page, shoot  # noqa: F401 (fixtures; page opens this module's site)

import microgpt
from microgpt.explore import report
from microgpt.explore.models import load_models
from microgpt.explore.server import Explorer, make_server
from microgpt.model import num_params

SHOWN = {3: 0.5e-3, 4: 0.5e-4}  # the most a number shown with 3 or 4 decimals is off by


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("stages_browser")
    steps = 1000 if os.environ.get("MICROGPT_SCREENSHOTS") else 30  # screenshots show a trained model
    path = microgpt.train(steps=steps, seed=5, n_layer=2, n_head=4).save(d / f"model_e16_h4_l2_s{steps}.json")
    explorer = Explorer(load_models([str(path)]), [])
    server = make_server(explorer, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/?token={explorer.token}", "path": path, "dir": d}
    server.shutdown()
    server.server_close()


def expected(site, text):
    m = microgpt.load(site["path"])
    return m, reference.read(m.checkpoint.weights, m.config, m.tokenizer.encode_doc(text))


def check_numbers(page, selector, want, digits=3):
    """Each number under `selector`: its text is `want` rounded, its data-value `want` to 1e-12."""
    got = page.eval_on_selector_all(selector, "els => els.map(e => [e.textContent, e.dataset.value])")
    assert len(got) == len(want) > 0, selector
    for (text, value), w in zip(got, want):
        assert len(text.split(".")[1]) == digits, text
        assert abs(float(text) - w) <= SHOWN[digits] + 1e-12, (selector, text, w)
        assert abs(float(value) - w) <= 1e-12, (selector, value, w)


def check_stages(page, m, layers, layer, head, pos):
    """The stages on the page against the reference's numbers for (layer, head) at pos."""
    d = m.config.head_dim
    want = layers[pos][1][layer]
    part = lambda v: v[head * d:(head + 1) * d]
    assert f"layer {layer} · head {head}" in page.text_content("#stg-body .readout")
    assert f"position {pos}," in page.text_content("#stg-body .readout")
    check_numbers(page, "[data-testid=stg-x] .n", want["x"])
    check_numbers(page, "[data-testid=stg-q] .n", part(want["q"]))
    rows = page.locator("[data-testid=stg-table] tr[data-pos]")
    assert rows.count() == pos + 1  # the cache: positions 0..pos, nothing later
    for j in range(pos + 1):
        row = f"[data-testid=stg-table] tr[data-pos='{j}']"
        cached = layers[j][1][layer]
        check_numbers(page, f"{row} [data-role=k] .n", part(cached["k"]))
        check_numbers(page, f"{row} [data-role=v] .n", part(cached["v"]))
        check_numbers(page, f"{row} [data-role=score]", [want["scores"][head][j]], 4)
        check_numbers(page, f"{row} [data-role=scaled]", [want["scaled"][head][j]], 4)
        check_numbers(page, f"{row} [data-role=weight]", [want["weights"][head][j]], 4)
    check_numbers(page, "[data-testid=stg-head-out] .n", part(want["heads"]))
    check_numbers(page, "[data-testid=stg-concat] .n", want["heads"])
    check_numbers(page, "[data-testid=stg-out] .n", want["out"])


def test_every_stage_is_the_independent_forwards(page, site):
    m, layers = expected(site, "emma")
    open_view(page, "stages")
    page.wait_for_selector("[data-testid=stg-table]")
    check_stages(page, m, layers, 0, 0, 4)  # what opens first: layer 0, head 0, the last position
    page.select_option("#stg-layer", "1")
    page.select_option("#stg-head", "2")
    page.click("#stg-positions button >> nth=2")
    page.wait_for_selector("#stg-positions button.active >> text=2:")
    check_stages(page, m, layers, 1, 2, 2)
    assert "not read yet" in page.text_content("[data-testid=stg-table] tr.later")
    page.click("[data-head='0.3']")  # a head in the diagram
    assert page.input_value("#stg-layer") == "0" and page.input_value("#stg-head") == "3"
    check_stages(page, m, layers, 0, 3, 2)
    shoot(page, "stages")


def test_the_diagrams_counts_and_clicks(page, site):
    m = microgpt.load(site["path"])
    open_view(page, "stages")
    page.wait_for_selector("[data-testid=arch-svg]")
    shown = [int(t.replace(",", "").split()[0]) for t in page.locator("[data-testid=arch-params]").all_text_contents()]
    blocks = reference.block_params(m.config)
    assert shown == [count for _, _, count in blocks]
    kinds = page.eval_on_selector_all(".arch-block", "els => els.map(e => e.dataset.block)")
    assert kinds == [kind if layer is None else f"layer{layer}.{kind}" for kind, layer, _ in blocks]
    assert page.text_content("[data-testid=arch-total]") == f"{num_params(m.config):,}" == f"{sum(shown):,}"
    assert "(the model's count)" in page.text_content("#arch-total")
    assert "attention: 4 heads × 4" in page.text_content("[data-block='layer1.attention']")
    for block, view in (("layer1.mlp", "forward"), ("wte", "embeddings"), ("lm_head", "read"), ("layer0.norm", "forward")):
        open_view(page, "stages")
        page.click(f"[data-block='{block}'] >> nth=0")
        page.wait_for_selector(f"#view-{view}.active")
    open_view(page, "stages")
    page.click("[data-block='layer1.attention'] text >> nth=0")
    assert page.input_value("#stg-layer") == "1"
    assert "layer 1 · head" in page.text_content("#stg-body .readout")


def test_the_report_shows_the_same_stages(browser, site):
    out = site["dir"] / "report.html"
    out.write_text(report.build(load_models([str(site["path"])]), []))
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(out.as_uri())
    pg.wait_for_selector("#read-total[data-value]", state="attached")
    pg.select_option("#text-choice", "olivia")
    pg.wait_for_selector("#read-chars .char:nth-child(7)", state="attached")
    open_view(pg, "stages")
    m, layers = expected(site, "olivia")
    pg.select_option("#stg-layer", "1")
    pg.select_option("#stg-head", "1")
    check_stages(pg, m, layers, 1, 1, 6)
    pg.click("[data-block='wpe']")
    pg.wait_for_selector("#view-embeddings.active")
    pg.close()
    assert errors == [], errors
