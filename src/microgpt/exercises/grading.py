"""Grading one exercise file: load it, run the exercise's checks, report like a TA.

This is what runs inside the grader's child process (sandbox.py starts it, in a
folder of its own, under a time budget). The student's file is compiled and run
from its path (nothing else of theirs is executed, and no bytecode is written
beside it). Each check calls the student's
functions through `Student.call`, which turns what can go wrong inside their
code into a verdict instead of a traceback: a body that still raises
NotImplementedError is "not written yet", any other exception is reported with
its type, message and the student's own line. A check that disagrees raises
`Failed` with the input, what was expected, what came back and, when the wrong
answer is recognised as a typical mistake, a hint for that mistake: `expect`
recognises one by computing what the mistake would have returned.
"""

import math
import sys
import traceback
import types
from pathlib import Path

from microgpt.errors import MicroGPTError
from microgpt.files.inputs import read_bytes

MAX_FILE_BYTES = 1 << 20
TOL = 1e-9


class Failed(Exception):
    """A check's verdict on a wrong answer."""

    def __init__(self, given, expected=None, got=None, hint=None, note=None):
        super().__init__(given)
        self.given, self.expected, self.got, self.hint, self.note = given, expected, got, hint, note


class NotWritten(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


class StudentRaised(Exception):
    """The student's code raised; `hint` is set when the check knows why."""

    def __init__(self, given, exc, where, hint=None):
        super().__init__(given)
        self.given, self.exc, self.where, self.hint = given, exc, where, hint


# ---- showing numbers


def fmt(x, depth=0):
    """A value as a TA would write it: floats rounded, long lists cut short."""
    if isinstance(x, bool) or x is None:
        return repr(x)
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return repr(x)
        return f"{x:.4g}" if x and (abs(x) >= 1e5 or abs(x) < 1e-3) else f"{round(x, 4)}"
    if isinstance(x, (list, tuple)):
        items = [fmt(v, depth + 1) for v in x[:6]]
        more = f", … ({len(x)} in all)" if len(x) > 6 else ""
        body = ", ".join(items) + more
        return f"[{body}]" if isinstance(x, list) else f"({body}{',' if len(x) == 1 else ''})"
    if type(x).__name__ == "Value":
        return f"Value(data={fmt(x.data)})"
    text = printable(repr, x)
    return text if len(text) < 80 else text[:77] + "..."


def printable(show, x):
    """show(x) (str or repr), or a phrase when the student's object cannot even be shown."""
    try:
        return show(x)
    except Exception as e:
        return f"<a {type(x).__name__} whose {show.__name__}() raised {type(e).__name__}>"


def describe(exc):
    """'Type: message' of an exception the student's code raised, whatever its __str__ does."""
    text = printable(str, exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def call_text(name, args):
    return f"{name}({', '.join(fmt(a) for a in args)})"


# ---- comparing


def close(got, expected, tol=TOL):
    """Equal within tol (relative or absolute), elementwise for lists."""
    if isinstance(expected, (list, tuple)):
        return (isinstance(got, (list, tuple)) and len(got) == len(expected)
                and all(close(g, e, tol) for g, e in zip(got, expected)))
    if isinstance(expected, bool) or not isinstance(expected, (int, float)):
        return got == expected
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    if math.isinf(expected) or math.isinf(got):
        return got == expected
    return math.isclose(got, expected, rel_tol=tol, abs_tol=tol)


def shape_note(got, expected):
    """Why got cannot be compared at all (a Value for a float, a wrong length), or None."""
    if got is None:
        return "the function returned None: is the `return` missing, or is the body still `...`?"
    if type(got).__name__ == "Value" and not isinstance(expected, (list, tuple)):
        return "this returns a Value; here plain floats are wanted (use .data, or compute on floats)"
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"expected a list of {len(expected)}, got a {type(got).__name__}"
        if len(got) != len(expected):
            return f"expected a list of {len(expected)}, got a list of {len(got)}"
        for g, e in zip(got, expected):
            note = shape_note(g, e)
            if note and "returned None" not in note:
                return note
    return None


def expect(got, expected, given, mistakes=(), hint=None, tol=TOL):
    """Pass, or raise Failed. `mistakes` is a list of (what a typical mistake
    returns, or a function computing it; the hint for it): a wrong answer equal
    to one of them gets that hint, but only when it is recognised for certain:
    if two mistakes with different hints would both have returned it on this
    input, no hint is better than a wrong one."""
    if close(got, expected, tol):
        return
    hints = []
    for wrong, why in mistakes:
        try:
            value = wrong() if callable(wrong) else wrong
        except (ArithmeticError, ValueError):  # the mistake itself would have crashed: it is not this one
            continue
        if close(got, value, max(tol, 1e-12)) and why not in hints:
            hints.append(why)
    if len(hints) == 1:
        raise Failed(given, expected, got, hints[0])
    note = shape_note(got, expected)
    if note is None and _nested(expected) and _nested(got) and len(got) == len(expected):
        i = next(i for i, (g, e) in enumerate(zip(got, expected)) if not close(g, e, tol))
        raise Failed(given, expected[i], got[i], hint, note=f"(item [{i}] shown, the first that differs)")
    raise Failed(given, expected, got, hint, note=note)


def _nested(x):
    return isinstance(x, (list, tuple)) and bool(x) and all(isinstance(v, (list, tuple)) for v in x)


def finite_difference(f, x, h=1e-6):
    """df/dx at x, by the central difference: the oracle for every local gradient."""
    return (f(x + h) - f(x - h)) / (2 * h)


# ---- calling the student's code


class Student:
    """The student's loaded module; `call` runs one of its functions under watch."""

    def __init__(self, module, path):
        self.module, self.path = module, Path(path)

    def has(self, name):
        return callable(getattr(self.module, name, None))

    def call(self, name, *args, given=None, errors=None):
        """name(*args) from the student's file. `errors` maps an exception type
        to the hint a TA would give for it here."""
        given = given or call_text(name, args)
        fn = getattr(self.module, name, None)
        if not callable(fn):
            raise Failed(given, note=f"{self.path.name} has no function {name}(); the stub defines it: "
                                     "keep its name and arguments")
        try:
            return fn(*args)
        except NotImplementedError:
            raise NotWritten(name) from None
        except (Failed, NotWritten, StudentRaised):
            raise
        except RecursionError as e:
            raise StudentRaised(given, e, self.where(e), (errors or {}).get(RecursionError)) from None
        except Exception as e:
            hint = next((h for t, h in (errors or {}).items() if isinstance(e, t)), None)
            raise StudentRaised(given, e, self.where(e), hint) from None

    def where(self, exc):
        """'line N of FILE: `source`' for the deepest frame in the student's file."""
        mine = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == self.path]
        if not mine:
            return ""
        f = mine[-1]
        return f"line {f.lineno} of {self.path.name}" + (f": `{f.line.strip()}`" if f.line else "")


# ---- loading the file


def compile_file(path):
    """The student's file as a code object, or one line saying why it cannot be run. Nothing of it runs."""
    path = Path(path)
    raw = read_bytes(path, "exercise file", MAX_FILE_BYTES)
    try:
        source = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MicroGPTError(f"{path} is not UTF-8 text; save it as UTF-8 and check again") from None
    try:
        return compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as e:
        line = (e.text or "").strip()
        shown = f" `{line}`" if line else ""
        raise MicroGPTError(f"{path.name}, line {e.lineno}: {e.msg}:{shown} (the file is not valid Python, "
                            "so no check ran; fix that line, or the one just before it)") from None


def load(path, number):
    """The student's file run as a module, or one line saying why it cannot be."""
    path = Path(path)
    code = compile_file(path)
    module = types.ModuleType(f"microgpt_exercise_{number:02d}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses and pickling look a class's module up here
    try:
        exec(code, module.__dict__)
    except BaseException as e:  # sys.exit() and KeyboardInterrupt too: the file must only define functions
        where = Student(module, path).where(e) or path.name
        raise MicroGPTError(f"{where}: running the file raised {describe(e)} (before any check; "
                            "a file should only define functions)") from None
    return Student(module, path)


# ---- running the checks


def run_check(check, student):
    """None if the check passes, else what failed (Failed, NotWritten or StudentRaised)."""
    try:
        check(student)
        return None
    except (Failed, NotWritten, StudentRaised) as e:
        return e
    except (SystemExit, KeyboardInterrupt) as e:  # raised by the student's code: a verdict, not the grader's end
        what = f"sys.exit({printable(repr, e.code)})" if isinstance(e, SystemExit) else "KeyboardInterrupt"
        return Failed("", note=f"the code raised {what} while being checked; a function should return its "
                               "answer, not end the program")
    except Exception as e:  # the answer has a shape the check could not even look at
        return Failed("", note=f"the answer could not be checked ({describe(e)}); does it return what the "
                               "docstring says?")


def run_checks(checks, student):
    """[(title, None or the failure), ...] for every check, in order."""
    return [(check.title, run_check(check, student)) for check in checks]


def failure_lines(err, path, unwritten):
    """The report's lines under a failed check: what, why and a hint. `unwritten`
    collects the functions already said to be unwritten, so each is said once."""
    if isinstance(err, NotWritten):
        if err.name in unwritten:
            return []
        unwritten.add(err.name)
        return [f"{err.name}() is not written yet: its body still raises NotImplementedError. Replace that "
                f"line with your code ({path.name} says what to write)."]
    lines = [f"input:    {err.given}"] if err.given else []
    if isinstance(err, StudentRaised):
        lines.append(f"raised:   {describe(err.exc)}")
        if err.where:
            lines.append(f"at:       {err.where}")
    else:
        if err.expected is not None:
            shown = (fmt(err.expected), fmt(err.got))
            if shown[0] == shown[1]:  # alike when rounded: then in full, so the difference can be seen
                shown = (printable(repr, err.expected), printable(repr, err.got))
            lines += [f"expected: {shown[0]}", f"got:      {shown[1]}"]
        if err.note:
            lines.append(err.note)
    if err.hint:
        lines.append(f"hint: {err.hint}")
    return lines


def check_lines(title, lines):
    """One check as the report shows it: ok, or FAIL and what failed, indented."""
    if lines is None:
        return [f"  ok    {title}"]
    return [f"  FAIL  {title}"] + [f"          {line}" for line in lines]


def summary(passed, total):
    return f"all {total} checks passed" if passed == total else f"{passed} of {total} checks passed"


def report(results, path):
    """The TA's report of results run in this process: (text, all passed)."""
    lines, unwritten = [], set()
    for title, err in results:
        lines += check_lines(title, None if err is None else failure_lines(err, Path(path), unwritten))
    passed = sum(err is None for _, err in results)
    lines.append(summary(passed, len(results)))
    return "\n".join(lines), passed == len(results)


def check(title):
    """Decorator: a check function, titled as the report shows it."""

    def mark(fn):
        fn.title = title
        return fn

    return mark
