"""Loss curves: one or more runs overlaid, raw and smoothed, with validation points.

A per-step loss is the loss of one small batch, so it jumps from step to step;
the raw curve is drawn faint and a trailing mean over it bold, in the same
colour, so several runs stay comparable at a glance. A loss that is NaN or
infinite (a diverged step) has no height: it is marked with an x along the bottom.
"""

from microgpt.inspection.plots import require_matplotlib
from microgpt.inspection.plots.runs import default_window, smooth


def loss_figure(runs, window=None, title="Training loss"):
    Figure = require_matplotlib()
    fig = Figure(figsize=(8, 4.8))
    ax = fig.add_subplot()
    colors = [f"C{i % 10}" for i in range(len(runs))]
    for run, color in zip(runs, colors):
        if run.steps:
            w = window or default_window(len(run.losses))
            ax.plot(run.steps, run.losses, color=color, alpha=0.25, linewidth=0.8)
            label = f"{run.label} (mean of {w} steps)" if w > 1 else run.label
            ax.plot(run.steps, smooth(run.losses, w), color=color, linewidth=2, label=label)
        if run.val_steps:
            ax.plot(run.val_steps, run.val_losses, linestyle="--", marker="o", markersize=5, color=color,
                    markeredgecolor="black", markeredgewidth=0.6, label=f"{run.label}: validation")
        bad = sorted(set(run.nonfinite_steps + run.nonfinite_val_steps))
        if bad:  # no height to draw them at: an x along the bottom of the axes, at their step
            ax.plot(bad, [0.03] * len(bad), transform=ax.get_xaxis_transform(), linestyle="none", marker="x",
                    markersize=7, color=color, clip_on=False, label=f"{run.label}: {len(bad)} non-finite")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (cross-entropy, nats per token)")
    count = "" if len(runs) == 1 else f": {len(runs)} runs"
    ax.set_title(f"{title}{count}\n(faint: every step, bold: running mean)", fontsize=11)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    return fig
