"""The package's shape: no import cycles, and files a newcomer reads in one sitting."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "microgpt"


def module_name(path):
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules():
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(path, known):
    """microgpt modules that `path` imports anywhere (at the top or inside a function)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("microgpt")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("microgpt"):
            for a in node.names:  # `from microgpt.x import y`: y may be a module or a name in x
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in known else node.module)
    return out


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


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
    graph = import_graph()
    graph["microgpt.errors"] = graph["microgpt.errors"] | {"microgpt.cli"}  # cli imports errors, so: a cycle
    assert find_cycle(graph) is not None


def test_modules_are_short_enough_to_read_in_one_sitting():
    """The engines (hand-ordered arithmetic) and the ladder rungs (standalone
    teaching files) may be longer; nothing else goes past ~400 lines."""
    long = {m: n for m, p in modules().items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
            and not m.startswith(("microgpt.engines.", "microgpt.ladder."))}
    assert not long, long
