"""Do the engines that should compute the same losses compute them?

Every engine of a config starts from the same weights and trains on the same
batches, so step i's loss is one number in all of them, up to rounding. Each is
compared, step by step, with the config's reference engine: scalar (the
canonical one) where it was timed, else the one computing most precisely.

How close they must be depends on the coarser of the two precisions:

    exact     scalar and fused do the same float64 operations in the same
              order: equal to the last bit, at every step.
    float64   another order of summation (numpy, PyTorch in float64): within
              1e-9, over the first EARLY_STEPS steps.
    float32   within 1e-4, over the first EARLY_STEPS steps.
    bfloat16  not compared: mixed precision moves the loss by 1e-3 to 1e-1
              within two steps.

Why only the first steps: training amplifies a rounding difference, and at the
bench's constant learning rate the larger configs train chaotically (on
`large` the loss climbs to 35 and back within 20 steps), so float32 and
float64 drift apart by ~10x every couple of steps, to 0.5 by step 25. The
first steps already run forward, backward and the optimizer; a wrong gradient
shows there. Measured on the names, over the first 5 steps: float64 engines
within 2e-12 of scalar or numpy, float32 ones within 6e-6.
"""

import math

LIMITS = {"exact": 0.0, "float64": 1e-9, "float32": 1e-4}
FINEST_FIRST = list(LIMITS)
EARLY_STEPS = 5


def reference(precisions):
    """The label the others are compared with, or None if none can be."""
    comparable = [label for label, p in precisions.items() if p in LIMITS]
    if not comparable:
        return None
    return min(comparable, key=lambda label: (FINEST_FIRST.index(precisions[label]), label != "scalar"))


def compare(losses, precisions):
    """{label: agreement} for every label in `losses` (per-step losses, step 0 first).

    An agreement is a dict: ref (the label compared with: the reference's own
    for itself, None for a label not compared), steps (how many were compared),
    diff (the largest absolute difference), limit, ok (None: not compared)."""
    ref = reference({label: precisions[label] for label in losses})
    out = {}
    for label, ours in losses.items():
        if ref is None or label == ref or precisions[label] not in LIMITS:
            out[label] = dict(ref=ref if label == ref else None, steps=0, diff=None, limit=None, ok=None)
            continue
        coarser = max(precisions[label], precisions[ref], key=FINEST_FIRST.index)
        theirs = losses[ref]
        n = min(len(ours), len(theirs))
        if coarser != "exact":
            n = min(n, EARLY_STEPS)
        diffs = [abs(a - b) for a, b in zip(ours[:n], theirs[:n])]
        diff = math.nan if any(map(math.isnan, diffs)) else max(diffs, default=0.0)  # max() skips past a NaN
        out[label] = dict(ref=ref, steps=n, diff=diff, limit=LIMITS[coarser], ok=diff <= LIMITS[coarser])
    return out


def disagreements(rows):
    """One phrase per row whose losses strayed past the limit."""
    return [f"{r['engine']} on {r['config']} differs from {r['loss_ref']} by {r['loss_diff']:.2g} "
            f"(limit {r['loss_limit']:g}, {r['loss_steps']} steps)" for r in rows if r.get("loss_ok") is False]
