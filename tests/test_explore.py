"""The explorer's JSON API, checked against independent oracles: `microgpt score
--json` and `microgpt sample` run as commands, Model.trace, NumPy's SVD for the
PCA, Value.backward and finite differences for the backprop view; and its
safety: a foreign Host, other methods, oversize input, paths outside the page.
The page itself is tested in a real browser in test_explore_browser.py."""

import http.client
import json
import math
import random
import subprocess
import sys
import threading

import numpy as np
import pytest

import microgpt
from microgpt.explore.models import load_models, load_runs, model_ids
from microgpt.explore.backprop import worked_example
from microgpt.explore.embeddings import pca_2d, similarity
from microgpt.explore.requests import MAX_TEXT
from microgpt.explore.server import MAX_URL, Explorer, make_server
from microgpt.model import num_params

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail",
        "ella", "zoe", "luna", "aria", "nora", "lily", "chloe", "ivy", "grace", "ruby"]


def cli(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "microgpt", *args], capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A two-layer names model with its run log, and a text model."""
    d = tmp_path_factory.mktemp("explore")
    data = d / "names.txt"
    data.write_text("\n".join(DOCS) + "\n")
    log = d / "run.jsonl"
    run = microgpt.train(data=str(data), steps=40, seed=3, n_embd=8, n_head=2, n_layer=2, block_size=12,
                         batch_size=2, val_docs=4, log=str(log), eval_every=20)
    names = run.save(d / "names_model.json")
    text = d / "text.txt"
    text.write_text("the cat sat on the mat. the dog ate the hat.\n" * 20)
    trun = microgpt.train(text=str(text), steps=10, seed=1, n_embd=8, n_head=2, n_layer=1, block_size=16)
    text_model = trun.save(d / "text_model.json")
    explorer = Explorer(load_models([str(names), str(text_model)], None), load_runs([str(log)]))
    return {"dir": d, "data": data, "log": log, "names": names, "text": text_model, "explorer": explorer}


def get(world, target, status=200):
    code, kind, body = world["explorer"].answer(target)
    assert code == status, body
    assert kind.startswith("application/json")
    return json.loads(body)


def test_models_lists_each_with_its_config_and_count(world):
    models = get(world, "/api/models")["models"]
    assert [m["id"] for m in models] == ["names_model", "text_model"]
    for m, path in zip(models, (world["names"], world["text"])):
        weights = json.loads(path.read_text())["weights"]
        counted = sum(len(rows) * len(rows[0]) for rows in weights.values())  # the matrices in the file
        assert m["params"] == counted == num_params(microgpt.load(path).config)
    assert models[0]["config"]["n_layer"] == 2 and not models[0]["is_text"] and models[1]["is_text"]
    assert models[0]["training"]["steps"] == 40


def test_card_has_the_parameter_tree_the_start_loss_and_the_run(world):
    card = get(world, "/api/card?model=names_model")
    assert sum(p["count"] for p in card["parameters"]) == card["params"]
    assert card["parameters"][0] == {"name": "wte", "shape": [card["config"]["vocab_size"], 8], "count": 27 * 8} \
        or card["parameters"][0]["name"] == "wte"
    assert card["start_loss"] == pytest.approx(-math.log(1 / card["config"]["vocab_size"]), abs=1e-15)
    (run,) = card["runs"]
    logged = [json.loads(line) for line in world["log"].read_text().splitlines()]
    assert run["losses"] == [r["loss"] for r in logged if "loss" in r]
    assert run["val_losses"] == [r["val_loss"] for r in logged if "val_loss" in r]
    assert run["smoothed"][0] == run["losses"][0]
    # the samples are `microgpt sample`'s, at its defaults
    assert [s["text"] for s in card["samples"]] == microgpt.load(world["names"]).sample(20)
    assert {s["mark"] for s in card["samples"]} <= {"unknown"}  # the data file was not named: not read
    assert "--data" in card["samples_note"]


def test_card_marks_samples_when_data_is_named(world):
    ex = Explorer(load_models([str(world["names"])], str(world["data"])), [])
    card = json.loads(ex.answer("/api/card")[2])
    train = set(microgpt.load(world["names"]).training_data(str(world["data"])).train)
    for s in card["samples"]:
        assert s["mark"] == ("in train" if s["text"] in train else s["mark"])
        assert s["mark"] in ("new", "in train", "in val")


def test_score_equals_the_score_command(world):
    for model_id, path, text in (("names_model", world["names"], "emma"), ("names_model", world["names"], "zoey"),
                                 ("text_model", world["text"], "the cat")):
        api = get(world, f"/api/score?model={model_id}&text={text.replace(' ', '%20')}")
        printed = json.loads(cli("score", str(path), text, "--json").stdout)
        assert api["rows"] == printed["rows"] and sorted(api) == sorted(printed)
        for key in ("total", "mean", "perplexity"):
            assert abs(api[key] - printed[key]) <= 1e-12
        assert api["total"] == pytest.approx(sum(r["surprise"] for r in api["rows"]), abs=1e-12)
        assert api["perplexity"] == pytest.approx(math.exp(api["mean"]), rel=1e-12)


def test_score_with_the_data_named_equals_the_score_command_key_by_key(world):
    """With the training data named to both, /api/score and `score --json` are one
    object, in_training_data included (the command's wording is the contract)."""
    ex = Explorer(load_models([str(world["names"])], str(world["data"])), [])
    train = set(microgpt.load(world["names"]).training_data(str(world["data"])).train)
    val = set(microgpt.load(world["names"]).training_data(str(world["data"])).val)
    for text in ("emma", "zoey", sorted(val)[0]):
        api = json.loads(ex.answer(f"/api/score?text={text}")[2])
        printed = json.loads(cli("score", str(world["names"]), text, "--data", str(world["data"]), "--json").stdout)
        assert sorted(api) == sorted(printed)
        for key, value in printed.items():
            assert api[key] == (pytest.approx(value, abs=1e-12) if isinstance(value, float) else value), key
        want = "yes, train split" if text in train else "yes, validation split" if text in val else "no"
        assert api["in_training_data"] == want


def test_trace_is_model_trace_with_rows_summing_to_one(world):
    t = get(world, "/api/trace?model=names_model&text=ava")
    assert t == json.loads(json.dumps(microgpt.load(world["names"]).trace("ava").to_dict()))
    for p in t["positions"]:
        for layer in p["attention"]:
            for head in layer:
                assert len(head) == p["pos"] + 1 and math.fsum(head) == pytest.approx(1, abs=1e-12)
        last = p["stream"][-1]  # the lens after the last block is the model's own prediction
        best = sorted(range(len(p["probs"])), key=lambda i: -p["probs"][i])[:len(last["lens"])]
        assert [x["p"] for x in last["lens"]] == pytest.approx([p["probs"][i] for i in best], abs=1e-15)
        assert p["probs"] == pytest.approx(list(np.exp(p["logits"]) / np.exp(p["logits"]).sum()), abs=1e-12)


@pytest.mark.parametrize("temperature, top_k", [(1.0, None), (0.5, 3), (1.7, None), (0.0, None)])
def test_next_is_the_distribution_sampling_draws_from(world, temperature, top_k):
    """At position 2 of "emma" the context is BOS e m: sampling with the prefix "em"
    draws its third token from exactly this distribution (computed by the engine)."""
    q = f"/api/next?model=names_model&text=emma&pos=2&temperature={temperature}" + (f"&top_k={top_k}" if top_k else "")
    d = get(world, q)
    assert d["context"] == ["BOS", "e", "m"] and d["next"] == "m"
    seen = {}
    m = microgpt.load(world["names"])
    from microgpt import sample as sampling

    t = temperature or 1.0  # greedy: compare the argmax below
    sampling.generate(m.engine, m.tokenizer, random.Random(0), t, top_k, "em",
                      on_step=lambda pos, probs, tok: seen.setdefault(pos, probs))
    if temperature == 0:
        assert d["probs"].index(1.0) == max(range(len(seen[2])), key=seen[2].__getitem__) and sum(d["probs"]) == 1
    else:
        weights = seen[2]  # random.choices draws in proportion to these
        assert d["probs"] == pytest.approx([w / math.fsum(weights) for w in weights], abs=1e-12)
    if top_k:
        assert sum(p > 0 for p in d["probs"]) == top_k


@pytest.mark.parametrize("seed, temperature, top_k, prefix", [(1, 0.5, None, ""), (7, 1.0, 4, "a"), (3, 0.0, None, "")])
def test_sample_steps_end_in_the_sample_commands_name(world, seed, temperature, top_k, prefix):
    q = f"/api/sample?model=names_model&seed={seed}&temperature={temperature}&prefix={prefix}" + \
        (f"&top_k={top_k}" if top_k else "")
    s = get(world, q)
    args = ["sample", str(world["names"]), "-n", "1", "--seed", str(seed), "--temperature", str(temperature)]
    args += (["--top-k", str(top_k)] if top_k else []) + (["--prefix", prefix] if prefix else [])
    printed = cli(*args).stdout
    assert f": {s['text']}" in printed
    assert "".join(st["choice"] for st in s["steps"] if st["choice"] != "BOS") == s["text"]
    for st in s["steps"]:
        assert math.fsum(st["probs"]) == pytest.approx(1, abs=1e-12) and st["p"] == st["probs"][s["vocab"].index(st["choice"])]
    assert [st["forced"] for st in s["steps"]][:len(prefix)] == [True] * len(prefix)


def test_text_model_samples_a_passage(world):
    s = get(world, "/api/sample?model=text_model&seed=2")
    m = microgpt.load(world["text"])
    assert s["text"] == m.sample(1, seed=2, chars=len(s["steps"]))[0]
    assert "BOS" not in [st["choice"] for st in s["steps"]]


def test_embeddings_pca_agrees_with_numpy(world):
    e = get(world, "/api/embeddings?model=names_model")
    w = microgpt.load(world["names"]).checkpoint.weights
    x = np.array(w["wte"]) - np.array(w["wte"]).mean(axis=0)
    u, sv, vt = np.linalg.svd(x, full_matrices=False)
    ours = np.array([[t["x"], t["y"]] for t in e["tokens"]])
    for k in range(2):  # each axis up to its sign
        theirs = x @ vt[k]
        assert min(np.abs(ours[:, k] - theirs).max(), np.abs(ours[:, k] + theirs).max()) < 1e-8
    assert e["explained"] == pytest.approx(list(sv[:2] ** 2 / (sv ** 2).sum()), abs=1e-10)
    p = np.array(w["wpe"])
    cos = p @ p.T / np.outer(np.linalg.norm(p, axis=1), np.linalg.norm(p, axis=1))
    assert np.abs(np.array(e["wpe_similarity"]) - cos).max() < 1e-12


def test_pca_of_points_on_a_line_finds_the_line():
    rows = [[t, 2 * t, 0.0] for t in (-2.0, -1.0, 0.0, 1.0, 2.0)]
    points, explained = pca_2d(rows)
    assert explained[0] == pytest.approx(1.0, abs=1e-12) and explained[1] == pytest.approx(0.0, abs=1e-12)
    assert [p[0] for p in points] == pytest.approx([t * math.sqrt(5) for t in (-2, -1, 0, 1, 2)], abs=1e-9)
    assert similarity([[1.0, 0.0], [0.0, 0.0], [2.0, 0.0]]) == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]


def test_backprop_walk_ends_at_the_chain_rules_grads(world):
    g = get(world, "/api/backprop")
    last = g["steps"][-1]["grads"]
    assert (last["a"], last["b"], last["c"], last["L"]) == (4.0, 2.0, 1.0, 1)
    assert g["order"] == ["L", "c", "b", "a"] or g["order"][0] == "L"
    assert [s["node"] for s in g["steps"]] == ["L", "L", "c"]
    # a's grad grows by the two paths, one step at a time: 0 -> 1 (via L) -> 4 (via c)
    assert [s["grads"]["a"] for s in g["steps"]] == [0, 1, 4.0]
    for a, b in ((0.5, -3.0), (-2.0, 7.25)):
        g = worked_example(a, b)
        h = 1e-6
        f = lambda x, y: x * y + x  # noqa: E731
        assert g["steps"][-1]["grads"]["a"] == pytest.approx((f(a + h, b) - f(a - h, b)) / (2 * h), abs=1e-6)
        assert g["steps"][-1]["grads"]["b"] == pytest.approx((f(a, b + h) - f(a, b - h)) / (2 * h), abs=1e-6)


@pytest.mark.parametrize("target, status, words", [
    ("/api/score?model=names_model&text=EMMA", 400, "not in the model's vocabulary"),
    ("/api/score?model=names_model&text=" + "a" * 12, 400, "context holds 12"),
    ("/api/trace?model=names_model&text=" + "a" * (MAX_TEXT + 1), 413, "at most"),
    ("/api/score?model=nobody&text=emma", 404, "no model 'nobody'"),
    ("/api/score?text=emma", 400, "several models"),
    ("/api/score?model=names_model", 400, "text= is required"),
    ("/api/score?model=names_model&text=emma&text=ava", 400, "more than once"),
    ("/api/score?model=names_model&text=emma&debug=1", 400, "unknown parameter"),
    ("/api/next?model=names_model&text=emma&pos=9", 400, "positions 0 to 4"),
    ("/api/next?model=names_model&text=emma&temperature=nan", 400, "finite"),
    ("/api/next?model=names_model&text=emma&top_k=99", 400, "top-k"),
    ("/api/sample?model=names_model&seed=x", 400, "integer"),
    ("/api/sample?model=names_model&prefix=Q", 400, "prefix"),
    ("/api/backprop?a=1e400", 400, "finite"),
    ("/api/score?model=names_model&text=%ff", 400, "UTF-8"),
    ("/api/nothing", 404, "no such page"),
    ("/../../etc/passwd", 404, "no such page"),
    ("/static/../../pyproject.toml", 404, "no such page"),
    ("/main.js/../../x", 404, "no such page"),
])
def test_bad_requests_get_a_4xx_and_one_line(world, target, status, words):
    body = get(world, target, status)
    assert set(body) == {"error"} and "\n" not in body["error"] and words in body["error"]


@pytest.fixture
def served(world):
    server = make_server(world["explorer"], "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def request(port, method="GET", target="/api/models", headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest(method, target, skip_host=headers is not None and "Host" in headers)
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    if body:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    r = conn.getresponse()
    return r.status, r.getheaders(), r.read()


def test_the_page_and_its_files_are_served_with_a_strict_policy(served):
    status, headers, body = request(served, target="/")
    h = dict(headers)
    assert status == 200 and b"<title>microgpt explore</title>" in body
    assert "default-src 'none'" in h["Content-Security-Policy"] and h["X-Content-Type-Options"] == "nosniff"
    for name in (b"/main.js", b"/explore.css"):  # every module main.js imports: test_explore_modules.py
        assert name in body and request(served, target=name.decode())[0] == 200
    assert b"http://" not in body and b"https://" not in body  # nothing fetched from elsewhere


@pytest.mark.parametrize("host", ["evil.example:80", "attacker.test", "127.0.0.1:1", "localhost"])
def test_a_foreign_host_header_is_refused(served, host):
    status, _, body = request(served, headers={"Host": host})
    assert status == 403 and "not this server's own name" in json.loads(body)["error"]


def test_its_own_names_are_answered(served):
    for host in (f"127.0.0.1:{served}", f"localhost:{served}", f"LOCALHOST:{served}"):
        assert request(served, headers={"Host": host})[0] == 200


def test_other_methods_bodies_and_long_urls_are_refused(served):
    assert request(served, "POST", body=b"x=1")[0] == 405
    assert request(served, "DELETE")[0] == 405
    assert request(served, "GET", body=b"x" * 10)[0] == 413
    assert request(served, target="/api/models?" + "a" * MAX_URL)[0] == 414


def test_the_command_serves_and_keeps_errors_off_the_console(world):
    proc = subprocess.Popen([sys.executable, "-m", "microgpt", "explore", str(world["names"]), "--log",
                             str(world["log"]), "--no-browser", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("exploring names_model at http://127.0.0.1:")
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        assert request(port, target="/api/score?text=emma")[0] == 200
        for target in ("/api/score?text=EMMA", "/api/trace?text=" + "z" * 50, "/%00", "/api/next?pos=-1&text=a"):
            assert 400 <= request(port, target=target)[0] < 500
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err


def test_another_host_warns(world):
    proc = subprocess.Popen([sys.executable, "-m", "microgpt", "explore", str(world["names"]), "--no-browser",
                             "--port", "0", "--host", "0.0.0.0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().startswith("exploring")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "warning: serving on 0.0.0.0" in err and "Traceback" not in err


@pytest.mark.parametrize("args, code, words", [
    (["{dir}/missing.json"], 1, "not found"),
    (["{names}", "--log", "{names}"], 2, "checkpoint, not a run log"),
    (["{names}", "--port", "70000"], 2, "0 to 65535"),
    (["{names}", "--data", "{dir}/nope.txt"], 1, "not found"),
])
def test_bad_command_lines_get_one_line(world, args, code, words):
    args = [a.format(dir=world["dir"], names=world["names"]) for a in args]
    r = cli("explore", *args, "--no-browser", check=False)
    assert r.returncode == code and words in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_taken_port_given_explicitly_is_one_line(world, served):
    r = cli("explore", str(world["names"]), "--no-browser", "--port", str(served), check=False)
    assert r.returncode != 0 and f"--port" in r.stderr and "Traceback" not in r.stderr


def test_ids_are_unique_file_stems():
    assert model_ids(["a/m.json", "b/m.json", "c.json", "d/m.json"]) == ["m", "m-2", "c", "m-3"]


def test_a_bpe_model_is_explored_token_by_token(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat; the hat is flat. " * 30)
    path = microgpt.train(text=str(text), steps=5, seed=1, n_embd=8, n_head=2, block_size=16, tokenizer="bpe",
                          vocab_size=270).save(tmp_path / "bpe.json")
    ex = Explorer(load_models([str(path)]), [])
    model = json.loads(ex.answer("/api/models")[2])["models"][0]
    assert model["tokenizer"] == "bpe" and len(model["vocab"]) == model["config"]["vocab_size"] == 270
    status, _, body = ex.answer("/api/score?text=the%20cat%20sat")
    assert status == 200
    printed = json.loads(cli("score", str(path), "the cat sat", "--json").stdout)
    assert json.loads(body)["rows"] == printed["rows"] and json.loads(body)["total"] == printed["total"]
    t = json.loads(ex.answer("/api/trace?text=the%20cat%20sat")[2])
    assert "".join(t["tokens"]) == "the cat sat" and len(t["tokens"]) < len("the cat sat")  # merged tokens
    for target in ("/api/sample?seed=1", "/api/embeddings", "/api/next?text=the%20cat%20sat&pos=1", "/api/card"):
        assert ex.answer(target)[0] == 200, target


def test_ablation_reading_is_the_librarys(world):
    a = get(world, "/api/ablate?model=names_model&spec=mlp:1,wpe&text=emma")
    m = microgpt.load(world["names"])
    intact, ablated = m.score("emma"), m.ablate("mlp:1,wpe").score("emma")
    assert a["spec"] == "mlp:1,wpe" and a["total"] == intact.total and a["total_ablated"] == ablated.total
    assert [r["change"] for r in a["rows"]] == [-math.log(q) + math.log(p) for (*_, p), (*_, q)
                                                 in zip(intact.rows, ablated.rows)]
    assert get(world, "/api/ablate?model=names_model&spec=head:0.5&text=emma", 400)["error"].startswith("ablation")


def test_ablation_eval_streams_progress_then_the_librarys_losses(world, served):
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=120)
    token = world["explorer"].token
    conn.request("GET", f"/api/ablate/eval?model=names_model&spec=attn:0&token={token}")
    r = conn.getresponse()  # (the data was not named: the page is told so in one line)
    assert [json.loads(line[6:])["type"] for line in r.read().decode().splitlines() if line.startswith('data: {"')] \
        == ["failed"]
    explorer = Explorer(load_models([str(world["names"])], str(world["data"])), [])
    with_data = make_server(explorer, "127.0.0.1", 0)
    threading.Thread(target=with_data.serve_forever, daemon=True).start()
    port = with_data.server_address[1]
    assert request(port, target="/api/ablate/eval?model=names_model&spec=attn:0")[0] == 403  # no token
    assert request(port, target="/api/ablate/eval?model=names_model&spec=attn:0&token=guess")[0] == 403
    explorer.evaluating.acquire()  # another evaluation is running: one at a time
    assert request(port, target=f"/api/ablate/eval?model=names_model&spec=attn:0&token={explorer.token}")[0] == 429
    explorer.evaluating.release()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", f"/api/ablate/eval?model=names_model&spec=attn:0&token={explorer.token}")
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    events = [json.loads(line[6:]) for line in r.read().decode().splitlines() if line.startswith("data: {\"")]
    assert any(e["type"] == "progress" for e in events)
    result = events[-1]
    fast = microgpt.load(world["names"], engine="numpy")
    assert result["type"] == "result" and result["intact"] == pytest.approx(fast.evaluate(), abs=1e-12)
    assert result["ablated"] == pytest.approx(fast.ablate("attn:0").evaluate(), abs=1e-12)
    assert request(served, target=f"/api/ablate/eval?model=names_model&spec=mlp:9&token={token}")[0] == 400
    with_data.shutdown()
    with_data.server_close()


def test_overlaid_logs_say_where_they_first_part(world, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    losses = [3.3 - 0.01 * i for i in range(1, 21)]
    a.write_text("".join(json.dumps({"step": i, "loss": x}) + "\n" for i, x in enumerate(losses, 1)))
    b.write_text("".join(json.dumps({"step": i, "loss": x + (1e-3 if i >= 7 else 0)}) + "\n"
                         for i, x in enumerate(losses, 1)))
    ex = Explorer(load_models([str(world["names"])]), load_runs([str(a), str(b)]))
    (d,) = json.loads(ex.answer("/api/card")[2])["divergence"]
    assert d["a"] == "a" and d["b"] == "b" and d["first"]["step"] == 7 and d["compared"] == 20
    assert d["first"]["delta"] == pytest.approx(1e-3)
    printed = cli("diff", str(a), str(b), check=False)  # the oracle: the command's own finding
    assert printed.returncode == 1 and "step 7" in printed.stdout
    same = Explorer(load_models([str(world["names"])]), load_runs([str(a), str(a)]))
    assert json.loads(same.answer("/api/card")[2])["divergence"][0]["first"] is None
