#!/usr/bin/env bash
# Time the original microgpt.py's whole 1000-step run and `microgpt train` on the
# same data, one after the other, and check they printed the same losses.
#   scripts/time_full_run.sh path/to/microgpt.py path/to/names.txt [engine]
# (The original is not part of this project: pass your own copy.)
set -euo pipefail
orig=$(realpath "$1"); data=$(realpath "$2"); engine=${3:-fused}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp "$orig" "$work/microgpt.py"; cp "$data" "$work/input.txt"; cd "$work"
s=$(date +%s.%N); python microgpt.py > orig.txt; e=$(date +%s.%N)
echo "original microgpt.py, whole program: $(python -c "print(f'{$e - $s:.1f}')") s"
s=$(date +%s.%N); microgpt train --data input.txt --engine "$engine" --out m.json > ours.txt; e=$(date +%s.%N)
echo "microgpt train --engine $engine, whole program: $(python -c "print(f'{$e - $s:.1f}')") s; $(grep '^trained' ours.txt)"
if diff <(grep -o 'loss [0-9.]*' orig.txt) <(grep -o 'loss [0-9.]*' ours.txt) > /dev/null; then
  echo "losses: all equal"
else
  echo "losses: DIFFERENT"
fi
