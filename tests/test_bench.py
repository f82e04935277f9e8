"""`microgpt bench`: it runs, its tables have the right shape, every config
builds, the engines take turns, and the loss check catches a disagreement.
Times are never asserted (they depend on the machine); only structure is."""

import json

import pytest

from microgpt import bench
from microgpt.bench import losses
from microgpt.bench.timing import Batches, Contestant, take_turns
from microgpt.bench.variants import Variant
from microgpt.cli import main
from microgpt.cli.bench import format_cpu_table, format_table

FAKE_ORIGINAL = '''
import time
docs = [line.strip() for line in open('input.txt') if line.strip()]
num_steps = 1000
for step in range(num_steps):
    time.sleep(0.05)  # the steps must outweigh the noise of starting Python
    print(f"step {step + 1} | loss 1.0")
'''


@pytest.fixture
def docs_file(tmp_path, tiny_docs):
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(tiny_docs) + "\n")
    return path


def table_rows(output):
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("config"))
    header = lines[start].split()
    rows = []
    for line in lines[start + 2 :]:
        if not line or line.startswith(("ratios", "note")):
            break
        rows.append(line.split())
    return header, rows


def test_bench_table_has_a_row_per_engine(docs_file, tmp_path, capsys):
    out_json = tmp_path / "bench.json"
    rc = main(["bench", "--data", str(docs_file), "--configs", "default", "--engines", "scalar,numpy,numpy-f32",
               "--steps", "2", "--warmup", "0", "--json", str(out_json)])
    assert rc == 0
    header, rows = table_rows(capsys.readouterr().out)
    assert header == ["config", "engine", "steps", "ms/step", "ms/doc", "tokens/s", "x", "scalar", "x", "original",
                      "GFLOP/s", "MFU"]
    assert [r[1] for r in rows] == ["scalar", "numpy", "numpy-f32"]
    for r in rows:
        assert r[0] == "default" and int(r[2]) >= 1
        assert float(r[3].replace(",", "")) > 0 and float(r[5].replace(",", "")) > 0
        assert r[7] == "-"  # no --reference given
    assert rows[0][6] == "1.0"  # the scalar engine is its own baseline
    assert rows[0][-2:] == ["-", "-"]  # scalar multiplies no matrices: no MFU
    saved = json.loads(out_json.read_text())
    assert [r["engine"] for r in saved["rows"]] == ["scalar", "numpy", "numpy-f32"]
    from microgpt.flops import flops_per_token

    for r in saved["rows"][1:]:  # MFU = tokens/s x FLOPs per token / the peak printed under the table
        config = bench.CONFIGS["default"].gpt_config(27)
        per_token = flops_per_token(config)  # at block_size: the longest a document's attention can be
        assert 0 < r["gflops"] <= r["tok_s"] * per_token / 1e9 + 1e-12
        assert r["mfu"] == pytest.approx(r["gflops"] / r["peak_gflops"])


def test_bench_times_a_reference_script_with_num_steps_patched(docs_file, tmp_path, tiny_docs):
    script = tmp_path / "microgpt.py"
    script.write_text(FAKE_ORIGINAL)
    rows, _ = bench.run(tiny_docs, ["default"], ["numpy"], steps=1, warmup=0, reference=script,
                        reference_steps=3, data_text=docs_file.read_text(), out=lambda *a: None)
    assert [r["engine"] for r in rows] == ["original", "numpy"]
    assert rows[0]["x_original"] == pytest.approx(1.0)
    _, notes = bench.run(tiny_docs, ["default"], ["numpy"], steps=1, warmup=0, reference=script, reference_steps=2,
                         reference_from=5, data_text=docs_file.read_text(), out=lambda *a: None)
    assert "original: timed over its steps 6-7 (a 5-step run subtracted from a 7-step one)" in " ".join(notes)
    assert rows[1]["x_original"] > 0 and rows[1]["x_scalar"] is None


def test_bench_scalar_is_skipped_on_the_large_config_with_a_note(tiny_docs):
    rows, notes = bench.run(tiny_docs, ["large"], ["scalar", "numpy"], steps=1, warmup=0, out=lambda *a: None)
    assert [r["engine"] for r in rows] == ["numpy"]
    assert any("scalar on large: skipped" in n for n in notes)


def test_bench_bad_input_is_one_line(docs_file, tmp_path, capsys):
    assert main(["bench", "--data", str(docs_file), "--configs", "huge"]) == 2
    assert main(["bench", "--data", str(docs_file), "--engines", "nope"]) == 2
    bad = tmp_path / "bad.py"
    bad.write_text("print('no step count here')\n")
    assert main(["bench", "--data", str(docs_file), "--configs", "default", "--engines", "numpy",
                 "--steps", "1", "--reference", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("microgpt bench: error:") for line in err)


def test_plain_pytorch_model_matches_numpy_engine():
    """PyTorch as a second, independent oracle: the same weights and documents give the
    same losses over five Adam steps, in float64, within 1e-9."""
    pytest.importorskip("torch")
    import random

    from microgpt.bench.plain_torch import TorchTrainer
    from microgpt.config import GPTConfig, TrainConfig
    from microgpt.engines import make_engine
    from microgpt.model import init_weights
    from microgpt.tokenizer import Tokenizer

    docs = ["emma", "olivia", "ava", "isabellamariagrace", "sophia", "mia", "x"]
    tok = Tokenizer.from_docs(docs)
    config = GPTConfig(tok.vocab_size, n_embd=8, n_head=2, n_layer=3, block_size=8)
    weights, batch = init_weights(config, random.Random(0)), [tok.encode_doc(d) for d in docs]
    tc = TrainConfig(steps=5)
    engine, torch_model = make_engine("numpy", config, weights, tc), TorchTrainer(config, weights, tc, "float64")
    for step in range(5):
        docs_step = batch[step : step + 3]
        assert abs(engine.train_step(docs_step, 0.01) - torch_model.train_step(docs_step, 0.01)) < 1e-9


def test_every_config_name_builds(tiny_docs):
    """Each name gives a valid model; all but the GPU-sized one train a step here."""
    for name, cfg in bench.CONFIGS.items():
        config = cfg.gpt_config(27)
        assert config.n_embd % config.n_head == 0
        assert bench.describe_configs([name], 27)[0].startswith(f"{name}: n_embd {cfg.n_embd}")
    assert "10,735,872 params" in bench.describe_configs(["shakespeare-gpu"], 27)[0]
    small = [n for n in bench.CONFIGS if n != "shakespeare-gpu"]
    rows, _ = bench.run(tiny_docs, small, ["numpy"], steps=1, warmup=0, out=lambda *a: None)
    assert [r["config"] for r in rows] == small and all(r["steps"] == 1 for r in rows)


def test_the_old_script_names_are_refused_with_the_new_one(monkeypatch, capsys):
    monkeypatch.setenv("MICROGPT_DATA", "/nonexistent/names.txt")  # names are checked before the data is read
    for old, new in bench.RENAMED.items():
        assert main(["bench", "--configs", f"default,{old}"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"{old!r} is now called {new!r}" in err[0]
    assert main(["bench", "--engines", "numpy,nope"]) == 2
    assert "unknown or unavailable engine 'nope'" in capsys.readouterr().err


def test_text_is_timed_in_full_windows(tmp_path, capsys):
    text = tmp_path / "book.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 40)
    rc = main(["bench", "--text", str(text), "--configs", "default,default-b32", "--engines", "numpy,numpy-f32",
               "--steps", "2", "--warmup", "1"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "random windows" in out.splitlines()[0]
    rows, _ = bench.run(text=text.read_text(), config_names=["default-b32"], engine_labels=["numpy"], steps=2,
                        warmup=0)
    # every window predicts block_size characters: 32 windows x 16 a step
    assert rows[0]["tok_s"] * rows[0]["ms_step"] / 1e3 == pytest.approx(32 * 16)
    assert main(["bench", "--text", str(text), "--reference", "microgpt.py", "--configs", "default"]) == 2


def test_engines_take_turns_in_blocks_and_each_gets_its_steps():
    calls = []

    class Fake:
        def __init__(self, name):
            self.name = name

        def train_step(self, batch, lr):
            calls.append(self.name)
            return float(batch)

    a, b = Contestant("a", Fake("a"), warmup=1), Contestant("b", Fake("b"), warmup=1)
    take_turns([a, b], Batches(float), steps=5, block=2, max_seconds=60, lr=0.1, count_tokens=lambda batch: 3)
    assert "".join(calls) == "ab" + "aabbaabbab"  # warm-ups, then turns of 2
    for c in (a, b):
        assert c.steps == 5 and c.tokens == 15 and c.losses == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        assert c.wall > 0 and c.cpu >= 0
    slow = Contestant("slow", Fake("slow"), warmup=0)
    take_turns([slow], Batches(float), steps=5, block=5, max_seconds=1e-12, lr=0.1, count_tokens=lambda batch: 3)
    assert slow.steps == 1  # past --max-seconds after its first step
    drawn = Batches(float)
    take_turns([Contestant("long", Fake("long"), warmup=2)], drawn, steps=10**9, block=5, max_seconds=1e-12,
               lr=0.1, count_tokens=lambda batch: 3)
    assert len(drawn.made) == 2 + 5  # the warm-up and one block, not a billion batches


def test_every_engine_asked_for_is_timed_for_its_steps(tiny_docs):
    rows, _ = bench.run(tiny_docs, ["default"], ["fused", "numpy", "numpy-f32"], steps=3, warmup=1, block=2,
                        out=lambda *a: None)
    assert [(r["engine"], r["steps"], len(r["losses"])) for r in rows] == [
        ("fused", 3, 4), ("numpy", 3, 4), ("numpy-f32", 3, 4)]
    fused, numpy, f32 = rows
    assert fused["loss_ref"] == "fused" and fused["loss_ok"] is None  # the reference: exact, and scalar is absent
    assert numpy["loss_ok"] and numpy["loss_limit"] == 1e-9 and numpy["loss_steps"] == 4
    assert f32["loss_ok"] and f32["loss_limit"] == 1e-4
    assert all(r["cpu_ms_step"] > 0 for r in rows)


def test_scalar_and_fused_losses_are_compared_bit_for_bit(tiny_docs):
    rows, _ = bench.run(tiny_docs, ["default"], ["fused", "scalar"], steps=2, warmup=0, out=lambda *a: None)
    fused = rows[0]
    assert fused["loss_ref"] == "scalar" and fused["loss_limit"] == 0 and fused["loss_diff"] == 0
    assert fused["loss_ok"] is True and fused["losses"] == rows[1]["losses"]


def test_loss_check_flags_a_disagreement():
    ok = [3.0, 2.9, 2.8, 2.7, 2.6, 2.5, 2.4]
    precisions = {"scalar": "exact", "fused": "exact", "numpy": "float64", "numpy-f32": "float32", "bf": "bfloat16"}
    got = losses.compare({"scalar": ok, "fused": ok[:3] + [2.7 + 1e-15] + ok[4:], "numpy": ok, "numpy-f32": ok,
                          "bf": [9.0] * 7}, precisions)
    assert got["scalar"]["ref"] == "scalar" and got["scalar"]["ok"] is None
    assert got["fused"]["ok"] is False  # exact engines may not differ in the last bit, at any step
    assert got["numpy"]["ok"] and got["bf"]["ok"] is None
    late = ok[:6] + [99.0]  # float32 is compared over the first EARLY_STEPS steps only
    assert losses.compare({"scalar": ok, "numpy-f32": late}, precisions)["numpy-f32"]["ok"]
    early = [3.0 + 2e-4] + ok[1:]
    assert losses.compare({"scalar": ok, "numpy-f32": early}, precisions)["numpy-f32"]["ok"] is False
    assert losses.compare({"numpy": ok, "numpy-f32": early}, precisions)["numpy-f32"]["ref"] == "numpy"


def test_bench_exits_1_when_engines_disagree(docs_file, monkeypatch, capsys):
    from microgpt.bench import runner

    real = runner.variants

    class OffByAThousandth:
        def __init__(self, engine):
            self.engine = engine

        def train_step(self, batch, lr):
            return self.engine.train_step(batch, lr) + 1e-3

    def rigged(*args):
        out = real(*args)
        make = out["numpy"].make
        out["numpy"] = Variant(lambda c, w, tc: OffByAThousandth(make(c, w, tc)), "numpy, rigged", "float64")
        return out

    monkeypatch.setattr(runner, "variants", rigged)
    rc = main(["bench", "--data", str(docs_file), "--configs", "default", "--engines", "fused,numpy,numpy-f32",
               "--steps", "2", "--warmup", "0"])
    captured = capsys.readouterr()
    assert rc == 1
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "losses disagree: numpy on default differs from fused by 0.001" in err[0]
    assert "numpy-f32" not in err[0]
    assert " NO" in captured.out  # and the table says which


def test_bench_json_round_trips(docs_file, tmp_path, capsys):
    """The JSON holds everything the tables were printed from."""
    out_json = tmp_path / "bench.json"
    assert main(["bench", "--data", str(docs_file), "--configs", "default,default-b32", "--engines",
                 "fused,numpy", "--steps", "2", "--warmup", "1", "--json", str(out_json)]) == 0
    printed = capsys.readouterr().out
    saved = json.loads(out_json.read_text())
    assert format_table(saved["rows"]) in printed
    assert format_cpu_table(saved["rows"]) in printed
    assert [f"note: {n}" for n in saved["notes"]] == [line for line in printed.splitlines() if line.startswith("note")]
    assert json.loads(json.dumps(saved)) == saved
