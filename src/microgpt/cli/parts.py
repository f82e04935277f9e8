"""`microgpt dataset | tokenizer | autograd | parameters | architecture`: one part of the
system at a time, as text (the views themselves are inspection/part_views.py)."""

import random

from microgpt.cli.args import add_data_arg, add_model_args, finite_float, nonneg_int, positive_int
from microgpt.config import GPTConfig, defaults
from microgpt.errors import UsageError


def cmd_dataset(args):
    from microgpt.data import read_docs, resolve_data_path
    from microgpt.inspection.part_views import dataset_view

    path = resolve_data_path(args.data)
    print(dataset_view(read_docs(path), path, args.seed, args.n))
    return 0


def cmd_tokenizer(args):
    from microgpt.data import read_docs, resolve_data_path
    from microgpt.files import checkpoint
    from microgpt.inspection.part_views import bpe_view, tokenizer_view
    from microgpt.tokenizer import Tokenizer

    if args.bpe:
        return _bpe_view(args)
    if args.vocab_size is not None or args.as_text or args.merges is not None:
        flag = "--vocab-size" if args.vocab_size is not None else "--as-text" if args.as_text else "--merges"
        raise UsageError(f"{flag} goes with --bpe MODEL_OR_DATA")
    if args.model and args.data:
        raise UsageError("--model's tokenizer or one built from --data: give one of them")
    if args.model:
        tok = checkpoint.load(args.model).tokenizer
        if tok.kind == "bpe":  # the same view as --bpe MODEL: the merges it learned, and the text in tokens
            print(bpe_view(tok, args.text, f"the model {args.model}", 20))
            return 0
    else:
        tok = Tokenizer.from_docs(read_docs(resolve_data_path(args.data)))
    print(tokenizer_view(tok, args.text))
    return 0


def _bpe_view(args):
    """--bpe: a BPE model's merges, or those `train --tokenizer bpe` would learn from a data file."""
    import random
    from pathlib import Path

    from microgpt.batches import Documents, TextWindows, check_tokenizer
    from microgpt.data import read_docs, read_text, resolve_data_path
    from microgpt.files import checkpoint
    from microgpt.inspection.part_views import bpe_view

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
    from microgpt.inspection.part_views import autograd_view

    print(autograd_view(args.a, args.b))
    return 0


FRESH_BYTES_PER_PARAM = 48
FRESH_DEFAULTS = {**defaults(GPTConfig), "seed": 42}  # (vocab_size has none: it comes from the data)
FRESH_FLAGS = ("n_embd", "n_head", "n_layer", "block_size", "data", "seed")


def _model_or_fresh(args, weights=True):
    """A saved model, or a freshly initialised one over the dataset's vocabulary
    (with weights=False, its config and tokenizer only: no weights drawn)."""
    from microgpt.files import checkpoint

    fresh = {k: getattr(args, k) for k in FRESH_FLAGS if getattr(args, k) is not None}
    if args.model:
        if fresh:  # a saved model fixes all of them: they would be silently ignored
            flag = "--" + next(iter(fresh)).replace("_", "-")
            raise UsageError(f"{flag} describes a fresh model; --model {args.model} fixes its own (drop {flag})")
        ckpt = checkpoint.load(args.model)
        return ckpt.config, ckpt.weights, ckpt.tokenizer
    for k, v in FRESH_DEFAULTS.items():
        setattr(args, k, fresh.get(k, v))
    from microgpt.data import read_docs, resolve_data_path
    from microgpt.files import resources
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
    from microgpt.inspection.part_views import parameters_view

    print(parameters_view(_model_or_fresh(args, weights=False)[0]))
    return 0


def cmd_architecture(args):
    from microgpt.inspection.part_views import architecture_view

    config, weights, tok = _model_or_fresh(args)
    print(architecture_view(weights, config, tok, args.text))
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
