"""The Python API: what the `microgpt` command does, as calls.

    import microgpt
    run = microgpt.train(data="names.txt", steps=200, seed=1)   # same defaults and engine as the CLI
    run.save("m.json")
    model = microgpt.load("m.json")
    model.sample(5, temperature=0.5, seed=1)    # -> list of str (top_k=, top_p= narrow the draw)
    model.score("emma")                          # per-token probability and surprise, total NLL, bits/char
    model.trace("emma")                          # score, attention, residual stream, logit lens: .to_dict()
    model.evaluate()                             # held-out loss, rebuilt as training made it
    model.ablate("head:0.2").evaluate()          # the same with a part switched off (ablation.py)

The command line is written on top of these (cli/), so a run started from
Python and one started from the shell with the same arguments write the same
checkpoint.
"""

import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, TypeAlias, overload

from microgpt import evaluation, provenance
from microgpt import sample as sampling
from microgpt.ablation import AblatedEngine, Ablation
from microgpt.config import GPTConfig
from microgpt.engines import DEFAULT_ENGINE, make_engine
from microgpt.engines.base import Engine
from microgpt.errors import UsageError
from microgpt.files import checkpoint, outputs
from microgpt.files.inputs import check_path
from microgpt.files.metadata import TrainingRecord
from microgpt.inspection.score import Score, score, score_all_at_once
from microgpt.inspection.trace import Trace, trace
from microgpt.progress import Progress
from microgpt.sample import PASSAGE_CHARS, SAMPLES, SEED, TEMPERATURE
from microgpt.tokenizer import AnyTokenizer
from microgpt.training import Run, plan

FilePath: TypeAlias = str | os.PathLike[str]


def train(data: FilePath | None = None, **options: Any) -> Run:
    """Plan a run (see training.plan for every option: text=, resume=, out=, engine=,
    engine_options=, val_docs=, n_embd=..., steps=..., lr=..., seed=...) and train
    it to the end. Returns the Run: run.save(path), run.val_loss, Model.of(run)."""
    return plan(data=data, **options).train()


def load(path: FilePath, engine: str = DEFAULT_ENGINE, **engine_options: Any) -> "Model":
    """A saved model, ready to sample, score and evaluate with `engine`."""
    return Model(checkpoint.load(check_path(path, "the model's path")), engine, engine_options, path)


class Model:
    """A trained model: its checkpoint and an engine to compute with."""

    def __init__(self, ckpt: checkpoint.Checkpoint, engine: str = DEFAULT_ENGINE,
                 engine_options: dict[str, Any] | None = None, path: FilePath | None = None,
                 built: Engine | AblatedEngine | None = None, ablation: Ablation | None = None) -> None:
        self.checkpoint = ckpt
        self.path = Path(path) if path is not None else None
        self.engine_name = engine
        self.engine: Engine | AblatedEngine = built or make_engine(engine, ckpt.config, ckpt.weights,
                                                                  **(engine_options or {}))
        self.ablation = ablation  # an ablation.Ablation when parts are switched off (see ablate), else None

    @classmethod
    def of(cls, run: Run) -> "Model":
        """The model a Run has trained so far, computing with the run's own engine."""
        return cls(run.checkpoint(), run.trainer.engine_name, built=run.trainer.engine)

    @property
    def config(self) -> GPTConfig:
        return self.checkpoint.config

    @property
    def tokenizer(self) -> AnyTokenizer:
        return self.checkpoint.tokenizer

    @property
    def training(self) -> TrainingRecord:
        return self.checkpoint.training

    @property
    def is_text(self) -> bool:
        return self.training.is_text

    def save(self, path: FilePath, force: bool = False) -> Path:
        """Write the checkpoint to `path`: over a checkpoint, or over any other file with
        force=True, never over the data it was trained on (the rule of files/outputs.py)."""
        path = check_path(path, "the path to save to")
        data = self.training_data()
        inputs = [("the training data", data.path)] if data is not None else []
        saved: Path = outputs.save_checked(self.checkpoint.save, path, inputs, force)
        return saved

    def ablate(self, spec: str | Ablation) -> "Model":
        """This model with parts switched off: spec like "head:0.2,mlp:1" or an
        ablation.Ablation (see ablation.py for the parts). The result is a Model whose
        score, trace, evaluate and sample all compute without those parts; ablating an
        ablated model switches off both sets. A bad spec raises a one-line UsageError."""
        ab = Ablation.parse(spec, self.config)
        if self.ablation is not None:
            ab = self.ablation | ab
        # an ablated model's engine wraps the intact one: switch parts off that, not the wrapper
        base = self.engine.base if isinstance(self.engine, AblatedEngine) else self.engine
        return Model(self.checkpoint, self.engine_name, path=self.path, built=AblatedEngine(base, ab), ablation=ab)

    # ---- writing
    @overload
    def samples(self, n: int = ..., temperature: float = ..., top_k: int | None = ..., prefix: str = ...,
                seed: int | None = ..., chars: int | None = ..., rng: random.Random | None = ...,
                stream: Literal[False] = ..., top_p: float | None = ...) -> Iterator[str]: ...

    @overload
    def samples(self, n: int = ..., temperature: float = ..., top_k: int | None = ..., prefix: str = ...,
                seed: int | None = ..., chars: int | None = ..., rng: random.Random | None = ..., *,
                stream: Literal[True], top_p: float | None = ...) -> Iterator[str | Iterator[str]]: ...

    def samples(self, n: int = SAMPLES, temperature: float = TEMPERATURE, top_k: int | None = None, prefix: str = "",
                seed: int | None = SEED, chars: int | None = None, rng: random.Random | None = None,
                stream: bool = False, top_p: float | None = None) -> Iterator[str | Iterator[str]]:
        """n samples, drawn one at a time as they are iterated: names (BOS to BOS)
        or, for a --text model, passages of `chars` characters (PASSAGE_CHARS by
        default) after `prefix` (a newline by default; with stream=True each
        passage is an iterator of its pieces as they are drawn: the prefix, then
        one character at a time). top_k keeps the k most likely tokens at each
        step, then top_p the fewest most likely whose probabilities reach p
        (nucleus sampling). The arguments are checked at once."""
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise UsageError(f"seed must be an integer (or None), got {seed!r:.40}")
        if chars is not None and (isinstance(chars, bool) or not isinstance(chars, int) or chars < 1):
            raise UsageError(f"--chars must be a positive integer, got {chars!r:.40}")
        rng = rng or random.Random(seed)
        text = self.is_text
        if chars is not None and not text:  # a names model stops at its end token: a length would be ignored
            raise UsageError("--chars is for models trained with --text; a names model ends each sample "
                             "where it predicts the end")
        chars = PASSAGE_CHARS if chars is None else chars
        sampling.check_sampling_args(self.tokenizer, self.config, temperature, top_k, "" if text else prefix, n,
                                     top_p)
        if text:
            prefix = prefix or sampling.default_text_prefix(self.tokenizer)
            write = sampling.stream_text if stream else sampling.generate_text
            return (write(self.engine, self.tokenizer, rng, chars, temperature, top_k, prefix, top_p=top_p)
                    for _ in range(n))
        return (sampling.generate(self.engine, self.tokenizer, rng, temperature, top_k, prefix, top_p=top_p)
                for _ in range(n))

    def sample(self, n: int = SAMPLES, temperature: float = TEMPERATURE, top_k: int | None = None, prefix: str = "",
               seed: int | None = SEED, chars: int | None = None, top_p: float | None = None) -> list[str]:
        """n samples as a list of strings (the same seed gives the same samples)."""
        return list(self.samples(n, temperature, top_k, prefix, seed, chars, top_p=top_p))

    # ---- reading
    def score(self, text: str) -> Score:
        """How surprised the model is by `text`: a Score with .rows (position,
        text so far, next token's text or None for the end, p), .total, .mean, .perplexity,
        .bits_per_char (one row per token: a character, or a BPE piece). With the numpy
        engine every position is read in one pass (the same numbers to ~1e-15, several
        times faster on a file of strings); otherwise by the float forward, bit for bit
        the scalar engine's."""
        _check_text(text)
        if self.engine_name == "numpy" and self.ablation is None:
            logits_of = getattr(self.engine, "logits")  # noqa: B009 (the numpy engine's, not in Engine's contract)
            return score_all_at_once(logits_of, self.config, self.tokenizer, text, bos=not self.is_text)
        return score(self.checkpoint.weights, self.config, self.tokenizer, text, bos=not self.is_text,
                     ablate=self.ablation)

    def trace(self, text: str, k: int = 5) -> Trace:
        """Everything a look inside `text` shows, in one pass: per position the
        next-token probabilities (score's, exactly), attention weights, the
        residual stream with its norms and logit lens (top k), rmsnorm scales and
        MLP activations; see inspection/trace.py. .to_dict() is plain JSON data."""
        _check_text(text)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise UsageError(f"k (the logit lens's top tokens) must be a positive integer, got {k!r:.40}")
        return trace(self.checkpoint.weights, self.config, self.tokenizer, text, is_text=self.is_text, k=k,
                     ablate=self.ablation)

    def evaluate(self, data: FilePath | None = None, progress: Progress | bool | None = None) -> float:
        """Mean loss per token on the held-out split the model was trained with
        (rebuilt exactly), or on all of `data` (a file)."""
        return self.evaluation(data, progress).loss

    def evaluation(self, data: FilePath | None = None, progress: Progress | bool | None = None) -> "Evaluation":
        """evaluate(), with what it was computed on: an Evaluation."""
        held = evaluation.held_out(self.checkpoint, None if data is None else check_path(data, "data"), self.path)
        if progress is True:
            progress = Progress(len(held.batch), label="eval", lines=False)
        elif progress is False:
            progress = None
        elif progress is not None and not isinstance(progress, Progress):
            raise UsageError(f"progress must be True, False, None or a Progress, got {type(progress).__name__}")
        measured = evaluation.measure(self.engine, self.tokenizer, held.batch, progress)
        return Evaluation(measured.loss, measured.tokens, held, measured)

    def training_data(self, data: FilePath | None = None) -> provenance.TrainingData | provenance.TrainingText | None:
        """The documents the model was trained on, found from the checkpoint (or
        `data`), with its train/validation split when it can be rebuilt; None if
        they cannot be found. For a --text model: its text, split by position
        (a provenance.TrainingText)."""
        if self.is_text:
            return provenance.find_text(self.checkpoint, data, self.path)
        return provenance.find(self.checkpoint, data, self.path)


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise UsageError(f"the text to read must be a string, got {type(text).__name__}")


class Evaluation:
    def __init__(self, loss: float, tokens: int, held_out: evaluation.HeldOut, measured: evaluation.Measured) -> None:
        self.loss = loss
        self.tokens = tokens  # tokens predicted: every one of a text's held-out tokens
        self.held_out = held_out  # evaluation.HeldOut: the token lists and their description
        self.measured = measured  # evaluation.Measured: also the characters and bytes predicted

    @property
    def chars(self) -> int:
        """Characters the predicted tokens spell (a document's end counts as one): for a
        --text model's held-out split, every held-out character."""
        chars: int = self.measured.chars
        return chars

    @property
    def bits_per_char(self) -> float:
        """Summed loss / ln 2 / characters predicted (a document's end counts as one): one scale
        for every tokenizer."""
        return self.measured.bits_per_char

    @property
    def bits_per_byte(self) -> float:
        return self.measured.bits_per_byte

    @property
    def perplexity(self) -> float:
        return evaluation.perplexity(self.loss)
