"""scripts/gpu_check.sh, in its CPU smoke mode: both runs happen and report.

The script is for machines with NVIDIA GPUs; here it trains a tiny config on
the CPU, once in one process and once under torchrun with 2 processes on the
same global batch. Without dropout the two are one computation (test_distributed
checks the engine to 1e-12 in float64), so their validation losses must agree
to float32 rounding: a broken split, or a second run that trained something
else, would not.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_cpu_smoke_run_reports_both_runs(tmp_path):
    text = tmp_path / "tiny.txt"
    text.write_text("First Citizen:\nBefore we proceed any further, hear me speak.\n" * 200, encoding="utf-8")
    env = dict(os.environ, GPU_CHECK_CPU_SMOKE="1", PYTHON=sys.executable, GPU_CHECK_OUT=str(tmp_path / "out"),
               PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh"), str(text)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = re.findall(r"^(1 process|torchrun, 2 processes): val loss ([\d.]+) \| trained 6 steps in .* "
                       r"\(([\d,]+) tokens/s.*\| wall ([\d.]+) s$", proc.stdout, re.M)
    assert [label for label, *_ in lines] == ["1 process", "torchrun, 2 processes"], proc.stdout
    (_, single, *_), (_, split, *_) = lines
    assert abs(float(single) - float(split)) < 1e-3
    assert float(single) < 4.5  # ln(vocab) ~ 3.3: a loss, not garbage (a tiny model after 6 steps)
    assert (tmp_path / "out" / "torchrun.safetensors").is_file()


def test_refuses_a_missing_text(tmp_path):
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh"), str(tmp_path / "none.txt")],
                          capture_output=True, text=True, env=dict(os.environ, GPU_CHECK_CPU_SMOKE="1"))
    assert proc.returncode == 2 and "no text at" in proc.stderr and proc.stderr.count("\n") == 1
