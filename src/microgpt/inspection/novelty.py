"""Is a sample new, or a copy of a training document?

A model that only reproduces its training names has memorised, not learned.
Like makemore, each sample is marked as in the training split, in the held-out
(validation) split, or new; the copy rate is the share that is not new. A copy
of a validation name is not memorisation: the model never saw it, and writing
it anyway is a sign it learned what names look like.
"""

MARKS = {"train": "in train", "val": "in val", "data": "in data", None: "new"}


def mark(training_data, text):
    return MARKS[training_data.where(text)]


def summary(marks, exact=True):
    """One line: how many samples were new and how many were copies. With an
    exact split, the train and val counts are always shown, zeros included."""
    n = len(marks)
    counts = {m: marks.count(m) for m in ("new", "in train", "in val", "in data")}
    copies = n - counts["new"]
    shown = ("in train", "in val") if exact else ("in data",)
    parts = [f"{counts['new']} new"] + [f"{c} {m}" for m, c in counts.items() if m in shown or (m != "new" and c)]
    return f"novelty: {', '.join(parts)} of {n} samples (copy rate {copies / n:.0%})"
