"""Using a saved model: `microgpt sample`, `info`, `score` and `eval`.

Each is the Python API's call (api.Model) with its result printed."""

import json
import sys

from microgpt.cli.args import (add_engine_arg, add_engine_options, finite_float, given_engine_options, nonneg_float,
                               positive_int)
from microgpt.errors import UsageError
from microgpt.sample import PASSAGE_CHARS, SAMPLES, SEED, TEMPERATURE


def load(path, engine=None, args=None):
    from microgpt.api import load as load_model
    from microgpt.engines import DEFAULT_ENGINE

    engine = engine or DEFAULT_ENGINE
    return load_model(path, engine, **engine_options(engine, args))


def engine_options(engine, args):
    """The engine flags a command was given, checked against what `engine` takes."""
    from microgpt.engines import check_engine_options

    return check_engine_options(engine, given_engine_options(args)) if args is not None else {}


def print_samples(samples, data, summary_to=None):
    """One line per sample, marked new / in train / in val when the training
    data is known, then the copy rate (on stderr by default, so stdout keeps
    exactly one line per sample)."""
    from microgpt.inspection import novelty

    marks = []
    for i, name in enumerate(samples):
        # a byte-level BPE model can write any character, a newline too: one line per sample, always
        shown = name if name.isprintable() else repr(name)
        if data is None:
            print(f"sample {i + 1:2d}: {shown}")
        else:  # the marker goes after the name, so "sample  1: name" stays a prefix
            marks.append(novelty.mark(data, name))
            print(f"sample {i + 1:2d}: {shown}  ({marks[-1]})")
    if data is not None:
        print(novelty.summary(marks, data.exact), file=summary_to or sys.stderr)


def cmd_sample(args):
    from microgpt import provenance

    model = load(args.model, args.engine, args)
    if model.is_text and args.data:  # it would be silently ignored
        raise UsageError("--data marks a names model's samples new or copied; a --text model's passages are "
                         "not marked")
    samples = model.samples(args.n, args.temperature, args.top_k, args.prefix, args.seed, args.chars,
                            stream=model.is_text, top_p=args.top_p)
    if model.is_text:  # one long text: passages, not names, written as they are drawn
        from microgpt.cli.pipes import stream

        for i, passage in enumerate(samples):
            print(f"--- sample {i + 1} ---")
            stream(passage)
            print()
        return 0
    data = model.training_data(args.data)
    print_samples(samples, data)
    if data is None:
        print(f"novelty: unknown ({provenance.unknown_reason(model.checkpoint)})", file=sys.stderr)
    return 0


def cmd_info(args):
    from microgpt.files import checkpoint
    from microgpt.inspection.part_views import parameters_view

    ckpt = checkpoint.load(args.model)
    print(f"model: {args.model}")
    tok = ckpt.tokenizer
    if tok.kind == "bpe":
        print(f"vocabulary: {tok.vocab_size} tokens (byte-level BPE: 256 bytes + {len(tok.merges)} merges + BOS; "
              "'microgpt tokenizer --bpe MODEL' lists them)")
    else:
        print(f"vocabulary: {tok.vocab_size} tokens ({''.join(tok.chars)!r} + BOS)")
    print(parameters_view(ckpt.config))
    training = ckpt.training.to_dict()
    if training:
        print("training:")
        for k, v in training.items():
            if isinstance(v, dict):
                v = ", ".join(f"{a}={b}" for a, b in v.items())
            elif k == "recent_losses" and isinstance(v, list) and v:
                k, v = f"mean loss of the last {len(v)} steps", f"{sum(v) / len(v):.4f}"
            elif isinstance(v, list):
                v = f"[{len(v)} values]"
            print(f"  {k}: {v}")
    why_not = ckpt.why_not_resumable()
    print(f"resumable: {'yes' if why_not is None else f'no ({why_not})'}")
    return 0


def cmd_score(args):
    from microgpt import provenance
    from microgpt.data import read_docs
    from microgpt.evaluation import bits, perplexity
    from microgpt.inspection.score import check_text, format_ablated_table, format_table

    texts = list(args.text)
    if args.file:
        texts += read_docs(args.file)
    if not texts:
        raise UsageError("nothing to score: give one or more strings, or --file FILE")
    model = load(args.model, args.engine)
    ablated = model.ablate(args.ablate) if args.ablate is not None else None
    for t in texts:  # every string is checked before any is scored
        check_text(model.tokenizer, model.config, t, bos=not model.is_text)
    data = model.training_data(args.data)
    if args.json:  # one JSON object per string, full precision, nothing else on stdout
        progress = _bar(len(texts), "score")  # (on stderr, and only while stdout is not the terminal)
        nll = n = 0
        for i, t in enumerate(texts, 1):
            s = model.score(t)
            extra = {"ablation": str(ablated.ablation), "ablated": ablated.score(t).to_dict()} if ablated else {}
            print(json.dumps({**s.to_dict(), "in_training_data": provenance.seen_phrase(data, t), **extra}))
            nll, n = nll + s.total, n + s.n
            progress.update(i, nll / n)
        progress.close()
        return 0
    if data is None:
        print(f"note: in-training-data is unknown: {provenance.unknown_reason(model.checkpoint)}")
    elif not data.exact:
        print(f"note: {data.note}; 'yes' means the string is in {data.path}")
    scores, ablated_total, nll, n = [], 0.0, 0.0, 0
    progress = _bar(len(texts), "score")  # (its "loss" is the mean NLL so far)
    for t in texts:
        s = model.score(t)
        a = ablated.score(t) if ablated else None
        scores.append(s)
        nll, n = nll + s.total, n + s.n
        progress.update(len(scores), nll / n)
        seen = provenance.seen_phrase(data, t)
        if args.brief:
            change = f" | ablated NLL {a.total:.4f} ({a.total - s.total:+.4f})" if a else ""
            print(f"{t!r}: NLL {s.total:.4f} | mean {s.mean:.4f} | perplexity {s.perplexity:.2f} | "
                  f"{s.bits_per_char:.4f} bits/char | in training data: {seen}{change}")
        else:
            print(format_ablated_table(s, a, seen, ablated.ablation.describe()) if a else format_table(s, seen))
            print()
        ablated_total += a.total if a else 0.0
    if len(scores) > 1:
        total, n = sum(s.total for s in scores), sum(s.n for s in scores)
        known = "" if data is None else f" | {sum(provenance.seen_phrase(data, t) != 'no' for t in texts)} in the data"
        chars = sum(s.chars for s in scores)
        print(f"{len(scores)} strings: NLL {total:.4f} over {n} tokens | mean {total / n:.4f} | "
              f"perplexity {perplexity(total / n):.2f} | {bits(total, chars):.4f} bits/char{known}")
        if ablated:
            print(f"ablated ({ablated.ablation.describe()}): NLL {ablated_total:.4f} ({ablated_total - total:+.4f}) | "
                  f"mean {ablated_total / n:.4f} | {bits(ablated_total, chars):.4f} bits/char")
    return 0


def _bar(total, label):
    """A live bar on stderr while the result is awaited, shown only on a terminal (and, for
    score, only when stdout is not one: there its results appear one by one and would tear it)."""
    from microgpt.progress import Progress

    live = sys.stderr.isatty() and (label != "score" or not sys.stdout.isatty())
    return Progress(total, stream=sys.stderr, tty=live, label=label, lines=False)


def cmd_eval(args):
    from microgpt import evaluation

    model = load(args.model, args.engine, args)
    ablated = model.ablate(args.ablate) if args.ablate is not None else None
    held = evaluation.held_out(model.checkpoint, args.data, model.path)
    print(f"evaluating on {held.what}", flush=True)
    measured = evaluation.measure(model.engine, model.tokenizer, held.batch, _bar(len(held.batch), "eval"))
    # the words train prints, so the two lines compare
    print(f"{measured.line(held.label)} ({len(held.batch):,} {held.unit}, {measured.tokens:,} tokens, "
          f"{measured.chars:,} characters, engine {args.engine})")
    if ablated:
        print(f"ablated: {ablated.ablation.describe()}", flush=True)
        after = evaluation.measure(ablated.engine, model.tokenizer, held.batch, _bar(len(held.batch), "ablated"))
        print(f"{after.line(held.label)} (ablated, engine {ablated.engine.name})")
        print(f"change: {held.label} {after.loss - measured.loss:+.6f} ({after.loss / measured.loss - 1:+.2%}) | "
              f"{after.bits_per_char - measured.bits_per_char:+.6f} bits/char")
    recorded = model.training.val_loss
    if held.label == "val loss" and recorded is not None:
        print(f"training recorded val loss {recorded:.4f}")
    return 0


def register(sub):
    p = sub.add_parser("sample", help="generate from a saved model", description="Generate from a saved model.")
    p.add_argument("model", metavar="MODEL", help="a checkpoint written by 'microgpt train'")
    p.add_argument("-n", type=int, default=SAMPLES, help=f"how many samples (default: {SAMPLES})")
    p.add_argument("--temperature", type=nonneg_float, default=TEMPERATURE,
                   help=f"below 1 sharper, above 1 more varied, 0 greedy (default: {TEMPERATURE})")
    p.add_argument("--top-k", type=int, default=None, help="draw only from the k most likely tokens")
    p.add_argument("--top-p", type=finite_float, default=None, metavar="P",
                   help="then only from the fewest most likely tokens whose probabilities add up to P, "
                        "0 < P <= 1 (nucleus sampling)")
    p.add_argument("--prefix", default="", help="start every sample with this text")
    p.add_argument("--seed", type=int, default=SEED,
                   help=f"random seed; the same seed gives the same samples (default: {SEED})")
    p.add_argument("--chars", type=positive_int, default=None,
                   help=f"characters per sample, for a model trained with --text (default: {PASSAGE_CHARS})")
    p.add_argument("--data", metavar="FILE",
                   help="the training data, to mark each sample new or a copy (default: the path the checkpoint "
                        "recorded)")
    add_engine_arg(p)
    add_engine_options(p)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("info", help="describe a saved model", description="Config, parameters and training of a model.")
    p.add_argument("model", metavar="MODEL")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("score", help="probability and surprise of each character of a string",
                       description="For each string: the probability the model gives each next character "
                                   "(the end included), its surprise -ln p, the total and mean NLL, the "
                                   "perplexity, and whether the string is in the training data.")
    p.add_argument("model", metavar="MODEL", help="a checkpoint written by 'microgpt train'")
    p.add_argument("text", metavar="TEXT", nargs="*", help="strings to score")
    p.add_argument("--file", metavar="FILE", help="also score every line of FILE")
    p.add_argument("--engine", choices=("fused", "numpy"), default="fused",
                   help="fused: the float forward, one position at a time, bit for bit the scalar engine's "
                        "(default); numpy: every position of a string in one pass, several times faster on a "
                        "large --file, equal to about 1e-15 (needs numpy)")
    p.add_argument("--data", metavar="FILE",
                   help="the training data, to say whether each string is in it (default: the path the "
                        "checkpoint recorded)")
    add_ablate_arg(p, "score each string intact and with these parts switched off, side by side")
    output = p.add_mutually_exclusive_group()
    output.add_argument("--brief", action="store_true", help="one line per string instead of a table")
    output.add_argument("--json", action="store_true",
                        help="one JSON object per string, at full precision (the explorer's /api/score answer)")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("eval", help="validation loss and perplexity of a saved model",
                       description="Loss and perplexity on the held-out split the model was trained with "
                                   "(rebuilt from the checkpoint's data path, seed and split size), or on "
                                   "every document of --data FILE.")
    p.add_argument("model", metavar="MODEL", help="a checkpoint written by 'microgpt train'")
    p.add_argument("--data", metavar="FILE", help="evaluate on all documents of this file instead")
    add_ablate_arg(p, "also evaluate with these parts switched off, and print the change")
    add_engine_arg(p)
    add_engine_options(p)
    p.set_defaults(func=cmd_eval)


def add_ablate_arg(p, what):
    p.add_argument("--ablate", metavar="SPEC",
                   help=f"{what}: head:L.H, attn:L, mlp:L, resid-attn:L, resid-mlp:L, wpe, comma-separated; "
                        "* for every layer or head (docs/ablation.md)")
