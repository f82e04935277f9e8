"""The explorer's web server: a page, its script, and a small JSON API.

The standard library's threaded HTTP server is enough for one user on one
machine, and keeps the core free of dependencies. It stays thin: `answer`
maps a request to a view of views.py and turns the result, or the error, into
JSON; the handler only speaks HTTP. Every request is answered from memory: the
page's files are read from the package once, and the only files on disk ever
read are the ones named on the command line, read before serving starts.

Safety, for a server on the user's own machine:
- it binds 127.0.0.1 unless told otherwise (cli/explore.py warns then);
- a request whose Host header is not this server's own name is refused, so a
  web page elsewhere cannot reach it through a DNS name it rebinds to 127.0.0.1;
- only GET, no request body, a bounded URL and a bounded text;
- an error is one line of JSON to the page and, for a fault of the server
  itself, one line on the console, never a traceback.
"""

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from microgpt.errors import MicroGPTError
from microgpt.explore import views

MAX_URL = 8192  # bytes of a request line's target
MAX_TEXT = 1000  # characters of a string to read (a model's context is far shorter)
MAX_SEED = 2**63
STATIC = {"/": ("index.html", "text/html"), "/explore.js": ("explore.js", "text/javascript"),
          "/explore.css": ("explore.css", "text/css")}
# Everything the page needs is served from here: nothing may come from elsewhere.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _static_files():
    folder = resources.files("microgpt.explore") / "static"
    return {route: (folder.joinpath(name).read_bytes(), kind) for route, (name, kind) in STATIC.items()}


class Explorer:
    """The models and run logs being explored, and the answer to each request."""

    def __init__(self, explored, runs):
        self.models = {ex.id: ex for ex in explored}
        self.runs = runs
        self.static = _static_files()
        self.lock = threading.Lock()  # one computation at a time: the engines' buffers are not shared safely

    def answer(self, target):
        """(status, content type, body bytes) for a GET of `target` (path and query)."""
        url = urlsplit(target)
        if url.path in self.static:
            body, kind = self.static[url.path]
            return 200, kind + "; charset=utf-8", body
        route = ROUTES.get(url.path)
        if route is None:
            return _error(404, f"no such page: {url.path[:100]}")
        try:
            query = _query(url.query, route.params)
            with self.lock:
                result = route.view(self, query)
        except BadRequest as e:
            return _error(e.status, str(e))
        except MicroGPTError as e:
            return _error(400, str(e))
        return 200, "application/json", json.dumps(result, allow_nan=False).encode()

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


def _error(status, message):
    return status, "application/json", json.dumps({"error": message.splitlines()[0] if message else ""}).encode()


def _query(query, allowed):
    try:
        pairs = parse_qs(query, keep_blank_values=True, strict_parsing=False, errors="strict",
                         max_num_fields=20)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(400, "the query string is not valid UTF-8 key=value pairs") from None
    unknown = sorted(set(pairs) - set(allowed))
    if unknown:
        raise BadRequest(400, f"unknown parameter {unknown[0][:40]!r}; this request takes: {', '.join(allowed)}")
    repeated = [k for k, v in pairs.items() if len(v) > 1]
    if repeated:
        raise BadRequest(400, f"parameter {repeated[0]!r} given more than once")
    return {k: v[0] for k, v in pairs.items()}


def _text(query, name="text", required=True):
    text = query.get(name)
    if text is None:
        if required:
            raise BadRequest(400, f"{name}= is required")
        return ""
    if len(text) > MAX_TEXT:
        raise BadRequest(413, f"{name} has {len(text)} characters; at most {MAX_TEXT} are read")
    return text


def _number(query, name, kind, default=None, lo=None, hi=None):
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise BadRequest(400, f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw[:40]!r}") \
            from None
    if kind is float and not math.isfinite(value):
        raise BadRequest(400, f"{name} must be a finite number, got {raw[:40]!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise BadRequest(400, f"{name} must be between {lo} and {hi}, got {raw[:40]}")
    return value


class Route:
    def __init__(self, params, view):
        self.params = params
        self.view = view


ROUTES = {
    "/api/models": Route((), lambda s, q: {"models": [views.summary(ex) for ex in s.models.values()]}),
    "/api/card": Route(("model",), lambda s, q: views.card(s.model(q), s.runs)),
    "/api/score": Route(("model", "text"), lambda s, q: views.score(s.model(q), _text(q))),
    "/api/trace": Route(("model", "text"), lambda s, q: views.trace(s.model(q), _text(q))),
    "/api/next": Route(("model", "text", "pos", "temperature", "top_k"), lambda s, q: views.next_distribution(
        s.model(q), _text(q), _number(q, "pos", int, 0, 0, MAX_TEXT), _number(q, "temperature", float, 1.0, 0),
        _number(q, "top_k", int, None, 1))),
    "/api/sample": Route(("model", "seed", "temperature", "top_k", "prefix"), lambda s, q: views.sample_steps(
        s.model(q), _number(q, "seed", int, 42, -MAX_SEED, MAX_SEED), _number(q, "temperature", float, 0.5, 0),
        _number(q, "top_k", int, None, 1), _text(q, "prefix", required=False))),
    "/api/embeddings": Route(("model",), lambda s, q: views.embeddings(s.model(q))),
    "/api/backprop": Route(("a", "b"), lambda s, q: views.backprop(
        _number(q, "a", float, 2.0, -1e6, 1e6), _number(q, "b", float, 3.0, -1e6, 1e6))),
}


class Handler(BaseHTTPRequestHandler):
    server_version = "microgpt-explore"
    explorer = None  # set by serve()
    allowed_hosts = frozenset()

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        if len(self.path) > MAX_URL:
            return self.send(*_error(414, f"the URL is longer than {MAX_URL} bytes"))
        host = self.headers.get("Host")
        if host is None or host.lower() not in self.allowed_hosts:
            return self.send(*_error(403, f"refused: Host {str(host)[:80]!r} is not this server's own name"))
        if int(self.headers.get("Content-Length") or 0) or self.headers.get("Transfer-Encoding"):
            return self.send(*_error(413, "a GET request carries no body"))
        try:
            response = self.explorer.answer(self.path)
        except Exception as e:  # a fault of the server: one line here, one line to the page
            self.log_error("error answering %s: %s: %s", self.path[:100], type(e).__name__, str(e)[:200])
            response = _error(500, f"internal error: {type(e).__name__}")
        self.send(*response)

    def refuse(self):
        self.send(*_error(405, "only GET is served"), extra={"Allow": "GET"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse  # noqa: N815

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
        import sys

        print("explore: " + (format % args).replace("\n", " "), file=sys.stderr)


def allowed_hosts(host, port):
    """The Host headers this server answers to: its own name with its port."""
    names = {"127.0.0.1", "localhost", "[::1]"} if host in ("127.0.0.1", "localhost", "::1") else {host}
    if host in ("0.0.0.0", "::"):  # every interface: the loopback names, and whatever the user types
        names = {"127.0.0.1", "localhost", "[::1]"}
    return frozenset(f"{n}:{port}".lower() for n in names)


def make_server(explorer, host="127.0.0.1", port=0, extra_hosts=()):
    """A server bound to host:port (0: any free port), not yet serving."""
    handler = type("BoundHandler", (Handler,), {"explorer": explorer})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    bound = server.server_address[1]
    handler.allowed_hosts = allowed_hosts(host, bound) | {f"{h}:{bound}".lower() for h in extra_hosts}
    return server
