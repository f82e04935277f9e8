#!/bin/sh
# Regenerate the pictures of docs/inspect.md from two fresh training runs.
#
#   sh scripts/inspect_images.sh path/to/names.txt      (about 10 minutes on one core)
#
# The PNGs are reduced to a 128-colour palette (Pillow comes with matplotlib)
# so each stays well under 150 KB in the repository.
set -eu
DATA=${1:?usage: sh scripts/inspect_images.sh NAMES.txt}
IMG=$(cd "$(dirname "$0")/.." && pwd)/docs/img
WORK=$(mktemp -d)
cd "$WORK"
microgpt train --data "$DATA" --out model.json --log lr0.01.jsonl --samples 0
microgpt train --data "$DATA" --lr 0.003 --out model_lr003.json --log lr0.003.jsonl --samples 0
mkdir -p "$IMG"
microgpt plot lr0.01.jsonl lr0.003.jsonl --out "$IMG/loss.png"
microgpt plot model.json --attention emma --out "$IMG/attention_emma.png"
microgpt plot model.json --bigram --out "$IMG/bigram.png"
microgpt plot model.json --next em --temperature 0.5 --out "$IMG/next_em.png"
microgpt graph --out "$IMG/graph_example.png"
python - "$IMG" <<'EOF'
import sys
from pathlib import Path

from PIL import Image

for path in Path(sys.argv[1]).glob("*.png"):
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)
    print(f"{path.name}: {path.stat().st_size // 1024} KB")
EOF
echo "runs and models kept in $WORK"
