"""`microgpt graph`: the Value graph, of the worked example L = a*b + a or of one token
through a GPT, as DOT (drawn when Graphviz is installed). The graph itself is inspection/value_graph.py."""

from microgpt.cli.args import check_pictures, finite_float
from microgpt.errors import MicroGPTError, UsageError


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

    from microgpt.files import checkpoint
    from microgpt.files.atomic import atomic_write_text
    from microgpt.inspection import value_graph as graph

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
