"""What a request to the explorer may carry, checked; and its errors, as one line of JSON.

Parameters come from the query string, at most once each, only those the
request takes; a number must be finite and in range; a text is bounded. A
problem is a BadRequest with its HTTP status, answered as {"error": "..."}.
"""

import json
import math
from urllib.parse import parse_qs

MAX_TEXT = 1000  # characters of a string to read (a model's context is far shorter)


class BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def error_response(status, message):
    return status, "application/json", json.dumps({"error": message.splitlines()[0] if message else ""}).encode()


def parse_query(query, allowed):
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


def text_param(query, name="text", required=True):
    text = query.get(name)
    if text is None:
        if required:
            raise BadRequest(400, f"{name}= is required")
        return ""
    if len(text) > MAX_TEXT:
        raise BadRequest(413, f"{name} has {len(text)} characters; at most {MAX_TEXT} are read")
    return text


def number_param(query, name, kind, default=None, lo=None, hi=None):
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
