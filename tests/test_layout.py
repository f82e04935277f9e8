"""The package's shape: layers that point one way, no import cycles, imports at the
top of a module, distinct file names, and files a newcomer reads in one sitting.

The layers, lowest first. A module may import from its own layer or from one
below it, never from one above:

    maths       the GPT itself: autograd, model, forward, optim, config, tokenizers
    engines     the same GPT computed faster (fused, numpy, torch), and torchrun's plumbing
    files       between a run and the disk: checkpoints, safe writes, inputs, signals, memory
    running     a run: data, batches, training, evaluation, sampling, provenance, ablation
    inspection  looking inside a model: score, trace, graphs, plots, differences
    api         the Python API (train, load, Model)
    ladder, bench, exercises, explore, cli (with site, which runs cli's commands in the browser)
                the front ends, each free to use the layers under it
    package     microgpt/__init__ and __main__: the names `import microgpt` gives

The core (maths, engines, files, running) never imports a front end.
"""

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "microgpt"

LAYERS = [
    ("maths", ["errors", "autograd", "model", "forward", "optim", "config", "tokenizer", "bpe", "flops"]),
    ("engines", ["engines", "distributed"]),
    ("files", ["files"]),
    ("running", ["data", "batches", "provenance", "evaluation", "progress", "training", "sample", "ablation"]),
    ("inspection", ["inspection"]),
    ("api", ["api"]),
    ("ladder", ["ladder"]),
    ("bench", ["bench"]),
    ("exercises", ["exercises"]),
    ("explore", ["explore"]),
    ("cli", ["cli", "site"]),  # the site runs the command line's own commands in the browser
    ("package", ["", "__main__"]),
]
CORE = ("maths", "engines", "files", "running")
FRONT_ENDS = ("inspection", "api", "ladder", "bench", "exercises", "explore", "cli")
# Imported inside a function, these keep `import microgpt` and every command's start free of them.
OPTIONAL_LIBRARIES = {"numpy", "torch", "matplotlib", "safetensors", "tokenizers", "markdown_it"}
# Where an import inside a function is the point: the command line's lazy start, and the
# package's lazily loaded names (PEP 562).
LAZY = ("microgpt.cli", "microgpt")


def module_name(path):
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules():
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def layer_of(module):
    """(rank, layer name) of a microgpt module: by its first name under microgpt."""
    first = module.split(".")[1] if "." in module else ""
    for rank, (name, members) in enumerate(LAYERS):
        if first in members:
            return rank, name
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layout.py")


def _imported(node, known):
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        # `from microgpt.x import y`: y may be a module or a name in x. The version string
        # the package root holds is a constant, not code: reading it is no arrow.
        return {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                for a in node.names if (node.module, a.name) != ("microgpt", "__version__")}
    return set()


def imports(path, known):
    """microgpt modules that `path` imports anywhere (at the top or inside a function)."""
    return {m for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            for m in _imported(node, known) if m.split(".")[0] == "microgpt"}


def top_level_imports(path, known):
    return {m for node in ast.parse(path.read_text(encoding="utf-8")).body for m in _imported(node, known)}


def find_cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}  # 1 = on the current path, 2 = finished

    def visit(m, path):
        state[m] = 1
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state:
                found = visit(n, path + [n])
                if found:
                    return found
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m, [m])
            if found:
                return found
    return None


def import_graph():
    known = modules()
    return {m: {n for n in imports(p, known) if n in known and n != m} for m, p in known.items()}


def upward_imports(graph):
    """'a -> b (layer x imports layer y)' for every arrow that points up."""
    found = []
    for m, targets in sorted(graph.items()):
        (rank, name) = layer_of(m)
        for n in sorted(targets):
            (rank_n, name_n) = layer_of(n)
            if rank_n > rank:
                found.append(f"{m} -> {n} ({name} imports {name_n})")
    return found


def core_importing_front_ends(graph):
    return [f"{m} -> {n}" for m, targets in sorted(graph.items()) if layer_of(m)[1] in CORE
            for n in sorted(targets) if layer_of(n)[1] in FRONT_ENDS]


def needs_optional(known):
    """The microgpt modules that import an optional library at their top, directly or through another."""
    tops = {m: top_level_imports(p, known) for m, p in known.items()}
    needs = {}

    def visit(m, seen):
        if m.split(".")[0] in OPTIONAL_LIBRARIES:
            return True
        if m not in tops or m in seen:
            return False
        if m not in needs:
            needs[m] = any(visit(n, seen | {m}) for n in tops[m])
        return needs[m]

    return {m for m in known if visit(m, frozenset())}


def inner_imports(path, known, optional):
    """Imports inside functions of `path` that are not of an optional library, as 'file:line: import'."""
    found = []
    for f in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(f):
                names = _imported(node, known)
                if names and not any(n.split(".")[0] in OPTIONAL_LIBRARIES or n in optional for n in names):
                    found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_every_module_has_a_layer():
    for m in modules():
        layer_of(m)


def test_no_import_points_up():
    assert upward_imports(import_graph()) == []


def test_the_core_never_imports_a_front_end():
    assert core_importing_front_ends(import_graph()) == []


@pytest.mark.parametrize("module, target", [
    ("microgpt.training", "microgpt.api"),              # core -> api
    ("microgpt.evaluation", "microgpt.inspection.score"),  # core -> inspection
    ("microgpt.files.checkpoint", "microgpt.cli"),      # core -> cli
    ("microgpt.inspection.differences", "microgpt.api"),  # inspection -> api: up, not core
    ("microgpt.model", "microgpt.engines"),             # maths -> engines: up, not a front end
])
def test_the_rules_catch_an_injected_violation(module, target):
    graph = import_graph()
    assert upward_imports(graph) == []
    graph[module] = graph[module] | {target}
    assert upward_imports(graph), f"{module} -> {target} was not caught"
    is_core_to_front = layer_of(module)[1] in CORE and layer_of(target)[1] in FRONT_ENDS
    assert bool(core_importing_front_ends(graph)) == is_core_to_front


def test_imports_inside_functions_only_in_the_cli_and_for_optional_libraries():
    known = modules()
    optional = needs_optional(known)
    found = [line for m, p in sorted(known.items())
             if not (m == "microgpt" or m.startswith("microgpt.cli"))
             for line in inner_imports(p, known, optional)]
    assert found == []


def test_an_inner_import_is_caught(tmp_path):
    known = modules()
    optional = needs_optional(known)
    module = tmp_path / "model.py"
    model = (PACKAGE / "model.py").read_text(encoding="utf-8")
    module.write_text(model + "\n\ndef _late():\n    from microgpt import autograd\n    import json\n", encoding="utf-8")
    found = inner_imports(module, known, optional)
    assert len(found) == 2 and "autograd" in found[0] and "json" in found[1]
    module.write_text(model + "\n\ndef _late():\n    import numpy\n", encoding="utf-8")  # optional: allowed
    assert inner_imports(module, known, optional) == []


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
    graph = import_graph()
    graph["microgpt.errors"] = graph["microgpt.errors"] | {"microgpt.cli"}  # cli imports errors, so: a cycle
    assert find_cycle(graph) is not None


def test_the_root_shows_the_model_and_keeps_the_plumbing_in_files():
    root = {p.stem for p in PACKAGE.glob("*.py")}
    assert {"autograd", "model", "optim", "training", "sample"} <= root
    plumbing = {"atomic", "writelock", "outputs", "inputs", "interrupts", "resources", "checkpoint", "metadata",
                "safetensors_io"}
    assert not plumbing & root
    assert plumbing <= {p.stem for p in (PACKAGE / "files").glob("*.py")}


def test_file_names_are_distinct():
    """No two modules share a file name (outside the ladder's rungs, the exercises' stubs
    and solutions, which mirror each other on purpose, and the packages' __init__)."""
    seen = {}
    for p in sorted(PACKAGE.rglob("*.py")):
        rel = p.relative_to(PACKAGE)
        if p.name in ("__init__.py", "__main__.py") or rel.parts[0] == "exercises" and len(rel.parts) > 2:
            continue
        seen.setdefault(p.name, []).append(str(rel))
    assert {n: where for n, where in seen.items() if len(where) > 1} == {}


def test_modules_are_short_enough_to_read_in_one_sitting():
    """The engines (hand-ordered arithmetic) and the ladder rungs (standalone
    teaching files) may be longer; nothing else goes past ~400 lines."""
    long = {m: n for m, p in modules().items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
            and not m.startswith(("microgpt.engines.", "microgpt.ladder."))}
    assert not long, long


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
