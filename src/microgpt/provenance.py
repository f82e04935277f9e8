"""The documents a checkpoint was trained on, found again from its metadata.

`microgpt train` records the data file's path, the seed, the split sizes and a
fingerprint of the documents. The trainer shuffles the file's documents with
random.Random(seed) (its first draw) and holds out the last n_val, so doing the
same here gives back its exact train and validation split. Score, eval, sample
and the bigram plot use this to say whether a string was seen in training, and
to evaluate on the documents the model never saw.

A --text model's text is found the same way; training split it by position
(the last 10% held out), so a string can be said to occur in the part the
model trained on or only in the held-out part.

A model whose data cannot be found (moved, another machine) is not an error
here: callers say "unknown" instead, unless the user named a file with --data.
"""

import random
from pathlib import Path

from microgpt.batches import split_chars, text_ids
from microgpt.data import BUNDLED_NAMES, NAMES_SHA256, fingerprint, is_bundled, read_docs, read_text, split
from microgpt.errors import MicroGPTError


class TrainingData:
    """A data file's documents and, when it could be rebuilt, the training split.

    `exact` is True when train/val are the split the trainer made; otherwise
    only `docs` (the whole file) is known and `note` says why."""

    def __init__(self, path, docs, train=None, val=None, note=""):
        self.path = Path(path)
        self.docs = docs
        self.train = train
        self.val = val
        self.exact = train is not None
        self.note = note
        self._train_set = set(train or ())
        self._val_set = set(val or ())
        self._all = set(docs)

    def where(self, text):
        """'train', 'val' (only when the split is exact), 'data', or None when unseen."""
        if self.exact:
            if text in self._train_set:
                return "train"
            return "val" if text in self._val_set else None
        return "data" if text in self._all else None


def rebuild_split(training, docs):
    """(train, val) as the trainer made them, or (None, why not); `training` is
    the checkpoint's TrainingRecord."""
    seed = training.seed if training.seed is not None else getattr(training.train_config, "seed", None)
    n_train, n_val = training.n_train, training.n_val
    if seed is None or n_train is None or n_val is None:
        return None, "the checkpoint does not record its seed and split sizes"
    recorded = training.data_sha256
    if recorded is not None and recorded != fingerprint(docs):
        return None, "the file's documents are not the ones the model was trained on"
    if n_train + n_val != len(docs):
        return None, f"the file has {len(docs)} documents, training split {n_train + n_val}"
    shuffled = list(docs)
    random.Random(seed).shuffle(shuffled)  # the trainer's first use of its generator
    return split(shuffled, n_val), ""


def recorded_candidates(training, model_path=None):
    """Where the recorded data path may point. microgpt records an absolute path
    (data.recorded_path), found from any folder. Older checkpoints recorded the
    path as given, so a relative one is also tried from here and beside the
    checkpoint (train saves there by default, so a relative --data usually lives
    in the same folder). BUNDLED_NAMES is a name, not a path: it is found
    wherever the package is installed."""
    recorded = training.data
    path = Path(recorded)
    yield path
    if is_bundled(recorded):
        return
    if not path.is_absolute() and model_path is not None:
        yield Path(model_path).parent / path
    # A model trained on the names when they were downloaded records the cache
    # file; the fingerprint still says they are the names, which ship with us now.
    # (One stripped name per line, no final newline: their documents joined by
    # newlines are the file itself, so the fingerprint is NAMES_SHA256.)
    if training.data_sha256 == NAMES_SHA256:
        yield Path(BUNDLED_NAMES)


def read_recorded(training, model_path, read):
    """(path, read(path)) for the first recorded candidate that reads; if none
    does, the error of the path as recorded is raised."""
    first = None
    for path in recorded_candidates(training, model_path):
        try:
            return path, read(path)
        except (MicroGPTError, OSError) as e:
            first = first or e
    raise first


def _locate(ckpt, given, model_path, reader):
    """(path, what reader read): from the path the user gave (its read errors are
    raised), else from the recorded one; None when that cannot be read here."""
    if given is not None:
        return Path(given), reader(given)
    if not ckpt.training.data:
        return None
    try:
        return read_recorded(ckpt.training, model_path, reader)
    except (MicroGPTError, OSError):
        return None


def find(ckpt, data=None, model_path=None):
    """The model's training data: from `data` (a path the user gave; read errors
    are raised) or else the checkpoint's recorded path (None if unreadable)."""
    found = _locate(ckpt, data, model_path, read_docs)
    if found is None:
        return None
    path, docs = found
    result, why = rebuild_split(ckpt.training, docs)
    if result is None:
        return TrainingData(path, docs, note=why)
    train, val = result
    return TrainingData(path, docs, train, val)


class TrainingText:
    """A --text model's text, and where training split it: the first 90% trained
    on, the last 10% held out (batches.split_text). `exact` when the file is the
    text the model was trained on."""

    def __init__(self, path, text, n_train=None, note=""):
        self.path = Path(path)
        self.text = text
        self.exact = n_train is not None
        self.train = text[:n_train] if self.exact else None
        self.val = text[n_train:] if self.exact else None
        self.note = note

    def where(self, s):
        """'train', 'val' (only in the held-out part), 'data' (elsewhere in the
        file: across the split, or the split is unknown), or None when unseen."""
        if self.exact:
            if s in self.train:
                return "train"
            if s in self.val:
                return "val"
        return "data" if s in self.text else None


def read_text_file(path):
    return read_text(path, what="text file")


def find_text(ckpt, path=None, model_path=None):
    """The text a --text model was trained on, from `path` (read errors are
    raised) or the recorded path (None if unreadable)."""
    found = _locate(ckpt, path, model_path, read_text_file)
    if found is None:
        return None
    path, text = found
    if ckpt.training.data_sha256 not in (None, fingerprint([text])):
        return TrainingText(path, text, note="the file is not the text the model was trained on")
    try:
        text_ids(ckpt.tokenizer, text, ckpt.config.block_size)  # as training did: it refuses what it refused
        n_train = len(split_chars(text)[0])
    except MicroGPTError as e:
        return TrainingText(path, text, note=str(e))
    return TrainingText(path, text, n_train)


# How `microgpt score` (and the explorer's /api/score, the same object) says where
# a string is in the training data: in_training_data of `score --json`.
SEEN = {"train": "yes, train split", "val": "yes, validation split", "data": "yes", None: "no"}
# a --text model's text is split by position: the first 90% trained on, the last 10% held out
SEEN_IN_TEXT = {"train": "yes, in the training part of the text", "val": "yes, only in the held-out part of the text",
                "data": "yes, across the training and held-out parts", None: "no"}


def seen_phrase(training_data, text):
    """Where `text` is in `training_data` (find's or find_text's answer), in words; "unknown" for None."""
    if training_data is None:
        return "unknown"
    where = training_data.where(text)
    if isinstance(training_data, TrainingText) and training_data.exact:
        return SEEN_IN_TEXT[where]
    return SEEN[where]


def unknown_reason(ckpt):
    """One phrase saying why the training data could not be found."""
    recorded = ckpt.training.data
    if recorded:
        return f"the training data {recorded} is not readable here; pass --data FILE"
    return "the checkpoint does not record its training data; pass --data FILE"
