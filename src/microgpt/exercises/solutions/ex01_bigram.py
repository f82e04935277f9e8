"""Exercise 1, a reference solution: the bigram model by counting."""

import math


def count_bigrams(words, chars):
    bos = len(chars)
    counts = [[0] * (bos + 1) for _ in range(bos + 1)]
    for word in words:
        tokens = [bos] + [chars.index(c) for c in word] + [bos]
        for a, b in zip(tokens, tokens[1:]):
            counts[a][b] += 1
    return counts


def bigram_probs(counts):
    probs = []
    for row in counts:
        total = sum(row) + len(row)
        probs.append([(c + 1) / total for c in row])
    return probs


def word_nll(probs, word, chars):
    bos = len(chars)
    tokens = [bos] + [chars.index(c) for c in word] + [bos]
    return sum(-math.log(probs[a][b]) for a, b in zip(tokens, tokens[1:]))
