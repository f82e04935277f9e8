"""The lecture's claims about the ladder, each checked against measured numbers.

The lecture (train0 -> train5) says what each rung should show: the hand
gradients agree with numerical ones, the MLP cannot beat the bigram counts
(same model class) but gets close, autograd changes no number, attention beats
both, multi-head keeps the parameter count and helps, Adam beats SGD in the
same number of steps. Whether the loss claims hold depends on how long each
rung trained, so every verdict names the steps it was measured at, and a claim
that fails is reported as failing: the table never tells the story by silence.

check(results) takes the rungs' result dicts (as trainK.run returns them) and
gives one verdict per claim. `twin` is train1 rerun at train2's steps, for the
autograd claim when train1 and train2 trained for different numbers of steps.

A claim about val losses is a difference between two rungs, and one seed's
difference can be noise: the seed picks the validation names, the
initialization and the order of the training names. `repeats` (one dict
{rung: result} per seed, the rungs of a pair at equal steps; at least
MIN_SEEDS of them) turns such a claim into a measurement over seeds. For each seed, the difference is taken
in the claim's direction and past its threshold (positive: the claim holds
for that seed); the verdict's `margin` is the mean of those differences and
its `spread` is their range (largest minus smallest). `holds` is True when
the margin exceeds twice the spread, False when it is below minus twice the
spread, and None, "within the noise", in between. Without repeats a
comparison is one seed's: holds is the sign of its margin, and it says so.
Claims that are exact (the gradient check, autograd's equality, the
parameter count) have no margin or spread: a seed does not move them.
"""

GRAD_TOL = 1e-7  # central differences (eps 1e-5, float64) agree to ~1e-10; a wrong derivative is off by >1e-4
SAME_TOL = 1e-9  # train2 repeats train1's arithmetic; only the order of gradient sums differs (~1e-15)
SAME_CLASS_MARGIN = 0.02  # nats: one standard error of the 7,148-prediction val mean is ~0.012
NEAR_FLOOR = 0.1  # nats: "approaches the bigram floor" (after 1000 SGD steps train1 is 0.27 above it)
MIN_SEEDS = 3  # fewer repeats than this and a comparison is one seed's
NOISE_FACTOR = 2  # a margin counts when it is more than this many spreads away from zero
SPREAD_IS = "range (largest minus smallest) over seeds of the per-seed margins"


def _v(x):
    return f"{x:.4f}"


def _pair(a, b):
    """The detail of a val-loss comparison, and the steps when both rungs trained the same number."""
    gap = f", {abs(a['val_loss'] - b['val_loss']):.4f} apart"  # small gaps are within noise: say how small
    if a["steps"] == b["steps"]:
        return f"train{a['rung']} {_v(a['val_loss'])} vs train{b['rung']} {_v(b['val_loss'])}{gap}", a["steps"]
    label = lambda x: (f"train{x['rung']} {_v(x['val_loss'])} after "
                       f"{x['steps']:,} {'names counted' if x['rung'] == 0 else 'steps'}")
    return f"{label(a)} vs {label(b)}{gap}", None


def _verdict(key, rung, claim, holds, detail, steps=None, margin=None, spread=None, per_seed=None):
    return {"key": key, "rung": rung, "claim": claim, "holds": holds, "steps": steps, "detail": detail,
            "margin": margin, "spread": spread, "per_seed": per_seed}


def judge(margins):
    """(margin, spread, holds) from per-seed margins: holds None when the mean is within NOISE_FACTOR spreads of 0."""
    margin = sum(margins) / len(margins)
    spread = max(margins) - min(margins)
    if margin > NOISE_FACTOR * spread:
        return margin, spread, True
    if margin < -NOISE_FACTOR * spread:
        return margin, spread, False
    return margin, spread, None


def check(results, twin=None, repeats=None):
    """One verdict dict per claim, in the lecture's order. repeats: one {rung: result} dict per seed."""
    r = {res["rung"]: res for res in results}
    out = []

    def need(key, rung, claim, *rungs):
        missing = [k for k in rungs if k not in r]
        if missing:
            out.append(_verdict(key, rung, claim, None, "needs " + " and ".join(f"train{k}" for k in missing)))
        return not missing

    def compare(key, rung, claim, a, b, margin_of, trained_pair=False):
        """margin_of(a's val loss, b's val loss) > 0 is the claim; trained_pair: it is about equal steps."""
        if not need(key, rung, claim, a, b):
            return
        pairs = [(rep[a], rep[b]) for rep in repeats or () if a in rep and b in rep]
        if len(pairs) < MIN_SEEDS:
            pairs = [(r[a], r[b])]
        unequal = [(x, y) for x, y in pairs if trained_pair and x["steps"] != y["steps"]]
        if unequal:
            x, y = unequal[0]
            out.append(_verdict(key, rung, claim, None, f"train{a} ran {x['steps']} steps, "
                                f"train{b} {y['steps']}: the claim is about the same steps"))
            return
        per_seed = [{"seed": x.get("seed"), f"train{a}": x["val_loss"], f"train{b}": y["val_loss"],
                     "margin": margin_of(x["val_loss"], y["val_loss"])} for x, y in pairs]
        if len(pairs) == 1:
            m = per_seed[0]["margin"]
            out.append(_verdict(key, rung, claim, m > 0, *_pair(*pairs[0]), margin=m, per_seed=per_seed))
            return
        m, spread, holds = judge([p["margin"] for p in per_seed])
        steps = pairs[0][0]["steps"] if pairs[0][0]["steps"] == pairs[0][1]["steps"] else None
        mean = lambda k: _v(sum(p[f"train{k}"] for p in per_seed) / len(per_seed))
        seeds = ", ".join(str(p["seed"]) for p in per_seed)
        by_seed = ", ".join(f"{p['margin']:+.4f}" for p in per_seed)
        stand_in = [y.get("stand_in") for _, y in pairs if y.get("stand_in")]
        detail = (f"seeds {seeds}: mean train{a} {mean(a)} vs train{b} {mean(b)}, per-seed margins {by_seed}"
                  + (f"; {stand_in[0]}" if stand_in else ""))
        out.append(_verdict(key, rung, claim, holds, detail, steps, m, spread, per_seed))

    claim = "train1's numerical and analytic gradients agree"
    if need("grad_check", 1, claim, 1):
        diff = r[1]["grad_check"]["max_abs_diff"]
        out.append(_verdict("grad_check", 1, claim, diff < GRAD_TOL,
                            f"max |numerical - analytic| {diff:.1e}, tolerance {GRAD_TOL:.0e}"))

    # Same model class: train1 may lose to the counts (undertrained) but not beat them beyond noise.
    compare("mlp_not_below_bigram", 1, "the MLP does not beat the bigram counts (same model class)", 0, 1,
            lambda v0, v1: v1 - v0 + SAME_CLASS_MARGIN)
    compare("mlp_near_bigram", 1, f"the MLP approaches the bigram floor (within {NEAR_FLOOR} nats of train0)", 1, 0,
            lambda v1, v0: NEAR_FLOOR - (v1 - v0))

    claim = "autograd gives the same losses as the hand-derived gradients"
    if need("autograd_same", 2, claim, 1, 2):
        one = r[1] if r[1]["steps"] == r[2]["steps"] else twin
        if one is None or one["steps"] != r[2]["steps"]:
            out.append(_verdict("autograd_same", 2, claim, None,
                                f"train1 was not run at train2's {r[2]['steps']} steps", r[2]["steps"]))
        else:
            diff = max(abs(a - b) for a, b in zip(one["losses"], r[2]["losses"]))
            val_diff = abs(one["val_loss"] - r[2]["val_loss"])
            out.append(_verdict("autograd_same", 2, claim, max(diff, val_diff) < SAME_TOL,
                                f"max per-step loss difference {diff:.1e} over {len(one['losses'])} steps, "
                                f"val loss difference {val_diff:.1e}", r[2]["steps"]))

    below = lambda va, vb: vb - va  # "a's loss is below b's"
    compare("attention_beats_mlp", 3, "attention: the loss drops below train2's", 3, 2, below, trained_pair=True)
    compare("attention_beats_bigram", 3, "attention beats the bigram floor (context beyond one character)", 3, 0,
            below)

    claim = "multi-head attention keeps train3's parameter count"
    if need("multihead_params", 4, claim, 3, 4):
        p3, p4 = r[3]["params"], r[4]["params"]
        out.append(_verdict("multihead_params", 4, claim, p3 == p4, f"train4 {p4:,} vs train3 {p3:,}"))
    compare("multihead_helps", 4, "multi-head attention lowers the loss", 4, 3, below, trained_pair=True)
    compare("adam_beats_sgd", 5, "Adam beats SGD in the same number of steps", 5, 4, below, trained_pair=True)
    return out


def format_verdict(v):
    """One line per claim: `holds`, `does not hold` (with the steps, `one seed` for one seed's val-loss
    comparison), `within the noise: margin X, spread Y`, or `not checked: ...`."""
    at = f" at {v['steps']} steps" if v["steps"] is not None else ""
    word = {True: "holds", False: "does not hold", None: "within the noise"}[v["holds"]]
    if v.get("spread") is not None:
        return (f"claim: {v['claim']} — {word}{at}: margin {v['margin']:.4f}, spread {v['spread']:.4f} "
                f"({v['detail']})")
    if v["holds"] is None:
        return f"claim: {v['claim']} — not checked: {v['detail']}"
    one_seed = ", one seed" if v.get("margin") is not None else ""
    return f"claim: {v['claim']} — {word}{at}{one_seed} ({v['detail']})"


def unrun(v):
    """Whether a verdict is only that the rungs it needs were not run."""
    return v["holds"] is None and v["detail"].startswith("needs ")


def within_noise(v):
    """Whether a verdict measured a margin over seeds that was too small for its spread."""
    return v["holds"] is None and v.get("spread") is not None


def summary(verdicts):
    held = sum(v["holds"] is True for v in verdicts)
    failed = sum(v["holds"] is False for v in verdicts)
    noisy = sum(within_noise(v) for v in verdicts)
    unchecked = sum(v["holds"] is None and not within_noise(v) for v in verdicts)
    unrun_ = sum(unrun(v) for v in verdicts)
    return (f"claims: {held} hold, {failed} do not hold" + (f", {noisy} within the noise" if noisy else "")
            + (f", {unchecked} not checked" if unchecked else "")
            + (f" ({unrun_} need rungs that were not run)" if unrun_ else ""))
