"""The lecture's claims about the ladder, each checked against measured numbers.

The lecture (train0 -> train5) says what each rung should show: the hand
gradients agree with numerical ones, the MLP cannot beat the bigram counts
(same model class) but gets close, autograd changes no number, attention beats
both, multi-head keeps the parameter count and helps, Adam beats SGD in the
same number of steps. Whether the loss claims hold depends on how long each
rung trained, so every verdict names the steps it was measured at, and a claim
that fails is reported as failing: the table never tells the story by silence.

check(results) takes the rungs' result dicts (as trainK.run returns them) and
gives one verdict per claim: holds True, False, or None when the rungs it
needs were not run (or were run at different steps where the claim is about
the same steps). `twin` is train1 rerun at train2's steps, for the autograd
claim when train1 and train2 trained for different numbers of steps.
"""

GRAD_TOL = 1e-7  # central differences (eps 1e-5, float64) agree to ~1e-10; a wrong derivative is off by >1e-4
SAME_TOL = 1e-9  # train2 repeats train1's arithmetic; only the order of gradient sums differs (~1e-15)
SAME_CLASS_MARGIN = 0.02  # nats: one standard error of the 7,148-prediction val mean is ~0.012
NEAR_FLOOR = 0.1  # nats: "approaches the bigram floor" (after 1000 SGD steps train1 is 0.27 above it)


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


def _verdict(key, rung, claim, holds, detail, steps=None):
    return {"key": key, "rung": rung, "claim": claim, "holds": holds, "steps": steps, "detail": detail}


def check(results, twin=None):
    """One verdict dict per claim, in the lecture's order."""
    r = {res["rung"]: res for res in results}
    out = []

    def need(key, rung, claim, *rungs):
        missing = [k for k in rungs if k not in r]
        if missing:
            out.append(_verdict(key, rung, claim, None, "needs " + " and ".join(f"train{k}" for k in missing)))
        return not missing

    def compare(key, rung, claim, a, b, same_steps=False, margin=0.0):
        """Claim: rung a's val loss is below rung b's (by more than -margin)."""
        if not need(key, rung, claim, a, b):
            return
        if same_steps and r[a]["steps"] != r[b]["steps"]:
            out.append(_verdict(key, rung, claim, None, f"train{a} ran {r[a]['steps']} steps, "
                                f"train{b} {r[b]['steps']}: the claim is about the same steps"))
            return
        va, vb = r[a]["val_loss"], r[b]["val_loss"]
        out.append(_verdict(key, rung, claim, va < vb + margin, *_pair(r[a], r[b])))

    claim = "train1's numerical and analytic gradients agree"
    if need("grad_check", 1, claim, 1):
        diff = r[1]["grad_check"]["max_abs_diff"]
        out.append(_verdict("grad_check", 1, claim, diff < GRAD_TOL,
                            f"max |numerical - analytic| {diff:.1e}, tolerance {GRAD_TOL:.0e}"))

    # Same model class: train1 may lose to the counts (undertrained) but not beat them beyond noise.
    compare("mlp_not_below_bigram", 1, "the MLP does not beat the bigram counts (same model class)", 0, 1,
            margin=SAME_CLASS_MARGIN)
    claim = f"the MLP approaches the bigram floor (within {NEAR_FLOOR} nats of train0)"
    if need("mlp_near_bigram", 1, claim, 0, 1):
        out.append(_verdict("mlp_near_bigram", 1, claim, r[1]["val_loss"] - r[0]["val_loss"] <= NEAR_FLOOR,
                            *_pair(r[1], r[0])))

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

    compare("attention_beats_mlp", 3, "attention: the loss drops below train2's", 3, 2)
    compare("attention_beats_bigram", 3, "attention beats the bigram floor (context beyond one character)", 3, 0)

    claim = "multi-head attention keeps train3's parameter count"
    if need("multihead_params", 4, claim, 3, 4):
        p3, p4 = r[3]["params"], r[4]["params"]
        out.append(_verdict("multihead_params", 4, claim, p3 == p4, f"train4 {p4:,} vs train3 {p3:,}"))
    compare("multihead_helps", 4, "multi-head attention lowers the loss", 4, 3, same_steps=True)
    compare("adam_beats_sgd", 5, "Adam beats SGD in the same number of steps", 5, 4, same_steps=True)
    return out


def format_verdict(v):
    """One line: `claim: <text> — holds at 600 steps (a vs b)`, `— does not hold ...` or `— not checked: ...`."""
    at = f" at {v['steps']} steps" if v["steps"] is not None else ""
    if v["holds"] is None:
        return f"claim: {v['claim']} — not checked: {v['detail']}"
    return f"claim: {v['claim']} — {'holds' if v['holds'] else 'does not hold'}{at} ({v['detail']})"


def unrun(v):
    """Whether a verdict is only that the rungs it needs were not run."""
    return v["holds"] is None and v["detail"].startswith("needs ")


def summary(verdicts):
    held = sum(v["holds"] is True for v in verdicts)
    failed = sum(v["holds"] is False for v in verdicts)
    unchecked = sum(v["holds"] is None for v in verdicts)
    unrun_ = sum(unrun(v) for v in verdicts)
    return (f"claims: {held} hold, {failed} do not hold" + (f", {unchecked} not checked" if unchecked else "")
            + (f" ({unrun_} need rungs that were not run)" if unrun_ else ""))
