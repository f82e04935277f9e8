"""Ablation: switch off a part of a trained model and see what it was doing.

    ab = Ablation.parse("head:0.2,mlp:1", config)   # head 2 of layer 0 zeroed, layer 1's MLP skipped
    ablated = microgpt.load("m.json").ablate("head:0.2")
    ablated.score("emma"), ablated.trace("emma"), ablated.evaluate(), ablated.sample(5)

The parts, written as `microgpt eval --ablate` and `score --ablate` take them
(several joined with commas; L a layer, H a head, counted from 0; `*` for
every layer or every head):

    head:L.H     zero head H of layer L: its share of the attention output is 0
    attn:L       skip layer L's attention: the stream goes past it unchanged
    mlp:L        skip layer L's MLP
    resid-attn:L drop the residual around layer L's attention: its output
                 replaces the stream instead of adding to it
    resid-mlp:L  the same around layer L's MLP
    wpe          drop the position embeddings (wpe read as zeros)

The pure-Python forward (forward.gpt's `ablate=`) is the reference; the numpy
engine computes the same ablated loss a batch at a time (NumpyEngine.ablated_nll).
`attn:L` and `resid-attn:L` together are refused: a skipped sublayer has no
output to replace the stream with (the same for the MLP).
"""

from dataclasses import dataclass, field, fields

from microgpt import forward
from microgpt.errors import UsageError

PARTS = "head:L.H, attn:L, mlp:L, resid-attn:L, resid-mlp:L, wpe"
LAYER_PARTS = {"attn": "attn", "mlp": "mlp", "resid-attn": "resid_attn", "resid-mlp": "resid_mlp"}


@dataclass(frozen=True)
class Ablation:
    """What is switched off. Falsy when nothing is: then the model is intact, bit for bit."""

    heads: frozenset = field(default_factory=frozenset)  # (layer, head) pairs
    attn: frozenset = field(default_factory=frozenset)  # layers
    mlp: frozenset = field(default_factory=frozenset)
    resid_attn: frozenset = field(default_factory=frozenset)
    resid_mlp: frozenset = field(default_factory=frozenset)
    wpe: bool = False

    @classmethod
    def parse(cls, spec, config=None):
        """An Ablation from "head:0.2,attn:1,wpe" (an empty spec is the intact model).
        Given the model's config, layers and heads are checked against it and `*` is
        allowed; a bad spec raises a one-line UsageError."""
        if isinstance(spec, Ablation):
            return spec.checked(config) if config is not None else spec
        if not isinstance(spec, str):
            raise UsageError(f"an ablation is a string like 'head:0.2,mlp:0', got {spec!r}")
        parts = {f.name: set() for f in fields(cls) if f.name != "wpe"}
        wpe = False
        for item in (s.strip() for s in spec.split(",")):
            if not item:
                continue
            kind, _, arg = item.partition(":")
            kind = kind.strip().lower()
            if kind == "wpe":
                if arg:
                    raise UsageError(f"ablation {item!r}: wpe takes no layer (the position embeddings are shared)")
                wpe = True
            elif kind == "head":
                layer, dot, head = arg.partition(".")
                if not dot:
                    raise UsageError(f"ablation {item!r}: a head is written head:LAYER.HEAD, e.g. head:0.2")
                parts["heads"] |= {(li, h) for li in _indices(item, layer, "layer", config and config.n_layer)
                                   for h in _indices(item, head, "head", config and config.n_head)}
            elif kind in LAYER_PARTS:
                parts[LAYER_PARTS[kind]] |= set(_indices(item, arg, "layer", config and config.n_layer))
            else:
                raise UsageError(f"unknown ablation {item!r}; the parts are: {PARTS} (comma-separated)")
        ab = cls(**{k: frozenset(v) for k, v in parts.items()}, wpe=wpe)
        return ab.checked(config) if config is not None else ab._consistent()

    def checked(self, config):
        """self, if every layer and head exists in a model of `config`; else a one-line UsageError."""
        for li, h in sorted(self.heads):
            _in_range(f"head:{li}.{h}", li, "layer", config.n_layer)
            _in_range(f"head:{li}.{h}", h, "head", config.n_head)
        for name, attr in LAYER_PARTS.items():
            for li in sorted(getattr(self, attr)):
                _in_range(f"{name}:{li}", li, "layer", config.n_layer)
        return self._consistent()

    def _consistent(self):
        for skipped, resid, name in ((self.attn, self.resid_attn, "attn"), (self.mlp, self.resid_mlp, "mlp")):
            both = sorted(skipped & resid)
            if both:
                li = both[0]
                raise UsageError(f"ablation {name}:{li} with resid-{name}:{li}: a skipped sublayer has no output "
                                 "to replace the stream with; choose one")
        return self

    def __bool__(self):
        return bool(self.wpe or self.heads or self.attn or self.mlp or self.resid_attn or self.resid_mlp)

    def __or__(self, other):
        """Both ablations at once."""
        return Ablation(**{f.name: getattr(self, f.name) | getattr(other, f.name) for f in fields(self)})._consistent()

    def __str__(self):
        """The canonical spec: Ablation.parse(str(ab)) == ab; "" when intact."""
        items = [f"head:{li}.{h}" for li, h in sorted(self.heads)]
        for name, attr in LAYER_PARTS.items():
            items += [f"{name}:{li}" for li in sorted(getattr(self, attr))]
        return ",".join(items + (["wpe"] if self.wpe else []))

    def describe(self):
        """In words: 'head 2 of layer 0 zeroed; layer 1's MLP skipped'."""
        words = [f"head {h} of layer {li} zeroed" for li, h in sorted(self.heads)]
        words += [f"layer {li}'s attention skipped" for li in sorted(self.attn)]
        words += [f"layer {li}'s MLP skipped" for li in sorted(self.mlp)]
        words += [f"layer {li}'s attention without its residual" for li in sorted(self.resid_attn)]
        words += [f"layer {li}'s MLP without its residual" for li in sorted(self.resid_mlp)]
        words += ["no position embeddings"] if self.wpe else []
        return "; ".join(words) or "nothing switched off"


def _indices(item, text, what, count):
    """The numbers `text` names: one index, or every one for `*` (which needs the model's count)."""
    text = text.strip()
    if text == "*":
        if count is None:
            raise UsageError(f"ablation {item!r}: '*' needs the model, to know how many {what}s it has")
        return range(count)
    if not text.isdigit():
        raise UsageError(f"ablation {item!r}: the {what} must be a number counted from 0 (or *), got {text!r}")
    index = int(text)
    if count is not None:
        _in_range(item, index, what, count)
    return [index]


def _in_range(item, index, what, count):
    if not 0 <= index < count:
        scope = "the model has" if what == "layer" else "each layer has"
        raise UsageError(f"ablation {item!r}: {scope} {count} {what}{'s' if count != 1 else ''} "
                         f"(0..{count - 1}), there is no {what} {index}")


class AblatedEngine(forward.FloatInference):
    """The forward-only part of an engine (nll, new_cache, next_logits), with
    `ablation` switched off: the loss through the base engine's ablated_nll when
    it has one (numpy), else through the pure-Python forward; scoring and
    sampling always through the pure-Python forward."""

    def __init__(self, base, ablation):
        self.base = base
        self.config = base.config
        self.ablation = ablation
        self._weights = base.weights()
        fast = getattr(base, "ablated_nll", None)
        self.name = base.name if fast else "python"  # what computes the loss
        self._fast = fast

    def weights(self):
        return self._weights

    def nll(self, batch):
        if self._fast is not None:
            return self._fast(batch, self.ablation)
        return super().nll(batch)


def surprise_change(intact, ablated):
    """Per prediction of one string, scored intact and ablated (two inspection.score.Score):
    [{"pos", "after", "next", "p", "p_ablated", "surprise", "surprise_ablated", "change"}],
    change = ablated surprise - intact surprise (positive: the part helped here)."""
    rows = []
    for (pos, before, nxt, p), (*_, q) in zip(intact.rows, ablated.rows):
        s, t = forward.surprise(p), forward.surprise(q)
        rows.append({"pos": pos, "after": before, "next": nxt, "p": p, "p_ablated": q, "surprise": s,
                     "surprise_ablated": t, "change": t - s})
    return rows
