"""One ladder job in a child process (started by pool.py): run one rung, write its result as JSON.

Arguments: RUNG STEPS|all SEED DATA OUT LABEL LOG_EVERY VAL_NAMES|all OPTIONS (a JSON object of
keyword options for the rung's run(), e.g. {"check_gradients": false}). Log lines go to
stderr, prefixed with LABEL; a bad data file is one line and exit 2.
"""
import importlib
import json
import sys
from pathlib import Path


def work(argv):
    """The child's side: run one rung, write its result to a JSON file."""
    rung, steps, seed, data, out, label, log_every, val_names, options = argv
    log = lambda msg: print(f"  {label} | {msg}", file=sys.stderr, flush=True)
    try:
        module = importlib.import_module(f"microgpt.ladder.train{int(rung)}")
        result = module.run(steps=None if steps == "all" else int(steps), seed=int(seed), data=data, log=log,
                            log_every=int(log_every), val_names=None if val_names == "all" else int(val_names),
                            **json.loads(options))
    except KeyboardInterrupt:  # the terminal's Ctrl-C reaches every job; the parent reports it once
        return 130
    except (OSError, ValueError) as e:
        print(f"error: {label}: {e}", file=sys.stderr)
        return 2
    Path(out).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(work(sys.argv[1:]))
