"""What each view of the explorer shows, as plain JSON data.

Every number comes from the library: the model card from the checkpoint and
the run logs, a string's reading from Model.score and Model.trace, the
step-by-step sample from sample.generate itself (through its on_step hook), the
embeddings from the weights. The page only draws; nothing is computed twice.

Each function takes an `Explored` (a loaded model and what is known about its
data) and the request's arguments, already parsed, and returns a dict. Bad
arguments raise UsageError, which the server answers with a 400.
"""

import math
import random
from importlib.util import find_spec

from microgpt import evaluation
from microgpt import sample as sampling
from microgpt.ablation import Ablation, surprise_change
from microgpt.api import Model
from microgpt.errors import UsageError
from microgpt.explore.backprop import worked_example
from microgpt.explore.embeddings import pca_2d, similarity
from microgpt.inspection import novelty
from microgpt.inspection.differences import compare
from microgpt.inspection.plots.runs import default_window, smooth
from microgpt.ladder.claims import format_verdict
from microgpt.model import iter_parameter_shapes, num_params, parameter_shapes
from microgpt.provenance import TrainingData, seen_phrase

CARD_SAMPLES = 20  # as many as `microgpt train` prints at its end
SAMPLE_CHARS = 80  # a text model's step-by-step passage
MAX_CURVE_POINTS = 2000  # a longer log is thinned evenly for the page (its last step kept)


class Explored:
    """One model the explorer serves: `id` names it in every request."""

    def __init__(self, id, path, model, training_data=None, data_note=""):
        self.id = id
        self.path = path
        self.model = model
        self.training_data = training_data  # provenance's TrainingData/TrainingText, or None
        self.data_note = data_note  # why the training data is unknown, when it is
        self._cache = {}

    def cached(self, key, compute):
        """What depends on the weights alone is computed once (they never change here)."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


def vocab_labels(tokenizer):
    """Each token id's label: its character (or a BPE token's text), "BOS" last."""
    return [tokenizer.label(i) for i in range(tokenizer.vocab_size)]


def summary(ex):
    """GET /api/models: one entry per model."""
    m = ex.model
    c = m.config
    return {
        "id": ex.id,
        "name": ex.path.name,
        "config": {"n_embd": c.n_embd, "n_head": c.n_head, "head_dim": c.head_dim, "n_layer": c.n_layer,
                   "block_size": c.block_size, "vocab_size": c.vocab_size},
        "params": num_params(c),
        "is_text": m.is_text,
        "tokenizer": m.tokenizer.to_dict()["type"],  # "char" or "bpe"
        "vocab": vocab_labels(m.tokenizer),
        "training": m.training.to_dict(),
    }


def card(ex, runs):
    """GET /api/card: the parameter tree, the starting loss, samples marked new
    or seen, and the loss curves of the run logs named on the command line."""
    return ex.cached("card", lambda: _card(ex, runs))


def _card(ex, runs):
    m = ex.model
    shapes = [{"name": name, "shape": [r, c], "count": r * c} for name, (r, c) in iter_parameter_shapes(m.config)]
    samples = m.sample(CARD_SAMPLES, chars=SAMPLE_CHARS if m.is_text else None)
    marked = [{"text": s, "mark": novelty.mark(ex.training_data, s) if ex.training_data else "unknown"}
              for s in samples]
    return {
        **summary(ex),
        "parameters": shapes,
        "start_loss": math.log(m.config.vocab_size),
        "samples": marked,
        "samples_note": "" if ex.training_data else ex.data_note,
        "sampling": {"n": CARD_SAMPLES, "temperature": sampling.TEMPERATURE, "seed": sampling.SEED},
        "runs": [curve(r) for r in runs],
        "divergence": divergences(runs),
        "architecture": architecture(m.config),
    }


def architecture(config):
    """The model's diagram, from its config: its blocks in the order the stream
    passes them, each with its widths, the matrices it owns and their parameter
    count, and the view that shows it at work. Every matrix belongs to exactly
    one block, so the counts sum to the model's (a test holds this)."""
    n, hidden = config.n_embd, 4 * config.n_embd
    shapes = parameter_shapes(config)

    def block(kind, label, widths, matrices, view, layer=None):
        owned = [{"name": name, "shape": list(shapes[name])} for name in matrices]
        return {"kind": kind, "label": label, "widths": widths, "layer": layer, "matrices": owned,
                "params": sum(r * c for r, c in (shapes[name] for name in matrices)), "view": view}

    blocks = [block("wte", "token embedding wte", f"{config.vocab_size} tokens → {n}", ["wte"], "embeddings"),
              block("wpe", "position embedding wpe", f"{config.block_size} positions → {n}", ["wpe"], "embeddings"),
              block("norm", "RMSNorm", f"{n} → {n}", [], "forward")]
    for li in range(config.n_layer):
        blocks += [block("norm", "RMSNorm", f"{n} → {n}", [], "forward", li),
                   block("attention", f"attention: {config.n_head} heads × {config.head_dim}", f"{n} → {n}",
                         [f"layer{li}.attn_{w}" for w in ("wq", "wk", "wv", "wo")], "stages", li),
                   block("norm", "RMSNorm", f"{n} → {n}", [], "forward", li),
                   block("mlp", f"MLP, {config.activation}", f"{n} → {hidden} → {n}",
                         [f"layer{li}.mlp_fc1", f"layer{li}.mlp_fc2"], "forward", li)]
    blocks.append(block("lm_head", "lm_head", f"{n} → {config.vocab_size} logits", ["lm_head"], "read"))
    return {"blocks": blocks, "params": num_params(config), "n_head": config.n_head, "head_dim": config.head_dim}


def divergences(runs, tol=0.0):
    """Where each run log first parts from the first one (as `microgpt diff A B` finds
    it): the first step both hold whose losses differ beyond tol, or None."""
    out = []
    for other in runs[1:]:
        base = runs[0]
        s = compare(dict(zip(base.steps, base.losses)), dict(zip(other.steps, other.losses)), tol)
        first = None if s.first is None else {"step": s.first.step, "a": _finite(s.first.a), "b": _finite(s.first.b),
                                               "delta": _finite(s.first.delta)}
        out.append({"a": base.label, "b": other.label, "compared": s.compared, "first": first, "tol": tol})
    return out


def _finite(x):
    return x if x is not None and math.isfinite(x) else None


def curve(run):
    """A run log's losses as the page draws them (None where a loss was not finite)."""
    steps, losses = run.steps, run.losses
    thinned = len(steps) > MAX_CURVE_POINTS
    if thinned:
        keep = sorted({round(i * (len(steps) - 1) / (MAX_CURVE_POINTS - 1)) for i in range(MAX_CURVE_POINTS)})
        steps, losses = [steps[i] for i in keep], [losses[i] for i in keep]
    finite = lambda xs: [x if math.isfinite(x) else None for x in xs]  # noqa: E731
    window = default_window(len(run.losses))
    smoothed = smooth(run.losses, window)
    if thinned:
        smoothed = [smoothed[i] for i in keep]
    stats_steps, stats = run.stats_steps, run.stats
    if len(stats_steps) > MAX_CURVE_POINTS:  # thinned as the losses are
        keep = sorted({round(i * (len(stats_steps) - 1) / (MAX_CURVE_POINTS - 1)) for i in range(MAX_CURVE_POINTS)})
        stats_steps = [stats_steps[i] for i in keep]
        stats = {name: {field: [column[i] for i in keep] for field, column in columns.items()}
                 for name, columns in stats.items()}
    return {"label": run.label, "steps": steps, "losses": finite(losses), "smoothed": finite(smoothed),
            "window": window, "val_steps": run.val_steps,
            "val_losses": finite(run.val_losses), "thinned_from": len(run.steps) if thinned else None,
            "notes": run.notes, "stats_steps": stats_steps,
            "stats": {name: {field: finite(column) for field, column in columns.items()}
                      for name, columns in stats.items()}}


def score(ex, text):
    """GET /api/score: the same numbers `microgpt score --json` prints."""
    return {**ex.model.score(text).to_dict(), "in_training_data": seen_phrase(ex.training_data, text)}


def trace(ex, text):
    """GET /api/trace: Model.trace as JSON."""
    return ex.model.trace(text).to_dict()


def next_distribution(ex, text, pos, temperature, top_k):
    """GET /api/next: the distribution at one position of the string, reshaped
    by a temperature and top-k exactly as sampling reshapes it."""
    sampling.check_sampling_args(ex.model.tokenizer, ex.model.config, temperature, top_k, "")
    t = ex.model.trace(text)
    if not 0 <= pos < len(t.positions):
        raise UsageError(f"position {pos} is not in the string: it has positions 0 to {len(t.positions) - 1}")
    at = t.positions[pos]
    probs = greedy(at.logits) if temperature == 0 else drawn(sampling.next_token_probs(at.logits, temperature, top_k))
    return {"pos": pos, "context": t.tokens[:pos + 1], "next": at.next, "vocab": t.vocab, "probs": probs,
            "plain": at.probs, "temperature": temperature, "top_k": top_k}


def drawn(weights):
    """The probabilities random.choices draws with from sampling's weights (top-k
    leaves them summing to less than 1)."""
    total = math.fsum(weights)
    return [w / total for w in weights]


def greedy(logits):
    """Temperature 0: all the probability on the most likely token, as sampling picks it."""
    best = max(range(len(logits)), key=logits.__getitem__)
    return [float(i == best) for i in range(len(logits))]


def sample_steps(ex, seed, temperature, top_k, prefix, top_p=None):
    """GET /api/sample: one sample drawn as `microgpt sample -n 1` draws it, with
    the distribution and the choice at every step."""
    m = ex.model
    tok = m.tokenizer
    sampling.check_sampling_args(tok, m.config, temperature, top_k, "" if m.is_text else prefix, top_p=top_p)
    vocab = vocab_labels(tok)
    steps = []

    def on_step(pos, probs, token):
        probs = drawn(probs)
        steps.append({"pos": pos, "probs": probs, "choice": vocab[token], "p": probs[token],
                      "forced": not m.is_text and pos < len(prefix)})

    rng = random.Random(seed)
    if m.is_text:
        prefix = prefix or sampling.default_text_prefix(tok)
        text = sampling.generate_text(m.engine, tok, rng, SAMPLE_CHARS, temperature, top_k, prefix, on_step, top_p)
    else:
        text = sampling.generate(m.engine, tok, rng, temperature, top_k, prefix, on_step, top_p)
    return {"text": text, "prefix": prefix, "vocab": vocab, "steps": steps, "seed": seed,
            "temperature": temperature, "top_k": top_k, "top_p": top_p}


def embeddings(ex):
    """GET /api/embeddings: wte projected onto its two principal components, and
    the cosine similarity of every pair of position embeddings."""
    return ex.cached("embeddings", lambda: _embeddings(ex))


def _embeddings(ex):
    w = ex.model.checkpoint.weights
    points, explained = pca_2d(w["wte"])
    labels = vocab_labels(ex.model.tokenizer)
    return {"tokens": [{"token": t, "x": x, "y": y} for t, (x, y) in zip(labels, points)],
            "explained": explained, "wpe_similarity": similarity(w["wpe"])}


def backprop(a, b):
    """GET /api/backprop: the worked example's graph and each step of backward()."""
    return worked_example(a, b)


def ablation_reading(ex, spec, text):
    """GET /api/ablate: the string read by the model intact and with `spec`'s parts
    switched off (ablation.py), the change in each character's surprise."""
    m = ex.model
    ab = Ablation.parse(spec, m.config)
    intact, ablated = m.score(text), m.ablate(ab).score(text)
    finite = lambda x: x if x is not None and math.isfinite(x) else None  # noqa: E731
    rows = [{k: finite(v) if isinstance(v, float) else v for k, v in r.items()}
            for r in surprise_change(intact, ablated)]
    return {"spec": str(ab), "description": ab.describe(), "text": text, "rows": rows,
            "total": finite(intact.total), "total_ablated": finite(ablated.total)}


def ablation_eval(ex, spec, emit):
    """GET /api/ablate/eval: the validation loss intact and ablated, over the
    held-out documents the model was trained with, on the numpy engine when it
    is installed (the pure-Python forward otherwise); emit({...}) follows the
    progress. Returns the result."""
    m = ex.model
    ab = Ablation.parse(spec, m.config)
    held = _held_out(ex)
    engine = "numpy" if find_spec("numpy") is not None else m.engine_name
    fast = Model(m.checkpoint, engine, path=m.path)
    result = {"spec": str(ab), "description": ab.describe(), "what": held.what, "engine": engine}
    for key, model in (("intact", fast), ("ablated", fast.ablate(ab))):
        n = len(held.batch)

        class Progress:
            def update(self, done, loss, key=key):
                emit({"type": "progress", "part": key, "done": done, "total": n, "loss": loss})

        loss, _, tokens = evaluation.evaluate(model.engine, held.batch, Progress())
        result[key], result["tokens"] = loss, tokens
    result["change"] = result["ablated"] - result["intact"]
    return result


def _held_out(ex):
    """The held-out split, from the data named on the command line (nothing else is read)."""
    data = ex.training_data
    if data is None:
        raise UsageError(f"the validation data of {ex.path.name} is unknown: start explore with --data FILE")
    if isinstance(data, TrainingData):
        if not data.exact or not data.val:
            raise UsageError(f"the validation split of {ex.path.name} cannot be rebuilt from {data.path}")
        return evaluation.HeldOut(evaluation.encode_all(ex.model.tokenizer, data.val),
                                  f"the {len(data.val):,} held-out documents of {data.path.name}", "val loss", "docs")
    return evaluation.held_out(ex.model.checkpoint, None, ex.path)  # a text: its held-out last 10%


def ladder(lad):
    """GET /api/ladder: the ladder's table, its claims' verdicts, each rung's
    losses, and which GPT rungs' models are open (their ids)."""
    keys = ("rung", "idea", "params", "steps", "val_loss", "val_ppl", "seconds")
    return {"path": lad.path.name, "table": [{k: r.get(k) for k in keys} for r in lad.results],
            "claims": [{"holds": v.get("holds"), "line": format_verdict(v)} for v in lad.claims],
            "runs": [curve(r) for r in lad.runs], "models": [ex.id for ex in lad.explored]}
