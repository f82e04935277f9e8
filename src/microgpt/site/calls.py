"""What worker.js runs for each message: `{id, call: "MODULE:FUNCTION", args: [...]}`.

The worker hands the call's name and its JSON-encoded arguments here; this
imports microgpt.site.MODULE, calls FUNCTION(*args) and answers in JSON:
{"result": ...}, or {"error": "one line"} for anything that went wrong. A
function with a keyword parameter `emit` gets a callable that posts an event
({id, event}) to the page while it runs: the Train page's live steps.
"""

import importlib
import inspect
import json
import traceback

from microgpt.errors import MicroGPTError

BRIDGES = ("train_bridge", "explore_bridge", "exercise_bridge", "uploads")  # the modules a page may call


def call(name, args_json, post_event):
    """`post_event(text)` sends one event, as JSON text, to the page."""
    try:
        module, _, function = name.partition(":")
        if module not in BRIDGES or not function or function.startswith("_"):
            raise MicroGPTError(f"no such call: {name}")
        target = getattr(importlib.import_module(f"microgpt.site.{module}"), function, None)
        if not callable(target):
            raise MicroGPTError(f"no such call: {name}")
        kwargs = {}
        if "emit" in inspect.signature(target).parameters:
            kwargs["emit"] = lambda event: post_event(json.dumps(event))
        return json.dumps({"result": target(*json.loads(args_json), **kwargs)})
    except MicroGPTError as e:
        return json.dumps({"error": one_line(e)})
    except Exception as e:  # a bug, not the user's input: its type and where it happened, still one line
        where = traceback.extract_tb(e.__traceback__)[-1]
        return json.dumps({"error": one_line(f"{type(e).__name__}: {e} ({where.filename}:{where.lineno})")})


def one_line(text):
    return " ".join(str(text).split())
