"""The Python API and the explorer's HTTP API, fuzzed: any arguments, any request,
give a result or the clean error (a MicroGPTError, an HTTP status other than
500), never a traceback, never a hang, and nothing written outside a temporary
folder. 1,000 examples each (MICROGPT_FUZZ_EXAMPLES raises or lowers it)."""

import contextlib
import os
import signal
import socket
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import microgpt
from microgpt.errors import MicroGPTError
from microgpt.explore.models import load_models
from microgpt.explore.server import Explorer, make_server

EXAMPLES = int(os.environ.get("MICROGPT_FUZZ_EXAMPLES", "1000"))
# The same examples on every run (CI must not pass or fail by luck); MICROGPT_FUZZ_RANDOM=1 explores anew.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize=not os.environ.get("MICROGPT_FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ROOT = Path(__file__).resolve().parents[1]
SECONDS = 30  # one example longer than this is a hang

values = (st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(allow_nan=True, allow_infinity=True)
          | st.text(max_size=12) | st.sampled_from(["", "emma", "head:0.1", "mlp:0", "float32", "x.json", "-1"])
          | st.lists(st.integers(-3, 30), max_size=3) | st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@contextlib.contextmanager
def no_hang(seconds=SECONDS):
    def ring(signum, frame):
        raise AssertionError(f"an example ran past {seconds} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def tree_listing():
    """The project's own folders, as names and sizes: what a stray write would change."""
    return {str(p.relative_to(ROOT)): p.stat().st_size for folder in ("", "src/microgpt", "tests", "docs")
            for p in (ROOT / folder).iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz_api")
    data = d / "names.txt"
    data.write_text("emma\nolivia\nava\nmia\nzoe\nnoah\nliam\njack\nella\nlily\n" * 3)
    model = microgpt.train(data=str(data), steps=2, n_embd=8, n_head=2, block_size=8, val_docs=3)
    path = model.save(d / "m.json")
    return {"dir": d, "data": data, "path": path, "model": microgpt.load(path)}


# Sizes that are valid but only slow (a million samples, a batch of thousands) are capped:
# the fuzzer looks for wrong answers to odd arguments, not for long runs.
CAPS = {"n": 5, "batch_size": 8, "vocab_size": 300, "k": 50, "chars": 50}


def call_api(world, target, args, kwargs):
    m = world["model"]
    kwargs = {k: min(v, CAPS[k]) if k in CAPS and type(v) is int else v for k, v in kwargs.items()}
    if target == "train":  # tiny and short, whatever else is asked
        data = kwargs.get("data")  # the bundled names (None) would make each example seconds long
        kwargs = {**kwargs, "steps": kwargs.get("steps", 1) if kwargs.get("steps") in (1, 2) else 1,
                  "data": str(world["data"]) if data is None else data, "n_embd": 8, "n_head": 2, "block_size": 8}
        kwargs.pop("out", None), kwargs.pop("log", None), kwargs.pop("resume", None)
        return microgpt.train(**kwargs)
    if target == "load":
        return microgpt.load(*args, **kwargs)
    if target == "save":
        return m.save(*args, **kwargs)
    method = getattr(m, target)
    result = method(*args, **kwargs)
    return list(result) if target == "samples" else result


TARGETS = {
    "sample": ["n", "temperature", "top_k", "prefix", "seed", "chars"],
    "samples": ["n", "temperature", "top_k", "prefix", "seed", "chars", "stream"],
    "score": ["text"], "trace": ["text", "k"], "evaluate": ["data", "progress"], "ablate": ["spec"],
    "load": ["path", "engine"], "save": ["path", "force"],
    "train": ["steps", "lr", "seed", "batch_size", "optimizer", "schedule", "engine", "engine_options", "val_docs",
              "weight_decay", "warmup_steps", "tokenizer", "vocab_size", "eval_every", "data"],
}


@st.composite
def api_calls(draw):
    target = draw(st.sampled_from(sorted(TARGETS)))
    names = draw(st.lists(st.sampled_from(TARGETS[target]), unique=True, max_size=4))
    kwargs = {n: draw(values) for n in names}
    args = [draw(values)] if target in ("score", "trace", "ablate", "load", "save") and "text" not in kwargs \
        and not {"spec", "path"} & set(kwargs) else []
    return target, args, kwargs


@FUZZ
@given(api_calls())
def test_the_python_api_answers_or_raises_its_own_error(world, tmp_path_factory, monkeypatch, call):
    target, args, kwargs = call
    folder = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(folder)  # a relative path the fuzzer makes up lands here
    if target == "save":  # only into the temporary folder: a path elsewhere is not the fuzzer's to write
        args = [str(folder / str(a)) if isinstance(a, str) and a else a for a in args]
        if isinstance(kwargs.get("path"), str) and kwargs["path"]:
            kwargs["path"] = str(folder / kwargs["path"])
    before = tree_listing()
    try:
        with no_hang():
            call_api(world, target, args, kwargs)
    except MicroGPTError as e:  # one line, less the line breaks the fuzzer put in a name it quotes
        given = sum(str(v).count("\n") for v in [*args, *kwargs.values()])
        assert str(e).strip() and str(e).strip().count("\n") <= given, repr(e)
    assert tree_listing() == before


# ---- the HTTP API

ROUTES = ["/", "/main.js", "/api/models", "/api/card", "/api/score", "/api/seen", "/api/trace", "/api/next",
          "/api/sample", "/api/embeddings", "/api/ablate", "/api/ablate/eval", "/api/ladder", "/api/session",
          "/api/backprop", "/api/live/start", "/api/live/stop", "/api/live/events", "/nope", "/api/../etc"]
PARAMS = ["model", "text", "pos", "temperature", "top_k", "seed", "prefix", "spec", "a", "b", "token", "x"]
query_values = st.sampled_from(["m", "emma", "0", "-1", "1e309", "nan", "", "%ff", "a&b", "ZZ", "9" * 30]) \
    | st.text(max_size=8)


@st.composite
def http_requests(draw, port, token):
    method = draw(st.sampled_from(["GET", "GET", "GET", "POST", "PUT", "HEAD", "OPTIONS", "BREW", "get"]))
    path = draw(st.sampled_from(ROUTES) | st.text(min_size=1, max_size=20).map(lambda s: "/" + s))
    pairs = draw(st.lists(st.tuples(st.sampled_from(PARAMS), query_values), max_size=4))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    target = path + ("?" + query if query else "")
    headers = {"Host": draw(st.sampled_from([f"127.0.0.1:{port}", f"localhost:{port}", "evil.example", ""]))}
    body = draw(st.binary(max_size=300) | st.sampled_from([b"", b"{}", b'{"data": "x"}', b"[1,2]", b"{" * 50]))
    if draw(st.booleans()):
        headers["Content-Type"] = draw(st.sampled_from(["application/json", "text/plain", "x"]))
    length = draw(st.sampled_from(["ok", "none", "abc", "-5", "999999", "1e3"]))
    if length == "ok":
        headers["Content-Length"] = str(len(body))
    elif length != "none":
        headers["Content-Length"] = length
    if draw(st.booleans()):
        headers["X-Explore-Token"] = draw(st.sampled_from([token, "guess", ""]))
    if draw(st.booleans()):
        headers["Origin"] = draw(st.sampled_from([f"http://127.0.0.1:{port}", "http://evil.example", "null"]))
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("utf-8", "replace") + body


@pytest.fixture(scope="module")
def served(world):
    explorer = Explorer(load_models([str(world["path"])], str(world["data"])), [])
    server = make_server(explorer, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], explorer
    server.shutdown()
    server.server_close()


def exchange(port, raw):
    with socket.create_connection(("127.0.0.1", port), timeout=SECONDS) as s:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)  # all of the request is sent: the server answers or gives up, never waits
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return reply
            reply += chunk


def test_the_http_api_answers_every_request_with_a_status(served, capfd):
    port, explorer = served

    @FUZZ
    @given(http_requests(port, explorer.token))
    def one(raw):
        reply = exchange(port, raw)
        status = reply.split(b"\r\n", 1)[0]
        assert reply == b"" or status.startswith((b"HTTP/1.0 ", b"HTTP/1.1 ")), status
        assert b" 500 " not in status, (raw[:200], reply[:300])

    one()
    assert b"HTTP/1." in exchange(port, f"GET /api/models HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    if explorer.live is not None:  # a run the fuzzer started with a valid form: stopped, kept in the temp folder
        explorer.live.finish()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "error serving" not in err and "internal error" not in err
