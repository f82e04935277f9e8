"""Exercise 1: the bigram model, by counting.

The simplest model of names looks only at the previous character. Its best
table of probabilities has a closed form: count how often each character
follows each other one, then turn every row of counts into probabilities.

Tokens: character i of `chars` (a sorted string such as "abc") has id i, and
BOS, the token that marks both the start and the end of a word, has id
len(chars). A word is read as [BOS, c1, c2, ..., cn, BOS]. V = len(chars) + 1.

Write three functions:

count_bigrams(words, chars) -> counts
    counts is a V x V list of lists of ints: counts[a][b] is how many times
    token b follows token a, over every word wrapped in BOS on both sides.
    "ab" with chars "ab" adds one to counts[2][0], counts[0][1], counts[1][2].

bigram_probs(counts) -> probs
    The same V x V shape, floats: row a is the distribution of the token after
    a. Add one to every count first (add-one smoothing), so that a pair never
    seen still has a small probability, then divide each row by its total.

word_nll(probs, word, chars) -> float
    The negative log-likelihood of the word under the table: the sum, over
    every transition of [BOS, c1, ..., cn, BOS], of -ln probs[a][b]
    (natural log: math.log). The last transition, cn -> BOS, says how likely
    the word is to end there: it counts too.

Where it lives in the project: src/microgpt/ladder/train0.py (the first rung)
and src/microgpt/inspection/plots/bigram.py (the count table).
Check your answer with: microgpt exercise check 1
"""

import math


def count_bigrams(words, chars):
    raise NotImplementedError


def bigram_probs(counts):
    raise NotImplementedError


def word_nll(probs, word, chars):
    raise NotImplementedError
