"""Mutation testing of the grader: every one-place mutant of each reference solution
(exercises/mutants.py) is graded; the grader must fail every one that computes
something else. The ones it passes must be the equivalent mutants listed, with
their reason, in mutants.EQUIVALENT, and each listed one must still pass (so the
list stays true)."""

import pytest

from microgpt import exercises
from microgpt.errors import MicroGPTError
from microgpt.exercises.mutants import EQUIVALENT, grade_all, mutants


def passes(n):
    def grade(path):
        try:
            return exercises.grade(n, path, budget=5)[1]
        except MicroGPTError:
            return False
    return grade


@pytest.mark.slow
@pytest.mark.parametrize("n", range(1, exercises.count() + 1))
def test_the_grader_fails_every_mutant_that_computes_something_else(n):
    found, caught, survivors = grade_all(n, passes(n))
    assert found >= 3, "too few mutants to say anything"
    assert set(survivors) == set(EQUIVALENT.get(n, {})), f"the grader passes {sorted(set(survivors) - set(EQUIVALENT.get(n, {})))}"
    assert caught / (found - len(survivors)) >= 0.95


def test_the_mutator_makes_the_changes_it_names():
    source = "def f(xs, k):\n    total = 0\n    for x in reversed(xs):\n        total += max(x, k) - 1\n" \
             "    return total if k < 3 else -total\n"
    made = {what: text for _, what, text in mutants(source)}
    assert "Sub -> Add" in made and "max(x, k) + 1" in made["Sub -> Add"]
    assert "for x in xs:" in made["not reversed"] and "min(x, k)" in made["max -> min"]
    assert "total = max(x, k) - 1" in made["+= -> ="] and "k <= 3" in made["Lt -> LtE"]
    assert "return total if k < 3 else total" in made["the sign dropped"]
    assert all(text != source for text in made.values())
