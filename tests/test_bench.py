"""`microgpt bench` smoke tests: it runs, and its table has the right shape.
Times are never asserted (they depend on the machine); only structure is."""

import json

import pytest

from microgpt import bench
from microgpt.cli import main

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
    assert header == ["config", "engine", "steps", "ms/step", "ms/doc", "tokens/s", "x", "scalar", "x", "original"]
    assert [r[1] for r in rows] == ["scalar", "numpy", "numpy-f32"]
    for r in rows:
        assert r[0] == "default" and int(r[2]) >= 1
        assert float(r[3].replace(",", "")) > 0 and float(r[5].replace(",", "")) > 0
        assert r[-1] == "-"  # no --reference given
    assert rows[0][6] == "1.0"  # the scalar engine is its own baseline
    saved = json.loads(out_json.read_text())
    assert [r["engine"] for r in saved["rows"]] == ["scalar", "numpy", "numpy-f32"]


def test_bench_times_a_reference_script_with_num_steps_patched(docs_file, tmp_path, tiny_docs):
    script = tmp_path / "microgpt.py"
    script.write_text(FAKE_ORIGINAL)
    rows, _ = bench.run(tiny_docs, ["default"], ["numpy"], steps=1, warmup=0, reference=script,
                        reference_steps=3, data_text=docs_file.read_text(), out=lambda *a: None)
    assert [r["engine"] for r in rows] == ["original", "numpy"]
    assert rows[0]["x_original"] == pytest.approx(1.0)
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

    from microgpt.bench_torch import TorchTrainer
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
