"""train0: a bigram model by counting.

The task for every rung: predict the next character of a name from what came
before. A special BOS token marks both the start and the end of a name.
This rung looks only at the previous character. For that model class the
maximum-likelihood answer has a closed form: count how often each pair
(previous, next) occurs in the training names and normalize each row. Adding
one to every count (add-one smoothing) keeps unseen pairs from getting
probability zero. No gradients, no training loop: this is the baseline every
later rung is measured against.

Standard library only; run it as `python train0.py --data names.txt`.
"""
import argparse
import json
import math
import os
import random
import sys
import time

RUNG, IDEA = 0, "bigram counts"
DEFAULT_STEPS = None  # one step counts one training doc; None counts them all once
block_size = 16  # block_size caps the predictions per doc, as in the later rungs
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


# Model: a table of counts, counts[prev][next], started at 1 (add-one smoothing).
def nll(counts, row_totals, tokens):
    """Negative log-likelihood of each prediction in one tokenized doc."""
    n = min(block_size, len(tokens) - 1)
    return [-math.log(counts[tokens[pos]][tokens[pos + 1]] / row_totals[tokens[pos]]) for pos in range(n)]


def evaluate(counts, row_totals, docs, encode, BOS):
    """Mean per-token negative log-likelihood over docs."""
    total, count = 0.0, 0
    for doc in docs:
        doc_nll = nll(counts, row_totals, [BOS] + encode(doc) + [BOS])
        total += sum(doc_nll)
        count += len(doc_nll)
    return total / count


def run(steps=DEFAULT_STEPS, seed=42, data=None, log=print, log_every=1000, val_names=None):
    """Count, evaluate, sample; return a dict of results. val_names=N scores only the first N held-out
    names (the split, and so the training data, stay the same)."""
    log = log or (lambda *a: None)
    t0 = time.time()
    rng = random.Random(seed)
    docs = load_docs(data)
    rng.shuffle(docs)
    train_docs, val_docs = split(docs)
    val_docs = val_docs[:val_names]  # None: all of them
    uchars = sorted(set("".join(docs)))
    BOS, vocab_size = len(uchars), len(uchars) + 1
    encode = lambda doc: [uchars.index(ch) for ch in doc]
    counts = [[1] * vocab_size for _ in range(vocab_size)]
    row_totals = [vocab_size] * vocab_size
    log(f"num docs: {len(docs)} (train {len(train_docs)}, val {len(val_docs)})")
    log(f"vocab size: {vocab_size}")
    log(f"num params: {vocab_size * vocab_size} (counts)")

    steps = len(train_docs) if steps is None else steps
    losses = []
    for step in range(steps):
        doc = train_docs[step % len(train_docs)]
        tokens = [BOS] + encode(doc) + [BOS]
        doc_nll = nll(counts, row_totals, tokens)  # scored before it is counted, like a training step's loss
        for pos in range(len(doc_nll)):
            counts[tokens[pos]][tokens[pos + 1]] += 1
            row_totals[tokens[pos]] += 1
        losses.append(sum(doc_nll) / len(doc_nll))
        if (step + 1) % log_every == 0 or step == 0 or step + 1 == steps:
            log(f"step {step + 1:5d} / {steps:5d} | loss {losses[-1]:.4f}")

    result = {"rung": RUNG, "idea": IDEA, "params": vocab_size * vocab_size, "steps": steps, "seed": seed,
              "losses": losses}
    seen = train_docs[:steps]  # every doc counted so far (all of them once steps >= len(train_docs))
    result["train_loss"] = evaluate(counts, row_totals, seen, encode, BOS)
    result["train_loss_is"] = "mean NLL of the final table over every training doc it counted"
    result["val_loss"] = evaluate(counts, row_totals, val_docs, encode, BOS)
    result["val_ppl"] = math.exp(result["val_loss"])
    log(f"train loss {result['train_loss']:.4f} | val loss {result['val_loss']:.4f} | val ppl {result['val_ppl']:.3f}")

    log("--- inference (new, hallucinated names) ---")
    samples = []
    for sample_idx in range(num_samples):
        token_id, sample = BOS, []
        for pos in range(block_size):
            # p ** (1 / temperature), renormalized, is softmax(log p / temperature)
            weights = [c ** (1 / temperature) for c in counts[token_id]]
            token_id = rng.choices(range(vocab_size), weights=weights)[0]
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
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="docs to count (default: every training doc once)")
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
