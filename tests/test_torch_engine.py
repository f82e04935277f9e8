"""The torch engine against the scalar engine (the oracle), in float64 on CPU.

Tolerance: 1e-9 absolute on logits, losses, every gradient and the weights
after 10 optimizer steps. float64 carries ~16 digits; the two engines add in
different orders, so they agree to ~1e-15 (seen: at most ~1e-15), and 1e-9
leaves room for that while still catching any real mistake (a wrong mask, a
missing scale, a padded token in the loss: all are >1e-3).
"""

import random

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # tiny tensors: threads only add waiting (and the CI box may be shared)

from microgpt import forward  # noqa: E402
from microgpt.config import GPTConfig, TrainConfig  # noqa: E402
from microgpt.engines import make_engine  # noqa: E402
from microgpt.engines import torch_model as M  # noqa: E402
from microgpt.errors import UsageError  # noqa: E402
from microgpt.model import doc_losses, init_weights, to_values  # noqa: E402
from microgpt.optim import learning_rate  # noqa: E402
from microgpt.tokenizer import Tokenizer  # noqa: E402

TOL = 1e-9
DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "zoe", "abigail"]


@pytest.fixture
def setup():
    tok = Tokenizer.from_docs(DOCS)
    # block_size 8 < len("isabella") + 1: truncation is exercised too
    config = GPTConfig(tok.vocab_size, n_embd=16, n_head=4, n_layer=2, block_size=8)
    weights = init_weights(config, random.Random(3))
    return tok, config, weights


@pytest.fixture
def small():
    """A narrower model for the multi-step tests: the scalar oracle's cost grows with n_embd**2."""
    tok = Tokenizer.from_docs(DOCS)
    config = GPTConfig(tok.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=8)
    return tok, config, init_weights(config, random.Random(4))


def torch_engine(config, weights, tc=None, dtype="float64"):
    return make_engine("torch", config, weights, tc, device="cpu", dtype=dtype)


def max_diff(a, b):
    """Largest absolute difference between two nests of lists of floats."""
    if isinstance(a, dict):
        return max(max_diff(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        return max((max_diff(x, y) for x, y in zip(a, b)), default=0.0)
    return abs(a - b)


def test_parallel_attention_equals_scalar_step_by_step(setup):
    tok, config, weights = setup
    engine = torch_engine(config, weights)
    tokens = tok.encode_doc("isabella")[: config.block_size]
    full = engine.model(torch.tensor([tokens]))[0].tolist()  # (T, vocab) in one causal pass
    sequential = forward.sequence_logits(weights, config, tokens)  # one position at a time, KV cache
    assert len(full) == len(sequential) == config.block_size
    assert max_diff(full, sequential) <= TOL


def test_kv_cache_decode_equals_own_full_forward(setup):
    tok, config, weights = setup
    engine = torch_engine(config, weights)
    tokens = tok.encode_doc("sophia")
    full = engine.model(torch.tensor([tokens[: config.block_size]]))[0].tolist()
    cache = engine.new_cache()
    decoded = [engine.next_logits(t, pos, cache) for pos, t in enumerate(tokens[: config.block_size])]
    assert max_diff(full, decoded) <= TOL


def test_loss_and_every_gradient_equal_scalar(setup):
    tok, config, weights = setup
    batch = [tok.encode_doc(d) for d in ("ava", "isabella", "mia", "abigail")]  # ragged: padding + truncation
    # the oracle: the Value graph of the scalar engine
    state = to_values(weights)
    losses = [l for tokens in batch for l in doc_losses(state, config, tokens)]
    ref = (1 / len(losses)) * sum(losses)
    ref.backward()
    engine = torch_engine(config, weights)
    loss, loss_sum, n = engine.loss(batch)
    loss.backward()
    assert n == len(losses)
    assert abs(loss.item() - ref.data) <= TOL
    named = engine.model.named()
    worst = 0.0
    for name, mat in state.items():
        grad = named[name].grad.tolist()
        worst = max(worst, max_diff([[p.grad for p in row] for row in mat], grad))
    assert worst <= TOL
    assert any(p.grad != 0 for row in state["wpe"] for p in row)  # the comparison is not vacuous


def test_padding_is_invisible(setup):
    tok, config, weights = setup
    engine = torch_engine(config, weights)
    alone = engine.nll([tok.encode_doc("ava")])
    with_long = engine.nll([tok.encode_doc("ava"), tok.encode_doc("isabella")])
    long_only = engine.nll([tok.encode_doc("isabella")])
    assert alone[1] == 4 and long_only[1] == config.block_size
    assert abs(with_long[0] - alone[0] - long_only[0]) <= TOL
    assert abs(alone[0] - forward.doc_nll(weights, config, tok.encode_doc("ava"))[0]) <= TOL


def test_skipping_the_padding_changes_no_real_position(setup):
    """forward(idx, real) computes only the real positions' rows (the blocks see
    (N, C), not (B, T, C)) and gives those positions' logits and gradients exactly
    as the padded forward does."""
    tok, config, weights = setup
    engine = torch_engine(config, weights)
    idx, targets, n = M.pad_batch([tok.encode_doc(d) for d in ("ava", "isabella", "mia")], config.block_size, "cpu")
    real = M.real_positions(targets)
    assert real is not None and int(real.sum()) == n == 4 + 8 + 4 < real.numel()
    seen = []
    engine.model.h[0].register_forward_pre_hook(lambda module, args: seen.append(tuple(args[0].shape)))
    padded = engine.model(idx)
    packed = engine.model(idx, real)
    assert seen == [(3, config.block_size, config.n_embd), (n, config.n_embd)]
    assert torch.allclose(packed, padded[real], atol=1e-12, rtol=0)
    grads = [torch.autograd.grad(M.loss_sum(logits, t), engine.params)
             for logits, t in ((padded, targets), (packed, targets[real]))]
    assert max((a - b).abs().max().item() for a, b in zip(*grads)) <= 1e-12
    text = M.pad_batch([[0, 1, 2, 3, 4, 5, 6, 7, 8]] * 2, config.block_size, "cpu")[1]
    assert M.real_positions(text) is None  # nothing to skip: the plain (B, T) forward


@pytest.mark.parametrize("optimizer,weight_decay", [("adam", 0.0), ("adam", 0.1), ("sgd", 0.0)])
def test_ten_steps_stay_equal(small, optimizer, weight_decay):
    tok, config, weights = small
    tc = TrainConfig(steps=10, batch_size=3, optimizer=optimizer, weight_decay=weight_decay, lr=0.01)
    scalar = make_engine("scalar", config, weights, tc)
    engine = torch_engine(config, weights, tc)
    for step in range(tc.steps):
        batch = [tok.encode_doc(DOCS[(3 * step + i) % len(DOCS)]) for i in range(3)]
        lr_t = learning_rate(tc, step)
        assert abs(scalar.train_step(batch, lr_t) - engine.train_step(batch, lr_t)) <= TOL
    assert max_diff(scalar.weights(), engine.weights()) <= TOL
    assert max_diff(weights, engine.weights()) > 1e-3  # the weights did move
    s_state, t_state = scalar.optimizer_state(), engine.optimizer_state()
    assert s_state["t"] == t_state["t"] == 10
    if optimizer == "adam":
        assert max_diff(s_state["m"], t_state["m"]) <= TOL
        assert max_diff(s_state["v"], t_state["v"]) <= TOL


def test_optimizer_state_crosses_engines(small):
    """Five steps in torch, five more in scalar from torch's saved moments, equals
    ten in scalar: a run can be resumed by another engine."""
    tok, config, weights = small
    tc = TrainConfig(steps=10, batch_size=2)
    batches = [[tok.encode_doc(DOCS[(2 * s + i) % len(DOCS)]) for i in range(2)] for s in range(10)]
    ref = make_engine("scalar", config, weights, tc)
    for s, b in enumerate(batches):
        ref.train_step(b, learning_rate(tc, s))
    first = torch_engine(config, weights, tc)
    for s, b in enumerate(batches[:5]):
        first.train_step(b, learning_rate(tc, s))
    second = make_engine("scalar", config, first.weights(), tc)
    second.load_optimizer_state(first.optimizer_state())
    for s, b in enumerate(batches[5:], start=5):
        second.train_step(b, learning_rate(tc, s))
    assert max_diff(ref.weights(), second.weights()) <= TOL
    # and the other way: five in scalar, five more in torch from scalar's moments
    first = make_engine("scalar", config, weights, tc)
    for s, b in enumerate(batches[:5]):
        first.train_step(b, learning_rate(tc, s))
    second = torch_engine(config, first.weights(), tc)
    second.load_optimizer_state(first.optimizer_state())
    for s, b in enumerate(batches[5:], start=5):
        second.train_step(b, learning_rate(tc, s))
    assert second.optimizer_state()["t"] == 10
    assert max_diff(ref.weights(), second.weights()) <= TOL


@pytest.mark.parametrize("dtype,tol", [("float32", 1e-5), ("bfloat16", 0.1)])
def test_lower_precision_within_its_tolerance(setup, dtype, tol):
    """float32 keeps ~7 digits (logits of size ~1: seen ~1e-7); bfloat16 matmuls
    keep ~3 (seen ~1e-2), so their tolerances are those, with a margin."""
    tok, config, weights = setup
    tokens = tok.encode_doc("amelia")[: config.block_size]
    ref = forward.sequence_logits(weights, config, tokens)
    engine = torch_engine(config, weights, dtype=dtype)
    cache = engine.new_cache()
    got = [engine.next_logits(t, pos, cache) for pos, t in enumerate(tokens)]
    assert max_diff(ref, got) <= tol
    total, n = engine.nll([tokens + [tok.bos]])
    assert n == config.block_size and total > 0


def test_written_out_bfloat16_attention_equals_pytorchs(setup):
    """On a CPU, bfloat16 attention is two matmuls and a float32 softmax, not
    PyTorch's fused kernel; its output and its gradients equal the fused kernel's
    in float64 within bfloat16's ~3 digits."""
    torch.manual_seed(1)
    q, k, v = (torch.randn(3, 2, 9, 8, dtype=torch.float64, requires_grad=True) for _ in range(3))
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    want_grads = torch.autograd.grad((want * v.detach()).sum(), (q, k, v))
    low = [t.detach().bfloat16().requires_grad_() for t in (q, k, v)]
    got = M.causal_attention(*low)
    assert got.dtype == torch.bfloat16
    got_grads = torch.autograd.grad((got.double() * v.detach()).sum(), low)
    assert (got.double() - want).abs().max() < 0.05
    assert (got[:, :, 0].double() - v.detach()[:, :, 0]).abs().max() < 0.02  # the first position sees only itself
    for g, w in zip(got_grads, want_grads):
        assert (g.double() - w).abs().max() < 0.1 * w.abs().max()


def test_grad_clip_bounds_the_step(setup):
    """SGD with --grad-clip c moves the weights by exactly lr * c when the
    gradient norm is above c."""
    tok, config, weights = setup
    tc = TrainConfig(steps=1, optimizer="sgd", lr=0.5)
    engine = make_engine("torch", config, weights, tc, device="cpu", dtype="float64", grad_clip=1e-3)
    engine.train_step([tok.encode_doc("emma")], 0.5)
    moved = sum((a - b) ** 2 for n in weights for ra, rb in zip(weights[n], engine.weights()[n])
                for a, b in zip(ra, rb)) ** 0.5
    assert abs(moved - 0.5 * 1e-3) <= 1e-9  # torch divides by (norm + 1e-6): a 1e-6 / norm relative gap


def test_bad_options_are_usage_errors(setup):
    _, config, weights = setup
    with pytest.raises(UsageError, match="dtype"):
        make_engine("torch", config, weights, dtype="float16")
    with pytest.raises(UsageError, match="device"):
        make_engine("torch", config, weights, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="no CUDA"):
            make_engine("torch", config, weights, device="cuda")


# ---- end to end: the original's run, and checkpoints across engines


def test_full_original_run_in_torch(names_path, reference):
    """float64, batch 1, 1000 steps: the original microgpt.py's 1000 printed
    losses and 20 samples, digit for digit (a few seconds in torch)."""
    from microgpt.data import read_docs
    from microgpt.sample import generate
    from microgpt.training import Trainer

    losses, samples = reference
    trainer = Trainer(read_docs(names_path), train_config=TrainConfig(steps=1000), engine="torch",
                      engine_options={"device": "cpu", "dtype": "float64"})
    trainer.run()
    assert [f"{x:.4f}" for x in trainer.losses] == losses
    assert [generate(trainer.engine, trainer.tokenizer, trainer.rng, 0.5) for _ in range(20)] == samples


def test_checkpoint_from_torch_loads_in_scalar(tmp_path):
    """Train with the torch engine in float32 through the CLI, load the
    JSON with the scalar engine: the same next-token probabilities. The weights
    are float32 values written as float64, so both engines start from identical
    numbers; the gap is float32 arithmetic in torch (seen ~1e-8), tolerance 1e-6."""
    from microgpt.cli import main
    from microgpt.files import checkpoint
    from microgpt.sample import next_token_probs

    data = tmp_path / "d.txt"
    data.write_text("\n".join(DOCS) + "\n")
    out = tmp_path / "m.json"
    assert main(["train", "--engine", "torch", "--device", "cpu", "--dtype", "float32", "--data", str(data),
                 "--steps", "5", "--batch-size", "4", "--val-docs", "1", "--samples", "0", "--out", str(out)]) == 0
    ckpt = checkpoint.load(out)
    assert ckpt.training.engine == "torch"
    scalar = make_engine("scalar", ckpt.config, ckpt.weights)
    engine = make_engine("torch", ckpt.config, ckpt.weights, device="cpu", dtype="float32")
    tokens = ckpt.tokenizer.encode_doc("olivia")[: ckpt.config.block_size]
    c1, c2 = scalar.new_cache(), engine.new_cache()
    worst = 0.0
    for pos, t in enumerate(tokens):
        p1 = next_token_probs(scalar.next_logits(t, pos, c1), 1.0)
        p2 = next_token_probs(engine.next_logits(t, pos, c2), 1.0)
        worst = max(worst, max_diff(p1, p2))
    assert worst <= 1e-6
    # and resumed by the scalar engine from the torch engine's optimizer state
    assert main(["train", "--resume", str(out), "--engine", "scalar", "--steps", "6", "--samples", "0"]) == 0
    assert checkpoint.load(out).training.steps == 6


def test_cli_engine_options_are_checked(tmp_path, capsys):
    from microgpt.cli import main

    data = tmp_path / "d.txt"
    data.write_text("\n".join(DOCS) + "\n")
    assert main(["train", "--data", str(data), "--steps", "1", "--dtype", "float64"]) == 2
    assert "--dtype is an option of --engine" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(["train", "--engine", "torch", "--device", "cuda", "--data", str(data), "--steps", "1"]) == 2
        err = capsys.readouterr().err
        assert "no CUDA" in err and len(err.strip().splitlines()) == 1


def test_threads_in_train_eval_and_bench_and_said_on_the_speed_line(tmp_path, capsys, monkeypatch):
    """--threads reaches the engine in train and eval and the harness in bench; train's
    header names the number format and why, its speed line the threads and why; an
    engine without threads refuses the flag in one line."""
    from microgpt.cli import main

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # (bench sets it for the libraries it loads)
    data = tmp_path / "d.txt"
    data.write_text("\n".join(DOCS) + "\n")
    out = tmp_path / "m.json"
    before = torch.get_num_threads()
    try:
        assert main(["train", "--engine", "torch", "--device", "cpu", "--threads", "1", "--data", str(data),
                     "--steps", "2", "--val-docs", "1", "--samples", "0", "--out", str(out)]) == 0
        text = capsys.readouterr().out
        assert "\nengine: torch on cpu, " in text and "; on 1 thread (asked for)\n" in text
        assert main(["eval", str(out), "--engine", "torch", "--threads", "1"]) == 0
        assert "engine torch" in capsys.readouterr().out
        assert main(["bench", "--data", str(data), "--configs", "default", "--engines", "numpy", "--steps", "1",
                     "--warmup", "0", "--threads", "1"]) == 0
        assert "1 thread (asked for)" in capsys.readouterr().out.splitlines()[0]
        assert main(["train", "--data", str(data), "--steps", "1", "--threads", "1"]) == 2
        err = capsys.readouterr().err
        assert "--threads is an option of --engine numpy or torch" in err and len(err.strip().splitlines()) == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
def test_compiled_model_trains_the_same(small):
    """--compile (torch.compile, needs a C++ compiler on CPU) changes speed, not
    results: 3 float64 steps within 1e-9 of the eager engine."""
    tok, config, weights = small
    tc = TrainConfig(steps=3, batch_size=2)
    eager = torch_engine(config, weights, tc)
    compiled = make_engine("torch", config, weights, tc, device="cpu", dtype="float64", compile=True)
    for step in range(3):
        batch = [tok.encode_doc(DOCS[(2 * step + i) % len(DOCS)]) for i in range(2)]
        assert abs(eager.train_step(batch, 0.01) - compiled.train_step(batch, 0.01)) <= TOL
    assert max_diff(eager.weights(), compiled.weights()) <= TOL


def test_threads_asked_for_or_from_the_environment_are_used(setup, monkeypatch):
    """threads= (--threads) sets torch's count and says so; without it a user's
    OMP_NUM_THREADS wins over the policy (engines/cpu.py, tested in test_cpu.py)."""
    from microgpt.engines import cpu

    _, config, weights = setup
    before = torch.get_num_threads()
    try:
        engine = make_engine("torch", config, weights, device="cpu", dtype="float64", threads=1)
        assert torch.get_num_threads() == 1 and engine.threads == cpu.Threads(1, "asked for")
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        engine = make_engine("torch", config, weights, device="cpu", dtype="float64")
        assert torch.get_num_threads() == 2 and engine.threads == cpu.Threads(2, "OMP_NUM_THREADS")
        with pytest.raises(UsageError, match="threads must be a positive integer"):
            make_engine("torch", config, weights, device="cpu", threads=0)
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("native", [True, False])
def test_default_dtype_is_bfloat16_only_where_the_cpu_has_it(setup, monkeypatch, native):
    """No dtype asked for: bfloat16 on a CPU with native bfloat16, float32 on one
    without, and the reason is kept for the run's header; asked for, it is used."""
    from microgpt.engines import cpu

    _, config, weights = setup
    monkeypatch.setattr(cpu, "native_bfloat16", lambda: native)
    engine = make_engine("torch", config, weights, device="cpu", threads=1)
    assert (engine.dtype, engine.dtype_why) == (("bfloat16", "native on this CPU") if native else
                                                ("float32", "no native bfloat16 on this CPU"))
    assert engine.autocast().__class__.__name__ == ("autocast" if native else "nullcontext")
    engine = make_engine("torch", config, weights, device="cpu", dtype="float64", threads=1)
    assert (engine.dtype, engine.dtype_why) == ("float64", "asked for")
