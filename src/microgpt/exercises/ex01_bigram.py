"""Exercise 1: the bigram model: counts, probabilities, the NLL of a word.

Oracles: the project's bigram table (inspection/plots/bigram.py) for the
counts, and train0's NLL (counts started at one) for probabilities and NLL.
"""

import math
import random

from microgpt.exercises.grading import Failed, check, expect
from microgpt.inspection.plots.bigram import bigram_counts
from microgpt.ladder import train0
from microgpt.tokenizer import Tokenizer

TITLE = "the bigram model: counts -> probabilities -> NLL of a word"
TEACHES = "count pairs over [BOS, word, BOS], normalise rows with add-one smoothing, sum -ln p over a word"
OBJECTIVES = (4, 5, 25, 33)

SMALL = (["ab", "ba", "aab"], "abc")  # 'c' never occurs: its row of counts is all zeros


def ref_counts(words, chars):
    return bigram_counts(Tokenizer(chars), words)


def ref_probs(counts):
    return [[(c + 1) / (sum(row) + len(row)) for c in row] for row in counts]


def ref_nll(counts, word, chars):
    tok = Tokenizer(chars)
    smoothed = [[c + 1 for c in row] for row in counts]
    return sum(train0.nll(smoothed, [sum(r) for r in smoothed], tok.encode_doc(word)))


def _counts_without(words, chars, start=True, end=True):
    bos = len(chars)
    counts = [[0] * (bos + 1) for _ in range(bos + 1)]
    for w in words:
        t = [bos] * start + [chars.index(c) for c in w] + [bos] * end
        for a, b in zip(t, t[1:]):
            counts[a][b] += 1
    return counts


def _transpose(m):
    return [list(col) for col in zip(*m)]


def _random_words(seed, chars="abcde", n=30):
    rng = random.Random(seed)
    return [''.join(rng.choice(chars) for _ in range(rng.randint(1, 6))) for _ in range(n)]


def _count_mistakes(words, chars):
    return [
        (lambda: _counts_without(words, chars, start=False),
         "no pair starts at BOS: wrap each word as [BOS] + word + [BOS], so the table learns how words start"),
        (lambda: _counts_without(words, chars, end=False),
         "no pair ends at BOS: the final BOS is how the model learns where a word ends; wrap both sides"),
        (lambda: _transpose(ref_counts(words, chars)),
         "the table is transposed: counts[a][b] is how often b FOLLOWS a (row = current token, column = next)"),
    ]


@check("count_bigrams on three short words")
def counts_small(s):
    words, chars = SMALL
    expect(s.call("count_bigrams", words, chars), ref_counts(words, chars), f"count_bigrams({words}, {chars!r})",
           _count_mistakes(words, chars))


@check("count_bigrams on 30 random words over 'abcde'")
def counts_random(s):
    words = _random_words(1)
    expect(s.call("count_bigrams", words, "abcde"), ref_counts(words, "abcde"),
           "count_bigrams(30 random words, 'abcde')", _count_mistakes(words, "abcde"))


def _prob_mistakes(counts):
    return [
        (lambda: [[c / sum(row) for c in row] for row in counts],
         "no smoothing: add one to every count before dividing (a pair never seen must not get probability 0)"),
        (lambda: [[(c + 1) / sum(row) for c in row] for row in counts],
         "one was added to each count but not to the row total: divide by sum(row) + len(row)"),
        (lambda: _transpose(ref_probs(_transpose(counts))),
         "columns were normalised: each ROW (the current token) must sum to one"),
    ]


@check("bigram_probs: add-one smoothing, each row sums to one")
def probs_small(s):
    words, chars = SMALL
    counts = ref_counts(words, chars)
    expect(s.call("bigram_probs", counts, given=f"bigram_probs(counts of {words} over {chars!r})",
                  errors={ZeroDivisionError: "row 'c' has no counts at all (c never occurs): add one to every "
                                             "count before dividing (add-one smoothing)"}),
           ref_probs(counts), f"bigram_probs(counts of {words} over {chars!r})", _prob_mistakes(counts))


@check("bigram_probs on the counts of 30 random words")
def probs_random(s):
    counts = ref_counts(_random_words(2), "abcde")
    expect(s.call("bigram_probs", counts, given="bigram_probs(counts of 30 random words)"), ref_probs(counts),
           "bigram_probs(counts of 30 random words)", _prob_mistakes(counts))


def _nll_mistakes(probs, word, chars):
    bos = len(chars)
    t = [bos] + [chars.index(c) for c in word] + [bos]
    terms = [-math.log(probs[a][b]) for a, b in zip(t, t[1:])]
    return [
        (lambda: terms[:-1] and sum(terms[:-1]), "the last transition (last letter -> BOS) is missing: how "
                                                 "likely the word is to END there counts too"),
        (lambda: sum(terms[1:]), "the first transition (BOS -> first letter) is missing: start from BOS"),
        (lambda: sum(terms) / len(terms), "that is the mean over transitions; word_nll is their sum"),
        (lambda: -sum(terms), "the sign: NLL is MINUS the sum of log-probabilities (it is >= 0)"),
        (lambda: sum(terms) / math.log(10), "log base 10: use the natural log, math.log"),
        (lambda: sum(terms) / math.log(2), "log base 2: use the natural log, math.log"),
    ]


@check("word_nll('ab') under the three-word table")
def nll_small(s):
    words, chars = SMALL
    counts = ref_counts(words, chars)
    probs = ref_probs(counts)
    given = f"word_nll(probs of {words} over {chars!r}, 'ab', {chars!r})"
    expect(s.call("word_nll", probs, "ab", chars, given=given), ref_nll(counts, "ab", chars), given,
           _nll_mistakes(probs, "ab", chars))


@check("word_nll of a word with a pair never seen ('cc') is finite")
def nll_unseen(s):
    words, chars = SMALL
    counts = ref_counts(words, chars)
    probs = ref_probs(counts)
    given = f"word_nll(probs of {words} over {chars!r}, 'cc', {chars!r})"
    got = s.call("word_nll", probs, "cc", chars, given=given)
    if isinstance(got, float) and math.isinf(got):
        raise Failed(given, ref_nll(counts, "cc", chars), got, "infinite: was a probability 0? (use the table "
                                                                "given, which is smoothed)")
    expect(got, ref_nll(counts, "cc", chars), given, _nll_mistakes(probs, "cc", chars))


@check("word_nll of random words under a random table")
def nll_random(s):
    counts = ref_counts(_random_words(3), "abcde")
    probs = ref_probs(counts)
    for word in ("e", "abcde", "daed"):
        given = f"word_nll(probs of 30 random words, {word!r}, 'abcde')"
        expect(s.call("word_nll", probs, word, "abcde", given=given), ref_nll(counts, word, "abcde"), given,
               _nll_mistakes(probs, word, "abcde"))


CHECKS = [counts_small, counts_random, probs_small, probs_random, nll_small, nll_unseen, nll_random]
