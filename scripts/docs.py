"""Rerun every command whose output README.md and docs/*.md quote, and rewrite
(or check) the quoted text, so the docs say what the program prints today.

    python scripts/docs.py            rewrite every stale block in place
    python scripts/docs.py --check    exit 1 listing the stale blocks, change nothing
    python scripts/docs.py --slow     include the blocks marked `slow`
    python scripts/docs.py --manual   include the blocks marked `manual` (long measurements)
    python scripts/docs.py docs/ladder.md ...   only these files
    python scripts/docs.py --only TEXT            only the blocks whose command holds TEXT

A quoted block is one or more marker lines, a fenced block, and a closing marker:

    <!-- output: microgpt tokenizer emma -->
    ```console
    $ microgpt tokenizer emma
    vocab size: 27 (26 characters + BOS)
    ...
    ```
    <!-- /output -->

Several marker lines in a row make one block: each command is shown after `$ `
with its output below it. A short value inside a sentence is the inline form,
`<!-- output: COMMAND -->134<!-- /output -->` (the output must be one line; the
command must not contain `--`, which ends an inline comment in Markdown).

Options follow the command, each after ` | `:

    quiet        show the command, not its output (a step that makes a file)
    exit N       the command is expected to exit with status N (default 0; any
                 other status stops the script with the command's last lines)
    timings      measured durations and speeds (`6.9s`, `12 ms`, `1,040 tok/s`,
                 `eta 7s`) are masked when checking: the rest must match
    lines SPEC   show only these output lines, `...` where lines are left out:
                 SPEC is comma-separated 1-based ranges, `$` the last line
                 (`lines 1-4,1003-$`)
    slow         checked only with --slow (the slow tests run it in CI)
    manual       a measurement too long for any test (minutes to hours): never
                 checked, rerun only with --manual
    scratch      a shell snippet run in the scratch folder, beside the files the
                 `microgpt` blocks before it made (for a loop over a model)
    bare         the output alone, without the `$ command` line (a file shown
                 as the code it is, e.g. `cat docs/examples/trace.py | bare`)

How a command runs, so that its output is the same on every machine: a
command whose first word is `microgpt` runs this checkout's package in one
scratch folder shared by every block (so a block can use a model an earlier
block trained), on the names bundled with the package, with no MICROGPT_*
variable, one BLAS thread, a fixed hash seed and unbuffered output (stdout and
stderr together, in the order printed). Any other command is a shell snippet
run with bash at the repository root. A command is run once per invocation:
the same command in two blocks shows the same output. Blocks are run in file
order, README.md first, then docs/*.md by name.
"""

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = ("quiet", "exit", "timings", "lines", "slow", "manual", "scratch", "bare")

BLOCK = re.compile(
    r"(?P<markers>(?:<!-- output: [^\n]*? -->\n)+)(?P<body>```[^\n]*\n.*?```\n)<!-- /output -->"
    r"|<!-- output: (?P<inline>[^\n]*?) -->(?P<value>[^\n<]*)<!-- /output -->",
    re.DOTALL,
)
MARKER = re.compile(r"<!-- output: (.*?) -->")
# a measured duration or speed: what two runs of the same command never share
TIMING = re.compile(r"\d[\d,]*(?:\.\d+)?\s*(?:ms|s|tok/s|tokens/s|GFLOP/s)\b|\beta \S+")


@dataclass
class Command:
    text: str  # the command as shown after `$ `
    options: dict  # option name -> its argument ("" when it takes none)

    @classmethod
    def parse(cls, marker):
        parts = marker.split(" | ")
        popped = []
        while len(parts) > 1 and parts[-1].split(" ", 1)[0] in OPTIONS:
            name, _, arg = parts.pop().partition(" ")
            popped.append((name, arg.strip()))
        return cls(" | ".join(parts).strip(), dict(reversed(popped)))  # in the order written


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the first marker
    start: int
    end: int
    commands: list
    inline: bool
    fence: str  # the opening fence line, kept as the author wrote it
    text: str  # the block as it stands in the file

    def option(self, name):
        return any(name in c.options for c in self.commands)

    def where(self):
        return f"{shown_path(self.path)}:{self.line}"

    def label(self):
        return " ; ".join(c.text for c in self.commands)


def find_blocks(path):
    text = path.read_text(encoding="utf-8")
    blocks = []
    for m in BLOCK.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        if m.group("inline") is not None:
            commands, fence = [Command.parse(m.group("inline"))], ""
        else:
            commands = [Command.parse(c) for c in MARKER.findall(m.group("markers"))]
            fence = m.group("body").split("\n", 1)[0]
        blocks.append(Block(path, line, m.start(), m.end(), commands, m.group("inline") is not None, fence,
                            m.group(0)))
    # a marker no block took (no fence after it, no closing marker) would otherwise be skipped in silence
    parsed = sum(len(b.commands) for b in blocks)
    if len(MARKER.findall(text)) != parsed:
        taken = {m.start() for b in blocks for m in MARKER.finditer(text, b.start, b.end)}
        stray = next(m for m in MARKER.finditer(text) if m.start() not in taken)
        raise RuntimeError(f"{shown_path(path)}:{text.count(chr(10), 0, stray.start()) + 1}: a marker without "
                           "its block (a fenced block and <!-- /output --> must follow)")
    return blocks


def shown_path(path):
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


LINE_RANGE = re.compile(r"(\$(?:-\d+)?|\d+)(?:-(\$(?:-\d+)?|\d+))?")


def select_lines(lines, spec):
    """The lines SPEC names, with `...` for every run left out."""
    wanted = []
    for part in spec.split(","):
        m = LINE_RANGE.fullmatch(part.strip())
        if not m:
            raise RuntimeError(f"bad line range {part!r} in `lines {spec}` (e.g. `lines 1-4,$-2-$`)")
        lo, hi = m.group(1), m.group(2) or m.group(1)
        wanted.append((line_number(lo, len(lines)), line_number(hi, len(lines))))
    shown, last = [], 0
    for lo, hi in wanted:
        if lo > last + 1:
            shown.append("...")
        shown.extend(lines[lo - 1:hi])
        last = max(last, hi)
    if last < len(lines):
        shown.append("...")
    return shown


def line_number(word, count):
    """`7` is line 7, `$` the last line, `$-2` two before it."""
    if word.startswith("$"):
        return count - int(word[2:] or 0)
    return int(word)


class Runner:
    """Runs the commands, each once, in one scratch folder."""

    def __init__(self, scratch):
        self.scratch = Path(scratch)
        self.done = {}
        bin_dir = self.scratch / ".bin"
        bin_dir.mkdir()
        shim = bin_dir / "microgpt"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m microgpt "$@"\n')
        shim.chmod(0o755)
        # no MICROGPT_DATA or the like: the bundled names; one BLAS thread and a fixed hash seed,
        # so that the numbers do not depend on the machine's load or on the run
        env = {k: v for k, v in os.environ.items() if not k.startswith("MICROGPT_")}
        env.update(PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                   PYTHONPATH=str(ROOT / "src"), PYTHONHASHSEED="0", PYTHONUNBUFFERED="1",
                   OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", COLUMNS="80",
                   LC_ALL="C.UTF-8", XDG_CACHE_HOME=str(self.scratch / ".cache"))
        self.env = env

    def run(self, command, in_scratch=False):
        if command not in self.done:
            in_scratch = in_scratch or command.split(maxsplit=1)[0] == "microgpt"
            done = subprocess.run(["bash", "-c", command], check=False, cwd=self.scratch if in_scratch else ROOT,
                                  env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
            out = done.stdout.replace(f"{self.scratch}/", "")
            self.done[command] = (done.returncode, out.rstrip("\n").split("\n") if out.strip() else [])
        return self.done[command]


def render(block, runner):
    """The block's text as the commands print today; raises RuntimeError when a command fails."""
    shown = []
    for command in block.commands:
        rc, lines = runner.run(command.text, in_scratch="scratch" in command.options)
        if rc != int(command.options.get("exit") or 0):
            raise RuntimeError(f"{block.where()}: `{command.text}` exited {rc}:\n" + "\n".join(lines[-20:]))
        if "lines" in command.options:
            lines = select_lines(lines, command.options["lines"])
        if "quiet" in command.options:
            lines = []
        shown.append((command, lines))
    if block.inline:
        (command, lines), = shown
        if len(lines) != 1:
            raise RuntimeError(f"{block.where()}: an inline block needs one line of output, got {len(lines)}")
        return f"<!-- output: {marker_text(command)} -->{lines[0]}<!-- /output -->"
    markers = "".join(f"<!-- output: {marker_text(c)} -->\n" for c, _ in shown)
    body = "".join(("" if "bare" in c.options else f"$ {c.text}\n") + "".join(f"{line}\n" for line in lines)
                   for c, lines in shown)
    return f"{markers}{block.fence}\n{body}```\n<!-- /output -->"


def marker_text(command):
    return command.text + "".join(f" | {name}{' ' + arg if arg else ''}" for name, arg in command.options.items())


def comparable(text, block):
    return TIMING.sub("<t>", text) if block.option("timings") else text


def wanted(block, args):
    if args.only and not any(args.only in c.text for c in block.commands):
        return False
    if block.option("manual"):
        return args.manual
    if block.option("slow"):
        return args.slow or args.manual
    return True


def doc_files(names):
    if names:
        return [Path(n).resolve() for n in names]
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="Markdown files (default: README.md and docs/*.md)")
    parser.add_argument("--check", action="store_true", help="list stale blocks and exit 1; change nothing")
    parser.add_argument("--slow", action="store_true", help="include the blocks marked slow")
    parser.add_argument("--manual", action="store_true", help="include the blocks marked manual")
    parser.add_argument("--only", metavar="TEXT", help="run only the blocks whose command holds TEXT (with "
                        "--slow/--manual for those kinds); the others are left as they are")
    parser.add_argument("--diff", action="store_true", help="with --check: show how each stale block differs")
    args = parser.parse_args(argv)

    files = doc_files(args.files)
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        print(f"docs: no such Markdown file: {', '.join(missing)}", file=sys.stderr)
        return 2
    stale, skipped, checked = [], [], 0
    with tempfile.TemporaryDirectory(prefix="microgpt-docs-") as scratch:
        runner = Runner(scratch)
        for path in files:
            text = path.read_text(encoding="utf-8")
            new_text, pos = [], 0
            try:
                blocks = find_blocks(path)
            except RuntimeError as e:
                print(f"docs: {e}", file=sys.stderr)
                return 2
            for block in blocks:
                new_text.append(text[pos:block.start])
                pos = block.end
                if not wanted(block, args):
                    skipped.append(block)
                    new_text.append(block.text)
                    continue
                try:
                    fresh = render(block, runner)
                except RuntimeError as e:
                    print(f"docs: {e}", file=sys.stderr)
                    return 2
                checked += 1
                is_stale = comparable(fresh, block) != comparable(block.text, block)
                if is_stale:
                    stale.append((block, fresh))
                # a block whose only change is a timing keeps its text: no churn in the docs
                new_text.append(fresh if is_stale and not args.check else block.text)
            new_text.append(text[pos:])
            if not args.check and "".join(new_text) != text:
                path.write_text("".join(new_text), encoding="utf-8")

    for block in skipped:
        if args.only:
            continue  # left out on purpose
        kind = "manual" if block.option("manual") else "slow"
        print(f"not checked ({kind}): {block.where()}: {block.label()}")
    for block, fresh in stale:
        print(f"{'stale' if args.check else 'rewrote'}: {block.where()}: {block.label()}")
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff((block.text + "\n").splitlines(True), (fresh + "\n").splitlines(True),
                                                       "in the file", "printed now"))
    print(f"{checked} blocks run, {len(stale)} {'stale' if args.check else 'rewritten'}, {len(skipped)} not run")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
