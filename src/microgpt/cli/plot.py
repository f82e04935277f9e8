"""`microgpt plot`: loss curves of run logs, or a picture of one model
(--attention, --bigram, --next). The figures are inspection/plots/."""

from microgpt.cli.args import check_pictures, nonneg_float, positive_int
from microgpt.errors import UsageError


def _safe_stem(text):
    """A file-name fragment from user text: letters and digits kept, the rest '_'."""
    stem = "".join(ch if ch.isalnum() else "_" for ch in text)[:40]
    return stem or "start"


def _picture_default(args):
    """The picture's name when --out is not given (in the current folder)."""
    if args.attention is not None:
        return f"attention_{_safe_stem(args.attention)}.png"
    if args.bigram:
        return "bigram.png"
    if args.next is not None:
        return f"next_{_safe_stem(args.next)}.png"
    return "loss.png"


MAX_BARS = 128  # a bigram table or a bar per token past this is unreadable (a large BPE vocabulary)


def cmd_plot(args):
    from pathlib import Path

    from microgpt.files import checkpoint
    from microgpt.inspection.plots import check_out, save

    views = [v for v in (args.attention is not None, args.bigram, args.next is not None) if v]
    if len(views) > 1:
        raise UsageError("pick one view of a model: --attention TEXT, --bigram or --next PREFIX")
    out = check_out(args.out or _picture_default(args))  # a wrong extension fails before any work
    if args.temperature is not None and args.next is None:
        raise UsageError("--temperature goes with --next PREFIX")
    if args.temperature is not None:
        from microgpt.sample import check_temperature

        check_temperature(args.temperature)
    if args.data and not args.bigram:
        raise UsageError("--data goes with --bigram")
    check_pictures(args, [out], [*args.inputs, args.data])
    if args.smooth is not None and views:
        raise UsageError("--smooth goes with run logs (loss curves), not with a view of a model")
    if not views:
        from microgpt.inspection.plots.loss import loss_figure
        from microgpt.inspection.plots.runs import read_runs

        runs = [r for path in args.inputs for r in read_runs(path)]
        for line in [line for r in runs for line in r.summary()]:
            print(f"note: {line}")
        fig = loss_figure(runs, args.smooth)
    else:
        if len(args.inputs) != 1:
            raise UsageError("a model view takes exactly one MODEL")
        model = args.inputs[0]
        ckpt = checkpoint.load(model)
        name = Path(model).name
        if ckpt.tokenizer.vocab_size > MAX_BARS and (args.bigram or args.next is not None):
            raise UsageError(f"--{'bigram' if args.bigram else 'next'} draws every token of the vocabulary, and "
                             f"{name} has {ckpt.tokenizer.vocab_size} (at most {MAX_BARS} are legible); "
                             "'microgpt score' and 'microgpt architecture' show its most likely tokens")
        if args.attention is not None:
            from microgpt.inspection.plots.attention import attention_figure

            fig = attention_figure(ckpt.weights, ckpt.config, ckpt.tokenizer, args.attention,
                                   f"Attention of {name} reading BOS + {args.attention!r}")
        elif args.bigram:
            fig = _bigram(ckpt, name, args.data, model)
        else:
            from microgpt.inspection.plots.next_char import next_figure

            t = 0.5 if args.temperature is None else args.temperature
            fig = next_figure(ckpt.weights, ckpt.config, ckpt.tokenizer, args.next, t,
                              f"{name}: the next character after BOS + {args.next!r}")
    out = save(fig, out)
    print(f"wrote {out}")
    return 0


def _bigram(ckpt, name, data_arg, model_path):
    from microgpt import provenance
    from microgpt.inspection.plots.bigram import bigram_counts, bigram_figure

    data = provenance.find(ckpt, data_arg, model_path)
    if data is None:
        raise UsageError(f"the bigram table needs the training data: {provenance.unknown_reason(ckpt)}")
    docs, which = (data.train, "training split") if data.exact else (data.docs, "all documents")
    counts = bigram_counts(ckpt.tokenizer, docs)
    title = f"Bigram counts: {which} of {data.path.name} ({len(docs):,} documents), vocabulary of {name}"
    return bigram_figure(ckpt.tokenizer, counts, title)



def register(sub):
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
    view.add_argument("--temperature", type=nonneg_float, default=None, metavar="T",
                      help="with --next: the sampling temperature drawn beside T = 1.0 (default: 0.5)")
    view.add_argument("--data", metavar="FILE",
                      help="with --bigram: the training data (default: the path the checkpoint recorded)")
    p.add_argument("--smooth", type=positive_int, metavar="N", default=None,
                   help="loss curves: running mean over N steps (default: about 1/25 of the run)")
    p.add_argument("--out", metavar="PATH",
                   help="where to write the picture, .png or .svg (default: a name from the view, e.g. "
                        "loss.png); it may replace a picture of the same format, other files only with --force")
    p.add_argument("--force", action="store_true", help="let --out replace an existing file that is not a "
                                                        "picture of its format (never an input, a folder or a device)")
    p.set_defaults(func=cmd_plot)
