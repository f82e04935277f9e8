"""The commands that look inside a saved model or a run: score, eval, plot, graph.

    microgpt score MODEL TEXT...     probability and surprise of every next character
    microgpt eval MODEL              validation loss on the held-out split (or --data FILE)
    microgpt plot RUN.jsonl...       loss curves; with a MODEL: --attention, --bigram, --next
    microgpt graph                   the Value graph of L = a*b + a, or of one token through a model

They live apart from cli.py so that file stays about training and sampling;
build_parser() calls add_commands() to hang them on the same parser.
"""

import math

from microgpt.errors import UsageError


def _nonneg_float(s):
    from microgpt.cli import nonneg_float

    return nonneg_float(s)


def _finite_float(s):
    from microgpt.cli import finite_float

    return finite_float(s)


def _positive_int(s):
    from microgpt.cli import positive_int

    return positive_int(s)


def _load(path, engine="scalar", args=None):
    from microgpt.cli import engine_options, load_model

    # --device/--dtype, where the command has them (cli.add_engine_options)
    return load_model(path, engine, **(engine_options(args, engine) if args is not None else {}))


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
    data = training_data.find(ckpt, args.data, args.model)
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

    ckpt, engine = _load(args.model, args.engine, args)
    if ckpt.training.get("format") == "text":  # trained with --text: windows, not documents
        from microgpt.text import evaluate_text

        return evaluate_text(engine, ckpt, args.data, args.engine)
    if args.data:
        docs = read_docs(args.data)
        what = f"all {len(docs):,} documents of {args.data}"
    else:
        data = training_data.find(ckpt, model_path=args.model)
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


# ---- plot


def _safe_stem(text):
    """A file-name fragment from user text: letters and digits kept, the rest '_'."""
    stem = "".join(ch if ch.isalnum() else "_" for ch in text)[:40]
    return stem or "start"


def cmd_plot(args):
    from pathlib import Path

    from microgpt.plots import check_out, save

    views = [v for v in (args.attention is not None, args.bigram, args.next is not None) if v]
    if len(views) > 1:
        raise UsageError("pick one view of a model: --attention TEXT, --bigram or --next PREFIX")
    if args.out:
        check_out(args.out)  # a wrong extension fails before any work
    if args.temperature is not None and args.next is None:
        raise UsageError("--temperature goes with --next PREFIX")
    if args.data and not args.bigram:
        raise UsageError("--data goes with --bigram")
    if not views:
        from microgpt.plots.loss import loss_figure
        from microgpt.plots.runs import read_runs

        runs = [r for path in args.inputs for r in read_runs(path)]
        fig, default = loss_figure(runs, args.smooth), "loss.png"
    else:
        if len(args.inputs) != 1:
            raise UsageError("a model view takes exactly one MODEL")
        model = args.inputs[0]
        ckpt, _ = _load(model)
        name = Path(model).name
        if args.attention is not None:
            from microgpt.plots.attention import attention_figure

            fig = attention_figure(ckpt.weights, ckpt.config, ckpt.tokenizer, args.attention,
                                   f"Attention of {name} reading BOS + {args.attention!r}")
            default = f"attention_{_safe_stem(args.attention)}.png"
        elif args.bigram:
            fig, default = _bigram(ckpt, name, args.data, model), "bigram.png"
        else:
            from microgpt.plots.next_char import next_figure

            t = 0.5 if args.temperature is None else args.temperature
            fig = next_figure(ckpt.weights, ckpt.config, ckpt.tokenizer, args.next, t,
                              f"{name}: the next character after BOS + {args.next!r}")
            default = f"next_{_safe_stem(args.next)}.png"
    out = save(fig, args.out or default)
    print(f"wrote {out}")
    return 0


def _bigram(ckpt, name, data_arg, model_path):
    from microgpt import training_data
    from microgpt.plots.bigram import bigram_counts, bigram_figure

    data = training_data.find(ckpt, data_arg, model_path)
    if data is None:
        raise UsageError(f"the bigram table needs the training data: {training_data.unknown_reason(ckpt)}")
    docs, which = (data.train, "training split") if data.exact else (data.docs, "all documents")
    counts = bigram_counts(ckpt.tokenizer, docs)
    title = f"Bigram counts: {which} of {data.path.name} ({len(docs):,} documents), vocabulary of {name}"
    return bigram_figure(ckpt.tokenizer, counts, title)


# ---- graph


def _tiny_model(seed):
    """A fresh GPT small enough that its graph is drawable: vocabulary a, e, m + BOS."""
    import random

    from microgpt.config import GPTConfig
    from microgpt.model import init_weights
    from microgpt.tokenizer import Tokenizer

    tokenizer = Tokenizer("aem")
    config = GPTConfig(tokenizer.vocab_size, n_embd=2, n_head=1, n_layer=1, block_size=4)
    return config, init_weights(config, random.Random(seed)), tokenizer


def cmd_graph(args):
    from pathlib import Path

    from microgpt import graph
    from microgpt.checkpoint import atomic_write_text

    out = Path(args.out or ("graph_model.svg" if args.model or args.tiny else "graph.svg"))
    if out.suffix.lower() not in (".dot", ".svg", ".png"):
        raise UsageError(f"--out {out}: use .dot (DOT text only), .svg or .png")
    if args.model or args.tiny:
        if args.model:
            ckpt, _ = _load(args.model)
            config, weights, tokenizer, what = ckpt.config, ckpt.weights, ckpt.tokenizer, Path(args.model).name
        else:
            config, weights, tokenizer = _tiny_model(args.seed)
            what = f"a fresh tiny GPT (n_embd {config.n_embd}, {config.n_head} head, vocabulary 'aem' + BOS)"
        target = args.target if args.target is not None else tokenizer.chars[0]
        graph.check_target(tokenizer, target)
        root, names = graph.model_example(weights, config, tokenizer, target)
        title = f"{what}: loss of BOS -> {target!r} at position 0, every Value with its data and grad"
    else:
        root, names = graph.worked_example(args.a, args.b)
        title = (f"L = a*b + a with a = {args.a:g}, b = {args.b:g}: data flows forward, grad backward; "
                 "edges carry the local derivative")
    text, n = graph.to_dot(root, names, title)
    dot_path = out.with_suffix(".dot")
    atomic_write_text(dot_path, text)
    print(f"wrote {dot_path} ({n} nodes)")
    if out.suffix.lower() == ".dot":
        return 0
    if n > graph.MAX_RENDER_NODES:
        print(f"not rendering {out}: {n} nodes is more than {graph.MAX_RENDER_NODES} can be drawn legibly "
              "(try 'microgpt graph --tiny')")
        return 0
    if graph.dot_program() is None:
        print(f"Graphviz's dot program is not installed, so {out} was not drawn; install graphviz (e.g. "
              f"apt-get install graphviz) or render the DOT elsewhere: dot -T{out.suffix[1:]} {dot_path} -o {out}")
        return 0
    graph.render(dot_path, out)
    print(f"wrote {out}")
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
    from microgpt.cli import add_engine_options

    add_engine_options(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("plot", help="pictures: loss curves of runs, or a model's attention, bigrams, next char",
                       description="Draw a PNG or SVG (by the extension of --out) into the current folder. "
                                   "Given run logs (train --log JSONL, or ladder JSON): their loss curves, "
                                   "overlaid. Given a MODEL and one view flag: that view of the model. "
                                   "Needs matplotlib: pip install 'microgpt[plot]'.")
    p.add_argument("inputs", metavar="RUN_OR_MODEL", nargs="+",
                   help="run logs to overlay, or one checkpoint with a view flag")
    view = p.add_argument_group("views of a model")
    view.add_argument("--attention", metavar="TEXT",
                      help="attention weights reading BOS + TEXT: one heatmap per layer and head")
    view.add_argument("--bigram", action="store_true",
                      help="the training data's bigram counts over the model's vocabulary")
    view.add_argument("--next", metavar="PREFIX",
                      help="the next-character distribution after BOS + PREFIX ('' for the first character)")
    view.add_argument("--temperature", type=_nonneg_float, default=None, metavar="T",
                      help="with --next: the sampling temperature drawn beside T = 1.0 (default: 0.5)")
    view.add_argument("--data", metavar="FILE",
                      help="with --bigram: the training data (default: the path the checkpoint recorded)")
    p.add_argument("--smooth", type=_positive_int, metavar="N", default=None,
                   help="loss curves: running mean over N steps (default: about 1/25 of the run)")
    p.add_argument("--out", metavar="PATH", help="where to write the picture, .png or .svg")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("graph", help="the Value computation graph with data and grad on every node",
                       description="Write the autograd graph as Graphviz DOT text, and draw it as SVG or PNG "
                                   "when Graphviz's dot is installed. Default: the worked example "
                                   "L = a*b + a. With --model or --tiny: the loss of one token (BOS at "
                                   "position 0 predicting --target) through a GPT.")
    p.add_argument("-a", type=_finite_float, default=2.0, help="worked example: value of a (default: 2)")
    p.add_argument("-b", type=_finite_float, default=3.0, help="worked example: value of b (default: 3)")
    p.add_argument("--model", metavar="MODEL", help="a checkpoint (keep it tiny: every scalar is a node)")
    p.add_argument("--tiny", action="store_true",
                   help="a fresh GPT with n_embd 2, 1 head, 1 layer, vocabulary 'aem' (under 300 nodes)")
    p.add_argument("--target", metavar="CHAR", help="the character BOS should predict (default: the first "
                                                    "of the vocabulary)")
    p.add_argument("--seed", type=int, default=42, help="init seed for --tiny (default: 42)")
    p.add_argument("--out", metavar="PATH",
                   help="graph.svg by default; .png also works, .dot writes only the DOT text (the .dot "
                        "beside an image is always written)")
    p.set_defaults(func=cmd_graph)


