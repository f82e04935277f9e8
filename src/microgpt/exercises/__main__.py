"""The grader's child process (sandbox.py starts it; not a command to type):

    python -m microgpt.exercises N FILE RESULTS
"""

import sys
from pathlib import Path

from microgpt import exercises
from microgpt.exercises import sandbox

n = int(sys.argv[1])
sandbox.child(n, Path(sys.argv[2]), Path(sys.argv[3]), exercises.module(n).CHECKS)
