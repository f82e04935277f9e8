"""Training from the explorer's page: the run is `microgpt.train`'s own (the same
losses, step for step), one at a time, stoppable, saved under an unused name,
then explored like any model; and nothing changes without the session's token.
The page's side is in test_explore_browser.py."""

import http.client
import json
import threading
from pathlib import Path

import pytest

import microgpt
from microgpt.explore.server import Explorer, make_server

NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail", "ella",
         "zoe", "luna", "aria", "nora", "lily", "chloe", "ivy", "grace", "ruby", "noah", "liam", "jack", "kyle"]


@pytest.fixture
def served(tmp_path):
    data = tmp_path / "names.txt"
    data.write_text("\n".join(NAMES) + "\n")
    out = tmp_path / "runs"
    out.mkdir()
    explorer = Explorer([], [], {"names.txt": str(data)}, str(out))
    server = make_server(explorer, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"port": server.server_address[1], "explorer": explorer, "data": data, "out": out}
    if explorer.live is not None:
        explorer.live.stop_requested = True
        explorer.live.thread.join(60)
    server.shutdown()
    server.server_close()


def call(s, method, path, body=None, token=True, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", s["port"], timeout=60)
    h = {"Content-Type": "application/json"} if body is not None else {}
    if token is True:
        h["X-Explore-Token"] = s["explorer"].token
    elif token:
        h["X-Explore-Token"] = token
    h.update(headers or {})
    payload = json.dumps(body).encode() if isinstance(body, dict) else body
    conn.request(method, path, body=payload, headers=h)
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"{}")


def events(s):
    """Read the whole event stream: every event, in order, to the end."""
    conn = http.client.HTTPConnection("127.0.0.1", s["port"], timeout=120)
    conn.request("GET", "/api/live/events")
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    out = []
    for line in r.read().decode().splitlines():
        if line.startswith("data: ") and line != "data: {}":
            out.append(json.loads(line[6:]))
    return out


def test_a_run_from_the_page_is_the_librarys_run(served, tmp_path):
    status, session = call(served, "GET", "/api/session", token=False)
    assert status == 200 and session["data"] == ["names.txt"] and "fused" in session["engines"]["available"]
    form = {"data": "names.txt", "steps": 12, "n_embd": 8, "n_head": 2, "seed": 3, "watch": "ava"}
    status, started = call(served, "POST", "/api/live/start", form)
    assert status == 200 and started["steps"] == 12 and started["watch"] == "ava"
    got = events(served)
    steps = [e for e in got if e["type"] == "step"]
    assert [e["step"] for e in steps] == list(range(1, 13))
    # the oracle: the same run trained by the library, with the same settings
    run = microgpt.train(data=str(served["data"]), steps=12, n_embd=8, n_head=2, seed=3,
                         out=str(tmp_path / "oracle.json"))
    assert [e["loss"] for e in steps] == run.trainer.losses
    snap = [e for e in steps if "samples" in e]
    assert snap and snap[-1]["step"] == 12 and len(snap[-1]["attention"]) == 2  # one map per head
    assert all(abs(sum(row) - 1) < 1e-12 for head in snap[-1]["attention"] for row in head)
    saved = got[-1]
    assert saved["type"] == "saved" and not saved["stopped"] and saved["step"] == 12
    model = microgpt.load(saved["path"])
    assert model.checkpoint.weights == microgpt.load(run.save()).checkpoint.weights
    # it is now one of the explorer's models, its samples marked against the data it trained on
    ids = [m["id"] for m in call(served, "GET", "/api/models")[1]["models"]]
    assert ids == ["model_e8_h2_l1_s12"]
    card = call(served, "GET", "/api/card?model=model_e8_h2_l1_s12")[1]
    assert {s["mark"] for s in card["samples"]} <= {"new", "in train", "in val"}
    assert card["runs"][0]["losses"] == run.trainer.losses


def test_one_run_at_a_time_a_stop_saves_and_nothing_is_overwritten(served):
    mine = served["out"] / "model_e16_h4_l1_s5000.json"
    mine.write_text("my notes")
    status, started = call(served, "POST", "/api/live/start", {"data": "names.txt", "steps": 5000})
    assert status == 200 and started["out"].endswith("model_e16_h4_l1_s5000.1.json")
    assert call(served, "POST", "/api/live/start", {"data": "names.txt", "steps": 5})[0] == 409
    assert call(served, "POST", "/api/live/stop", {})[0] == 200
    got = events(served)
    saved = got[-1]
    assert saved["type"] == "saved" and saved["stopped"] and saved["step"] < 5000
    assert mine.read_text() == "my notes"
    assert microgpt.load(saved["path"]).training.steps == saved["step"]
    assert call(served, "POST", "/api/live/stop", {})[0] == 409  # nothing is training now


def test_a_page_run_and_a_command_line_run_never_take_each_others_name(served):
    """A `microgpt train` holding the lock of the name the page would choose: the page picks the next one;
    and while the page's run trains, the command line cannot write its name."""
    from microgpt.files import writelock

    taken = served["out"] / "model_e16_h4_l1_s5000.json"
    with writelock.hold(taken):  # as `microgpt train --out taken` holds it while it trains
        status, started = call(served, "POST", "/api/live/start", {"data": "names.txt", "steps": 5000})
        assert status == 200 and started["out"].endswith("model_e16_h4_l1_s5000.1.json")
    with pytest.raises(microgpt.MicroGPTError, match="is being written by another run"):
        with writelock.hold(started["out"]):
            pass
    out = Path(started["out"])
    out.write_text("made by the user at the announced name while the page trained")
    assert call(served, "POST", "/api/live/stop", {})[0] == 200
    saved = events(served)[-1]
    assert saved["type"] == "saved" and saved["path"] != str(out)
    assert out.read_text().startswith("made by the user")
    assert microgpt.load(saved["path"]).training.steps == saved["step"]


def test_a_fractional_step_count_is_refused(served):
    status, body = call(served, "POST", "/api/live/start", {"data": "names.txt", "steps": 1.5})
    assert status == 400 and "steps must be an integer" in body["error"]


@pytest.mark.parametrize("form, words", [
    ({"data": "other.txt"}, "one of the files named with --data"),
    ({"data": "names.txt", "steps": 0}, "steps must be between"),
    ({"data": "names.txt", "n_embd": 10, "n_head": 4}, "divisible"),
    ({"data": "names.txt", "lr": "fast"}, "lr must be a number"),
    ({"data": "names.txt", "dropout": 0.1}, "unknown setting"),
    ({"data": "names.txt", "engine": "gpu"}, "unknown engine"),
])
def test_bad_forms_get_a_400_and_one_line(served, form, words):
    status, body = call(served, "POST", "/api/live/start", form)
    assert status == 400 and words in body["error"] and "\n" not in body["error"]
    assert served["explorer"].live is None


def test_nothing_changes_without_the_token_or_from_another_site(served):
    form = {"data": "names.txt", "steps": 3}
    assert call(served, "POST", "/api/live/start", form, token=False)[0] == 403
    assert call(served, "POST", "/api/live/start", form, token="guess")[0] == 403
    assert call(served, "POST", "/api/live/start", form, headers={"Origin": "http://evil.example"})[0] == 403
    assert call(served, "POST", "/api/live/start", b"data=names.txt",
                headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 415
    assert call(served, "POST", "/api/live/start", b"{" + b" " * 5000 + b"}")[0] == 413
    assert call(served, "POST", "/api/models", form)[0] == 405
    assert served["explorer"].live is None and list(served["out"].iterdir()) == []


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_stopping_the_explorer_saves_the_page_run_and_says_where(tmp_path, sig):
    import os
    import re
    import select
    import signal
    import subprocess
    import sys
    import time

    data = tmp_path / "names.txt"
    data.write_text("\n".join(NAMES) + "\n")
    model = tmp_path / "m.json"
    microgpt.train(data=str(data), steps=1, n_embd=8, n_head=2, block_size=8).save(str(model))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "microgpt", "explore", str(model), "--data", str(data),
                             "--no-browser", "--port", "0", "--out-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        line = ""
        while "exploring" not in line and select.select([proc.stdout], [], [], 60)[0]:
            line = proc.stdout.readline()
            if not line:
                break
        assert "exploring" in line, proc.stderr.read() if proc.poll() is not None else line
        port, token = re.search(r"127\.0\.0\.1:(\d+)/\?token=(\S+)", line).groups()
        s = {"port": int(port), "explorer": type("E", (), {"token": token})}
        assert "token" not in call(s, "GET", "/api/session", token=False)[1]  # only in the printed URL
        status, started = call(s, "POST", "/api/live/start", {"data": "names.txt", "steps": 100000, "n_embd": 8,
                                                                "n_head": 2, "block_size": 8})
        assert status == 200
        time.sleep(1.0)
        proc.send_signal(getattr(signal, sig))
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + getattr(signal, sig), err
    saved = re.search(r"saved the page's run to (\S+)", err)
    assert saved and saved.group(1) == started["out"] and "Traceback" not in err
    assert microgpt.load(saved.group(1)).training.steps >= 1
