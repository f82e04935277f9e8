"""How many mutants of each exercise's reference solution the grader fails: the table
in docs/exercises.md (python scripts/grader_mutants.py; about half a minute)."""

import sys

from microgpt import exercises
from microgpt.errors import MicroGPTError
from microgpt.exercises.mutants import EQUIVALENT, grade_all


def passes(n):
    def grade(path):
        try:
            return exercises.grade(n, path, budget=3)[1]
        except MicroGPTError:  # a mutant that cannot even run fails
            return False
    return grade


def main():
    print("exercise            mutants  caught  equivalent  caught of the rest")
    total = caught_all = equivalent_all = 0
    for n in range(1, exercises.count() + 1):
        found, caught, survivors = grade_all(n, passes(n))
        equivalent = sum(s in EQUIVALENT.get(n, {}) for s in survivors)
        share = f"{caught / (found - equivalent):14.0%}" if found > equivalent else f"{'-':>14s}"
        print(f"{exercises.stub_filename(n)[:-3]:20s}{found:7d}{caught:8d}{equivalent:12d}{share}")
        total, caught_all, equivalent_all = total + found, caught_all + caught, equivalent_all + equivalent
    print(f"{'all':20s}{total:7d}{caught_all:8d}{equivalent_all:12d}{caught_all / (total - equivalent_all):14.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
