"""The output the README and docs/*.md quote is what the commands print today.

scripts/docs.py reruns every quoted command and compares; here it runs in
--check mode over the real docs (all but the `manual` measurements, which take
minutes to hours), and on made-up pages whose blocks were edited,
to show that an out-of-date block is caught and rewritten.
"""

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("docs_script", ROOT / "scripts" / "docs.py")
docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(docs)

TOKENIZER_BLOCK = """<!-- output: microgpt tokenizer emma | lines 3 -->
```console
$ microgpt tokenizer emma
...
encode 'emma' -> [26, 4, 12, 12, 0, 26]
...
```
<!-- /output -->
"""


def test_every_quoted_block_is_current(capsys):
    code = docs.main(["--check", "--diff"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert " 0 stale" in out


def test_the_ladder_diff_sizes_are_checked(tmp_path, capsys):
    """A copy of docs/ladder.md with one diff size changed fails the check, and the rewrite mends it."""
    page = tmp_path / "ladder.md"
    text = (ROOT / "docs" / "ladder.md").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("train2 -> train3: "))
    page.write_text(text.replace(line, "train2 -> train3: 68 lines"), encoding="utf-8")

    assert docs.main(["--check", str(page)]) == 1
    assert "stale: " in capsys.readouterr().out
    assert docs.main([str(page)]) == 0
    assert page.read_text(encoding="utf-8") == text
    assert docs.main(["--check", str(page)]) == 0


def test_a_changed_output_line_is_caught(tmp_path, capsys):
    page = tmp_path / "page.md"
    page.write_text("Before.\n\n" + TOKENIZER_BLOCK.replace("12, 0, 26]", "12, 1, 26]") + "\nAfter.\n")
    assert docs.main(["--check", str(page)]) == 1
    assert f"stale: {page}:3: microgpt tokenizer emma" in capsys.readouterr().out
    assert docs.main([str(page)]) == 0
    assert page.read_text() == "Before.\n\n" + TOKENIZER_BLOCK + "\nAfter.\n"


def test_timings_are_masked_and_nothing_else(tmp_path, capsys):
    """`timings` lets durations and speeds differ; a changed loss in the same block is still stale."""
    page = tmp_path / "page.md"
    block = docs.render(docs.find_blocks(write(page, "<!-- output: microgpt train --steps 3 --samples 0 --out m.json"
                                                      " | timings -->\n```console\n```\n<!-- /output -->\n"))[0],
                        docs.Runner(mkdir(tmp_path / "scratch")))
    assert "tok/s" in block and "trained 3 steps in " in block
    faster = docs.TIMING.sub("0.001s", block)
    assert faster != block
    write(page, faster + "\n")
    assert docs.main(["--check", str(page)]) == 0
    loss = next(x for x in block.splitlines() if x.startswith("step    3"))
    write(page, block.replace(loss, loss.replace("| loss ", "| loss 9")) + "\n")
    assert docs.main(["--check", str(page)]) == 1
    capsys.readouterr()


def test_the_inline_count_of_the_error_catalogue(tmp_path, capsys):
    page = tmp_path / "errors.md"
    shutil.copy(ROOT / "docs" / "errors.md", page)
    assert docs.main(["--check", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    import_line = "print(len(c.CATALOGUE))' -->"
    count = text.split(import_line, 1)[1].split("<", 1)[0]
    assert int(count) > 100
    write(page, text.replace(import_line + count, import_line + "103", 1))
    assert docs.main(["--check", str(page)]) == 1
    assert "stale:" in capsys.readouterr().out


def test_manual_and_slow_blocks_are_not_run_by_the_check(tmp_path, capsys):
    page = write(tmp_path / "page.md", "<!-- output: exit 3 | manual -->\n```\n```\n<!-- /output -->\n"
                                       "<!-- output: exit 4 | slow -->\n```\n```\n<!-- /output -->\n")
    assert docs.main(["--check", str(page)]) == 0
    out = capsys.readouterr().out
    assert "not checked (manual)" in out and "not checked (slow)" in out
    assert docs.main(["--check", "--slow", str(page)]) == 2  # run now: `exit 4` fails, and says so
    assert "exited 4" in capsys.readouterr().err


def test_a_marker_without_its_block_is_an_error(tmp_path, capsys):
    page = write(tmp_path / "page.md", "text\n<!-- output: microgpt autograd -->\nno fence\n")
    assert docs.main(["--check", str(page)]) == 2
    assert "page.md:2: a marker without its block" in capsys.readouterr().err


def test_a_missing_file_is_one_line(tmp_path, capsys):
    assert docs.main(["--check", str(tmp_path / "nope.md")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("docs: no such Markdown file: ") and err.count("\n") == 1


@pytest.mark.parametrize("spec, shown", [
    ("1-2", ["1", "2", "..."]),
    ("$", ["...", "5"]),
    ("1,$-1-$", ["1", "...", "4", "5"]),
    ("2-3,5", ["...", "2", "3", "...", "5"]),
    ("1-5", ["1", "2", "3", "4", "5"]),
])
def test_line_selection(spec, shown):
    assert docs.select_lines(["1", "2", "3", "4", "5"], spec) == shown


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def mkdir(path):
    path.mkdir()
    return path


def test_scratch_and_bare_blocks(tmp_path, capsys):
    """`scratch` runs a snippet beside the files earlier blocks made; `bare` shows output without `$ cmd`."""
    page = write(tmp_path / "page.md",
                 "<!-- output: microgpt train --steps 2 --samples 0 --out m.json | quiet -->\n```\n```\n<!-- /output -->\n"
                 "<!-- output: ls m.json | scratch -->\n```\n```\n<!-- /output -->\n"
                 "<!-- output: echo print | bare -->\n```python\n```\n<!-- /output -->\n")
    assert docs.main([str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "$ ls m.json\nm.json\n" in text  # run in the scratch folder: the model is there
    assert "```python\nprint\n```" in text  # no `$ echo print` line
    assert docs.main(["--check", str(page)]) == 0
    capsys.readouterr()


def test_only_runs_the_blocks_named(tmp_path, capsys):
    page = write(tmp_path / "page.md", "<!-- output: echo one -->\n```\n```\n<!-- /output -->\n"
                                       "<!-- output: echo two -->\n```\n```\n<!-- /output -->\n")
    assert docs.main(["--only", "two", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "$ echo two\ntwo\n" in text
    assert text.startswith("<!-- output: echo one -->\n```\n```\n")  # the first block was left as it was
    capsys.readouterr()
