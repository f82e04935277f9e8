"""Looking at one part of the system, or inside a model or a run.

    microgpt dataset | tokenizer | autograd | parameters | architecture
                                     one part at a time, as text (inspection/views.py)
    microgpt plot RUN.jsonl...       loss curves; with a MODEL: --attention, --bigram, --next
    microgpt graph                   the Value graph of L = a*b + a, or of one token through a model
"""

import random

from microgpt.cli.args import add_data_arg, add_model_args, finite_float, nonneg_float, nonneg_int, positive_int
from microgpt.config import GPTConfig, defaults
from microgpt.errors import MicroGPTError, UsageError


def cmd_dataset(args):
    from microgpt.data import read_docs, resolve_data_path
    from microgpt.inspection.views import dataset_view

    path = resolve_data_path(args.data)
    print(dataset_view(read_docs(path), path, args.seed, args.n))
    return 0


def cmd_tokenizer(args):
    from microgpt import checkpoint
    from microgpt.data import read_docs, resolve_data_path
    from microgpt.tokenizer import Tokenizer
    from microgpt.inspection.views import tokenizer_view

    if args.bpe:
        return _bpe_view(args)
    if args.vocab_size is not None or args.as_text or args.merges is not None:
        flag = "--vocab-size" if args.vocab_size is not None else "--as-text" if args.as_text else "--merges"
        raise UsageError(f"{flag} goes with --bpe MODEL_OR_DATA")
    if args.model and args.data:
        raise UsageError("--model's tokenizer or one built from --data: give one of them")
    if args.model:
        tok = checkpoint.load(args.model).tokenizer
    else:
        tok = Tokenizer.from_docs(read_docs(resolve_data_path(args.data)))
    print(tokenizer_view(tok, args.text))
    return 0


def _bpe_view(args):
    """--bpe: a BPE model's merges, or those `train --tokenizer bpe` would learn from a data file."""
    import random
    from pathlib import Path

    from microgpt import checkpoint
    from microgpt.batches import Documents, TextWindows, check_tokenizer
    from microgpt.data import read_docs, read_text, resolve_data_path
    from microgpt.inspection.views import bpe_view

    if args.model or args.data:
        raise UsageError("--bpe MODEL_OR_DATA names what to show; drop --model / --data")
    path = Path(args.bpe)
    if path.suffix in (".json", ".safetensors"):  # a checkpoint
        if args.vocab_size is not None or args.as_text:
            raise UsageError("--vocab-size and --as-text say how to learn from a data file; a model has its merges")
        tok = checkpoint.load(path).tokenizer
        if tok.kind != "bpe":
            raise UsageError(f"{path} has a characters tokenizer, not BPE: 'microgpt tokenizer --model {path}' "
                             "shows it")
        source = f"the model {path}"
    else:
        _, vocab = check_tokenizer("bpe", args.vocab_size)
        path = resolve_data_path(args.bpe)
        if args.as_text:  # as train --text: learned on the text's first 90%
            tok = TextWindows(read_text(path, what="text file"), 1, "bpe", vocab).tokenizer
            what = "the first 90%"
        else:  # as train --data with its default seed and split
            docs = read_docs(path)
            tok = Documents(docs, random.Random(42), None, "bpe", vocab).tokenizer
            what = "the training split (seed 42)"
        asked = "" if vocab == len(tok.merges) + 257 else f"; {vocab} asked, no pair left that occurs twice"
        source = f"{path}, learned on {what} as 'microgpt train' would (vocab size {vocab}{asked})"
    print(bpe_view(tok, args.text, source, args.merges))
    return 0


def cmd_autograd(args):
    from microgpt.inspection.views import autograd_view

    print(autograd_view(args.a, args.b))
    return 0


FRESH_BYTES_PER_PARAM = 48
FRESH_DEFAULTS = {**defaults(GPTConfig), "seed": 42}  # (vocab_size has none: it comes from the data)
FRESH_FLAGS = ("n_embd", "n_head", "n_layer", "block_size", "data", "seed")


def _model_or_fresh(args, weights=True):
    """A saved model, or a freshly initialised one over the dataset's vocabulary
    (with weights=False, its config and tokenizer only: no weights drawn)."""
    from microgpt import checkpoint

    fresh = {k: getattr(args, k) for k in FRESH_FLAGS if getattr(args, k) is not None}
    if args.model:
        if fresh:  # a saved model fixes all of them: they would be silently ignored
            flag = "--" + next(iter(fresh)).replace("_", "-")
            raise UsageError(f"{flag} describes a fresh model; --model {args.model} fixes its own (drop {flag})")
        ckpt = checkpoint.load(args.model)
        return ckpt.config, ckpt.weights, ckpt.tokenizer
    for k, v in FRESH_DEFAULTS.items():
        setattr(args, k, fresh.get(k, v))
    from microgpt import resources
    from microgpt.data import read_docs, resolve_data_path
    from microgpt.model import init_weights, num_params
    from microgpt.tokenizer import Tokenizer

    tok = Tokenizer.from_docs(read_docs(resolve_data_path(args.data)))
    config = GPTConfig(tok.vocab_size, args.n_embd, args.n_head, args.n_layer, args.block_size)
    if not weights:
        return config, None, tok
    # drawn as Python lists of floats, about 40 bytes each (measured), before one forward pass
    n = num_params(config)
    resources.check_bytes(FRESH_BYTES_PER_PARAM * n, f"a fresh model of {n:,} parameters")
    return config, init_weights(config, random.Random(args.seed)), tok


def cmd_parameters(args):
    from microgpt.inspection.views import parameters_view

    print(parameters_view(_model_or_fresh(args, weights=False)[0]))
    return 0


def cmd_architecture(args):
    from microgpt.inspection.views import architecture_view

    config, weights, tok = _model_or_fresh(args)
    print(architecture_view(weights, config, tok, args.text))
    return 0


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


def check_pictures(args, paths, inputs=()):
    """--out (and the files beside it) checked before any work (outputs.py): a picture
    may replace a picture of its own format; anything else needs --force."""
    from microgpt import outputs

    outputs.check_outputs([outputs.Output("--out", p, outputs.picture(p)) for p in paths],
                          [("an input of this command", i) for i in inputs], args.force)


MAX_BARS = 128  # a bigram table or a bar per token past this is unreadable (a large BPE vocabulary)


def cmd_plot(args):
    from pathlib import Path

    from microgpt import checkpoint
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
    from microgpt.inspection import provenance
    from microgpt.inspection.plots.bigram import bigram_counts, bigram_figure

    data = provenance.find(ckpt, data_arg, model_path)
    if data is None:
        raise UsageError(f"the bigram table needs the training data: {provenance.unknown_reason(ckpt)}")
    docs, which = (data.train, "training split") if data.exact else (data.docs, "all documents")
    counts = bigram_counts(ckpt.tokenizer, docs)
    title = f"Bigram counts: {which} of {data.path.name} ({len(docs):,} documents), vocabulary of {name}"
    return bigram_figure(ckpt.tokenizer, counts, title)


def _tiny_model(seed):
    """A fresh GPT small enough that its graph is drawable: vocabulary a, e, m + BOS."""
    import random

    from microgpt.config import GPTConfig
    from microgpt.model import init_weights
    from microgpt.tokenizer import Tokenizer

    tokenizer = Tokenizer("aem")
    config = GPTConfig(tokenizer.vocab_size, n_embd=2, n_head=1, n_layer=1, block_size=4)
    return config, init_weights(config, random.Random(seed)), tokenizer


def _check_graph_flags(args):
    """Each flag belongs to one of the graphs; given with another, it would be silently ignored."""
    model_graph = args.model or args.tiny
    if model_graph and (args.a is not None or args.b is not None):
        raise UsageError("-a and -b set the worked example L = a*b + a; --model and --tiny draw a GPT's graph")
    if not model_graph and args.target is not None:
        raise UsageError("--target goes with --model or --tiny (the worked example has no target)")
    if args.seed is not None and not args.tiny:
        raise UsageError("--seed draws the fresh weights of --tiny" + (f"; --model {args.model} has its own"
                                                                       if args.model else ""))


def cmd_graph(args):
    from pathlib import Path

    from microgpt import checkpoint
    from microgpt.atomic import atomic_write_text
    from microgpt.inspection import graph

    if args.tiny and args.model:
        raise UsageError("--tiny draws a fresh tiny GPT, --model a saved one: give one of them")
    _check_graph_flags(args)
    out = Path(args.out or ("graph_model.svg" if args.model or args.tiny else "graph.svg"))
    if out.suffix.lower() not in (".dot", ".svg", ".png"):
        raise UsageError(f"--out {out}: use .dot (DOT text only), .svg or .png")
    dot_path = out.with_suffix(".dot")
    check_pictures(args, [dot_path] if out == dot_path else [dot_path, out], [args.model])
    if args.model or args.tiny:
        if args.model:
            ckpt = checkpoint.load(args.model)
            config, weights, tokenizer, what = ckpt.config, ckpt.weights, ckpt.tokenizer, Path(args.model).name
        else:
            config, weights, tokenizer = _tiny_model(42 if args.seed is None else args.seed)
            what = f"a fresh tiny GPT (n_embd {config.n_embd}, {config.n_head} head, vocabulary 'aem' + BOS)"
        target = args.target if args.target is not None else tokenizer.label(0) if tokenizer.kind == "char" else "a"
        graph.check_target(tokenizer, target)
        graph.check_memory(config)
        root, names = graph.model_example(weights, config, tokenizer, target)
        title = f"{what}: loss of BOS -> {target!r} at position 0, every Value with its data and grad"
    else:
        a, b = 2.0 if args.a is None else args.a, 3.0 if args.b is None else args.b
        root, names = graph.worked_example(a, b)
        title = (f"L = a*b + a with a = {a:g}, b = {b:g}: data flows forward, grad backward; "
                 "edges carry the local derivative")
    text, n = graph.to_dot(root, names, title)
    atomic_write_text(dot_path, text)
    print(f"wrote {dot_path} ({n} nodes)")
    if out.suffix.lower() == ".dot":
        return 0
    # The picture asked for (or the default one) not drawn is a failure, not a note:
    # a script that goes on to open it must not be told all went well.
    if n > graph.MAX_RENDER_NODES:
        raise MicroGPTError(f"wrote {dot_path}, but not {out}: {n} nodes is more than {graph.MAX_RENDER_NODES} "
                            f"can be drawn legibly (try 'microgpt graph --tiny', or --out {dot_path} for the DOT only)")
    if graph.dot_program() is None:
        raise MicroGPTError(f"wrote {dot_path}, but not {out}: Graphviz's dot program is not installed; install "
                            f"graphviz (e.g. apt-get install graphviz) or render the DOT elsewhere: "
                            f"dot -T{out.suffix[1:]} {dot_path} -o {out}")
    graph.render(dot_path, out)
    print(f"wrote {out}")
    return 0


def register(sub):
    p = sub.add_parser("dataset", help="view: the documents", description="How the data is read, shuffled and split.")
    add_data_arg(p)
    p.add_argument("-n", type=positive_int, default=10, help="documents to show (default: 10)")
    p.add_argument("--seed", type=int, default=42, help="shuffle seed (default: 42)")
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("tokenizer", help="view: text to ids and back", description="Round-trip a text through the tokenizer.")
    p.add_argument("text", nargs="?", default="emma", help="text to encode (default: emma)")
    add_data_arg(p)
    p.add_argument("--model", help="use this checkpoint's tokenizer instead of the data's")
    p.add_argument("--bpe", metavar="MODEL_OR_DATA",
                   help="byte-level BPE: a model's merges (a .json/.safetensors checkpoint), or those learned from a "
                        "data file as 'train --tokenizer bpe' would; shows them in order and TEXT cut into tokens")
    p.add_argument("--vocab-size", type=int, default=None, metavar="N",
                   help="with --bpe DATA: tokens in all, the 256 bytes and BOS included (default: 512)")
    p.add_argument("--as-text", action="store_true",
                   help="with --bpe DATA: read it as 'train --text' does (one text, learned on its first 90%%)")
    p.add_argument("--merges", type=nonneg_int, default=None, metavar="N", help="with --bpe: show the first N merges")
    p.set_defaults(func=cmd_tokenizer)

    p = sub.add_parser("autograd", help="view: backprop on L = a*b + a", description="The worked example of the Value autograd.")
    p.add_argument("-a", type=finite_float, default=2.0, help="value of a (default: 2)")
    p.add_argument("-b", type=finite_float, default=3.0, help="value of b (default: 3)")
    p.set_defaults(func=cmd_autograd)

    for name, func, helptext in [
        ("parameters", cmd_parameters, "view: the parameter tree and total"),
        ("architecture", cmd_architecture, "view: one forward pass, logits and top next tokens"),
    ]:
        p = sub.add_parser(name, help=helptext, description=helptext[6:].capitalize() + ".")
        p.add_argument("--model", help="a saved model (default: a fresh one over the data's vocabulary)")
        add_data_arg(p)
        add_model_args(p, resumable=True)  # (defaults None: given flags are told apart, and refused with --model)
        p.add_argument("--seed", type=int, default=None, help="init seed for a fresh model (default: 42)")
        if name == "architecture":
            p.add_argument("text", nargs="?", default="", help="context after BOS (default: empty)")
        p.set_defaults(func=func)

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

    p = sub.add_parser("graph", help="the Value computation graph with data and grad on every node",
                       description="Write the autograd graph as Graphviz DOT text, and draw it as SVG or PNG "
                                   "when Graphviz's dot is installed. Default: the worked example "
                                   "L = a*b + a. With --model or --tiny: the loss of one token (BOS at "
                                   "position 0 predicting --target) through a GPT.")
    p.add_argument("-a", type=finite_float, default=None, help="worked example: value of a (default: 2)")
    p.add_argument("-b", type=finite_float, default=None, help="worked example: value of b (default: 3)")
    p.add_argument("--model", metavar="MODEL", help="a checkpoint (keep it tiny: every scalar is a node)")
    p.add_argument("--tiny", action="store_true",
                   help="a fresh GPT with n_embd 2, 1 head, 1 layer, vocabulary 'aem' (under 300 nodes)")
    p.add_argument("--target", metavar="CHAR", help="the character BOS should predict (default: the first "
                                                    "of the vocabulary)")
    p.add_argument("--seed", type=int, default=None, help="init seed for --tiny (default: 42)")
    p.add_argument("--out", metavar="PATH",
                   help="graph.svg by default; .png also works, .dot writes only the DOT text (the .dot "
                        "beside an image is always written). Each may replace a file of its own format "
                        "(SVG, PNG, DOT text); other files only with --force")
    p.add_argument("--force", action="store_true", help="let --out and the .dot beside it replace existing "
                                                        "files of another kind (never a folder or a device)")
    p.set_defaults(func=cmd_graph)
