"""Compare `microgpt train` with the original microgpt.py, loss by loss and sample by sample.

Against the original's recorded output (the default settings):

    python scripts/compare_original.py --reference ../shared/reference/microgpt_default.txt --data names.txt

Against the original program itself, for any seed and config: the original is
one file with its hyperparameters written as constants; this sets them (seed,
n_embd, n_head, n_layer, block_size, num_steps, temperature), runs it in a
scratch folder with the data as its input.txt, runs `microgpt train` with the
same settings, and compares every printed loss and every sample:

    python scripts/compare_original.py --original microgpt.py --data names.txt \
        --seed 7 --n-embd 8 --n-head 2 --n-layer 2 --block-size 12 --steps 100 --temperature 0.8

It exits 0 only if everything is equal. The original is not part of this
project: get microgpt.py yourself (the gist linked in the README).
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def patch(source, name, pattern, replacement):
    new, count = re.subn(pattern, replacement, source, flags=re.MULTILINE)
    if count != 1:
        sys.exit(f"compare: expected one assignment of {name} in the original, found {count}")
    return new


def patched_original(source, a):
    source = patch(source, "the seed", r"^random\.seed\(\d+\)", f"random.seed({a.seed})")
    for name, value in [("n_embd", a.n_embd), ("n_head", a.n_head), ("n_layer", a.n_layer),
                        ("block_size", a.block_size), ("num_steps", a.steps), ("temperature", a.temperature)]:
        source = patch(source, name, rf"^(\s*){name}\s*=\s*[0-9.]+", rf"\g<1>{name} = {value!r}")
    return source


def parse(output):
    """Printed losses (as printed, 4 decimals) and samples, from either program."""
    losses, samples = [], []
    for line in re.split(r"[\r\n]+", output):
        m = re.match(r"step\s+\d+\s*/\s*\d+\s*\|\s*loss\s+([0-9.]+)", line)
        if m:
            losses.append(m.group(1))
        m = re.match(r"sample\s+\d+:\s?(.*?)(\s+\((?:new|in train|in val|in data)\))?$", line)
        if m:
            samples.append(m.group(1).strip())  # without microgpt's novelty mark
    return losses, samples


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--original", help="path to Karpathy's microgpt.py, run with the settings below")
    src.add_argument("--reference", help="a saved output of the original (default settings only)")
    p.add_argument("--data", required=True, help="the documents (names.txt)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--n-embd", type=int, default=16)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-layer", type=int, default=1)
    p.add_argument("--block-size", type=int, default=16)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--temperature", type=float, default=0.5)
    p.add_argument("--engine", default="scalar")
    a = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if a.reference:
            orig_out = Path(a.reference).read_text()
        else:
            (tmp / "microgpt.py").write_text(patched_original(Path(a.original).read_text(), a))
            shutil.copy(a.data, tmp / "input.txt")
            orig = subprocess.run([sys.executable, "microgpt.py"], cwd=tmp, capture_output=True, text=True)
            if orig.returncode:
                sys.exit(f"compare: the original failed:\n{orig.stderr}")
            orig_out = orig.stdout
        ours = subprocess.run(
            [sys.executable, "-m", "microgpt", "train", "--data", str(Path(a.data).resolve()),
             "--seed", str(a.seed), "--n-embd", str(a.n_embd), "--n-head", str(a.n_head),
             "--n-layer", str(a.n_layer), "--block-size", str(a.block_size), "--steps", str(a.steps),
             "--temperature", str(a.temperature), "--samples", "20", "--engine", a.engine,
             # the original holds nothing out; with no split the documents are the same for any step count
             "--val-docs", "0", "--out", str(tmp / "model.json")],
            capture_output=True, text=True)
        if ours.returncode:
            sys.exit(f"compare: microgpt train failed:\n{ours.stderr}")

    (ol, os_), (ml, ms) = parse(orig_out), parse(ours.stdout)
    diffs = [i for i, (x, y) in enumerate(zip(ol, ml)) if x != y]
    print(f"losses: {len(ol)} from the original, {len(ml)} from microgpt; {len(ol) - len(diffs)} equal")
    if diffs:
        i = diffs[0]
        print(f"first difference at step {i + 1}: original {ol[i]}, microgpt {ml[i]}")
    print(f"samples: {sum(x == y for x, y in zip(os_, ms))} of {len(os_)} equal")
    for x, y in zip(os_, ms):
        print(f"  {x:<16} {y:<16} {'' if x == y else '<- differs'}")
    same = not diffs and len(ol) == len(ml) == a.steps and os_ == ms and len(os_) == 20
    print("IDENTICAL" if same else "DIFFERENT")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
