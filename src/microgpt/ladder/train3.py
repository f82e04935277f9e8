"""train3: position embeddings, single-head attention, RMSNorm and residuals.

Same as the previous rung: the Value autograd, the MLP block, SGD with linear
decay, the data, the split, the initialization scheme and the sampler.
Different: the model sees more than the previous token. A learned vector per
position (wpe) is added to the token embedding; one attention head lets each
position take a weighted average over the values of itself and earlier
positions (the key/value cache holds nothing later, which is the causal mask);
RMSNorm keeps activations at unit scale; residual connections add each
block's output to its input.

Standard library only; run it as `python train3.py --data names.txt`.
"""
import argparse
import gc
import json
import math
import os
import random
import sys
import time

RUNG, IDEA = 3, "position embeddings + attention + RMSNorm + residuals"
DEFAULT_STEPS = 1000
n_embd, block_size = 16, 16
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


# Autograd: a scalar that remembers how it was made, so the chain rule can run backwards.
class Value:
    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads  # d(self)/d(child), one per child

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, other):  # other is a plain number
        return Value(self.data**other, (self,), (other * self.data ** (other - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        return Value(math.exp(self.data), (self,), (math.exp(self.data),))

    def relu(self):
        return Value(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other**-1
    def __rtruediv__(self, other): return other * self**-1

    def backward(self):
        # Post-order depth-first search (children in order, then the node), done with an
        # explicit stack so deep graphs cannot hit Python's recursion limit.
        topo, visited, stack = [], {self}, [(self, iter(self._children))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child._children)))
                    break
            else:
                stack.pop()
                topo.append(node)
        self.grad = 1
        for v in reversed(topo):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad


# Model: plain functions over a state_dict of named matrices.
def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def softmax(logits):
    max_val = max(val.data for val in logits)  # subtracting the max keeps exp() from overflowing
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x):
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def init_params(rng, vocab_size):
    matrix = lambda nout, nin, std=0.08: [[Value(rng.gauss(0, std)) for _ in range(nin)] for _ in range(nout)]
    sd = {"wte": matrix(vocab_size, n_embd), "wpe": matrix(block_size, n_embd), "lm_head": matrix(vocab_size, n_embd)}
    sd["attn_wq"] = matrix(n_embd, n_embd)
    sd["attn_wk"] = matrix(n_embd, n_embd)
    sd["attn_wv"] = matrix(n_embd, n_embd)
    sd["attn_wo"] = matrix(n_embd, n_embd)
    sd["mlp_fc1"] = matrix(4 * n_embd, n_embd)
    sd["mlp_fc2"] = matrix(n_embd, 4 * n_embd)
    return sd


def gpt(sd, token_id, pos_id, keys, values):
    x = [t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])]  # (n_embd,)
    x = rmsnorm(x)
    # Attention: the only place where positions exchange information.
    x_residual = x
    x = rmsnorm(x)
    q = linear(x, sd["attn_wq"])
    k = linear(x, sd["attn_wk"])
    v = linear(x, sd["attn_wv"])
    keys.append(k)
    values.append(v)  # the cache holds only past and current positions: that is the causal mask
    attn_logits = [sum(q[j] * keys[t][j] for j in range(n_embd)) / n_embd**0.5 for t in range(len(keys))]
    attn_weights = softmax(attn_logits)
    x_attn = [sum(attn_weights[t] * values[t][j] for t in range(len(values))) for j in range(n_embd)]
    x = linear(x_attn, sd["attn_wo"])
    x = [a + b for a, b in zip(x, x_residual)]
    # MLP: per-position computation.
    x_residual = x
    x = rmsnorm(x)
    x = linear(x, sd["mlp_fc1"])  # (4 * n_embd,)
    x = [xi.relu() for xi in x]
    x = linear(x, sd["mlp_fc2"])  # (n_embd,)
    x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, sd["lm_head"])  # (vocab_size,)


def evaluate(sd, docs, encode, BOS):
    """Mean per-token negative log-likelihood over docs; forward only, backward never runs."""
    total, count = 0.0, 0
    for doc in docs:
        tokens = [BOS] + encode(doc) + [BOS]
        keys, values = [], []
        for pos in range(min(block_size, len(tokens) - 1)):
            logits = [l.data for l in gpt(sd, tokens[pos], pos, keys, values)]
            max_val = max(logits)
            total += max_val + math.log(sum(math.exp(l - max_val) for l in logits)) - logits[tokens[pos + 1]]
            count += 1
    return total / count


def run(steps=DEFAULT_STEPS, seed=42, data=None, log=print, log_every=1, stop_after=None, val_names=None):
    """Train, evaluate, sample; return a dict of results. stop_after=N trains only the first
    N steps of the `steps`-long schedule and skips evaluation and sampling. val_names=N scores only
    the first N held-out names (the split, and so the training data, stay the same)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # Value graphs hold no reference cycles, so the cycle collector only costs time (~3x)
    try:
        return train(steps, seed, data, log or (lambda *a: None), log_every, stop_after, val_names)
    finally:
        if gc_was_enabled:
            gc.enable()


def train(steps, seed, data, log, log_every, stop_after, val_names):
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
    params = [p for mat in sd.values() for row in mat for p in row]
    log(f"num docs: {len(docs)} (train {len(train_docs)}, val {len(val_docs)})")
    log(f"vocab size: {vocab_size}")
    log(f"num params: {len(params)}")

    losses = []
    for step in range(steps if stop_after is None else min(steps, stop_after)):
        doc = train_docs[step % len(train_docs)]
        tokens = [BOS] + encode(doc) + [BOS]
        n = min(block_size, len(tokens) - 1)
        keys, values = [], []
        step_losses = []
        for pos in range(n):
            logits = gpt(sd, tokens[pos], pos, keys, values)
            probs = softmax(logits)
            step_losses.append(-probs[tokens[pos + 1]].log())
        loss = (1 / n) * sum(step_losses)
        loss.backward()
        lr_t = learning_rate * (1 - step / steps)  # linear decay to zero
        for p in params:
            p.data -= lr_t * p.grad
            p.grad = 0
        losses.append(loss.data)
        if (step + 1) % log_every == 0 or step == 0 or step + 1 == steps:
            log(f"step {step + 1:4d} / {steps:4d} | loss {loss.data:.4f}")

    result = {"rung": RUNG, "idea": IDEA, "params": len(params), "steps": steps, "seed": seed, "losses": losses}
    result["vocab"] = "".join(uchars)  # the trained model itself, for `microgpt explore --ladder`
    result["weights"] = {name: [[p.data for p in row] for row in mat] for name, mat in sd.items()}
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
        keys, values = [], []
        token_id, sample = BOS, []
        for pos in range(block_size):
            logits = gpt(sd, token_id, pos, keys, values)
            probs = softmax([l / temperature for l in logits])
            token_id = rng.choices(range(vocab_size), weights=[p.data for p in probs])[0]
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
