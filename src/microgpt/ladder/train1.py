"""train1: an MLP on the previous token, with hand-derived gradients and SGD.

Same as the previous rung: the task (predict the next character from the
previous one), the data, the split and the sampler. The model class is the
same too: the output depends only on the previous token, so at best it can
match the count table.
Different: instead of counting, a differentiable model (embedding -> MLP ->
logits) is trained by gradient descent. Its gradients are derived by hand,
and before training they are checked against numerical gradients (central
differences), parameter by parameter.

Standard library only; run it as `python train1.py --data names.txt`.
"""
import argparse
import json
import math
import os
import random
import sys
import time

RUNG, IDEA = 1, "MLP + hand gradients + SGD"
DEFAULT_STEPS = 1000
n_embd, block_size = 16, 16  # block_size caps the predictions per doc, as in the later rungs
learning_rate = 0.3  # plain SGD; see docs/ladder.md for how it was chosen
temperature, num_samples = 0.5, 20


def load_docs(path=None):
    """Non-empty stripped lines of --data, $MICROGPT_DATA, or names.txt here or beside this file."""
    if path is None:
        here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.txt")
        path = os.environ.get("MICROGPT_DATA") or ("names.txt" if os.path.exists("names.txt") else here)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"data file not found: {path} (pass --data PATH or set MICROGPT_DATA)")
    with open(path, encoding="utf-8") as f:
        docs = [line.strip() for line in f if line.strip()]
    if len(docs) < 10:
        raise ValueError(f"{path}: need at least 10 non-empty lines, found {len(docs)}")
    return docs


def split(docs):
    """The last 10% of the shuffled docs (at most 1000) are held out for validation."""
    n_val = min(1000, len(docs) // 10)
    return docs[:-n_val], docs[-n_val:]


# Model: plain functions over a state_dict of named matrices.
def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def linear_backward(dout, x, w, dw):
    """Backward of out = linear(x, w): add dL/dw into dw, return dL/dx."""
    for dwo, do in zip(dw, dout):
        for j, xj in enumerate(x):
            dwo[j] += do * xj
    return [sum(wo[j] * do for wo, do in zip(w, dout)) for j in range(len(x))]


def softmax(logits):
    max_val = max(logits)  # subtracting the max keeps exp() from overflowing
    exps = [math.exp(val - max_val) for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def init_params(rng, vocab_size):
    matrix = lambda nout, nin, std=0.08: [[rng.gauss(0, std) for _ in range(nin)] for _ in range(nout)]
    sd = {"wte": matrix(vocab_size, n_embd), "lm_head": matrix(vocab_size, n_embd)}
    sd["mlp_fc1"] = matrix(4 * n_embd, n_embd)
    sd["mlp_fc2"] = matrix(n_embd, 4 * n_embd)
    return sd


def mlp(sd, token_id):
    """Logits, plus the activations the backward pass needs."""
    x = sd["wte"][token_id]  # (n_embd,)
    a = linear(x, sd["mlp_fc1"])  # (4 * n_embd,)
    h = [max(0, ai) for ai in a]  # relu
    x2 = linear(h, sd["mlp_fc2"])  # (n_embd,)
    return linear(x2, sd["lm_head"]), (x, a, h, x2)  # (vocab_size,)


def doc_loss(sd, tokens, grads=None):
    """Mean loss over a doc's predictions; if grads is given, add dloss/dparam into it."""
    n = min(block_size, len(tokens) - 1)
    step_losses = []
    for pos in range(n):
        logits, (x, a, h, x2) = mlp(sd, tokens[pos])
        probs = softmax(logits)
        step_losses.append(-math.log(probs[tokens[pos + 1]]))
        if grads is not None:
            # The chain rule by hand, from the loss back to the embedding row.
            dlogits = [(p - (i == tokens[pos + 1])) / n for i, p in enumerate(probs)]  # softmax + NLL
            dx2 = linear_backward(dlogits, x2, sd["lm_head"], grads["lm_head"])
            dh = linear_backward(dx2, h, sd["mlp_fc2"], grads["mlp_fc2"])
            da = [dhi if ai > 0 else 0.0 for dhi, ai in zip(dh, a)]  # relu passes gradient only where it was active
            dx = linear_backward(da, x, sd["mlp_fc1"], grads["mlp_fc1"])
            grads["wte"][tokens[pos]] = [g + d for g, d in zip(grads["wte"][tokens[pos]], dx)]
    return (1 / n) * sum(step_losses)


def zeros_like(sd):
    return {k: [[0.0] * len(row) for row in mat] for k, mat in sd.items()}


def grad_check(sd, tokens, eps=1e-5):
    """Loss, and max |numerical - analytic| over every parameter (central differences)."""
    grads = zeros_like(sd)
    loss = doc_loss(sd, tokens, grads)
    max_diff = 0.0
    for name, mat in sd.items():
        for i, row in enumerate(mat):
            for j, old in enumerate(row):
                row[j] = old + eps
                loss_plus = doc_loss(sd, tokens)
                row[j] = old - eps
                loss_minus = doc_loss(sd, tokens)
                row[j] = old
                max_diff = max(max_diff, abs((loss_plus - loss_minus) / (2 * eps) - grads[name][i][j]))
    return loss, max_diff


def evaluate(sd, docs, encode, BOS):
    """Mean per-token negative log-likelihood over docs; forward only, backward never runs."""
    total, count = 0.0, 0
    for doc in docs:
        tokens = [BOS] + encode(doc) + [BOS]
        for pos in range(min(block_size, len(tokens) - 1)):
            logits = mlp(sd, tokens[pos])[0]
            max_val = max(logits)
            total += max_val + math.log(sum(math.exp(l - max_val) for l in logits)) - logits[tokens[pos + 1]]
            count += 1
    return total / count


def run(steps=DEFAULT_STEPS, seed=42, data=None, log=print, log_every=1, stop_after=None, val_names=None,
        check_gradients=True):
    """Train, evaluate, sample; return a dict of results. stop_after=N trains only the first
    N steps of the `steps`-long schedule and skips evaluation and sampling. val_names=N scores only
    the first N held-out names (the split, and so the training data, stay the same).
    check_gradients=False skips the gradient check (a few seconds; it draws no random numbers, so
    the run is otherwise the same) and reports grad_check None."""
    return train(steps, seed, data, log or (lambda *a: None), log_every, stop_after, val_names, check_gradients)


def train(steps, seed, data, log, log_every, stop_after, val_names, check_gradients=True):
    t0 = time.time()
    rng = random.Random(seed)
    docs = load_docs(data)
    rng.shuffle(docs)
    train_docs, val_docs = split(docs)
    val_docs = val_docs[:val_names]  # None: all of them
    uchars = sorted(set("".join(docs)))
    BOS, vocab_size = len(uchars), len(uchars) + 1
    encode = lambda doc: [uchars.index(ch) for ch in doc]
    sd = init_params(rng, vocab_size)
    num_params = sum(len(row) for mat in sd.values() for row in mat)
    log(f"num docs: {len(docs)} (train {len(train_docs)}, val {len(val_docs)})")
    log(f"vocab size: {vocab_size}")
    log(f"num params: {num_params}")
    checked = None
    if check_gradients:
        check_loss, check_diff = grad_check(sd, [BOS] + encode(train_docs[0]) + [BOS])
        log(f"gradient check on {train_docs[0]!r}: loss {check_loss:.6f} | max |numerical - analytic| {check_diff:.3e}")
        checked = {"loss": check_loss, "max_abs_diff": check_diff, "doc": train_docs[0]}

    losses = []
    for step in range(steps if stop_after is None else min(steps, stop_after)):
        doc = train_docs[step % len(train_docs)]
        tokens = [BOS] + encode(doc) + [BOS]
        grads = zeros_like(sd)
        loss = doc_loss(sd, tokens, grads)
        lr_t = learning_rate * (1 - step / steps)  # linear decay to zero
        for name, mat in sd.items():
            for row, grad_row in zip(mat, grads[name]):
                for j, g in enumerate(grad_row):
                    row[j] -= lr_t * g
        losses.append(loss)
        if (step + 1) % log_every == 0 or step == 0 or step + 1 == steps:
            log(f"step {step + 1:4d} / {steps:4d} | loss {loss:.4f}")

    result = {"rung": RUNG, "idea": IDEA, "params": num_params, "steps": steps, "seed": seed, "losses": losses,
              "grad_check": checked}
    tail = losses[-100:]
    result["train_loss"] = sum(tail) / len(tail) if tail else None
    result["train_loss_is"] = "mean of the last 100 per-step training losses"
    if stop_after is not None:
        result.update(val_loss=None, val_ppl=None, samples=[], seconds=time.time() - t0)
        return result
    result["val_loss"] = evaluate(sd, val_docs, encode, BOS)
    result["val_ppl"] = math.exp(result["val_loss"])
    log(f"train loss {result['train_loss']:.4f} | val loss {result['val_loss']:.4f} | val ppl {result['val_ppl']:.3f}")

    # Inference: the validation pass above drew no random numbers.
    log("--- inference (new, hallucinated names) ---")
    samples = []
    for sample_idx in range(num_samples):
        token_id, sample = BOS, []
        for pos in range(block_size):
            logits = mlp(sd, token_id)[0]
            probs = softmax([l / temperature for l in logits])
            token_id = rng.choices(range(vocab_size), weights=probs)[0]
            if token_id == BOS:
                break
            sample.append(uchars[token_id])
        samples.append("".join(sample))
        log(f"sample {sample_idx + 1:2d}: {samples[-1]}")
    result["samples"] = samples
    result["seconds"] = time.time() - t0
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="training steps, one document each")
    parser.add_argument("--seed", type=int, default=42, help="seed for shuffle, init and sampling")
    parser.add_argument("--data", default=None, help="names file, one per line (default: $MICROGPT_DATA or names.txt)")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the results to FILE as JSON")
    args = parser.parse_args(argv)
    try:
        result = run(steps=args.steps, seed=args.seed, data=args.data)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
