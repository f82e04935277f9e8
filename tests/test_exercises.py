"""The exercises and their autograder (microgpt/exercises, `microgpt exercise`).

Every reference solution passes; every untouched stub fails with a message and
no traceback; for each exercise, typical mistakes (the reference solution with
one thing done wrong) fail with the hint written for that mistake; and the
command starts, refuses to overwrite, and refuses bad numbers in one line.
"""

import ast

import pytest

from microgpt import exercises
from microgpt.cli import main

N = exercises.count()

RECURSIVE_TOPO = '''
def topological_order(root):
    order, seen = [], set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            for c in v._children:
                visit(c)
            order.append(v)

    visit(root)
    return order
'''

BREADTH_FIRST_BACKWARD = '''
def backward(root):
    root.grad, queue, seen = 1, [root], {root}
    while queue:
        node = queue.pop(0)
        for child, local in zip(node._children, node._local_grads):
            child.grad += local * node.grad
            if child not in seen:
                seen.add(child)
                queue.append(child)
'''

FUTURE_ATTENTION = '''
def attention_steps(xs, wq, wk, wv):
    keys = [linear(x, wk) for x in xs]
    values = [linear(x, wv) for x in xs]
    return [attend(linear(x, wq), keys, values) for x in xs]
'''

# (exercise, text in the reference solution, what a typical mistake writes instead, words of its hint)
MISTAKES = [
    (1, "tokens = [bos] + [chars.index(c) for c in word] + [bos]\n        for",
     "tokens = [chars.index(c) for c in word] + [bos]\n        for", "no pair starts at BOS"),
    (1, "total = sum(row) + len(row)\n        probs.append([(c + 1) / total", "total = sum(row)\n        "
     "probs.append([c / total", "add one to every count"),
    (1, "return sum(-math.log(probs[a][b]) for a, b in zip(tokens, tokens[1:]))",
     "return sum(-math.log(probs[a][b]) for a, b in zip(tokens, tokens[1:])) / (len(tokens) - 1)",
     "that is the mean"),
    (2, "(other.data, self.data)", "(self.data, other.data)", "the local gradients are swapped"),
    (2, "other = other if isinstance(other, Value) else Value(other)\n", "", "wrap a plain number"),
    (3, "return Value(e, (x,), (e,))", "return Value(e, (x,), (x.data,))", "the derivative of e**x is e**x"),
    (3, "(1 / x.data,)", "(math.log(x.data),)", "the derivative of ln x is 1/x"),
    (4, "child.grad += local * node.grad", "child.grad = local * node.grad", "Accumulate with `child.grad +="),
    (4, "reversed(topological_order(root))", "topological_order(root)", "REVERSE topological order"),
    (4, "    root.grad = 1\n", "", "set root.grad = 1"),
    (4, None, RECURSIVE_TOPO, "Python's recursion limit"),
    (4, None, BREADTH_FIRST_BACKWARD, "pushed breadth-first"),
    (5, "top = max(logits)", "top = 0", "Subtract max(logits)"),
    (5, "top = max(logits)", "top = min(logits)", "the largest logit, so that every exponent is at most 0"),
    (5, "return [e / total for e in exps]", "return exps", "not normalised"),
    (6, "tokens[pos + 1]", "tokens[pos]", "off by one"),
    (6, "return sum(losses) / len(losses)", "return sum(losses)", "that is the sum"),
    (7, "math.sqrt(ms + 1e-5)", "math.sqrt(ms)", "the 1e-5 is missing"),
    (7, "ms = sum(xi * xi for xi in x) / len(x)", "ms = sum(xi * xi for xi in x)", "SUM of squares"),
    (8, "scale = 1 / math.sqrt(len(q))", "scale = 1", "divide q . k by sqrt(head_dim)"),
    (8, None, FUTURE_ATTENTION, "the future included"),
    (8, "scale = 1 / math.sqrt(len(q))", "scale = 1 / math.sqrt(len(keys))", "square root of the number of keys"),
    (8, "        outs.append(attend(linear(x, wq), keys, values))\n",
     "        outs.append(attend(linear(x, wq), keys[:-1], values[:-1]))\n", "BEFORE attending"),
    (9, "return [vec[h * hd:(h + 1) * hd] for h in range(n_head)]",
     "return [vec[h::n_head] for h in range(n_head)]", "interleaved"),
    (10, "return [a + b for a, b in zip(x, linear(h, fc2))]", "return linear(h, fc2)", "the residual is missing"),
    (10, "max(0.0, v)", "v", "the ReLU is missing"),
    (11, "m_hat = m / (1 - beta1**t)\n    v_hat = v / (1 - beta2**t)", "m_hat, v_hat = m, v",
     "this is the UNcorrected update"),
    (11, "t = step + 1", "t = step", "t = step + 1"),
    (12, "lr * (1 - step / num_steps)", "lr * (1 - step / (num_steps - 1))", "reaches 0 one step early"),
    (12, "lr * (1 - step / num_steps)", "lr * (1 - (step + 1) / num_steps)", "off by one"),
    (13, "x / temperature", "x * temperature", "MULTIPLIED by the temperature"),
    (13, "key=lambda i: -exps[i]", "key=lambda i: exps[i]", "LEAST likely"),
    (13, "top = max(scaled)", "top = 0", "subtract the max"),
]


def write_variant(tmp_path, n, old, new):
    text = exercises.solution_path(n).read_text()
    if old is None:
        text += new  # a later definition replaces the reference one
    else:
        assert old in text, f"exercise {n}: the reference solution no longer contains {old!r}"
        text = text.replace(old, new)
    path = tmp_path / exercises.stub_filename(n)
    path.write_text(text)
    return path


@pytest.mark.parametrize("n", range(1, N + 1))
def test_reference_solution_passes(n):
    text, passed = exercises.grade(n, exercises.solution_path(n))
    assert passed, text
    assert text.endswith(f"all {len(exercises.module(n).CHECKS)} checks passed")


@pytest.mark.parametrize("n", range(1, N + 1))
def test_untouched_stub_fails_with_a_message(n, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "start", str(n)]) == 0
    capsys.readouterr()
    assert main(["exercise", "check", str(n)]) == 1
    out, err = capsys.readouterr()
    assert "is not written yet" in out and "NotImplementedError" in out
    assert f"0 of {len(exercises.module(n).CHECKS)} checks passed" in out
    assert "Traceback" not in out + err and err == ""


def test_every_exercise_has_a_typical_mistake_tested():
    assert {m[0] for m in MISTAKES} == set(range(1, N + 1))
    assert N >= 12


@pytest.mark.parametrize("n,old,new,hint", MISTAKES, ids=[f"ex{m[0]}-{m[3][:24]}" for m in MISTAKES])
def test_typical_mistake_gets_its_hint(n, old, new, hint, tmp_path):
    text, passed = exercises.grade(n, write_variant(tmp_path, n, old, new))
    assert not passed
    assert hint in text, text
    assert "Traceback" not in text


def test_a_report_names_the_check_input_expected_and_got(tmp_path):
    text, _ = exercises.grade(12, write_variant(tmp_path, 12, "lr * (1 - step / num_steps)",
                                                 "lr * (1 - step / (num_steps - 1))"))
    assert "FAIL  the last step gets lr / num_steps, not 0" in text
    assert "input:    learning_rate(step=999, num_steps=1000, lr=0.01)" in text
    assert "expected: 1e-05" in text and "got:      0.0" in text


def test_an_exception_in_the_students_code_shows_their_line(tmp_path):
    text, passed = exercises.grade(5, write_variant(tmp_path, 5, "top = max(logits)", "top = 0"))
    assert not passed
    assert "raised:   OverflowError" in text
    assert "at:       line 8 of ex05_softmax.py: `exps = [math.exp(x - top) for x in logits]`" in text


def stub_bodies_only_raise(text):
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef):
            body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                                 and isinstance(s.value.value, str))]
            assert len(body) == 1, node.name
            stmt = body[0]
            assert (isinstance(stmt, ast.Raise) and "NotImplementedError" in ast.unparse(stmt)) or \
                (isinstance(stmt, ast.Expr) and stmt.value.value is Ellipsis), node.name
    return True


@pytest.mark.parametrize("n", range(1, N + 1))
def test_start_never_writes_a_solution(n):
    """A stub defines the same functions as the solution, each only raising; its docstring says what to write."""
    stub = exercises.stub_text(n)
    assert stub_bodies_only_raise(stub)
    names = lambda t: [d.name for d in ast.parse(t).body if isinstance(d, ast.FunctionDef)]
    assert names(stub) == names(exercises.solution_path(n).read_text())
    doc = ast.get_docstring(ast.parse(stub))
    assert f"microgpt exercise check {n}" in doc and "src/microgpt/" in doc


def test_start_writes_the_stub_and_refuses_to_overwrite(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "start", "5"]) == 0
    path = tmp_path / "ex05_softmax.py"
    assert path.read_text() == exercises.stub_text(5)
    assert "microgpt exercise check 5" in capsys.readouterr().out
    path.write_text("my work\n")
    assert main(["exercise", "start", "5"]) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "add --force" in err and "Traceback" not in err
    assert path.read_text() == "my work\n"
    assert main(["exercise", "start", "5", "--force"]) == 0
    assert path.read_text() == exercises.stub_text(5)
    (tmp_path / "sub").mkdir()
    assert main(["exercise", "start", "12", "--dir", "sub"]) == 0
    assert (tmp_path / "sub" / "ex12_lr_decay.py").read_text() == exercises.stub_text(12)
    assert "microgpt exercise check 12 sub/ex12_lr_decay.py" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["start", "0"], ["start", "99"], ["check", "x"], ["check", "14"], ["start", "-1"]])
def test_a_bad_number_is_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(["exercise", *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "exercise number" in err or "no exercise" in err


def test_a_syntax_error_is_one_line_with_the_students_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ex07_rmsnorm.py").write_text("import math\n\ndef rmsnorm(x):\n    return [xi for xi in x\n")
    assert main(["exercise", "check", "7"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "ex07_rmsnorm.py, line 4" in err and "not valid Python" in err and "Traceback" not in err


def test_an_error_while_loading_is_one_line(tmp_path, capsys):
    path = tmp_path / "mine.py"
    path.write_text("x = 1\ny = undefined_name\n")
    assert main(["exercise", "check", "5", str(path)]) == 1
    err = capsys.readouterr().err
    assert "line 2 of mine.py" in err and "NameError" in err and len(err.strip().splitlines()) == 1


def test_a_missing_file_says_how_to_start(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "check", "3"]) == 1
    err = capsys.readouterr().err
    assert "microgpt exercise start 3" in err and len(err.strip().splitlines()) == 1


def test_an_endless_loop_is_stopped(tmp_path):
    path = write_variant(tmp_path, 12, None, "\ndef learning_rate(step, num_steps, lr):\n    while True:\n"
                                             "        pass\n")
    text, passed = exercises.grade(12, path, budget=1)
    assert not passed and "endless loop" in text


def test_a_missing_function_and_a_body_of_dots(tmp_path):
    path = tmp_path / "x.py"
    path.write_text("def softmax(logits):\n    ...\n")
    text, _ = exercises.grade(5, path)
    assert "returned None" in text
    path.write_text("def soft_max(logits):\n    return logits\n")
    text, _ = exercises.grade(5, path)
    assert "has no function softmax()" in text


def test_list_shows_every_exercise(capsys):
    assert main(["exercise", "list"]) == 0
    out = capsys.readouterr().out
    for n in range(1, N + 1):
        assert exercises.stub_filename(n) in out


def test_the_docs_list_every_exercise_with_its_objectives():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "exercises.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in doc.splitlines() if line.startswith("| ") and "ex" in line}
    for n in range(1, N + 1):
        row = rows[str(n)]
        assert exercises.stub_filename(n) in row
        assert row.rstrip(" |").endswith(", ".join(map(str, exercises.module(n).OBJECTIVES)))
        assert all(1 <= o <= 39 for o in exercises.module(n).OBJECTIVES)


def test_a_callers_own_alarm_survives_a_check():
    import signal

    signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        exercises.grade(12, exercises.solution_path(12))
        left = signal.getitimer(signal.ITIMER_REAL)[0]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    assert 90 < left <= 100


def test_expected_and_got_that_print_alike_are_shown_in_full(tmp_path):
    path = write_variant(tmp_path, 7, "math.sqrt(ms + 1e-5)", "math.sqrt(ms + 1e-4)")
    text, passed = exercises.grade(7, path)
    expected = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.strip().startswith("expected:")]
    got = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.strip().startswith("got:")]
    assert not passed and expected and len(expected) == len(got), text
    assert all(e != g for e, g in zip(expected, got)), text  # 0.8485 twice would show no difference


def test_a_hint_only_where_the_mistake_is_recognised_for_certain(tmp_path):
    """A list holding the mean loss equals the last position's loss on the by-hand document (every loss
    is ln 2 there): it must not be told "only the last position"; and expect() names no mistake when two
    with different hints would both have returned the answer."""
    path = write_variant(tmp_path, 6, "return [-math.log(softmax(row)[tokens[pos + 1]]) for pos, row in enumerate(logits)]",
                         "losses = [-math.log(softmax(row)[tokens[pos + 1]]) for pos, row in enumerate(logits)]\n"
                         "    return [sum(losses) / len(losses)]")
    text, passed = exercises.grade(6, path)
    assert not passed and "only the last position" not in text, text
    from microgpt.exercises.grading import Failed, expect

    with pytest.raises(Failed) as e:
        expect(2.0, 1.0, "f(1)", [(2.0, "one mistake"), (2.0, "another mistake")])
    assert e.value.hint is None
    with pytest.raises(Failed) as e:
        expect(2.0, 1.0, "f(1)", [(2.0, "one mistake"), (3.0, "another mistake")])
    assert e.value.hint == "one mistake"
