"""Where two runs, or two models, differ: what `microgpt diff A B` prints, as data.

    d = diff_runs("a.jsonl", "b.jsonl", tol=0.0)   # two `train --log` files
    d.first          # the first step whose losses differ by more than tol: a Divergence, or None
    d.same           # True when every step and validation loss agrees within tol
    d.findings()     # one line per finding, as the command prints them
    d.to_dict()      # plain JSON data (for the explorer: where two runs first diverge)

    d = diff_models("a.json", "b.json")              # two checkpoints
    d.config, d.matrices, d.first_matrix, d.val_loss

Losses are compared step by step, on the steps both logs hold: |a - b| > tol
is a difference (tol 0: any difference at all, bit for bit). A step that is
not a finite number in both (a diverged run) agrees with itself, and differs
from any number. A step one log has and the other has not is a difference
too: a shorter run is not the same run. A resumed run that appended a step
twice keeps its later record, as the run that continued did.
"""

import math
from dataclasses import asdict, dataclass, field

from microgpt import evaluation
from microgpt.engines import DEFAULT_ENGINE, make_engine
from microgpt.errors import MicroGPTError, UsageError
from microgpt.files import checkpoint
from microgpt.inspection.plots.runs import read_runs
from microgpt.model import parameter_shapes


@dataclass
class Divergence:
    step: int
    a: float
    b: float

    @property
    def delta(self):
        return _delta(self.a, self.b)


def _delta(a, b):
    """|a - b|, 0 for two non-finite records (both diverged), inf for one."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return 0.0 if (a != a and b != b) or a == b else math.inf
    return abs(a - b)


@dataclass
class Last:
    step: int
    loss: float


@dataclass
class Series:
    """One kind of loss (per step, or validation) of two runs, side by side."""

    compared: int  # steps both runs hold
    only_a: list  # steps only run A holds
    only_b: list
    first: Divergence | None  # the first compared step that differs beyond tol
    largest: Divergence | None  # the compared step with the largest difference
    final_a: Last | None = None  # A's last record
    final_b: Last | None = None

    @property
    def same(self):
        return self.first is None and not self.only_a and not self.only_b


def compare(a, b, tol):
    """a, b: {step: loss}. A Series."""
    common = sorted(set(a) & set(b))
    first = largest = None
    for step in common:
        d = Divergence(step, a[step], b[step])
        if first is None and d.delta > tol:
            first = d
        if largest is None or d.delta > largest.delta:
            largest = d
    last = lambda s: Last(max(s), s[max(s)]) if s else None  # noqa: E731
    return Series(len(common), sorted(set(a) - set(b)), sorted(set(b) - set(a)), first, largest, last(a), last(b))


@dataclass
class RunDiff:
    a: str
    b: str
    tol: float
    loss: Series
    val: Series
    notes: list = field(default_factory=list)

    @property
    def same(self):
        return self.loss.same and self.val.same

    def to_dict(self):
        return _finite({**asdict(self), "same": self.same})

    def findings(self):
        lines = list(self.notes)
        within = "exactly" if self.tol == 0 else f"within {self.tol:g}"
        lines += _series_lines("loss", self.loss, within)
        if self.val.compared or self.val.only_a or self.val.only_b:
            lines += _series_lines("val loss", self.val, within)
        lines.append("same: the runs agree " + within if self.same else "different")
        return lines


def _series_lines(what, s, within):
    out = []
    if s.first is not None:
        f = s.first
        out.append(f"{what}: first differs at step {f.step}: {_num(f.a)} vs {_num(f.b)} (|a-b| {f.delta:.3g})")
    elif s.compared:
        out.append(f"{what}: all {s.compared} steps both runs hold agree {within}")
    out.append(f"{what}: {s.compared} steps compared" + (f"; max |a-b| {s.largest.delta:.3g} at step "
                                                        f"{s.largest.step}" if s.largest else ""))
    for name, only in (("A", s.only_a), ("B", s.only_b)):
        if only:
            out.append(f"{what}: {len(only)} steps only in {name} ({_span(only)})")
    if s.final_a or s.final_b:
        fa, fb = s.final_a, s.final_b
        out.append(f"{what}: final A {_final(fa)} | final B {_final(fb)}")
    return out


def _final(d):
    return f"{_num(d.loss)} (step {d.step})" if d else "none"


def _num(x):
    return f"{x:.6f}" if math.isfinite(x) else str(x)


def _span(steps):
    return f"step {steps[0]}" if len(steps) == 1 else f"steps {steps[0]}..{steps[-1]}"


def _finite(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _by_step(path, steps, losses, what, notes):
    out = {}
    for s, v in zip(steps, losses):
        out[s] = v  # a resumed run may repeat steps: the later record is the one the run went on from
    if len(out) < len(steps):
        notes.append(f"{path}: {len(steps) - len(out)} {what} records repeat an earlier step; the later one is "
                     "compared")
    return out


def read_run(path):
    """(per-step losses, validation losses, notes) of one run log, each loss by its step."""
    runs = read_runs(path, model_hint="diff compares two run logs or two models, not one of each")
    if len(runs) != 1:
        raise UsageError(f"{path} holds {len(runs)} runs; diff compares one run with one run")
    run = runs[0]
    notes = list(run.notes)
    return (_by_step(path, run.steps, run.losses, "loss", notes),
            _by_step(path, run.val_steps, run.val_losses, "val loss", notes), notes)


def diff_runs(path_a, path_b, tol=0.0):
    """A RunDiff of two `train --log` files (or one-run ladder results)."""
    check_tol(tol)
    loss_a, val_a, notes_a = read_run(path_a)
    loss_b, val_b, notes_b = read_run(path_b)
    return RunDiff(str(path_a), str(path_b), tol, compare(loss_a, loss_b, tol), compare(val_a, val_b, tol),
                   notes_a + notes_b)


def check_tol(tol):
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0 or math.isinf(tol):
        raise UsageError(f"--tol must be a finite number >= 0, got {tol!r}")


# ---- two models


@dataclass
class Matrix:
    name: str
    max_abs_diff: float | None  # None when the two shapes differ or one model lacks it
    shape_a: tuple | None
    shape_b: tuple | None


@dataclass
class ModelDiff:
    a: str
    b: str
    tol: float
    config: list  # (field, value in A, value in B) for each field that differs
    tokenizer_same: bool
    steps: tuple  # optimizer steps each model was trained for
    matrices: list  # Matrix, in parameter order
    train_config: list = field(default_factory=list)  # (field, A, B) of the training configs that differ
    val_loss: tuple = (None, None)  # each model's validation loss, or a phrase why it was not computed
    notes: list = field(default_factory=list)

    @property
    def differing(self):
        return [m for m in self.matrices if m.max_abs_diff is None or m.max_abs_diff > self.tol]

    @property
    def first_matrix(self):
        """The first matrix, in parameter order (wte, wpe, lm_head, layer0...), that differs beyond tol."""
        return self.differing[0].name if self.differing else None

    @property
    def same(self):
        return not self.config and self.tokenizer_same and not self.differing

    def to_dict(self):
        return _finite({**asdict(self), "first_matrix": self.first_matrix, "same": self.same})

    def findings(self):
        lines = list(self.notes)
        lines += [f"config: {k} {va} vs {vb}" for k, va, vb in self.config] or ["config: the same"]
        lines.append("tokenizer: the same" if self.tokenizer_same else "tokenizer: differs")
        lines.append(f"trained steps: {self.steps[0]} vs {self.steps[1]}")
        lines += [f"training config: {k} {va} vs {vb}" for k, va, vb in self.train_config]
        for m in self.matrices:
            if m.max_abs_diff is None:
                lines.append(f"weights {m.name}: shape {_shape(m.shape_a)} vs {_shape(m.shape_b)}")
            else:
                lines.append(f"weights {m.name}: max |a-b| {m.max_abs_diff:.3g}")
        n, d = len(self.matrices), len(self.differing)
        within = "exactly" if self.tol == 0 else f"within {self.tol:g}"
        lines.append(f"weights: {d} of {n} matrices differ; the first is {self.first_matrix}" if d
                     else f"weights: all {n} matrices agree {within}")
        va, vb = self.val_loss
        if va is not None or vb is not None:
            change = f" ({vb - va:+.4f})" if isinstance(va, float) and isinstance(vb, float) else ""
            lines.append(f"val loss: {_val(va)} vs {_val(vb)}{change}")
        lines.append("same: the models agree " + within if self.same else "different")
        return lines


def _shape(s):
    return "absent" if s is None else f"{s[0]}x{s[1]}"


def _val(v):
    return f"{v:.4f}" if isinstance(v, float) else f"unknown ({v})"


def max_abs_diff(rows_a, rows_b):
    return max((abs(x - y) for ra, rb in zip(rows_a, rows_b) for x, y in zip(ra, rb)), default=0.0)


def diff_models(path_a, path_b, tol=0.0, evaluate=True):
    """A ModelDiff of two checkpoints; with evaluate, each one's loss on its own held-out split."""
    check_tol(tol)
    a, b = checkpoint.load(path_a), checkpoint.load(path_b)
    config = _fields_differing(a.config.to_dict(), b.config.to_dict())
    ta, tb = (c.training.train_config.to_dict() if c.training.train_config else {} for c in (a, b))
    shapes_a, shapes_b = parameter_shapes(a.config), parameter_shapes(b.config)
    matrices = []
    for name in list(shapes_a) + [n for n in shapes_b if n not in shapes_a]:
        sa, sb = shapes_a.get(name), shapes_b.get(name)
        d = max_abs_diff(a.weights[name], b.weights[name]) if sa == sb else None
        matrices.append(Matrix(name, d, sa, sb))
    val = (_val_loss(a, path_a), _val_loss(b, path_b)) if evaluate else (None, None)
    return ModelDiff(str(path_a), str(path_b), tol, config, a.tokenizer.to_dict() == b.tokenizer.to_dict(),
                     (a.training.steps, b.training.steps), matrices, _fields_differing(ta, tb), val)


def _fields_differing(a, b):
    return [(k, a.get(k), b.get(k)) for k in list(a) + [k for k in b if k not in a] if a.get(k) != b.get(k)]


def _val_loss(ckpt, path):
    """The model's loss on the held-out split it was trained with, or a phrase saying why not."""
    try:  # as Model.evaluate() does it, with the default engine
        held = evaluation.held_out(ckpt, None, path)
        engine = make_engine(DEFAULT_ENGINE, ckpt.config, ckpt.weights)
        return evaluation.measure(engine, ckpt.tokenizer, held.batch).loss
    except MicroGPTError as e:
        return str(e)
