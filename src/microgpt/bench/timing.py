"""Engines taking turns: how `microgpt bench` times every engine of a config.

After their untimed warm-up steps, the engines run in turns of `block` steps
each, round after round, until each has done its `steps` (or run past
`max_seconds`). A machine that gets busier or quieter during the run (other
jobs, a laptop's clock) then slows all of them alike, and their ratios stay
fair; with block >= steps each engine runs all its steps in one turn, back to
back, as a plain benchmark would.

Each turn is timed twice: wall time (time.perf_counter) and the CPU time of
this process (time.process_time, all its threads together). On a shared
machine CPU time is the steadier one; CPU above wall means several threads
were busy, well below wall means the process waited (for other jobs, or for a
GPU).

Every engine trains on the same batches, from the start: step i's batch, and
so its loss, is the same for all, which losses.py compares. They are drawn in
order as they are first needed, outside the clock (`Batches`): a run of a
billion steps that --max-seconds ends after a hundred draws a hundred.
"""

import time
from dataclasses import dataclass, field


@dataclass
class Contestant:
    label: str
    engine: object  # anything with train_step(batch, lr) -> loss
    warmup: int  # untimed steps first
    steps: int = 0  # timed steps done
    wall: float = 0.0
    cpu: float = 0.0
    tokens: int = 0  # real (unpadded) tokens of the timed steps
    losses: list = field(default_factory=list)  # every step's, warm-up included


class Batches:
    """Step i's batch, draw(i), made in order of i and kept for every engine."""

    def __init__(self, draw):
        self.draw = draw
        self.made = []

    def upto(self, n):
        """The first n batches (drawn now if they were not yet)."""
        while len(self.made) < n:
            self.made.append(self.draw(len(self.made)))
        return self.made


def take_turns(contestants, batches, steps, block, max_seconds, lr, count_tokens):
    """Run each contestant for `steps` timed steps in turns of `block`, on the
    Batches `batches`; an engine that has spent max_seconds of wall time leaves
    after the step that crossed it (so every engine gets at least one timed step)."""
    for c in contestants:
        for batch in batches.upto(c.warmup):
            c.losses.append(c.engine.train_step(batch, lr))
    waiting = list(contestants)
    while waiting:
        for c in list(waiting):
            made = batches.upto(len(c.losses) + min(block, steps - c.steps))  # drawn before the clock starts
            wall0, cpu0 = time.perf_counter(), time.process_time()
            for _ in range(block):
                batch = made[len(c.losses)]
                c.losses.append(c.engine.train_step(batch, lr))
                c.steps += 1
                if c.steps == steps or c.wall + time.perf_counter() - wall0 > max_seconds:
                    waiting.remove(c)
                    break
            c.wall += time.perf_counter() - wall0
            c.cpu += time.process_time() - cpu0
    for c in contestants:  # counted outside the clock
        c.tokens = sum(count_tokens(b) for b in batches.made[c.warmup : c.warmup + c.steps])
    return contestants
