"""The explorer's two streams of server-sent events, written on a request's handler.

    live_run   GET /api/live/events: a run started from the page, every event
               from its first, until it has saved (or failed)
    ablation   GET /api/ablate/eval: the validation loss intact and ablated,
               with its progress

Each event is one `data: {json}` block; the stream ends with an `end` event, so
the page closes it instead of reconnecting. A page that goes away ends the
stream quietly (a run goes on without it).
"""

import json
from urllib.parse import urlsplit

from microgpt.ablation import Ablation
from microgpt.errors import MicroGPTError
from microgpt.explore import views
from microgpt.explore.requests import BadRequest, error_response, parse_query, text_param


def live_run(handler):
    """The training run's events as server-sent events, from the first, until it ends."""
    live = handler.explorer.live
    if live is None:
        return handler.send(*error_response(404, "no run has been started from the page"))
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-store")
    handler.send_header("X-Content-Type-Options", "nosniff")
    handler.end_headers()
    seen, finished = 0, False
    try:
        while not finished:
            events, finished = live.wait(seen)
            for e in events:
                handler.wfile.write(f"data: {json.dumps(e, allow_nan=False)}\n\n".encode())
            seen += len(events)
            if not events:
                handler.wfile.write(b": still training\n\n")  # a comment keeps the connection alive
            handler.wfile.flush()
        handler.wfile.write(b"event: end\ndata: {}\n\n")
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):  # the page went away: the run goes on
        pass
    handler.close_connection = True


def ablation(handler):
    """The validation loss intact and ablated, with its progress, as server-sent events;
    a bad request is an ordinary 4xx before the stream starts."""
    explorer = handler.explorer
    try:
        query = parse_query(urlsplit(handler.path).query, ("model", "spec", "token"))
        if not explorer.holds_token(query.get("token")):  # a long computation: only for the page that has it
            raise BadRequest(403, "refused: an evaluation needs the session's token (open the URL that "
                                  "`microgpt explore` printed)")
        ex = explorer.model(query)
        spec = str(Ablation.parse(text_param(query, "spec", required=False), ex.model.config))
    except BadRequest as e:
        return handler.send(*error_response(e.status, str(e)))
    except MicroGPTError as e:
        return handler.send(*error_response(400, str(e)))
    if not explorer.evaluating.acquire(blocking=False):
        return handler.send(*error_response(429, "an evaluation is already running; wait for it to finish"))
    try:
        _stream_ablation(handler, ex, spec)
    finally:
        explorer.evaluating.release()


def _stream_ablation(handler, ex, spec):
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()

    def emit(event):
        handler.wfile.write(f"data: {json.dumps(event, allow_nan=False)}\n\n".encode())
        handler.wfile.flush()

    try:
        try:
            result = views.ablation_eval(ex, spec, emit)  # its own engines: outside the view lock
            emit({"type": "result", **result})
        except MicroGPTError as e:
            emit({"type": "failed", "error": str(e).splitlines()[0]})
        except Exception as e:  # a fault of the server: one line here, one line to the page
            handler.log_error("error evaluating an ablation: %s: %s", type(e).__name__, str(e)[:200])
            emit({"type": "failed", "error": f"internal error: {type(e).__name__}"})
        handler.wfile.write(b"event: end\ndata: {}\n\n")
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):  # the page went away
        pass
    handler.close_connection = True

