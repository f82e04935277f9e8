#!/usr/bin/env bash
# One command for a machine with NVIDIA GPUs: nanoGPT's shakespeare-char GPU
# baseline (6 layers x 6 heads x 384, block 256, batch 64, 5,000 steps,
# dropout 0.2, bfloat16, torch.compile) trained by microgpt, first in one
# process on one GPU, then the same run under torchrun on every GPU present
# (the same global batch of 64, split across them). Prints, for each, the
# validation loss, the wall time and tokens/s.
#
#   scripts/gpu_check.sh [TEXT]          TEXT defaults to ../shared/data/shakespeare.txt
#
# GPU_CHECK_CPU_SMOKE=1 runs a tiny config on the CPU instead (float32, no
# compile, no dropout, 2 CPU processes under torchrun, whose validation loss
# must then equal the single process's up to float rounding): what the test
# suite runs. PYTHON picks the interpreter (default: python), GPU_CHECK_OUT the
# folder the checkpoints and logs go to (default: a new temporary one).
set -euo pipefail

TEXT=${1:-../shared/data/shakespeare.txt}
PY=${PYTHON:-python}
OUT=${GPU_CHECK_OUT:-$(mktemp -d)}
[ -f "$TEXT" ] || { echo "gpu_check.sh: no text at $TEXT (give its path as the first argument)" >&2; exit 2; }
mkdir -p "$OUT"

if [ -n "${GPU_CHECK_CPU_SMOKE:-}" ]; then
    DEVICE=(--device cpu --dtype float32)
    SIZES=(--n-layer 2 --n-head 2 --n-embd 16 --block-size 16 --batch-size 8 --steps 6 --warmup-steps 2)
    NPROC=2
    DROPOUT=0  # so that 1 and 2 processes compute the same run (dropout masks follow the rank's shard)
    export OMP_NUM_THREADS=1
else
    command -v nvidia-smi >/dev/null || { echo "gpu_check.sh: nvidia-smi not found: no NVIDIA GPU here" \
        "(GPU_CHECK_CPU_SMOKE=1 runs the CPU smoke test)" >&2; exit 2; }
    NPROC=$(nvidia-smi -L | grep -c '^GPU')
    [ "$NPROC" -ge 1 ] || { echo "gpu_check.sh: nvidia-smi lists no GPU" >&2; exit 2; }
    DEVICE=(--device cuda --dtype bfloat16 --compile)
    SIZES=(--n-layer 6 --n-head 6 --n-embd 384 --block-size 256 --batch-size 64 --steps 5000 --warmup-steps 100)
    DROPOUT=0.2
fi
# nanoGPT's optimizer settings; our cosine decays to 0 where nanoGPT's stops at lr/10
TRAIN=(train --engine torch "${DEVICE[@]}" --text "$TEXT" "${SIZES[@]}" --lr 1e-3 --schedule cosine
       --beta1 0.9 --beta2 0.99 --weight-decay 0.1 --grad-clip 1.0 --dropout "$DROPOUT" --samples 0 --force)

summary() {  # label, the run's output: one line with the validation loss, wall time and tokens/s
    local val trained
    val=$(grep -o '^val loss [0-9.]*' "$2" | tail -1 | cut -d' ' -f3)
    trained=$(grep '^trained ' "$2" | tail -1)
    echo "$1: val loss ${val:-?} | ${trained:-no 'trained' line} | wall $3 s"
}

run() {  # label, log name, command...
    local label=$1 name=$2 start end
    shift 2
    start=$(date +%s.%N)
    "$@" --out "$OUT/$name.safetensors" --log-file "$OUT/$name.jsonl" > "$OUT/$name.txt" 2>&1 \
        || { tail -5 "$OUT/$name.txt" >&2; echo "gpu_check.sh: the $label run failed (log: $OUT/$name.txt)" >&2; exit 1; }
    end=$(date +%s.%N)
    summary "$label" "$OUT/$name.txt" "$(awk "BEGIN {printf \"%.1f\", $end - $start}")"
}

echo "gpu_check: $("$PY" -c 'import torch; print("torch", torch.__version__, "| CUDA GPUs:", torch.cuda.device_count())')" \
     "| text $TEXT | outputs in $OUT"
run "1 process" single "$PY" -m microgpt "${TRAIN[@]}"
run "torchrun, $NPROC processes" torchrun "$PY" -m torch.distributed.run --standalone --nproc_per_node="$NPROC" \
    -m microgpt "${TRAIN[@]}"
