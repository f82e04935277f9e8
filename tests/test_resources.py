"""Configurations too large for memory are refused up front, in one line.

`train --n-embd 4096` or `--batch-size 1000000000` used to work for half a
minute and die of MemoryError. The estimate (resources.py) is checked in
plan() before any data is shuffled or weight drawn; these tests never
allocate what they refuse.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from microgpt import training
from microgpt.cli import main
from microgpt.config import GPTConfig, TrainConfig
from microgpt.errors import MicroGPTError
from microgpt.files import resources

DOCS = "\n".join(["ab", "ba", "aab", "bba", "abab", "baba", "aa", "bb", "aba", "bab", "abba", "baab"] * 3)
ENGINES = ["scalar", "fused", "numpy", "torch"]


@pytest.fixture
def docs(tmp_path):
    p = tmp_path / "docs.txt"
    p.write_text(DOCS)
    return p


def est(engine, batch_size=1, **dims):
    config = GPTConfig(27, **{"n_embd": 16, "n_head": 4, "n_layer": 1, "block_size": 16, **dims})
    return resources.estimate(engine, config, TrainConfig(batch_size=batch_size), {"device": "cpu"})


@pytest.mark.parametrize("engine", ENGINES)
def test_the_estimate_grows_with_each_size(engine):
    base = est(engine).host
    assert est(engine, n_embd=64).host > base
    assert est(engine, n_layer=3).host > base
    assert est(engine, block_size=64).host > base
    assert est(engine, batch_size=64).host > base
    wide = est(engine, n_embd=4096)
    if engine != "scalar":  # (whose graph, a few Values per multiply, always outweighs the parameters)
        assert wide.params > wide.activations and wide.biggest() == "the parameters"
    tall = est(engine, batch_size=10**6)
    assert tall.activations > tall.params and tall.biggest() == "one batch's activations"


def test_a_smaller_dtype_needs_less():
    config = GPTConfig(27, 256, 4, 2, 64)
    tc = TrainConfig(batch_size=64)
    assert resources.estimate("numpy", config, tc, {"dtype": "float32"}).host < \
        resources.estimate("numpy", config, tc, {"dtype": "float64"}).host


def test_plan_refuses_before_shuffling_or_drawing(docs, monkeypatch):
    monkeypatch.setattr(resources, "available", lambda: 1 << 20)  # a 1 MiB machine

    def never(*a, **k):
        raise AssertionError("the run was started before it was refused")

    monkeypatch.setattr(training, "Trainer", never)
    monkeypatch.setattr(training, "init_weights", never)
    with pytest.raises(MicroGPTError) as e:
        training.plan(data=str(docs), steps=1, n_embd=64, n_head=4)
    msg = str(e.value)
    assert "this run would need about" in msg and "more than the 1.0 MiB available" in msg
    assert "engine fused" in msg and "\n" not in msg


def test_plan_refuses_a_resume_too(docs, tmp_path, monkeypatch):
    out = tmp_path / "m.json"
    training.plan(data=str(docs), steps=1, n_embd=8, n_head=2, block_size=8, out=str(out)).train().save()
    monkeypatch.setattr(resources, "available", lambda: 1 << 20)
    with pytest.raises(MicroGPTError, match="of memory"):
        training.plan(resume=str(out), steps=3)


def test_a_small_run_is_not_refused_and_nothing_is_refused_when_memory_is_unknown(docs, monkeypatch):
    training.plan(data=str(docs), steps=1, n_embd=8, n_head=2, block_size=8)
    monkeypatch.setattr(resources, "available", lambda: None)
    training.plan(data=str(docs), steps=1, n_embd=8, n_head=2, block_size=8, batch_size=10**9)


def test_available_memory_is_known_here():
    have = resources.available()
    if sys.platform.startswith("linux"):
        assert have is not None and have > 0


def test_a_cgroup_limit_lowers_what_is_available(tmp_path):
    limit, usage = tmp_path / "memory.max", tmp_path / "memory.current"
    limit.write_text("1073741824\n")
    usage.write_text("268435456\n")
    assert resources._cgroup_headroom([(str(limit), str(usage))]) == 768 << 20
    limit.write_text("max\n")
    assert resources._cgroup_headroom([(str(limit), str(usage))]) is None
    assert resources._cgroup_headroom([(str(tmp_path / "none"), str(usage))]) is None


@pytest.mark.parametrize("argv", [["--n-embd", "65536"], ["--batch-size", "1000000000"],
                                  ["--engine", "numpy", "--n-embd", "65536"],
                                  ["--block-size", "10000000"]])
def test_the_cli_refuses_at_once(docs, argv):
    start = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "microgpt", "train", "--data", str(docs), "--steps", "1", *argv],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "of memory" in p.stderr and "available" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert time.perf_counter() - start < 30


def test_a_fresh_model_for_architecture_and_a_models_graph(docs, tmp_path, monkeypatch, capsys):
    assert main(["architecture", "--data", str(docs), "--n-embd", "65536"]) == 1
    assert "a fresh model of" in capsys.readouterr().err
    assert main(["parameters", "--data", str(docs), "--n-embd", "65536"]) == 0  # draws no weights
    assert "total:" in capsys.readouterr().out
    out = tmp_path / "m.json"
    training.plan(data=str(docs), steps=1, n_embd=8, n_head=2, block_size=8, out=str(out)).train().save()
    monkeypatch.setattr(resources, "available", lambda: 1 << 20)
    assert main(["graph", "--model", str(out), "--out", str(tmp_path / "g.dot")]) == 1
    assert "the graph of this model" in capsys.readouterr().err and not (tmp_path / "g.dot").exists()


CALIBRATE = r"""
import json, os, sys, tempfile
engine, n_embd, block, batch, data = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def status(key):  # VmHWM, not ru_maxrss: that one is kept across exec, from a big parent (a test worker)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))
def rss():
    return status("VmRSS")
from microgpt.files import resources
from microgpt import training
base = rss()
out = tempfile.mktemp(suffix=".json")
run = training.plan(data=data, engine=engine, n_embd=n_embd, n_head=4, block_size=block, batch_size=batch,
                    steps=2, val_docs=0, out=out)
run.train().save()
os.unlink(out)
est = resources.estimate(engine, run.trainer.config, run.trainer.train_config, data_bytes=0)
peak = status("VmHWM")
print(json.dumps({"measured": peak - base, "estimate": est.host}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize("engine, n_embd, block, batch", [("fused", 96, 16, 1), ("numpy", 128, 32, 32),
                                                          pytest.param("scalar", 32, 16, 1, marks=pytest.mark.slow)])
def test_the_estimate_is_calibrated(tmp_path, engine, n_embd, block, batch):
    """Within a factor of 1.5 of the measured peak (the docstring's table was within ~10%)."""
    pytest.importorskip("numpy")
    names = "".join(chr(97 + i % 26) for i in range(200_000))
    (tmp_path / "long.txt").write_text("\n".join(names[i:i + 64] for i in range(0, len(names), 64)))
    p = subprocess.run([sys.executable, "-c", CALIBRATE, engine, str(n_embd), str(block), str(batch),
                        str(tmp_path / "long.txt")], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["estimate"] / 1.5 < r["measured"] < r["estimate"] * 1.5, r


def test_reading_and_parsing_are_checked_too(docs, tmp_path, monkeypatch):
    from microgpt import data
    from microgpt.files import checkpoint

    out = tmp_path / "m.json"
    training.plan(data=str(docs), steps=1, n_embd=8, n_head=2, block_size=8, out=str(out)).train().save()
    monkeypatch.setattr(resources, "available", lambda: 1000)
    with pytest.raises(MicroGPTError, match=r"loading the checkpoint .* would need about .* more than the 1000 bytes"):
        checkpoint.load(out)
    monkeypatch.setattr(resources, "available", lambda: 100)
    with pytest.raises(MicroGPTError, match="reading the data file"):
        data.read_docs(docs)
    monkeypatch.setattr(resources, "available", lambda: 4 * docs.stat().st_size)  # the text fits, its lines do not
    with pytest.raises(MicroGPTError, match="the lines of"):
        data.read_docs(docs)


@pytest.mark.parametrize("dims", [(4, 1, 1, 4, 3), (16, 4, 3, 16, 27), (64, 8, 2, 128, 100)])
def test_num_params_is_the_sum_of_the_shapes_without_listing_them(dims):
    from microgpt.model import num_params, parameter_shapes

    n_embd, n_head, n_layer, block, vocab = dims
    config = GPTConfig(vocab, n_embd, n_head, n_layer, block)
    assert num_params(config) == sum(r * c for r, c in parameter_shapes(config).values())


HUGE_LAYERS = '{"format":"microgpt","version":1,"config":{"vocab_size":3,"n_embd":4,"n_head":1,' \
              '"n_layer":1000000000,"block_size":4},"tokenizer":{"type":"char","chars":"ab"},"weights":{}}'


@pytest.mark.parametrize("argv", [["info", "{ck}"], ["train", "--n-layer", "1000000000"],
                                  ["architecture", "--n-layer", "1000000000"],
                                  ["parameters", "--n-layer", "1000000000"]])
def test_a_billion_layers_is_sized_at_once_not_listed(tmp_path, argv):
    """A config claiming 10**9 layers (a flag, or a small hand-edited checkpoint) used to be listed
    matrix by matrix before anything was checked: minutes, then MemoryError."""
    (tmp_path / "ck.json").write_text(HUGE_LAYERS)
    p = subprocess.run([sys.executable, "-m", "microgpt", *[a.format(ck=tmp_path / "ck.json") for a in argv]],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    if argv[0] == "parameters":  # a view of the config: the layers between are one line
        assert p.returncode == 0 and "999,999,997 more layers" in p.stdout and len(p.stdout.splitlines()) < 30
        return
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert "6,000,000,003 matrices" in p.stderr or "of memory" in p.stderr


def test_on_a_gpu_the_tensors_are_checked_against_its_free_memory(docs, monkeypatch):
    """(No GPU needed: the device and its free memory are stood in for.)"""
    monkeypatch.setattr(resources, "_torch_device", lambda options: options.get("device", "cpu"))
    monkeypatch.setattr(resources, "device_available", lambda device: 1 << 20)
    config, tc = GPTConfig(27, 256, 4, 2, 64), TrainConfig(batch_size=64)
    on_gpu = resources.estimate("torch", config, tc, {"device": "cuda"})
    on_cpu = resources.estimate("torch", config, tc, {"device": "cpu"})
    assert on_gpu.device > 0 and on_gpu.host < on_cpu.host
    assert on_gpu.host + on_gpu.device == on_cpu.host  # the same bytes, on two memories
    with pytest.raises(MicroGPTError, match="of GPU memory .* more than the 1.0 MiB free"):
        resources.check("torch", config, tc, {"device": "cuda"})
    monkeypatch.setattr(resources, "device_available", lambda device: None)  # unknown: not refused
    resources.check("torch", config, tc, {"device": "cuda"})
