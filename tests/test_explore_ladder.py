"""The ladder in the explorer: the GPT rungs' trained weights, built into
checkpoints, compute what the rungs themselves computed (their own Value
forward is the oracle), and the page shows the table, the claims and each
rung's reading of one string."""

import json
import math
import subprocess
import sys
import threading

import pytest

import microgpt
from microgpt.autograd import Value
from microgpt.errors import MicroGPTError
from microgpt.explore.models import load_ladder
from microgpt.explore.server import Explorer, make_server
from microgpt.ladder.saved import rung_checkpoint

from test_explore_browser import browser, open_page, open_view, shoot  # noqa: F401 (browser: a fixture)

NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail", "ella",
         "zoe", "luna", "aria", "nora", "lily", "chloe", "ivy", "grace", "ruby", "noah", "liam", "jack", "kyle"]


@pytest.fixture(scope="module")
def ladder_json(tmp_path_factory):
    d = tmp_path_factory.mktemp("ladder")
    data = d / "names.txt"
    data.write_text("\n".join(NAMES) + "\n")
    out = d / "ladder.json"
    r = subprocess.run([sys.executable, "-m", "microgpt", "ladder", "0", "3", "4", "5", "--steps", "4", "--data",
                        str(data), "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return out


def rung_nll(rung, result, name):
    """The rung's own forward, over Values made from its saved weights: -ln p of each next token of name."""
    import importlib

    mod = importlib.import_module(f"microgpt.ladder.train{rung}")
    sd = {k: [[Value(x) for x in row] for row in mat] for k, mat in result["weights"].items()}
    chars = result["vocab"]
    bos = len(chars)
    tokens = [bos] + [chars.index(c) for c in name] + [bos]
    layers = getattr(mod, "n_layer", 1)
    keys, values = ([[] for _ in range(layers)], [[] for _ in range(layers)]) if layers > 1 or rung > 3 else ([], [])
    total = 0.0
    for pos in range(len(tokens) - 1):
        probs = mod.softmax(mod.gpt(sd, tokens[pos], pos, keys, values))
        total += -math.log(probs[tokens[pos + 1]].data)
    return total


@pytest.mark.parametrize("rung", [3, 4, 5])
def test_a_rungs_checkpoint_computes_what_the_rung_did(ladder_json, rung):
    result = next(r for r in json.loads(ladder_json.read_text())["results"] if r["rung"] == rung)
    model = microgpt.Model(rung_checkpoint(result))
    assert model.config.n_head == (1 if rung == 3 else 4)
    for name in ("emma", "kyle", "zoe"):
        assert model.score(name).total == pytest.approx(rung_nll(rung, result, name), abs=1e-12)


def test_the_ladder_page_data(ladder_json):
    lad = load_ladder(str(ladder_json))
    assert [ex.id for ex in lad.explored] == ["train3", "train4", "train5"]
    ex = Explorer([], [], ladder=lad)
    d = json.loads(ex.answer("/api/ladder")[2])
    assert [r["rung"] for r in d["table"]] == [0, 3, 4, 5] and d["models"] == ["train3", "train4", "train5"]
    assert all(c["line"].startswith("claim: ") for c in d["claims"]) and d["claims"]
    assert [r["label"] for r in d["runs"]][:1] == ["train0"] or d["runs"]
    assert json.loads(ex.answer("/api/score?model=train4&text=emma")[2])["total"] == \
        microgpt.Model(lad.explored[1].model.checkpoint).score("emma").total


def test_not_a_ladder_file_is_one_line(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"rows": []}')
    with pytest.raises(MicroGPTError, match="no ladder results"):
        load_ladder(str(bad))
    r = subprocess.run([sys.executable, "-m", "microgpt", "explore", "--ladder", str(bad), "--no-browser"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "no ladder results" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_the_ladder_in_the_browser(browser, ladder_json):
    server = make_server(Explorer([], [], ladder=load_ladder(str(ladder_json))), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        pg, errors = open_page(browser, {"url": f"http://127.0.0.1:{server.server_address[1]}/"})
        pg.wait_for_selector("#ladder-tab:not([hidden])", state="attached")
        pg.wait_for_selector("#view-ladder.active")  # the page opens on the ladder, not on the card
        assert pg.locator("#tabs button.active").all_text_contents() == ["Ladder"]
        open_view(pg, "ladder")
        assert pg.locator("#ladder-table tr[data-rung]").count() == 4
        pg.wait_for_selector(".ladder-read[data-model=train5]")
        lad = load_ladder(str(ladder_json))
        for ex in lad.explored:
            shown = float(pg.get_attribute(f".ladder-read[data-model={ex.id}]", "data-total"))
            assert shown == ex.model.score("emma").total
        shoot(pg, "ladder")
        pg.click("#ladder-compare")
        pg.wait_for_selector("#read-total--b[data-value]", state="attached")
        assert float(pg.get_attribute("#read-total--b", "data-value")) == lad.explored[2].model.score("emma").total
        pg.close()
        assert errors == [], f"browser console errors: {errors}"
    finally:
        server.shutdown()
        server.server_close()
