"""The Python API: what the `microgpt` command does, as calls.

    import microgpt
    run = microgpt.train(data="names.txt", steps=200, seed=1)   # same defaults and engine as the CLI
    run.save("m.json")
    model = microgpt.load("m.json")
    model.sample(5, temperature=0.5, seed=1)    # -> list of str
    model.score("emma")                          # per-token probability and surprise, total NLL, bits/char
    model.trace("emma")                          # score, attention, residual stream, logit lens: .to_dict()
    model.evaluate()                             # held-out loss, rebuilt as training made it
    model.ablate("head:0.2").evaluate()          # the same with a part switched off (ablation.py)

The command line is written on top of these (cli/), so a run started from
Python and one started from the shell with the same arguments write the same
checkpoint.
"""

import random
from pathlib import Path

from microgpt import evaluation, provenance
from microgpt import sample as sampling
from microgpt.ablation import AblatedEngine, Ablation
from microgpt.engines import DEFAULT_ENGINE, make_engine
from microgpt.errors import UsageError
from microgpt.files import checkpoint
from microgpt.inspection.score import score
from microgpt.inspection.trace import trace
from microgpt.progress import Progress
from microgpt.sample import PASSAGE_CHARS, SAMPLES, SEED, TEMPERATURE
from microgpt.training import plan


def train(data=None, **options):
    """Plan a run (see training.plan for every option: text=, resume=, out=, engine=,
    engine_options=, val_docs=, n_embd=..., steps=..., lr=..., seed=...) and train
    it to the end. Returns the Run: run.save(path), run.val_loss, Model.of(run)."""
    return plan(data=data, **options).train()


def load(path, engine=DEFAULT_ENGINE, **engine_options):
    """A saved model, ready to sample, score and evaluate with `engine`."""
    return Model(checkpoint.load(path), engine, engine_options, path)


class Model:
    """A trained model: its checkpoint and an engine to compute with."""

    def __init__(self, ckpt, engine=DEFAULT_ENGINE, engine_options=None, path=None, built=None, ablation=None):
        self.checkpoint = ckpt
        self.path = Path(path) if path is not None else None
        self.engine_name = engine
        self.engine = built or make_engine(engine, ckpt.config, ckpt.weights, **(engine_options or {}))
        self.ablation = ablation  # an ablation.Ablation when parts are switched off (see ablate), else None

    @classmethod
    def of(cls, run):
        """The model a Run has trained so far, computing with the run's own engine."""
        return cls(run.checkpoint(), run.trainer.engine_name, built=run.trainer.engine)

    @property
    def config(self):
        return self.checkpoint.config

    @property
    def tokenizer(self):
        return self.checkpoint.tokenizer

    @property
    def training(self):
        return self.checkpoint.training

    @property
    def is_text(self):
        return self.training.is_text

    def save(self, path):
        self.checkpoint.save(path)
        return Path(path)

    def ablate(self, spec):
        """This model with parts switched off: spec like "head:0.2,mlp:1" or an
        ablation.Ablation (see ablation.py for the parts). The result is a Model whose
        score, trace, evaluate and sample all compute without those parts; ablating an
        ablated model switches off both sets. A bad spec raises a one-line UsageError."""
        ab = Ablation.parse(spec, self.config)
        if self.ablation is not None:
            ab = self.ablation | ab
        base = self.engine.base if self.ablation is not None else self.engine
        return Model(self.checkpoint, self.engine_name, path=self.path, built=AblatedEngine(base, ab), ablation=ab)

    # ---- writing
    def samples(self, n=SAMPLES, temperature=TEMPERATURE, top_k=None, prefix="", seed=SEED, chars=None, rng=None,
                stream=False):
        """n samples, drawn one at a time as they are iterated: names (BOS to BOS)
        or, for a --text model, passages of `chars` characters (PASSAGE_CHARS by
        default) after `prefix` (a newline by default; with stream=True each
        passage is an iterator of its pieces as they are drawn: the prefix, then
        one character at a time). The arguments are checked at once."""
        rng = rng or random.Random(seed)
        text = self.is_text
        if chars is not None and not text:  # a names model stops at its end token: a length would be ignored
            raise UsageError("--chars is for models trained with --text; a names model ends each sample "
                             "where it predicts the end")
        chars = PASSAGE_CHARS if chars is None else chars
        sampling.check_sampling_args(self.tokenizer, self.config, temperature, top_k, "" if text else prefix, n)
        if text:
            prefix = prefix or sampling.default_text_prefix(self.tokenizer)
            write = sampling.stream_text if stream else sampling.generate_text
            return (write(self.engine, self.tokenizer, rng, chars, temperature, top_k, prefix) for _ in range(n))
        return (sampling.generate(self.engine, self.tokenizer, rng, temperature, top_k, prefix) for _ in range(n))

    def sample(self, n=SAMPLES, temperature=TEMPERATURE, top_k=None, prefix="", seed=SEED, chars=None):
        """n samples as a list of strings (the same seed gives the same samples)."""
        return list(self.samples(n, temperature, top_k, prefix, seed, chars))

    # ---- reading
    def score(self, text):
        """How surprised the model is by `text`: a Score with .rows (position,
        text so far, next token's text or None for the end, p), .total, .mean, .perplexity,
        .bits_per_char (one row per token: a character, or a BPE piece)."""
        return score(self.checkpoint.weights, self.config, self.tokenizer, text, bos=not self.is_text,
                     ablate=self.ablation)

    def trace(self, text, k=5):
        """Everything a look inside `text` shows, in one pass: per position the
        next-token probabilities (score's, exactly), attention weights, the
        residual stream with its norms and logit lens (top k), rmsnorm scales and
        MLP activations; see inspection/trace.py. .to_dict() is plain JSON data."""
        return trace(self.checkpoint.weights, self.config, self.tokenizer, text, is_text=self.is_text, k=k,
                     ablate=self.ablation)

    def evaluate(self, data=None, progress=None):
        """Mean loss per token on the held-out split the model was trained with
        (rebuilt exactly), or on all of `data` (a file)."""
        return self.evaluation(data, progress).loss

    def evaluation(self, data=None, progress=None):
        """evaluate(), with what it was computed on: an Evaluation."""
        held = evaluation.held_out(self.checkpoint, data, self.path)
        if progress is True:
            progress = Progress(len(held.batch), label="eval", lines=False)
        measured = evaluation.measure(self.engine, self.tokenizer, held.batch, progress)
        return Evaluation(measured.loss, measured.tokens, held, measured)

    def training_data(self, data=None):
        """The documents the model was trained on, found from the checkpoint (or
        `data`), with its train/validation split when it can be rebuilt; None if
        they cannot be found. For a --text model: its text, split by position
        (a provenance.TrainingText)."""
        if self.is_text:
            return provenance.find_text(self.checkpoint, data, self.path)
        return provenance.find(self.checkpoint, data, self.path)


class Evaluation:
    def __init__(self, loss, tokens, held_out, measured=None):
        self.loss = loss
        self.tokens = tokens  # tokens predicted: every one of a text's held-out tokens
        self.held_out = held_out  # evaluation.HeldOut: the token lists and their description
        self.measured = measured  # evaluation.Measured: also the characters and bytes predicted

    @property
    def chars(self):
        """Characters the predicted tokens spell (a document's end counts as one): for a
        --text model's held-out split, every held-out character."""
        return self.measured.chars

    @property
    def bits_per_char(self):
        """Summed loss / ln 2 / characters predicted (a document's end counts as one): one scale
        for every tokenizer."""
        return self.measured.bits_per_char

    @property
    def bits_per_byte(self):
        return self.measured.bits_per_byte

    @property
    def perplexity(self):
        return evaluation.perplexity(self.loss)
