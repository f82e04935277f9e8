"""Mutants of a reference solution: how to tell a grader that passes wrong answers.

A mutant is the solution with one small change a student could make: an
operator swapped (+ and -, * and /, < and <=), a number off by one, a term
dropped from a sum, max for min, an order not reversed, `=` for `+=`, a sign
lost, a range one short, a pair swapped, a condition ignored or negated, a
line left out. A good grader fails every mutant that computes
something else; the ones it passes are either equivalent (the change does not
change what the function returns, such as swapping the order of a sum) or a
hole in the checks. `mutants(source)` lists them; the test grades each one.

Only the bodies of functions are changed (never imports or docstrings), each
mutant at one place, and a mutant whose text comes out the same is left out.
"""

import ast
import copy
import tempfile
from pathlib import Path

from microgpt import exercises

BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
          ast.Pow: ast.Mult, ast.Mod: ast.FloorDiv}
COMPARES = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
CALLS = {"max": "min", "min": "max"}


def _edits(node):
    """(what, a function that applies the change to this node in place) for each mutation of `node`."""
    if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
        new = BINOPS[type(node.op)]
        yield f"{type(node.op).__name__} -> {new.__name__}", lambda n: setattr(n, "op", new())
        if isinstance(node.op, (ast.Add, ast.Sub)):
            yield "a term dropped (the right one)", "right"
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARES:
        new = COMPARES[type(node.ops[0])]
        yield f"{type(node.ops[0]).__name__} -> {new.__name__}", lambda n: setattr(n, "ops", [new()])
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        yield f"{node.value!r} -> {node.value + 1!r}", lambda n: setattr(n, "value", n.value + 1)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in CALLS:
            yield f"{node.func.id} -> {CALLS[node.func.id]}", lambda n: setattr(n.func, "id", CALLS[n.func.id])
        if node.func.id == "reversed" and len(node.args) == 1:
            yield "not reversed", "unwrap"
        if node.func.id == "range" and node.args:
            yield "range one short", lambda n: n.args.__setitem__(
                len(n.args) - 1 if len(n.args) < 3 else 1,
                ast.BinOp(n.args[len(n.args) - 1 if len(n.args) < 3 else 1], ast.Sub(), ast.Constant(1)))
    if isinstance(node, ast.AugAssign):
        yield "+= -> =", "assign"
    if isinstance(node, ast.Tuple) and len(node.elts) == 2:
        yield "the pair swapped", lambda n: n.elts.reverse()
    if isinstance(node, ast.IfExp):
        yield "the condition ignored (always the first branch)", "body"
        yield "the condition ignored (always the second branch)", "orelse"
    if isinstance(node, ast.If):
        yield "the condition negated", lambda n: setattr(n, "test", ast.UnaryOp(ast.Not(), n.test))
    if isinstance(node, ast.FunctionDef) and len(node.body) > 1:
        for i, stmt in enumerate(node.body[:-1]):  # a line left out (the last one returns)
            if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr, ast.If, ast.For)) and not (
                    isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
                yield f"line {stmt.lineno} left out", ("drop", i)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "the sign dropped", "operand"


def _replace(tree, target, make):
    """The tree with `target` (found by identity) replaced by make(target)."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, make(target))
                return tree
            if isinstance(value, list) and any(v is target for v in value):
                value[[id(v) for v in value].index(id(target))] = make(target)
                return tree
    raise LookupError("the node to mutate is not in the tree")


def _apply(tree, node, edit):
    if edit == "right":
        return _replace(tree, node, lambda n: n.left)
    if edit == "unwrap":
        return _replace(tree, node, lambda n: n.args[0])
    if edit == "operand":
        return _replace(tree, node, lambda n: n.operand)
    if edit == "body":
        return _replace(tree, node, lambda n: n.body)
    if edit == "orelse":
        return _replace(tree, node, lambda n: n.orelse)
    if isinstance(edit, tuple):  # ("drop", i): the i-th statement of a function body
        del node.body[edit[1]]
        return tree
    if edit == "assign":
        return _replace(tree, node, lambda n: ast.Assign([n.target], n.value, lineno=n.lineno))
    edit(node)
    return tree


def _sites(tree):
    """Every function, and every node inside a function's statements (its docstring aside), in a fixed order."""
    functions = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)]
    return functions + [node for f in functions for stmt in f.body
                        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
                        for node in ast.walk(stmt)]


def mutants(source):
    """[(line, what changed, the mutant's source)] for every one-place change inside a function."""
    tree = ast.parse(source)
    original = ast.unparse(tree)
    out, seen = [], {original}
    for index, node in enumerate(_sites(tree)):
        for what, edit in _edits(node):
            copied = copy.deepcopy(tree)
            text = ast.unparse(ast.fix_missing_locations(_apply(copied, _sites(copied)[index], edit)))
            if text not in seen:
                seen.add(text)
                out.append((node.lineno, what, text))
    return out


# The mutants that compute what the solution computes, by exercise: (line, what changed) -> why.
EQUIVALENT = {
    8: {(10, "the pair swapped"): "q_i * k_i and k_i * q_i are the same product"},
    10: {(8, "the pair swapped"): "a + b and b + a are the same sum"},
    13: {(14, "Lt -> LtE"): "top_k == n keeps every token either way"},
}


def grade_all(n, grade):
    """(mutants, caught, [(line, what) of those the checks pass]) for exercise n, each mutant's
    file graded by grade(path) -> passed."""
    found = mutants(exercises.solution_path(n).read_text(encoding="utf-8"))
    survivors = []
    with tempfile.TemporaryDirectory(prefix="microgpt-mutants-") as folder:
        for line, what, text in found:
            path = Path(folder) / exercises.stub_filename(n)
            path.write_text(text, encoding="utf-8")
            if grade(path):
                survivors.append((line, what))
    return len(found), len(found) - len(survivors), survivors
