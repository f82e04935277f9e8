"""The whole command line under random argv: every command, valid and invalid
flag values, wrong types, extreme numbers, odd paths (missing, a directory,
/dev/null, a FIFO, an empty or binary file, another tool's file).

Each run happens in-process against tiny data and checkpoints and must end with
exit 0, 1, 2 or 130, stderr free of tracebacks, one line of error when it
fails, within a time limit, and with every file the user made unchanged.

The flags come from the parser itself, so a new flag is fuzzed without a
change here. MICROGPT_ARGV_FUZZ_EXAMPLES sets the number of examples (1,000
under CI=true, 200 otherwise).
"""

import contextlib
import io
import os
import signal
import socketserver

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microgpt.cli import build_parser, main
from microgpt.files import checkpoint

EXAMPLES = int(os.environ.get("MICROGPT_ARGV_FUZZ_EXAMPLES", "1000" if os.environ.get("CI") == "true" else "200"))
TIME_LIMIT = 20  # seconds per command: far above what any capped example needs; a hang fails

# Flags whose size is work: valid values stay small, so an example is a quick run,
# not a legitimately long one; their invalid values (0, negative, text) are still drawn.
WORK = {"steps", "samples", "n", "chars", "reference_steps", "warmup", "block", "eval_every", "save_every",
        "warmup_steps", "smooth", "seed", "threads", "max_seconds"}
# Flags whose huge values must be refused up front (memory, shape) rather than tried.
# (Merely big ones, like a 4096-wide model, are real work: minutes in pure Python, not a bug.)
SIZE = {"n_embd", "n_head", "n_layer", "block_size", "batch_size", "val_docs", "top_k"}
PATHS = {"data", "text", "resume", "out", "log", "model", "file", "json", "reference", "inputs"}

NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail",
         "ella", "zoe", "luna", "aria", "nora", "lily", "chloe", "ivy", "grace", "ruby"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The files a user might point a command at, and which of them must survive."""
    tmp = tmp_path_factory.mktemp("argv")
    (tmp / "data.txt").write_text("\n".join(NAMES * 2) + "\n")
    (tmp / "text.txt").write_text("the cat sat on the mat and the dog ran far away\n" * 30)
    (tmp / "notes.txt").write_text("my own notes, not a model\n")
    (tmp / "empty.txt").write_text("")
    (tmp / "bin.bin").write_bytes(bytes(range(256)) * 8)
    (tmp / "dir").mkdir()
    os.mkfifo(tmp / "fifo")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["train", "--data", str(tmp / "data.txt"), "--steps", "3", "--n-embd", "8", "--n-head", "2",
                     "--block-size", "8", "--out", str(tmp / "model.json"), "--log", str(tmp / "run.jsonl"),
                     "--samples", "0"]) == 0
        assert main(["train", "--text", str(tmp / "text.txt"), "--steps", "3", "--n-embd", "8", "--n-head", "2",
                     "--block-size", "8", "--out", str(tmp / "textmodel.json"), "--samples", "0"]) == 0
    paths = [str(tmp / p) for p in ("data.txt", "text.txt", "notes.txt", "empty.txt", "bin.bin", "dir", "fifo",
                                    "model.json", "textmodel.json", "run.jsonl", "missing.txt", "new.json",
                                    "sub/new/x.json", "new.safetensors", "pic.png", "g.dot")]
    paths += ["/dev/null", "", "-"]  # (the bundled names are tested elsewhere: 32,033 of them make slow examples)
    # An empty file holds nothing to lose, so a command may fill it (outputs.py); it is put back all the same.
    kept = {p: (tmp / p).read_bytes() for p in ("data.txt", "text.txt", "notes.txt", "empty.txt", "bin.bin")}
    models = {p: (tmp / p).read_bytes() for p in ("model.json", "textmodel.json")}
    return {"tmp": tmp, "paths": paths, "kept": kept, "models": models}


def subcommands():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, type(parser._subparsers._group_actions[0])))
    return {name: p for name, p in sub.choices.items() if name != "ladder"}


def number(kind, dest):
    bad = st.sampled_from(["0", "-1", "-7", "abc", "", "1.5", "nan", "inf", "-inf", "1e999", "0x10", "٣"])
    if dest in WORK:
        good = st.integers(1, 6).map(str) if kind.endswith("int") or kind == "int" else \
            st.sampled_from(["0.5", "1", "0.01", "1e-3"])
    elif dest in SIZE:
        # huge beyond any machine's memory (so refused up front), not merely slow to draw in pure Python
        good = st.one_of(st.integers(1, 8).map(str), st.sampled_from(["1000000000", str(2**63), str(10**30)]))
    elif kind.endswith("float"):
        good = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
                         st.sampled_from(["1e-320", "5e-324", "1e308", "0", "0.5", "2", "-0.0", "1e-30"]))
    else:
        good = st.integers(-10**20, 10**20).map(str)
    return st.one_of(good, good, bad)


def value(action, world):
    dest, kind = action.dest, getattr(action.type, "__name__", "str")
    if action.choices:
        return st.one_of(st.sampled_from(sorted(map(str, action.choices))), st.sampled_from(["", "bogus", "CUDA"]))
    if dest in PATHS:
        return st.sampled_from(world["paths"])
    if kind in ("positive_int", "nonneg_int", "int", "finite_float", "positive_float", "nonneg_float",
                "unit_float"):
        return number(kind, dest)
    return st.one_of(st.sampled_from(["emma", "", "em", "a" * 40, "Zq!", "é", "\n", "ab ba", "default",
                                      "fused,scalar", "numpy-f32", "large", "x" * 500]), st.text(max_size=12))


@st.composite
def argvs(draw, world):
    commands = subcommands()
    name = draw(st.sampled_from(sorted(commands)))
    parser = commands[name]
    argv = [name]
    for action in parser._actions:
        # --compile starts a C++ compiler for a minute: a long run by request, not a bug to find
        if action.dest in ("help", "debug", "compile"):
            continue
        if not action.option_strings:  # positionals: usually given, sometimes not
            n = {"?": draw(st.integers(0, 1)), "*": draw(st.integers(0, 2)), "+": draw(st.integers(0, 2))}.get(
                action.nargs, 1 if draw(st.integers(0, 9)) else 0)
            argv += [draw(value(action, world)) for _ in range(n)]
        elif draw(st.integers(0, 3)) == 0:  # each flag in about a quarter of the runs
            flag = draw(st.sampled_from(action.option_strings))
            argv += [flag] if action.nargs == 0 else [flag, draw(value(action, world))]
    if name == "bench":  # bench times for seconds by design: keep each example short (pure-Python engines:
        # a torch import cut short by the time limit would leave torch unusable for the rest of the process)
        argv += ["--steps", "1", "--warmup", "0", "--max-seconds", "0.1", "--configs", "default",
                 "--engines", draw(st.sampled_from(["fused", "scalar,fused", "fused,bogus", ""]))]
    if name == "train":  # the default 1000 steps on the bundled names is a real run, not a quick example
        argv += [] if "--steps" in argv else ["--steps", "3"]
        argv += [] if "--samples" in argv else ["--samples", "2"]
    if name == "site" and "--model" not in argv:  # without one it trains the default 1000-step model first
        argv += ["--model", str(world["tmp"] / "model.json")]
    if name == "sample" and "-n" not in argv:
        argv += ["-n", "2"]
    return argv


class TooLong(BaseException):
    """Raised by the alarm: not an exception the command could mistake for its own."""


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}

    def alarm(signum, frame):
        raise TooLong()

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(TIME_LIMIT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as e:  # argparse: --help (0) or a usage error (2)
                code = e.code
    finally:
        signal.alarm(0)
        for s, h in saved.items():
            signal.signal(s, h)
    return code, out.getvalue(), err.getvalue()


# In CI the same examples every run (a submission passes or fails on its code, not on luck); locally,
# new ones each time, to find what CI's do not.
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=os.environ.get("CI") == "true",
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_random_command_lines(world, data, monkeypatch):
    argv = data.draw(argvs(world), label="argv")
    monkeypatch.chdir(world["tmp"])
    monkeypatch.setenv("MICROGPT_DATA", str(world["tmp"] / "data.txt"))  # the default data: small, so runs are quick
    # explore checks all it is given, binds its port, then serves until stopped: here it stops at once
    monkeypatch.setattr(socketserver.BaseServer, "serve_forever", lambda self, poll_interval=0.5: None)
    try:
        code, out, err = run(argv)
    except TooLong:
        pytest.fail(f"no answer within {TIME_LIMIT} s: microgpt {' '.join(map(repr, argv))}")
    finally:
        # a checkpoint may be rewritten, but only as a checkpoint (unless --force asked for something else)
        broken = [name for name in world["models"] if not still_a_checkpoint(world["tmp"] / name)]
        changed = restore(world)  # always: a failing example must not change the next one's world
    shown = f"microgpt {' '.join(map(repr, argv))} -> {code}\n{err[-2000:]}"
    assert code in (0, 1, 2, 130), shown
    assert "Traceback" not in err, shown
    if code not in (0, None):
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines and "error" in lines[-1], shown
        assert len([line for line in lines if "error" in line]) == 1, shown
    # nothing the user made is changed, unless --force said so (or it was empty: nothing to lose)
    lost = [name for name in changed if name in world["kept"] and name != "empty.txt" and "--force" not in argv]
    assert not lost, f"{lost} changed: {shown}"
    assert not broken or "--force" in argv, f"{broken} no longer a checkpoint: {shown}"


def still_a_checkpoint(path):
    try:
        checkpoint.load(path)
        return True
    except Exception:  # noqa: BLE001 - any failure to load means it was overwritten with something else
        return False


def restore(world):
    """Put back every file of the world a command changed; return their names."""
    changed = []
    for name, before in {**world["kept"], **world["models"]}.items():
        path = world["tmp"] / name
        if not path.is_file() or path.read_bytes() != before:
            changed.append(name)
            if path.is_dir():
                path.rmdir()
            path.unlink(missing_ok=True)
            path.write_bytes(before)
    return changed


def test_the_fuzzer_sees_every_command_and_flag(world):
    commands = subcommands()
    assert {"train", "sample", "info", "score", "eval", "bench", "plot", "graph", "dataset", "explore"} <= set(commands)
    flags = {s for p in commands.values() for a in p._actions for s in a.option_strings}
    assert {"--out", "--log", "--resume", "--temperature", "--top-k", "--chars", "--n-embd"} <= flags
