"""microgpt train reproduces the original microgpt.py: the same per-step losses
(to the 4 printed decimals) and the same samples, from the same seed."""

import pytest

from microgpt.config import TrainConfig
from microgpt.data import read_docs
from microgpt.sample import generate
from microgpt.training import Trainer


def test_first_steps_match_reference(names_path, reference):
    losses, _ = reference
    trainer = Trainer(read_docs(names_path), train_config=TrainConfig(steps=1000), engine="scalar")
    for step in range(25):
        loss, _, _ = trainer.train_step()
        assert f"{loss:.4f}" == losses[step], f"step {step + 1}"


@pytest.mark.slow
def test_full_run_matches_reference(names_path, reference):
    losses, samples = reference
    trainer = Trainer(read_docs(names_path), train_config=TrainConfig(steps=1000), engine="scalar")
    trainer.run()
    assert [f"{x:.4f}" for x in trainer.losses] == losses
    got = [generate(trainer.engine, trainer.tokenizer, trainer.rng, 0.5) for _ in range(20)]
    assert got == samples
