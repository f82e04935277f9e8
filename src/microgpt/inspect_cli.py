"""The commands that look inside a saved model or a run: score, eval, plot, graph.

    microgpt score MODEL TEXT...     probability and surprise of every next character
    microgpt eval MODEL              validation loss on the held-out split (or --data FILE)
    microgpt plot RUN.jsonl...       loss curves; with a MODEL: --attention, --bigram, --next
    microgpt graph                   the Value graph of L = a*b + a, or of one token through a model

They live apart from cli.py so that file stays about training and sampling;
build_parser() calls add_commands() to hang them on the same parser.
"""

from microgpt.errors import UsageError


def _load(path, engine="scalar"):
    from microgpt.cli import load_model

    return load_model(path, engine)


def _seen_phrase(training_data, text):
    if training_data is None:
        return "unknown"
    where = training_data.where(text)
    return {"train": "yes, train split", "val": "yes, validation split", "data": "yes", None: "no"}[where]


# ---- score


def cmd_score(args):
    from microgpt import training_data
    from microgpt.data import read_docs
    from microgpt.score import check_text, format_table, score

    texts = list(args.text)
    if args.file:
        texts += read_docs(args.file)
    if not texts:
        raise UsageError("nothing to score: give one or more strings, or --file FILE")
    ckpt, _ = _load(args.model)
    for t in texts:  # every string is checked before any is scored
        check_text(ckpt.tokenizer, ckpt.config, t)
    data = training_data.find(ckpt, args.data)
    if data is None:
        print(f"note: in-training-data is unknown: {training_data.unknown_reason(ckpt)}")
    elif not data.exact:
        print(f"note: {data.note}; 'yes' means the string is in {data.path}")
    scores = []
    for t in texts:
        s = score(ckpt.weights, ckpt.config, ckpt.tokenizer, t)
        scores.append(s)
        seen = _seen_phrase(data, t)
        if args.brief:
            print(f"{t!r}: NLL {s.total:.4f} | mean {s.mean:.4f} | perplexity {s.perplexity:.2f} | "
                  f"in training data: {seen}")
        else:
            print(format_table(s, seen))
            print()
    if len(scores) > 1:
        import math

        total, n = sum(s.total for s in scores), sum(s.n for s in scores)
        known = "" if data is None else f" | {sum(_seen_phrase(data, t) != 'no' for t in texts)} in the data"
        print(f"{len(scores)} strings: NLL {total:.4f} over {n} tokens | mean {total / n:.4f} | "
              f"perplexity {math.exp(total / n):.2f}{known}")
    return 0


# ---- eval


def cmd_eval(args):
    from microgpt import training_data
    from microgpt.data import read_docs
    from microgpt.evaluation import Bar, evaluate, perplexity

    ckpt, engine = _load(args.model, args.engine)
    if args.data:
        docs = read_docs(args.data)
        what = f"all {len(docs):,} documents of {args.data}"
    else:
        data = training_data.find(ckpt)
        if data is None:
            raise UsageError(f"cannot rebuild the validation split: {training_data.unknown_reason(ckpt)} "
                             "to evaluate on all of its documents")
        if not data.exact:
            raise UsageError(f"cannot rebuild the validation split of {data.path}: {data.note}; "
                             "pass --data FILE to evaluate on all of a file's documents")
        if not data.val:
            raise UsageError("the model was trained with no validation split (--val-docs 0); "
                             "pass --data FILE to evaluate on a file")
        docs = data.val
        what = f"the {len(docs):,} held-out documents of {data.path} (seed {ckpt.training.get('seed')})"
    print(f"evaluating on {what}", flush=True)
    loss, _, count = evaluate(engine, ckpt.tokenizer, docs, Bar(len(docs)))
    label = "loss" if args.data else "val loss"  # the words train prints, so the two lines compare
    print(f"{label} {loss:.4f} | {label.replace('loss', 'perplexity')} {perplexity(loss):.2f} "
          f"({len(docs):,} docs, {count:,} tokens, engine {args.engine})")
    recorded = ckpt.training.get("val_loss")
    if not args.data and isinstance(recorded, (int, float)):
        print(f"training recorded val loss {recorded:.4f}")
    return 0


# ---- the parser


def add_commands(sub, add_engine_arg):
    p = sub.add_parser("score", help="probability and surprise of each character of a string",
                       description="For each string: the probability the model gives each next character "
                                   "(the end included), its surprise -ln p, the total and mean NLL, the "
                                   "perplexity, and whether the string is in the training data.")
    p.add_argument("model", metavar="MODEL", help="a checkpoint written by 'microgpt train'")
    p.add_argument("text", metavar="TEXT", nargs="*", help="strings to score")
    p.add_argument("--file", metavar="FILE", help="also score every line of FILE")
    p.add_argument("--data", metavar="FILE",
                   help="the training data, to say whether each string is in it (default: the path the "
                        "checkpoint recorded)")
    p.add_argument("--brief", action="store_true", help="one line per string instead of a table")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("eval", help="validation loss and perplexity of a saved model",
                       description="Loss and perplexity on the held-out split the model was trained with "
                                   "(rebuilt from the checkpoint's data path, seed and split size), or on "
                                   "every document of --data FILE.")
    p.add_argument("model", metavar="MODEL", help="a checkpoint written by 'microgpt train'")
    p.add_argument("--data", metavar="FILE", help="evaluate on all documents of this file instead")
    add_engine_arg(p)
    p.set_defaults(func=cmd_eval)


