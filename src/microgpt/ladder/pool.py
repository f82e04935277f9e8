"""Rungs side by side: each in its own Python process, at most `procs` at a time.

The rungs are single-threaded pure Python, so on a 2-core machine two of them
run in the time of one; that is what lets the class preset finish in minutes.
Each job is a child process running worker.py, which calls the rung's own
run() and writes its result as JSON; the parent reads the JSON back (no
pickle). Log lines go straight to stderr, prefixed with the rung, so
interleaved lines stay readable. An interrupted or failed ladder ends every
job it started.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from microgpt.errors import MicroGPTError
from microgpt.files.interrupts import Interrupted


def run_jobs(jobs, procs, data, log_every, val_names=None, options_of=lambda key, rung: {}):
    """jobs: (key, rung, steps, seed, label) tuples, longest first; options_of(key, rung): keyword options
    for the rung's run(), as JSON. Returns {key: result dict}."""
    package_root = str(Path(__file__).resolve().parents[2])  # so the children import this same package
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    results, running, pending = {}, {}, list(jobs)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            while pending or running:
                while pending and len(running) < procs:
                    key, rung, steps, seed, label = pending.pop(0)
                    out = Path(tmp) / f"{key}.json"
                    argv = [sys.executable, "-m", "microgpt.ladder.worker", str(rung),
                            "all" if steps is None else str(steps), str(seed), data, str(out), label,
                            str(log_every(rung)), "all" if val_names is None else str(val_names),
                            json.dumps(options_of(key, rung))]
                    running[key] = (subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL), out, label)
                for key, (proc, out, label) in list(running.items()):
                    code = proc.poll()
                    if code is None:
                        continue
                    del running[key]
                    if code in (130, -signal.SIGINT):  # the terminal's Ctrl-C reached the job first
                        raise Interrupted(signal.SIGINT)
                    if code != 0:
                        raise MicroGPTError(f"{label} stopped with exit status {code}")
                    results[key] = json.loads(out.read_text(encoding="utf-8"))
                time.sleep(0.05)
        finally:
            for proc, _, _ in running.values():
                proc.terminate()
            for proc, _, _ in running.values():
                proc.wait()
    return results
