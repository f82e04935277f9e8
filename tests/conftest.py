import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
NAMES = SHARED / "data" / "names.txt"
REFERENCE = SHARED / "reference" / "microgpt_default.txt"


def _shared_file(path):
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing, and CI=true requires it")
        pytest.skip(f"{path} not found (tests read ../shared beside the repository)")
    return path


@pytest.fixture
def names_path():
    return _shared_file(NAMES)


@pytest.fixture
def reference():
    """The original microgpt.py's printed losses and samples."""
    lines = _shared_file(REFERENCE).read_text().splitlines()
    losses = [line.split("loss")[1].strip() for line in lines if line.startswith("step")]
    samples = [line.split(":", 1)[1].strip() for line in lines if line.startswith("sample")]
    return losses, samples


@pytest.fixture
def tiny_docs():
    return ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail",
            "ella", "zoe", "luna", "aria", "nora", "lily", "chloe", "ivy", "grace", "ruby"]


# Ten names and a 2-layer, 8-wide model over them: the setting of both tensor
# engines' dropout and tied-weight tests (tests/test_*_regularisation.py).
REGULARISATION_DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "zoe"]


@pytest.fixture
def regularisation_model():
    import random

    from microgpt.config import GPTConfig
    from microgpt.model import init_weights
    from microgpt.tokenizer import Tokenizer

    tok = Tokenizer.from_docs(REGULARISATION_DOCS)
    config = GPTConfig(tok.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=8)
    return tok, config, init_weights(config, random.Random(5))


def pytest_configure(config):
    """Under pytest-xdist (-n), hand tests to the workers one at a time (--maxschedchunk 1) unless told
    otherwise: the default hands each worker a quarter of its share at once, which would queue the slow
    runs (ordered first, below) behind one another on one worker while the other sits idle."""
    if config.pluginmanager.hasplugin("xdist") and config.getoption("dist", "no") == "load" \
            and config.getoption("maxschedchunk", None) is None:
        config.option.maxschedchunk = 1


# Tests that start something heavy (a browser, a notebook kernel, torchrun, a fresh install, every
# command the docs quote): marked `heavy`, so that the fast local command can leave them out.
HEAVY_MODULES = {"test_explore_browser", "test_explore_colours", "test_explore_stages_browser", "test_explore_compare",
                 "test_explore_ladder", "test_report", "test_lessons", "test_docs", "test_distributed",
                 "test_offline_install", "test_gpu_check", "test_grader_mutants"}


def pytest_collection_modifyitems(items):
    """Marks the heavy modules' tests `heavy`; then orders:
    the slow runs first, each followed by one quick test. Under xdist a worker runs a test only once
    it holds the next one, so the quick companion is what a worker waits on, not a second slow run:
    the slow runs go to whichever worker is free and the quick tests fill the gaps behind them."""
    for item in items:
        name = item.module.__name__.rsplit(".", 1)[-1]
        if name in HEAVY_MODULES or name.startswith("test_site_"):  # the site's tests all run Chromium
            item.add_marker(pytest.mark.heavy)
    slow = [item for item in items if item.get_closest_marker("slow")]
    quick = [item for item in items if not item.get_closest_marker("slow")]
    companions, rest = quick[:len(slow)], quick[len(slow):]
    items[:] = [item for pair in zip(slow, companions) for item in pair] + slow[len(companions):] + rest


def pytest_terminal_summary(terminalreporter):
    """Each lesson's wall time (tests/test_lessons.py records it), also under xdist."""
    walls = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            props = dict(getattr(report, "user_properties", ()))
            if getattr(report, "when", None) == "call" and "lesson_wall_s" in props:
                walls.append((report.nodeid.split("[")[-1].rstrip("]"), props["lesson_wall_s"], outcome))
    if walls:
        terminalreporter.write_sep("-", "lesson wall times")
        for name, seconds, outcome in sorted(walls):
            terminalreporter.write_line(f"{name:40s} {seconds:6.1f} s{'' if outcome == 'passed' else '  FAILED'}")
