"""What the explorer's page shows, read as the user reads it: the visible text
and the computed colours, in headless Chromium, compared with numbers the test
computes itself (the model's probabilities from Model.score, the position
embeddings' cosines with plain Python from the saved weights, each colour from
the colour maps' documented formula, docs/explore.md "Colours"), never with
the page's own server. Also: every heatmap has a legend, every number in the
Read and Attention views says what it is, the Train view without --data shows
no form, and the loss chart's ticks are round numbers.

Skipped with the reason where Chromium or Playwright is missing, as in
test_explore_browser.py (whose browser and page helpers these use).
"""

import json
import math
import re
import threading

import pytest

import microgpt
from microgpt.explore.models import load_models, load_runs
from microgpt.explore.server import Explorer, make_server

from test_explore_browser import browser, open_page, open_view, page  # noqa: F401 (fixtures; page opens this module's site)

# The colour maps, as docs/explore.md documents them: piecewise-linear ramps
# through these stops, each channel rounded to the nearest integer.
HEAT = [(255, 250, 225), (254, 217, 118), (253, 141, 60), (227, 26, 28), (128, 0, 38)]  # surprise, 0..6 nats
BLUE = [(247, 251, 255), (158, 202, 225), (66, 146, 198), (8, 69, 148)]  # attention weight, 0..1
SIGNED = [(33, 102, 172), (146, 197, 222), (255, 255, 255), (244, 165, 130), (178, 24, 43)]  # −max..0..+max


def ramp(t, stops):
    t = max(0.0, min(1.0, t))
    i = min(len(stops) - 2, math.floor(t * (len(stops) - 1)))
    f = t * (len(stops) - 1) - i
    return tuple(math.floor(a + (b - a) * f + 0.5) for a, b in zip(stops[i], stops[i + 1]))


def signed(v, big):
    """Blue below 0, white at 0, red above, symmetric: −big and +big are the ends."""
    return ramp((v / big + 1) / 2, SIGNED)


def rgb(css):
    return tuple(int(x) for x in re.findall(r"\d+", css)[:3])


def shown_p(p):
    """A probability as the page prints it: three significant digits, e-notation under 0.001."""
    if p >= 1e-3:
        return f"{p:#.3g}"
    mantissa, exponent = f"{p:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A names model trained on the names shipped in the package (so whether a
    string is in its training data is known), with its run log."""
    d = tmp_path_factory.mktemp("explore_colours")
    log = d / "run.jsonl"
    path = microgpt.train(steps=80, seed=7, log=str(log), eval_every=40).save(d / "m.json")
    explorer = Explorer(load_models([str(path)]), load_runs([str(log)]))
    server = make_server(explorer, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/?token={explorer.token}", "path": path}
    server.shutdown()
    server.server_close()


def settle(page):
    page.wait_for_function("document.getElementById('status').dataset.busy === '0'")


def read(page, text):
    """Type `text` (unless it is there) and wait until the boxes show it and nothing is computing."""
    if page.input_value("#text") != text:
        page.fill("#text", text)
    shown = json.dumps(text + "⏎")
    page.wait_for_function(f"[...document.querySelectorAll('#read-chars .char .c')].map(e => e.textContent).join('') === {shown} && "
                           f"document.getElementById('status').dataset.busy === '0'")
    page.wait_for_timeout(300)  # past the box's 150 ms debounce: no reading still to start
    settle(page)


def colours(page, selector, prop):
    return [rgb(c) for c in page.eval_on_selector_all(selector, f"els => els.map(e => getComputedStyle(e).{prop})")]


def legend_labels(page, where):
    return page.locator(f"{where} .colour-legend .legend-label").all_text_contents()


def test_read_boxes_show_the_models_p_and_surprise_in_its_colour(page, site):
    open_view(page, "read")
    read(page, "olivia")
    rows = microgpt.load(site["path"]).score("olivia").rows
    boxes = page.locator("#read-chars .char")
    for i, (_, _, _, p) in enumerate(rows):
        surprise = -math.log(p)
        texts = boxes.nth(i).locator(".p").all_text_contents()
        assert texts == [f"p {shown_p(p)}", f"{surprise:.2f} nats"]
    backgrounds = colours(page, "#read-chars .char", "backgroundColor")
    assert backgrounds == [ramp(-math.log(p) / 6, HEAT) for *_, p in rows]
    assert legend_labels(page, "#view-read") == ["0", "3", "6+ nats"]


def next_probabilities(model, prefix):
    """The model's distribution after `prefix`, from Model.score alone: p of each
    character is the score of prefix + it at that position; p of the end, of prefix."""
    vocab = [model.tokenizer.label(i) for i in range(model.tokenizer.vocab_size - 1)]  # (BOS is last)
    p = {c: model.score(prefix + c).rows[len(prefix)][3] for c in vocab}
    p["⏎"] = model.score(prefix).rows[len(prefix)][3]
    return p


def bar_labels(page):
    tokens = page.locator("#next-bars [data-testid=bars] text.bar-token").all_text_contents()
    labels = page.locator("#next-bars [data-testid=bars] text.bar-label").all_text_contents()
    return dict(zip(tokens, labels, strict=True))


def open_position_2_of_emma(page):
    open_view(page, "read")
    read(page, "emma")
    page.click("#read-chars .char:nth-child(3)")  # position 2: after BOS e m
    page.wait_for_function("document.getElementById('next-title').textContent.includes('After \"⏎em\"')")
    settle(page)


def test_next_character_bars_are_the_models_probabilities(page, site):
    open_position_2_of_emma(page)
    p = next_probabilities(microgpt.load(site["path"]), "em")
    shown = bar_labels(page)
    assert len(shown) == 27 and shown == {t: shown_p(p[t]) for t in shown}
    assert "temperature 1.00" in page.text_content("#next-title")


def test_reshaped_bars_keep_three_digits_of_a_small_p(page, site):
    """At temperature 0.3 each bar is p^(1/0.3), renormalised: computed here from the
    model's p, and printed with three significant digits however small (1.48e-4
    was once shown as 0.0001)."""
    open_position_2_of_emma(page)
    page.eval_on_selector("#next-temp", "e => { e.value = '0.3'; e.dispatchEvent(new Event('input')); }")
    page.wait_for_function("document.getElementById('next-title').textContent.includes('temperature 0.30')")
    settle(page)
    p = next_probabilities(microgpt.load(site["path"]), "em")
    weights = {t: q ** (1 / 0.3) for t, q in p.items()}
    total = math.fsum(weights.values())
    shown = bar_labels(page)
    assert shown == {t: shown_p(w / total) for t, w in weights.items()}
    small = [v for v in shown.values() if "e" in v]
    assert small and all(re.fullmatch(r"\d\.\d\de-\d+", v) for v in small)


def test_attention_cells_are_coloured_by_weight_with_a_legend(page, site):
    read(page, "ava")
    open_view(page, "attention")
    trace = microgpt.load(site["path"]).trace("ava")
    weights = [w for p in trace.positions for w in p.attention[0][1]]
    assert colours(page, "[data-testid=attn-0-1] rect", "fill") == [ramp(w, BLUE) for w in weights]
    page.hover("[data-testid=attn-0-1] rect >> nth=4")  # row 2 (v), column 1 (a)
    assert page.text_content("#attn-hover").endswith(f"weight {trace.positions[2].attention[0][1][1]:.4f}")
    assert legend_labels(page, "#view-attention") == ["0", "0.5", "1"]
    assert "weight" in page.text_content("#view-attention .colour-legend")


def test_wpe_heatmap_is_signed_blue_to_red(page, site):
    """Cosine −0.8 and +0.8 were both drawn dark: now blue below 0, white at 0, red above."""
    open_view(page, "embeddings")
    page.wait_for_selector("#emb-wpe rect")
    wpe = json.loads(site["path"].read_text())["weights"]["wpe"]

    def cos(a, b):
        return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
    expected = [signed(cos(a, b), 1) for a in wpe for b in wpe]
    cells = colours(page, "#emb-wpe svg.heatmap rect", "fill")
    assert cells == expected
    negative = [c for a in wpe for b in wpe if (c := cos(a, b)) < -0.2]
    assert negative, "a trained wpe has opposite positions"
    blues = [c for c in cells if c[2] > c[0]]
    assert len(blues) == sum(cos(a, b) < 0 for a in wpe for b in wpe)
    assert legend_labels(page, "#emb-wpe") == ["−1", "0", "+1"]
    caption = page.text_content("#view-embeddings").lower()
    assert "red" in caption and "blue" in caption and "bright where" not in caption


def test_forward_vectors_are_signed_and_norms_explained(page, site):
    open_view(page, "forward")
    settle(page)
    last = microgpt.load(site["path"]).trace("emma").positions[-1]
    big = max(abs(v) for pt in last.stream for v in pt.vector)
    expected = [signed(v, big) for pt in last.stream for v in pt.vector]
    assert colours(page, "#fwd-stream .vector .neuron", "backgroundColor") == expected
    norms = page.locator("#fwd-stream tr[data-point] td.norm").all_text_contents()
    assert norms == [f"{math.sqrt(sum(v * v for v in pt.vector)):.3f}" for pt in last.stream]
    assert legend_labels(page, "#view-forward .stream-legend") == [f"−{big:.2f}", "0", f"+{big:.2f}"]
    note = page.text_content("#fwd-norm-note")
    assert "√16 = 4" in note and "1/rms" in note


def test_every_number_in_read_and_attention_says_what_it_is(page):
    """A number is explained when it carries its own words or symbol ("p 0.123", "2.31 nats"),
    sits in a sentence that names it, or has a title (an SVG <title>) to hover."""
    read(page, "emma")
    for view in ("read", "attention"):
        open_view(page, view)
        settle(page)
        bare = page.evaluate("""(view) => {
          const out = [], root = document.getElementById(`view-${view}`);
          const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          for (let n = walk.nextNode(); n; n = walk.nextNode()) {
            const text = n.textContent.trim(), holder = n.parentElement;
            if (!/\\d/.test(text) || holder.closest("title") || holder.closest(".colour-legend")) continue;
            const own = /[a-zA-Z]/.test(text.replace(/\\d(\\.\\d+)?e[-+]?\\d+/g, ""));  // a word or symbol, not 1.5e-4's e
            const titled = holder.closest("[title]") || [...holder.parentElement.children].some((c) => c.tagName === "title");
            const sentence = /[a-zA-Z]{3,}/.test(holder.parentElement.textContent.replace(text, ""));
            const axis = holder.closest("svg.heatmap") && /^[0-9]+$/.test(text);  // a position's index
            if (!own && !titled && !sentence && !axis) out.push(text);
          }
          return out;
        }""", view)
        assert bare == [], f"{view}: numbers with no words: {bare}"
    titles = page.eval_on_selector_all("#read-chars .char", "els => els.map(e => e.title)")
    assert all("p =" in t and "nats" in t for t in titles)


def test_train_view_without_data_shows_no_form(page):
    open_view(page, "train")
    assert page.is_visible("#train-none")
    assert not page.is_visible("#train-form") and not page.is_visible("#train-start")


def test_loss_chart_ticks_are_round_numbers(page):
    ys = [float(t) for t in page.locator("[data-testid=loss-chart] text.tick-y").all_text_contents()]
    xs = [int(t.removeprefix("step ")) for t in page.locator("[data-testid=loss-chart] text.tick-x").all_text_contents()]
    for ticks in (ys, xs):
        assert len(ticks) >= 3
        steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
        assert len(steps) == 1, ticks
        (step,) = steps
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert round(mantissa, 6) in (1, 2, 2.5, 5), step
        assert all(abs(t / step - round(t / step)) < 1e-6 for t in ticks), ticks


def test_card_says_how_its_samples_were_drawn(page):
    note = page.text_content("#card-samples-note")
    assert "seed 42" in note and "temperature 0.5" in note
    assert "microgpt train" in note and "microgpt sample" in note


def test_sampling_bars_say_they_are_reshaped(page):
    open_view(page, "sampling")
    assert "temperature" in page.text_content("#smp-bars-note")


def test_ablation_in_compare_mode_runs_on_both_sides(browser, tmp_path):
    early = microgpt.train(steps=5, seed=1).save(tmp_path / "early.json")
    late = microgpt.train(steps=30, seed=1).save(tmp_path / "late.json")
    server = make_server(Explorer(load_models([str(early), str(late)]), []), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        pg, errors = open_page(browser, {"url": f"http://127.0.0.1:{server.server_address[1]}/"})
        pg.select_option("#compare", "late")
        pg.wait_for_selector("#read-total--b[data-value]", state="attached")
        open_view(pg, "ablation")
        pg.check("#abl-parts input[data-spec='head:0.1']")
        for side, path in (("", early), ("--b", late)):
            want = microgpt.load(path).ablate("head:0.1").score("emma").total
            pg.wait_for_function(f"document.getElementById('abl-totals{side}').dataset.ablated == {want!r}")
            change = [float(x) for x in pg.eval_on_selector_all(f"#abl-chars{side} .char", "els => els.map(e => e.dataset.change)")]
            assert colours(pg, f"#abl-chars{side} .char", "backgroundColor") == [signed(c, 2) for c in change]
        pg.close()
        assert errors == [], f"browser console errors: {errors}"
    finally:
        server.shutdown()
        server.server_close()
