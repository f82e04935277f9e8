"""Characters against byte-level BPE at equal training compute: the table of docs/tokenizers.md.

    python scripts/compare_tokenizers.py NAMES_FILE SHAKESPEARE_FILE [--engine torch]

Every run of one data set has the same steps, batch, model dimensions and
block_size (positions per window or document), so each step costs the same
positions; only the vocabulary (and with it the embedding and lm_head rows)
changes. Each is measured on its own held-out split in bits per character
(evaluation.Measured), the scale on which tokenizers compare, and writes a
sample. Prints a Markdown table, then the samples.
"""

import argparse
import time

import microgpt
from microgpt.api import Model
from microgpt.model import num_params

NAMES = dict(n_embd=32, n_head=4, n_layer=1, block_size=16, batch_size=32, steps=600, lr=0.01)
TEXT = dict(n_embd=64, n_head=4, n_layer=2, block_size=64, batch_size=16, steps=600, lr=0.003)
VOCABS = [None, 300, 512, 1024]  # None: characters


def run(engine, source, settings, vocab):
    kind = {"tokenizer": "char"} if vocab is None else {"tokenizer": "bpe", "vocab_size": vocab}
    start = time.perf_counter()
    r = microgpt.train(**source, **settings, **kind, engine=engine, seed=1)
    seconds = time.perf_counter() - start
    m = r.validation
    model = Model.of(r)
    if "text" in source:
        sample = model.sample(1, temperature=0.8, seed=1, chars=160)[0]
    else:
        sample = ", ".join(model.sample(8, temperature=0.5, seed=1))
    name = "char" if vocab is None else f"BPE {vocab}"
    return dict(name=name, vocab=r.trainer.config.vocab_size, params=num_params(r.trainer.config),
                chars_per_token=m.chars / m.tokens, loss=m.loss, bpc=m.bits_per_char, seconds=seconds,
                sample=sample)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("names")
    ap.add_argument("text")
    ap.add_argument("--engine", default="torch")
    args = ap.parse_args()
    samples = []
    for label, source, settings in [("names", {"data": args.names}, NAMES),
                                    ("shakespeare", {"text": args.text}, TEXT)]:
        print(f"\n{label}: " + ", ".join(f"{k} {v}" for k, v in settings.items()) + f", engine {args.engine}")
        print("| tokenizer | vocab | params | chars/token | val loss/token | val bits/char | seconds |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for vocab in VOCABS:
            row = run(args.engine, source, settings, vocab)
            print(f"| {row['name']} | {row['vocab']} | {row['params']:,} | {row['chars_per_token']:.2f} | "
                  f"{row['loss']:.3f} | **{row['bpc']:.3f}** | {row['seconds']:.0f} |", flush=True)
            samples.append((label, row["name"], row["sample"]))
    print()
    for label, name, sample in samples:
        print(f"{label}, {name}: {sample!r}")


if __name__ == "__main__":
    main()
