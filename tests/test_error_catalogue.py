"""The catalogue of bad inputs: each gets one line on stderr that names the
problem, a non-zero exit (2 for usage errors) and no traceback.

Each case runs microgpt.cli.main, the function `microgpt` calls, in this
process (a fresh interpreter per case cost a minute of start-ups); a hang is
cut off after CASE_TIMEOUT seconds and fails the case. The process itself is
checked where it is the point: the damaged-package case runs a copy of the
package in an interpreter of its own, and a sample of cases, one for each way
a command ends, runs as `python -m microgpt` too and must give the same exit
status and the same stderr (test_a_process_ends_as_the_call_does).

Run this file as a script to regenerate docs/errors.md from what the commands
actually print:  python tests/test_error_catalogue.py
"""

import contextlib
import gzip
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

from microgpt import forward
from microgpt.cli import main
from microgpt.config import GPTConfig
from microgpt.files.checkpoint import Checkpoint, load
from microgpt.model import init_weights
from microgpt.tokenizer import Tokenizer

HERE = Path(__file__).resolve().parent

# (id, what is wrong, argv with {placeholders}, expected exit code, text the message must contain
#  [, "broken": run the package from a copy whose bundled names are altered])
CATALOGUE = [
    # data
    ("data-missing", "data file does not exist", ["train", "--data", "{tmp}/nope.txt"], 1, "not found"),
    ("data-dir", "data path is a directory", ["train", "--data", "{tmp}"], 1, "directory"),
    ("data-empty", "data file is empty", ["train", "--data", "{empty}"], 1, "no documents"),
    ("data-blank", "data file has only whitespace", ["train", "--data", "{blank}"], 1, "no documents"),
    ("data-latin1", "data file is not UTF-8", ["train", "--data", "{latin1}"], 1, "not UTF-8"),
    ("data-binary", "data file is binary", ["train", "--data", "{binary}"], 1, "binary"),
    ("data-huge-line", "one enormous line (a whole text, not documents)", ["train", "--data", "{hugeline}"], 1,
     "split the text into lines"),
    ("data-too-few", "fewer documents than the validation split needs",
     ["train", "--data", "{three}", "--val-docs", "3"], 2, "leaves nothing to train on"),
    ("data-bundled-damaged", "the names shipped in the package are damaged (run from a broken copy)", ["dataset"],
     1, "reinstall microgpt", "broken"),
    # config
    ("cfg-divisible", "n_embd not divisible by n_head", ["train", "--data", "{three}", "--n-embd", "10"], 2,
     "divisible"),
    ("cfg-embd-zero", "zero embedding width", ["train", "--n-embd", "0"], 2, "positive integer"),
    ("cfg-layer-neg", "negative layer count", ["train", "--n-layer", "-1"], 2, "positive integer"),
    ("cfg-block-zero", "zero block size", ["train", "--block-size", "0"], 2, "positive integer"),
    ("cfg-steps-zero", "zero steps", ["train", "--steps", "0"], 2, "positive integer"),
    ("cfg-steps-text", "steps not a number", ["train", "--steps", "ten"], 2, "positive integer"),
    ("cfg-lr-zero", "zero learning rate", ["train", "--lr", "0"], 2, "> 0"),
    ("cfg-lr-nan", "NaN learning rate", ["train", "--lr", "nan"], 2, "finite"),
    ("cfg-beta", "beta1 outside [0, 1)", ["train", "--beta1", "1.5"], 2, "[0, 1)"),
    ("cfg-batch-zero", "zero batch size", ["train", "--batch-size", "0"], 2, "positive integer"),
    ("cfg-warmup", "warmup as long as the run", ["train", "--data", "{three}", "--steps", "5", "--warmup-steps", "5"],
     2, "warmup-steps"),
    ("cfg-engine", "unknown engine", ["train", "--engine", "gpu9000"], 2, "invalid choice"),
    ("cfg-flag", "unknown flag", ["train", "--bogus"], 2, "unrecognized"),
    ("cfg-resume-block", "block_size larger than the checkpoint was trained with",
     ["train", "--resume", "{model}", "--block-size", "64"], 2, "no position embeddings"),
    ("cfg-resume-change", "changing a hyperparameter on resume", ["train", "--resume", "{model}", "--n-head", "1"], 2,
     "cannot be changed when resuming"),
    ("cfg-resume-data", "resuming on other data", ["train", "--resume", "{model}", "--steps", "9", "--data",
                                                   "{three}"], 1, "same --data"),
    ("out-unwritable", "--out where nothing can be written", ["train", "--data", "{three}", "--steps", "1",
                                                              "--val-docs", "0", "--out", "/proc/m.json"], 1,
     "/proc"),
    ("log-no-folder", "--log into a folder that does not exist", ["train", "--data", "{three}", "--steps", "1",
                                                                  "--log", "{tmp}/no/such/dir/run.jsonl"], 1,
     "No such file or directory"),
    # outputs, checked before the first step (outputs.py)
    ("out-data", "--out onto the training data", ["train", "--data", "{three}", "--out", "{three}"], 2,
     "is the training data"),
    ("out-foreign", "--out onto an existing file microgpt did not write", ["train", "--data", "{three}", "--out",
                                                                           "{notes}"], 2, "add --force"),
    ("out-dir", "--out an existing directory", ["train", "--data", "{three}", "--out", "{tmp}"], 2, "is a directory"),
    ("out-device", "--out onto a device node", ["train", "--data", "{three}", "--out", "/dev/null"], 2,
     "not a regular file"),
    ("out-fifo", "--out onto a FIFO", ["train", "--data", "{three}", "--out", "{fifo}"], 2, "FIFO"),
    ("out-log-same", "--out and --log one file", ["train", "--data", "{three}", "--out", "{tmp}/x.json", "--log",
                                                  "{tmp}/x.json"], 2, "are the same file"),
    ("log-checkpoint", "--log onto an existing checkpoint", ["train", "--data", "{three}", "--log", "{model}"], 2,
     "not a microgpt run log"),
    ("out-denied", "--out in a folder that refuses new files, even to root", ["train", "--data", "{three}", "--out",
                                                                             "/sys/m.json"], 1, "Permission denied"),
    ("out-under-file", "--out below a file, as if it were a folder", ["train", "--data", "{three}", "--out",
                                                                      "{three}/m.json"], 1, "not a folder"),
    ("plot-out-foreign", "plot --out onto a file that is not a picture of that format",
     ["plot", "{nolosses}", "--out", "{fake}"], 2, "add --force"),
    ("graph-out-dir", "graph --out an existing directory", ["graph", "--out", "{picdir}"], 2, "is a directory"),
    ("ladder-json-dir", "ladder --json into a directory (refused before the first rung)",
     ["ladder", "0", "--data", "{three}", "--json", "{tmp}"], 2, "is a directory"),
    ("ladder-json-no-folder", "ladder --json into a folder that does not exist",
     ["ladder", "0", "--data", "{three}", "--json", "{tmp}/no/such/r.json"], 1, "does not exist"),
    ("ladder-class-steps", "ladder --class with --steps (the preset sets each rung's steps)",
     ["ladder", "--class", "--steps", "50"], 2, "drop --steps"),
    ("ladder-jobs-zero", "ladder --jobs 0", ["ladder", "0", "--jobs", "0"], 2, "--jobs must be at least 1"),
    # sampling
    ("smp-prefix", "prefix with characters outside the vocabulary", ["sample", "{model}", "--prefix", "Q!"], 2,
     "not in the model's vocabulary"),
    ("smp-prefix-long", "prefix that fills the whole context", ["sample", "{model}", "--prefix", "abababab"], 2,
     "no room"),
    ("smp-temp", "negative temperature", ["sample", "{model}", "--temperature", "-1"], 2, ">= 0"),
    ("smp-topk-zero", "top-k of 0", ["sample", "{model}", "--top-k", "0"], 2, "top-k"),
    ("smp-topk-big", "top-k larger than the vocabulary", ["sample", "{model}", "--top-k", "999"], 2, "top-k"),
    ("smp-topp-zero", "top-p of 0", ["sample", "{model}", "--top-p", "0"], 2, "top-p"),
    ("smp-topp-big", "top-p above 1", ["sample", "{model}", "--top-p", "1.5"], 2, "top-p"),
    ("smp-topp-nan", "top-p that is not a number", ["sample", "{model}", "--top-p", "nan"], 2, "--top-p"),
    ("smp-n-zero", "-n 0", ["sample", "{model}", "-n", "0"], 2, "-n"),
    # checkpoints
    ("ckpt-missing", "checkpoint does not exist", ["sample", "{tmp}/none.json"], 1, "not found"),
    ("ckpt-dir", "checkpoint path is a directory", ["info", "{tmp}"], 1, "directory"),
    ("ckpt-truncated", "truncated JSON", ["sample", "{truncated}"], 1, "not valid JSON"),
    ("ckpt-binary", "not text at all", ["info", "{binary}"], 1, "not UTF-8"),
    ("ckpt-not-ckpt", "valid JSON of the wrong shape", ["info", "{wrongshape}"], 1, "not a microgpt checkpoint"),
    ("ckpt-future", "a future format version", ["info", "{future}"], 1, "newer"),
    ("ckpt-shape", "weight shapes that disagree with the config", ["sample", "{badshape}"], 1, "rows"),
    ("ckpt-activation", "an activation microgpt does not have", ["sample", "{swish}"], 1,
     "activation must be one of relu, gelu"),
    ("ckpt-nan", "NaN weights", ["sample", "{nan}"], 1, "NaN"),
    ("ckpt-inf", "infinite weights", ["sample", "{inf}"], 1, "infinite"),
    ("ckpt-huge", "a file far larger than its config implies (refused before parsing)", ["info", "{huge}"], 1,
     "far more than its config"),
    ("ckpt-bomb", "a JSON nesting bomb", ["info", "{bomb}"], 1, "nested too deeply"),
    ("ckpt-not-resumable", "resuming a checkpoint without optimizer state", ["train", "--resume", "{noopt}"], 1,
     "cannot resume"),
    # other commands
    ("tok-text", "tokenizer text outside the vocabulary", ["tokenizer", "Z9", "--data", "{three}"], 1,
     "not in the model's vocabulary"),
    ("arch-model", "architecture of a missing model", ["architecture", "--model", "{tmp}/none.json"], 1, "not found"),
    ("score-vocab", "score a string with characters the model never saw", ["score", "{model}", "Zed!"], 2,
     "not in the model's vocabulary"),
    ("eval-data", "eval on a data file that does not exist", ["eval", "{model}", "--data", "{tmp}/none.txt"], 1,
     "not found"),
    ("plot-log", "plot a run log that does not exist", ["plot", "{tmp}/none.jsonl"], 1, "not found"),
    ("plot-empty-log", "plot a run log with no loss records", ["plot", "{nolosses}"], 1, "no loss records"),
    ("plot-attn-vocab", "attention for text outside the vocabulary", ["plot", "{model}", "--attention", "Q"], 2,
     "not in the model's vocabulary"),
    ("graph-model", "graph of a missing model", ["graph", "--model", "{tmp}/none.json"], 1, "not found"),
    ("keep-best-alone", "--keep-best without --eval-every", ["train", "--data", "{three}", "--keep-best"], 2,
     "needs --eval-every"),
    ("eval-every-no-val", "--eval-every with no validation split",
     ["train", "--data", "{three}", "--eval-every", "5", "--val-docs", "0"], 2, "needs validation data"),
    ("engine-option", "an option of another engine", ["train", "--data", "{three}", "--device", "cuda"], 2,
     "is an option of --engine torch"),
    ("numpy-dtype", "a dtype the numpy engine has not", ["train", "--data", "{three}", "--engine", "numpy", "--dtype",
                                                         "bfloat16"], 2, "dtype must be one of"),
    ("dropout-range", "--dropout of 1 or more", ["train", "--data", "{three}", "--engine", "torch", "--dropout", "1"], 2,
     "expected a fraction in [0, 1)"),
    ("dropout-fused", "--dropout for an engine without it",
     ["train", "--data", "{three}", "--engine", "fused", "--dropout", "0.1"], 2,
     "is an option of --engine numpy or torch"),
    ("text-missing", "--text file that does not exist", ["train", "--text", "{tmp}/none.txt"], 1, "not found"),
    # tokenizers (batches.py, bpe.py)
    ("bpe-vocab-small", "a BPE vocabulary smaller than the 256 bytes + BOS",
     ["train", "--data", "{three}", "--tokenizer", "bpe", "--vocab-size", "100"], 2, "at least 257"),
    ("bpe-vocab-char", "--vocab-size with the char tokenizer", ["train", "--data", "{three}", "--vocab-size", "300"],
     2, "--vocab-size is for --tokenizer bpe"),
    ("bpe-empty-text", "BPE on an empty text", ["train", "--text", "{empty}", "--tokenizer", "bpe"], 1,
     "nothing to learn"),
    ("bpe-resume", "another tokenizer when resuming", ["train", "--resume", "{model}", "--tokenizer", "bpe"], 2,
     "--tokenizer cannot be changed when resuming"),
    ("bpe-tokenizer-char-model", "tokenizer --bpe given a characters model",
     ["tokenizer", "--bpe", "{model}"], 2, "has a characters tokenizer"),
    ("bench-reference", "bench --reference that does not exist", ["bench", "--data", "{three}", "--reference",
                                                                 "{tmp}/none.py"], 1, "not found"),
    ("bench-reference-binary", "bench --reference that is not text (checked before any timing)",
     ["bench", "--data", "{three}", "--reference", "{binary}"], 1, "looks binary"),
    ("bench-json-foreign", "bench --json onto a file microgpt did not write (refused before any timing)",
     ["bench", "--data", "{three}", "--json", "{notes}"], 2, "add --force"),
    ("bench-json-data", "bench --json onto the data it reads", ["bench", "--data", "{three}", "--json", "{three}"], 2,
     "would destroy it"),
    # inputs that are not regular files: refused at once, never waited on
    ("data-fifo", "--data is a FIFO (it would wait forever for a writer)", ["train", "--data", "{fifo}"], 1,
     "is a FIFO (named pipe), not a regular file"),
    ("data-device", "--data is a device that never ends", ["train", "--data", "/dev/zero"], 1,
     "is a character device, not a regular file"),
    ("text-fifo", "--text is a FIFO", ["train", "--text", "{fifo}"], 1, "not a regular file"),
    ("ckpt-fifo", "checkpoint path is a FIFO", ["sample", "{fifo}"], 1, "not a regular file"),
    ("ckpt-device", "checkpoint path is /dev/zero", ["info", "/dev/zero"], 1, "not a regular file"),
    ("score-file-fifo", "score --file is a FIFO", ["score", "{model}", "--file", "{fifo}"], 1, "not a regular file"),
    ("plot-log-fifo", "a run log that is a FIFO", ["plot", "{fifo}"], 1, "not a regular file"),
    # numbers no float holds
    ("ckpt-huge-int", "a weight written as a JSON integer too large for a float", ["sample", "{hugeint}"], 1,
     "too large for a float"),
    ("ckpt-long-int", "a JSON integer of more digits than Python reads", ["info", "{longint}"], 1,
     "too long to read"),
    ("smp-temp-tiny", "a temperature so small that 1/T overflows", ["sample", "{model}", "--temperature", "1e-320"],
     2, "use 0 for greedy"),
    ("plot-temp-tiny", "plot --next at a temperature that overflows",
     ["plot", "{model}", "--next", "a", "--temperature", "1e-320"], 2, "use 0 for greedy"),
    # the state a resume goes on from, checked by schema (sampling the weights still works)
    ("resume-adam-v", "resuming an Adam checkpoint whose v is missing", ["train", "--resume", "{nov}"], 1,
     "optimizer.v is missing"),
    ("resume-negative-v", "resuming with a negative Adam v", ["train", "--resume", "{negv}"], 1,
     "running mean of squares"),
    ("resume-t", "resuming with a step count that is a string", ["train", "--resume", "{tstr}"], 1,
     "optimizer.t must be an integer"),
    ("resume-rng", "resuming with a damaged random-generator state", ["train", "--resume", "{badrng}"], 1,
     "rng_state.state[5] must be an integer in [0, 2**32)"),
    # more than the machine holds: refused before any work
    ("mem-embd", "a model too wide for memory", ["train", "--data", "{three}", "--n-embd", "65536"], 1,
     "of memory"),
    ("mem-batch", "a batch too large for memory", ["train", "--data", "{three}", "--batch-size", "1000000000"], 1,
     "of memory"),
    ("mem-architecture", "a fresh model too wide for memory", ["architecture", "--data", "{three}",
                                                              "--n-embd", "65536"], 1, "of memory"),
    # flags that were silently ignored, pictures that were silently not drawn
    ("smp-chars-names", "--chars for a names model", ["sample", "{model}", "--chars", "50"], 2,
     "--chars is for models trained with --text"),
    ("graph-tiny-model", "graph --tiny with --model", ["graph", "--tiny", "--model", "{model}"], 2,
     "give one of them"),
    ("graph-not-drawn", "graph --out PNG of a model too large to draw", ["graph", "--model", "{wide}", "--out",
                                                                        "{tmp}/g.png"], 1, "but not"),
    ("graph-a-with-model", "graph -a (the worked example's) with --model", ["graph", "--model", "{model}", "-a", "3"],
     2, "-a and -b set the worked example"),
    ("arch-size-with-model", "architecture --n-embd with --model", ["architecture", "--model", "{model}",
                                                                   "--n-embd", "64"], 2, "describes a fresh model"),
    ("plot-smooth-view", "plot --smooth with a view of a model", ["plot", "{model}", "--bigram", "--smooth", "5"], 2,
     "--smooth goes with run logs"),
    ("ckpt-billion-layers", "a small checkpoint whose config claims a billion layers", ["info", "{billion}"], 1,
     "6,000,000,003 matrices"),
    # exercises
    ("exercise-zero", "exercise number 0", ["exercise", "start", "0"], 2, "no exercise 0"),
    ("exercise-99", "an exercise number past the last", ["exercise", "check", "99"], 2, "no exercise 99"),
    ("exercise-text", "an exercise number that is not a number", ["exercise", "start", "x"], 2,
     "expected an exercise number"),
    ("exercise-start-exists", "exercise start onto a file that already exists (it may hold the student's work)",
     ["exercise", "start", "5", "--dir", "{exdir}"], 2, "add --force"),
    ("exercise-start-no-dir", "exercise start --dir a folder that does not exist",
     ["exercise", "start", "3", "--dir", "{tmp}/no/such"], 1, "does not exist"),
    ("exercise-check-missing", "exercise check of a file that does not exist", ["exercise", "check", "4",
                                                                                 "{tmp}/none.py"], 1, "not found"),
    ("exercise-check-no-stub", "exercise check with no file given and no stub in the folder",
     ["exercise", "check", "4"], 1, "microgpt exercise start 4"),
    ("exercise-check-syntax", "exercise check of a file with a syntax error", ["exercise", "check", "5",
                                                                               "{exsyntax}"], 1, "not valid Python"),
    ("exercise-check-raises", "exercise check of a file that raises as it is loaded",
     ["exercise", "check", "5", "{exraises}"], 1, "running the file raised NameError"),
    ("graph-zero-p", "graph of a target the model gives probability exactly 0", ["graph", "--model", "{sharp}",
                                                                                "--target", "{zero}"], 1,
     "probability of exactly 0"),
    # the explorer: everything on its command line is checked before it serves
    ("explore-missing", "explore a model that does not exist", ["explore", "{tmp}/nope.json", "--no-browser"], 1,
     "not found"),
    ("explore-log-model", "explore --log given a checkpoint", ["explore", "{model}", "--log", "{model}",
                                                                "--no-browser"], 2, "not a run log"),
    ("explore-port", "explore --port out of range", ["explore", "{model}", "--port", "70000", "--no-browser"], 2,
     "0 to 65535"),
    ("explore-nothing", "explore with no model and no ladder", ["explore", "--no-browser"], 2, "nothing to explore"),
    ("explore-ladder-not", "explore --ladder given a file that is not ladder results",
     ["explore", "--ladder", "{model}", "--no-browser"], 1, "no ladder results"),
    ("report-over-notes", "report --out onto a file that is not a report", ["report", "{model}", "--out", "{notes}"],
     2, "not a microgpt report"),
    ("report-over-model", "report --out onto the model it reads", ["report", "{model}", "--out", "{model}"], 2,
     "is a model it reads"),
    ("report-text-vocab", "report --text with characters the model never saw",
     ["report", "{model}", "--out", "{tmp}/r.html", "--text", "Zed!"], 2, "not in the model's vocabulary"),
    # the static site: everything is checked before anything is built
    ("site-out-file", "site --out a file", ["site", "--out", "{three}"], 2, "is a file, not a folder"),
    ("site-out-foreign", "site --out a folder that holds other files", ["site", "--out", "{tmp}"], 2,
     "give a new or empty folder"),
    ("site-model-missing", "site --model that does not exist",
     ["site", "--out", "{tmp}/site", "--model", "{tmp}/none.json"], 1, "not found"),
    ("site-pyodide-missing", "site --pyodide a folder that does not exist",
     ["site", "--out", "{tmp}/site", "--model", "{model}", "--pyodide", "{tmp}/nope"], 2, "is not a folder"),
    ("site-pyodide-incomplete", "site --pyodide a folder without Pyodide's core",
     ["site", "--out", "{tmp}/site", "--model", "{model}", "--pyodide", "{tmp}"], 2, "npm pack pyodide@"),
    ("site-lessons-none", "site --lessons a folder without executed lessons",
     ["site", "--out", "{tmp}/site", "--model", "{model}", "--lessons", "{tmp}"], 2, "no executed lesson notebook"),
    # ablation and diff
    ("eval-ablate-range", "eval --ablate a head the model does not have", ["eval", "{model}", "--ablate", "head:0.9"],
     2, "there is no head 9"),
    ("score-ablate-part", "score --ablate a part that does not exist", ["score", "{model}", "emma", "--ablate",
                                                                         "ffn:0"], 2, "unknown ablation"),
    ("diff-mixed", "diff a model with a run log", ["diff", "{model}", "{nolosses}"], 2, "two run logs or two models"),
    ("diff-missing", "diff a file that does not exist", ["diff", "{tmp}/none.jsonl", "{nolosses}"], 2, "not found"),
    ("diff-not-log", "diff two files that are neither run logs nor models", ["diff", "{notes}", "{notes}"], 2,
     "is not JSON"),
    ("diff-tol", "diff --tol below zero", ["diff", "{nolosses}", "{nolosses}", "--tol", "-1"], 2, ">= 0"),
    ("diff-fifo", "diff a FIFO (it would wait forever for a writer)", ["diff", "{fifo}", "{nolosses}"], 2,
     "not a regular file"),
    # a path that came out empty is not the default
    ("data-empty-name", "--data \"\" (an empty variable)", ["train", "--data", ""], 2, "--data is empty"),
    ("text-empty-name", "--text \"\"", ["train", "--text", ""], 2, "--text is empty"),
    # "is this our file?": read as a whole, never guessed from its first bytes
    ("out-quotes-ckpt", "--out onto notes that quote a checkpoint's first bytes",
     ["train", "--data", "{three}", "--out", "{quoting}"], 2, "add --force"),
    ("log-foreign", "--log onto another tool's JSON lines that have a \"step\"",
     ["train", "--data", "{three}", "--out", "{tmp}/m2.json", "--log", "{foreignlog}"], 2, "add --force"),
    ("ladder-json-foreign", "ladder --json onto someone's JSON with a \"results\" key",
     ["ladder", "0", "--data", "{three}", "--json", "{foreignresults}"], 2, "add --force"),
    ("bench-json-rows", "bench --json onto someone's JSON with a \"rows\" key",
     ["bench", "--data", "{three}", "--json", "{foreignrows}"], 2, "add --force"),
    ("plot-out-foreign-png", "plot --out onto a PNG microgpt did not draw", ["plot", "{nolosses}", "--out",
                                                                            "{photo}"], 2, "add --force"),
    # the ladder reads --data as train does
    ("ladder-data-dir", "ladder --data is a folder", ["ladder", "0", "--data", "{tmp}"], 1, "directory"),
    ("ladder-data-fifo", "ladder --data is a FIFO", ["ladder", "0", "--data", "{fifo}"], 1, "not a regular file"),
    ("ladder-data-binary", "ladder --data is a binary file", ["ladder", "0", "--data", "{binary}"], 1, "binary"),
    # bench flags that would be silently ignored
    ("bench-configs-empty", "bench --configs \"\"", ["bench", "--configs", ""], 2, "--configs is empty"),
    ("bench-dtype-numpy", "bench --dtype without the torch engine", ["bench", "--engines", "numpy", "--dtype",
                                                                     "bfloat16"], 2, "option of the torch engine"),
    ("bench-threads", "bench --threads beyond the machine's CPUs", ["bench", "--threads", "100000"], 2,
     "more than this machine's"),
    # the grader: the student's code runs in a child process
    ("exercise-exit", "an exercise file that calls sys.exit() when loaded", ["exercise", "check", "5", "{exexit}"],
     1, "SystemExit"),
]


def make_files(tmp):
    """The bad (and one good) inputs the catalogue refers to."""
    tmp = Path(tmp)
    f = {"tmp": str(tmp)}

    def put(name, content):
        p = tmp / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
        f[name.split(".")[0]] = str(p)

    put("empty.txt", b"")
    put("blank.txt", " \n\t\n   \n")
    put("latin1.txt", "caf\u00e9\nna\u00efve\n".encode("latin-1"))
    put("binary.bin", bytes(range(256)) * 4)
    put("hugeline.txt", "a" * 200_000 + "\n")
    put("three.txt", "ab\nba\naab\n")
    put("nolosses.jsonl", '{"step": 1}\n')
    put("notes.txt", "my notes\n")
    put("quoting.md", 'A checkpoint starts {"format": "microgpt", "version": 2, and more\n')
    put("foreignlog.jsonl", '{"step": 1, "reward": 0.5}\n')
    put("foreignresults.json", '{"results": [1, 2]}')
    put("foreignrows.json", '{"rows": []}')
    put("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(64))
    put("exexit.py", "import sys\nsys.exit(0)\n")
    put("fake.png", "not a picture\n")
    put("exsyntax.py", "def softmax(logits:\n    return logits\n")
    put("exraises.py", "import math\n\nTOP = undefined_name\n")
    (tmp / "exdir").mkdir()
    (tmp / "exdir" / "ex05_softmax.py").write_text("the student's work\n")
    f["exdir"] = str(tmp / "exdir")
    os.mkfifo(tmp / "fifo")
    f["fifo"] = str(tmp / "fifo")
    (tmp / "pic.svg").mkdir()
    f["picdir"] = str(tmp / "pic.svg")
    docs = "\n".join(["ab", "ba", "aab", "bba", "abab", "baba", "aa", "bb", "aba", "bab", "abba", "baab"] * 3)
    put("docs.txt", docs)
    broken = tmp / "broken"
    shutil.copytree(Path(forward.__file__).parent, broken / "microgpt", ignore=shutil.ignore_patterns("__pycache__"))
    (broken / "microgpt" / "datasets" / "names.txt.gz").write_bytes(gzip.compress(b"emma\nmallory\n", mtime=0))
    f["broken"] = str(broken)
    model = tmp / "model.json"
    env = dict(os.environ)
    subprocess.run([sys.executable, "-m", "microgpt", "train", "--data", f["docs"], "--steps", "2", "--n-embd", "8",
                    "--n-head", "2", "--block-size", "8", "--out", str(model), "--samples", "0"],
                   check=True, capture_output=True, env=env)
    f["model"] = str(model)
    good = json.loads(model.read_text())
    text = model.read_text()
    put("truncated.json", text[: len(text) // 2])
    put("wrongshape.json", json.dumps([1, 2, 3]))
    put("future.json", json.dumps({**good, "version": 999}))
    bad = json.loads(text)
    bad["weights"]["wpe"] = bad["weights"]["wpe"][:3]
    put("badshape.json", json.dumps(bad))
    put("swish.json", json.dumps({**good, "config": {**good["config"], "activation": "swish"}}))
    nan = json.loads(text)
    nan["weights"]["wte"][1][2] = float("nan")
    put("nan.json", json.dumps(nan))
    inf = json.loads(text)
    inf["weights"]["lm_head"][0][0] = float("inf")
    put("inf.json", json.dumps(inf))
    put("huge.json", '{"format": "microgpt", "version": 1, "config": ' + json.dumps(good["config"])
        + ', "weights": [' + "0," * 3_000_000 + "0]}")
    put("bomb.json", "[" * 200_000 + "]" * 200_000)
    noopt = json.loads(text)
    noopt.pop("optimizer")
    put("noopt.json", json.dumps(noopt))
    put("hugeint.json", text.replace(repr(good["weights"]["wte"][0][0]), str(10**400), 1))
    put("longint.json", text.replace(repr(good["weights"]["wte"][0][0]), "9" * 5000, 1))
    for name, edit in [("nov", lambda d: d["optimizer"].pop("v")),
                       ("negv", lambda d: d["optimizer"]["v"]["wte"][0].__setitem__(1, -0.5)),
                       ("tstr", lambda d: d["optimizer"].__setitem__("t", "2")),
                       ("badrng", lambda d: d["rng_state"]["state"].__setitem__(5, 2**32))]:
        d = json.loads(text)
        edit(d)
        put(f"{name}.json", json.dumps(d))
    billion = json.loads(text)
    billion["config"]["n_layer"] = 10**9
    billion["weights"] = {}
    put("billion.json", json.dumps(billion))
    sharp = json.loads(text)  # finite weights, but logit gaps of thousands: probabilities of exactly 0
    sharp["weights"]["lm_head"] = [[x * 1e4 for x in row] for row in sharp["weights"]["lm_head"]]
    put("sharp.json", json.dumps(sharp))
    ck = load(f["sharp"])
    probs = forward.softmax(forward.sequence_logits(ck.weights, ck.config, [ck.tokenizer.bos])[0])
    f["zero"] = next(c for c in ck.tokenizer.chars if probs[ck.tokenizer.stoi[c]] == 0.0)
    wide = GPTConfig(3, n_embd=16, n_head=2, n_layer=1, block_size=8)  # over 4,000 nodes: never drawn
    Checkpoint(wide, Tokenizer("ab"), init_weights(wide, random.Random(0))).save(tmp / "wide.json")
    f["wide"] = str(tmp / "wide.json")
    return f


CASE_TIMEOUT = 60  # seconds; every case is refused before any real work, in well under one
# Warnings Python does not show by default; any other warning would be a line on the process's stderr.
HIDDEN_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


class Hung(BaseException):
    """A case ran past CASE_TIMEOUT (a BaseException, so no `except Exception` in the command catches it)."""


def _hung(signum, frame):
    raise Hung(f"still running after {CASE_TIMEOUT} s")


def call(argv, files):
    """Exit status and stderr of `microgpt ARGV` run as a call in this process, in the scratch folder
    (so a command's default output, bigram.png or graph.svg, lands there) and without MICROGPT_DATA."""
    args = [a.format(**files) for a in argv]
    out, err = io.StringIO(), io.StringIO()
    cwd, data = os.getcwd(), os.environ.pop("MICROGPT_DATA", None)
    alarm = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(CASE_TIMEOUT)  # a FIFO opened, a server started: the case fails instead of waiting forever
    try:
        os.chdir(files["tmp"])
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            warnings.simplefilter("always")
            try:
                code = main(args)
            except SystemExit as e:  # argparse's usage errors, as `python -m microgpt` exits with them
                code = e.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, alarm)
        os.chdir(cwd)
        if data is not None:
            os.environ["MICROGPT_DATA"] = data
    shown = [warnings.formatwarning(w.message, w.category, w.filename, w.lineno)
             for w in caught if not issubclass(w.category, HIDDEN_WARNINGS)]
    return code, err.getvalue() + "".join(shown)


def run_process(argv, files, broken=False):
    """Exit status and stderr of `python -m microgpt ARGV` in a fresh interpreter; broken: import the
    package from the copy whose bundled names are damaged."""
    env = dict(os.environ)
    env.pop("MICROGPT_DATA", None)
    if broken:
        env["PYTHONPATH"] = files["broken"]
    args = [a.format(**files) for a in argv]
    p = subprocess.run([sys.executable, "-m", "microgpt", *args], capture_output=True, text=True, env=env, timeout=120,
                       cwd=files["tmp"])
    return p.returncode, p.stderr


def run(argv, files, broken=False):
    return run_process(argv, files, broken=True) if broken else call(argv, files)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return make_files(tmp_path_factory.mktemp("catalogue"))


def test_catalogue_is_large_enough():
    assert len(CATALOGUE) >= 30
    assert len({c[0] for c in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize("case", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_bad_input(case, files):
    ident, what, argv, code, needle, *broken = case
    rc, err = run(argv, files, bool(broken))
    assert rc == code, err
    assert needle in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


# One case for each way a command ends: argparse's usage error, a refused value, an OSError, the
# out-of-memory estimate, an input that must not be waited on, an output that must not be opened,
# a refused server and an exercise file that raises.
IN_A_PROCESS = ["cfg-flag", "cfg-divisible", "ckpt-truncated", "out-denied", "mem-embd", "data-fifo", "out-fifo",
                "explore-port", "exercise-check-raises"]


@pytest.mark.parametrize("ident", IN_A_PROCESS)
def test_a_process_ends_as_the_call_does(ident, files):
    """The in-process call is a faithful stand-in: a real process exits with the same status and says the
    same on stderr."""
    (case,) = [c for c in CATALOGUE if c[0] == ident]
    assert run_process(case[2], files) == call(case[2], files)


def test_a_hang_fails_the_case(files, monkeypatch):
    """A command that waits (here: a FIFO no one writes, opened directly) is cut off, not waited on."""
    monkeypatch.setattr(sys.modules[__name__], "CASE_TIMEOUT", 1)
    monkeypatch.setattr(sys.modules[__name__], "main", lambda args: open(files["fifo"]).read())
    with pytest.raises(Hung):
        call([], files)


def test_long_documents_are_truncated_not_refused(files):
    """Policy, as in the original: a document longer than block_size is cut to block_size positions."""
    p = subprocess.run([sys.executable, "-m", "microgpt", "train", "--data", files["docs"], "--steps", "1",
                        "--n-embd", "8", "--n-head", "2", "--block-size", "3", "--out", files["tmp"] + "/t.json",
                        "--samples", "0"], capture_output=True, text=True)
    assert p.returncode == 0 and "truncated" in p.stdout


# scripts/docs.py reruns this command to check the count the page states
COUNT_MARKER = ("<!-- output: python -c 'import sys; sys.path.insert(0, \"tests\"); "
                "import test_error_catalogue as c; print(len(c.CATALOGUE))' -->")


def write_docs():
    """docs/errors.md from what the commands print now."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(tmp)
        for ident, what, argv, code, needle, *broken in CATALOGUE:
            rc, err = run(argv, files, bool(broken))
            shown = "microgpt " + " ".join(argv).replace("{tmp}/", "").replace("{", "").replace("}", "")
            msg = err.strip().replace(tmp, "…").replace("|", "\\|")
            rows.append(f"| {what} | `{shown}` | {rc} | {msg} |")
    out = HERE.parent / "docs" / "errors.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        "# What microgpt says when the input is wrong\n\n"
        f"Every case below ({COUNT_MARKER}{len(rows)}<!-- /output --> in all) is run by "
        "`tests/test_error_catalogue.py`, which checks the exit code, that stderr is "
        "one line naming the problem, and that there is no traceback (`--debug` before the command shows one). "
        "This page is generated from the actual output: `python tests/test_error_catalogue.py`.\n\n"
        "Policies rather than errors: a document longer than `block_size` is truncated (as in the original) and "
        "`train` prints how many were; the names shipped inside the package are checked against their sha256 each "
        "time they are read, and a damaged copy is refused (`tests/test_data.py`).\n\n"
        "| problem | command | exit | message |\n|---|---|---|---|\n" + "\n".join(rows) + "\n")
    print(f"wrote {out} ({len(rows)} cases)")


if __name__ == "__main__":
    write_docs()
