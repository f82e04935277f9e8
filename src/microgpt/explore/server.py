"""The explorer's web server: a page, its script, and a small JSON API.

The standard library's threaded HTTP server is enough for one user on one
machine, and keeps the core free of dependencies. It stays thin: `answer`
maps a request to a view of views.py and turns the result, or the error, into
JSON; the handler only speaks HTTP. Every request is answered from memory: the
page's files are read from the package once, and the only files on disk ever
read are the ones named on the command line, read before serving starts.

Safety, for a server on the user's own machine:
- it binds 127.0.0.1 unless told otherwise (cli/explore.py warns then; bound to
  every interface, it answers whatever name the network reaches it by);
- a request whose Host header is not this server's own name is refused, so a
  web page elsewhere cannot reach it through a DNS name it rebinds to 127.0.0.1;
- GET without a body, a bounded URL and a bounded text; the requests that
  change anything (starting and stopping a training run from the page) are
  POSTs of a small JSON body that must carry the session's token in a header,
  and the one long computation (an ablation's evaluation) carries it in its
  query. The token is in the URL the command prints, as a notebook server's is,
  and nowhere else: a page from elsewhere can neither read it nor guess it;
- at most MAX_WORKERS connections are served at once, each with a read timeout,
  so stalled clients can neither pin threads nor pile them up; a client that
  goes away is not an error;
- an error is one line of JSON to the page and, for a fault of the server
  itself, one line on the console, never a traceback.
"""

import hmac
import json
import math
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from importlib.util import find_spec
from pathlib import PurePath
from urllib.parse import urlsplit

from microgpt.engines import DEFAULT_ENGINE, engine_names
from microgpt.errors import MicroGPTError
from microgpt.explore import events, live, views
from microgpt.explore.models import load_models
from microgpt.explore.requests import MAX_TEXT, BadRequest, error_response, number_param, parse_query, text_param
from microgpt.inspection.plots.runs import Run

MAX_URL = 8192  # bytes of a request line's target
MAX_SEED = 2**63
MAX_BODY = 4096  # bytes of a POSTed form
MAX_WORKERS = 32  # connections served at once; more wait to be accepted
READ_TIMEOUT = 20  # seconds a client may take to send its request (and to read a stream's next event)
TOKEN_HEADER = "X-Explore-Token"
POSTS = ("/api/live/start", "/api/live/stop")  # the only requests that change anything
STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}  # what static/ may hold
# Everything the page needs is served from here: nothing may come from elsewhere.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _static_files():
    """The page's files by route: index.html at /, every other file of static/ (the
    stylesheet, each script module) at /NAME, with its content type."""
    files = {}
    for f in (resources.files("microgpt.explore") / "static").iterdir():
        kind = STATIC_TYPES.get(PurePath(f.name).suffix)
        if kind:
            files["/" if f.name == "index.html" else f"/{f.name}"] = (f.read_bytes(), kind)
    return files


class Explorer:
    """The models and run logs being explored, and the answer to each request."""

    def __init__(self, explored, runs, data_files=None, out_dir=".", ladder=None):
        self.ladder = ladder  # a models.Ladder (`--ladder`), whose GPT rungs join the models
        explored = list(explored) + (ladder.explored if ladder else [])
        self.models = {}
        for ex in explored:
            base, n = ex.id, 2
            while ex.id in self.models:
                ex.id, n = f"{base}-{n}", n + 1
            self.models[ex.id] = ex
        self.runs = runs
        self.static = _static_files()
        self.lock = threading.Lock()  # one computation at a time: the engines' buffers are not shared safely
        self.evaluating = threading.Lock()  # one ablation evaluation at a time (each has its own engines)
        self.data_files = data_files or {}  # name -> path: what a run started from the page may train on
        self.out_dir = out_dir  # where such a run saves
        self.token = secrets.token_urlsafe(24)  # the page's key to POST (start and stop a run)
        self.live = None  # the run started from the page, if any

    def answer(self, target):
        """(status, content type, body bytes) for a GET of `target` (path and query)."""
        url = urlsplit(target)
        if url.path in self.static:
            body, kind = self.static[url.path]
            return 200, kind + "; charset=utf-8", body
        route = ROUTES.get(url.path)
        if route is None:
            return error_response(404, f"no such page: {url.path[:100]}")
        try:
            query = parse_query(url.query, route.params)
            with self.lock:
                result = route.view(self, query)
        except BadRequest as e:
            return error_response(e.status, str(e))
        except MicroGPTError as e:
            return error_response(400, str(e))
        return 200, "application/json", json.dumps(result, allow_nan=False).encode()

    def holds_token(self, token):
        """Whether `token` is this session's (compared in constant time)."""
        return bool(token) and hmac.compare_digest(str(token).encode(), self.token.encode())

    def post(self, path, token, body):
        """(status, content type, body bytes) for a POST: only with the session's token."""
        if path not in POSTS:
            return error_response(405, f"nothing to POST at {path[:100]}")
        if not self.holds_token(token):
            return error_response(403, f"refused: a request that changes something needs the page's {TOKEN_HEADER}")
        try:
            form = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return error_response(400, "the body must be a JSON object")

        with self.lock:
            if path.endswith("/stop"):
                if self.live is None or self.live.finished:
                    return error_response(409, "no run is training")
                self.live.stop_requested = True
                return 200, "application/json", json.dumps({"stopping": True}).encode()
            if self.live is not None and not self.live.finished:
                return error_response(409, "a run is already training: stop it first (one run at a time)")
            try:
                self.live = live.start(form, self.data_files, self.out_dir, self.add_trained)
            except MicroGPTError as e:
                return error_response(400, str(e))
            run = self.live.run
            started = {"out": str(run.out), "watch": self.live.watch, "steps": run.trainer.train_config.steps,
                       "params": sum(len(w) * len(w[0]) for w in run.checkpoint().weights.values())}
        return 200, "application/json", json.dumps(started).encode()

    def add_trained(self, path, events, data):
        """A run from the page has saved: its model joins the others, its losses the curves."""
        (ex,) = load_models([str(path)], data)
        steps = [e for e in events if e.get("type") == "step"]
        with self.lock:
            base, n = ex.id, 2
            while ex.id in self.models:
                ex.id, n = f"{base}-{n}", n + 1
            self.models[ex.id] = ex
            losses = [e["loss"] if e["loss"] is not None else math.nan for e in steps]
            self.runs.append(Run(ex.id, [e["step"] for e in steps], losses))
            for other in self.models.values():  # their cards show the runs: computed again when next asked
                other._cache.pop("card", None)

    def model(self, query):
        model_id = query.get("model")
        if model_id is None:
            if len(self.models) == 1:
                return next(iter(self.models.values()))
            raise BadRequest(400, "model=ID is required when several models are open")
        try:
            return self.models[model_id]
        except KeyError:
            raise BadRequest(404, f"no model {model_id[:60]!r}; open ones: {', '.join(self.models)}") from None


class Route:
    def __init__(self, params, view):
        self.params = params
        self.view = view


ROUTES = {
    "/api/models": Route((), lambda s, q: {"models": [views.summary(ex) for ex in s.models.values()]}),
    "/api/card": Route(("model",), lambda s, q: views.card(s.model(q), s.runs)),
    "/api/score": Route(("model", "text"), lambda s, q: views.score(s.model(q), text_param(q))),
    "/api/trace": Route(("model", "text"), lambda s, q: views.trace(s.model(q), text_param(q))),
    "/api/next": Route(("model", "text", "pos", "temperature", "top_k"), lambda s, q: views.next_distribution(
        s.model(q), text_param(q), number_param(q, "pos", int, 0, 0, MAX_TEXT),
        number_param(q, "temperature", float, 1.0, 0), number_param(q, "top_k", int, None, 1))),
    "/api/sample": Route(("model", "seed", "temperature", "top_k", "prefix", "top_p"), lambda s, q: views.sample_steps(
        s.model(q), number_param(q, "seed", int, 42, -MAX_SEED, MAX_SEED),
        number_param(q, "temperature", float, 0.5, 0), number_param(q, "top_k", int, None, 1),
        text_param(q, "prefix", required=False), number_param(q, "top_p", float, None))),
    "/api/embeddings": Route(("model",), lambda s, q: views.embeddings(s.model(q))),
    "/api/ablate": Route(("model", "spec", "text"), lambda s, q: views.ablation_reading(
        s.model(q), text_param(q, "spec", required=False), text_param(q))),
    "/api/ladder": Route((), lambda s, q: views.ladder(s.ladder) if s.ladder else {"table": None}),
    "/api/session": Route((), lambda s, q: {"data": sorted(s.data_files),
                                            "out_dir": str(s.out_dir), "engines": _engines(),
                                            "training": s.live is not None and not s.live.finished}),
    "/api/backprop": Route(("a", "b"), lambda s, q: views.backprop(
        number_param(q, "a", float, 2.0, -1e6, 1e6), number_param(q, "b", float, 3.0, -1e6, 1e6))),
}


def _engines():
    """The engines the form offers: those whose library is installed (found, not imported: torch is slow to)."""
    needs = {"numpy": "numpy", "torch": "torch"}
    return {"default": DEFAULT_ENGINE,
            "available": [n for n in engine_names() if n not in needs or find_spec(needs[n]) is not None]}


class Handler(BaseHTTPRequestHandler):
    server_version = "microgpt-explore"
    explorer = None  # set by serve()
    allowed_hosts = frozenset()  # None: any (bound to every interface)
    timeout = READ_TIMEOUT  # on the socket: a stalled client is dropped, not waited for
    default_request_version = "HTTP/1.0"  # a malformed request line's 400 still has a status line

    def refused(self):
        """The answer to a request this server will not handle, or None."""
        if len(self.path) > MAX_URL:
            return error_response(414, f"the URL is longer than {MAX_URL} bytes")
        host = self.headers.get("Host")
        if host is None or self.allowed_hosts is not None and host.lower() not in self.allowed_hosts:
            return error_response(403, f"refused: Host {str(host)[:80]!r} is not this server's own name")
        return None

    def parse_request(self):
        """http.server's, less HTTP/0.9: a request line without a version gets a 400 with a status line."""
        ok = super().parse_request()
        if ok and self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # so that the answer has a status line and headers
            self.close_connection = True
            self.send(*error_response(400, "the request line has no HTTP version (HTTP/0.9 is not served)"))
            return False
        return ok

    def body_length(self):
        """The Content-Length given (0 if none), or None when it is not a number."""
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        return n if n >= 0 else None

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        response = self.refused()
        if response is None and self.body_length() is None:
            response = error_response(400, "Content-Length is not a number")
        if response is None and (self.body_length() or self.headers.get("Transfer-Encoding")):
            response = error_response(413, "a GET request carries no body")
        if response is None and urlsplit(self.path).path == "/api/live/events":
            return self.stream_events()
        if response is None and urlsplit(self.path).path == "/api/ablate/eval":
            return self.stream_ablation()
        if response is None:
            try:
                response = self.explorer.answer(self.path)
            except Exception as e:  # a fault of the server: one line here, one line to the page
                self.log_error("error answering %s: %s: %s", self.path[:100], type(e).__name__, str(e)[:200])
                response = error_response(500, f"internal error: {type(e).__name__}")
        self.send(*response)

    def do_POST(self):  # noqa: N802
        response = self.refused()
        if response is None and urlsplit(self.path).path not in POSTS:
            response = error_response(405, "only GET is served here (a POST starts or stops a run: "
                                           "/api/live/start, /api/live/stop)")
        origin = self.headers.get("Origin")
        if response is None and origin is not None and urlsplit(origin).netloc.lower() not in self.allowed_hosts:
            response = error_response(403, "refused: a request from another site")
        if response is None and (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            response = error_response(415, "a POST carries a JSON body (Content-Type: application/json)")
        length = self.body_length()
        if response is None and length is None:
            response = error_response(400, "Content-Length is not a number")
        if response is None and length > MAX_BODY:
            response = error_response(413, f"a POST body is at most {MAX_BODY} bytes")
        if response is None:
            body = self.rfile.read(length)
            try:
                response = self.explorer.post(urlsplit(self.path).path, self.headers.get(TOKEN_HEADER), body)
            except Exception as e:
                self.log_error("error answering POST %s: %s: %s", self.path[:100], type(e).__name__, str(e)[:200])
                response = error_response(500, f"internal error: {type(e).__name__}")
        self.close_connection = True  # an unread body must not be taken for the next request
        self.send(*response)

    def stream_events(self):
        events.live_run(self)

    def stream_ablation(self):
        events.ablation(self)

    def refuse(self):
        self.send(*error_response(405, "only GET is served here (and POST to start or stop a run)"),
                  extra={"Allow": "GET, POST"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse  # noqa: N815

    def send(self, status, kind, body, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # requests are not logged; errors are, in one line
        pass

    def log_error(self, format, *args):
        if format.startswith(("Request timed out", "code ")):  # a stalled client, a malformed request: theirs
            return
        print("explore: " + (format % args).replace("\n", " "), file=sys.stderr)


class Server(ThreadingHTTPServer):
    """The standard threaded server, with a bound on the threads, quiet about clients that go away."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address, handler):
        self.slots = threading.BoundedSemaphore(MAX_WORKERS)
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        self.slots.acquire()  # the accepting loop waits here while MAX_WORKERS connections are served
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):  # the client went away, or stalled
            return
        print(f"explore: error serving a request: {type(error).__name__}: {str(error)[:200]}", file=sys.stderr)


def allowed_hosts(host, port):
    """The Host headers this server answers to: its own name with its port; None (any)
    when it listens on every interface, where the user chose to be reached by any name."""
    if host in ("0.0.0.0", "::"):
        return None
    names = {"127.0.0.1", "localhost", "[::1]"} if host in ("127.0.0.1", "localhost", "::1") else {host}
    return frozenset(f"{n}:{port}".lower() for n in names)


def make_server(explorer, host="127.0.0.1", port=0, extra_hosts=()):
    """A server bound to host:port (0: any free port), not yet serving."""
    handler = type("BoundHandler", (Handler,), {"explorer": explorer})
    server = Server((host, port), handler)
    bound = server.server_address[1]
    hosts = allowed_hosts(host, bound)
    handler.allowed_hosts = None if hosts is None else hosts | {f"{h}:{bound}".lower() for h in extra_hosts}
    return server
