"""Execute the lessons and keep the notebooks, for `microgpt site --lessons DIR`.

    python scripts/execute_lessons.py DIR [NN ...]    (default: every lesson; a few minutes)

Each lessons/NN_<slug>.py is read by jupytext and run top to bottom by nbclient in
a fresh kernel started in lessons/ (as tests/test_lessons.py runs them); the
executed notebook is written to DIR/NN_<slug>.ipynb. Needs the `test` extra
(jupytext, nbclient, ipykernel). An existing notebook in DIR is replaced: DIR
holds outputs, made again whenever this runs.
"""

import sys
from pathlib import Path

import jupytext
import nbclient
import nbformat

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
CELL_TIMEOUT = 120  # seconds, as the lessons' tests allow


def main(argv):
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out, wanted = Path(argv[0]), set(argv[1:])
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(LESSONS.glob("[0-9][0-9]_*.py")):
        if wanted and path.name[:2] not in wanted:
            continue
        notebook = jupytext.read(path)
        nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                resources={"metadata": {"path": str(LESSONS)}}).execute()
        nbformat.write(notebook, out / f"{path.stem}.ipynb")
        print(f"executed {path.name} -> {out / path.stem}.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
