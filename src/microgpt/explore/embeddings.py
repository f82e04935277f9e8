"""The embedding tables, made small enough to look at.

`wte` has one row per token, n_embd numbers each: too many dimensions to see.
Principal component analysis finds the two directions along which the rows
differ most; projecting each row onto them gives a point per token, and
tokens the model treats alike land close together. `wpe` has one row per
position: the cosine similarity of every pair shows which positions the model
encodes alike.

Pure Python (the tables are small): the covariance matrix, then its top
eigenvectors by power iteration, each found one after the other with the
previous ones projected out.
"""

import math
import random

ITERATIONS = 500
TOLERANCE = 1e-13


def _dot(u, v):
    return math.fsum(a * b for a, b in zip(u, v))


def _normalise(v):
    n = math.sqrt(_dot(v, v))
    return [x / n for x in v] if n > 0 else v


def _orthogonal(v, axes):
    """v with its components along the (unit, orthogonal) axes removed."""
    for a in axes:
        along = _dot(v, a)
        v = [vi - along * ai for vi, ai in zip(v, a)]
    return v


def principal_axes(rows, k=2):
    """The k unit directions of greatest variance of `rows`, largest first, and
    the variance along each. A direction's sign is fixed so that its largest
    component is positive (so the picture does not flip between runs)."""
    n, d = len(rows), len(rows[0])
    mean = [math.fsum(r[j] for r in rows) / n for j in range(d)]
    centred = [[r[j] - mean[j] for j in range(d)] for r in rows]
    cov = [[math.fsum(r[i] * r[j] for r in centred) / n for j in range(d)] for i in range(d)]
    rng = random.Random(0)
    axes, variances = [], []
    for _ in range(min(k, d)):
        v = _normalise(_orthogonal([rng.gauss(0, 1) for _ in range(d)], axes))
        for _ in range(ITERATIONS):
            w = _orthogonal([_dot(row, v) for row in cov], axes)
            if math.sqrt(_dot(w, w)) <= 1e-12 * max(cov[i][i] for i in range(d)):
                break  # no variance is left off the axes found: any orthogonal direction will do
            w = _normalise(w)
            done = max(abs(x - y) for x, y in zip(w, v)) < TOLERANCE
            v = w
            if done:
                break
        if max(v, key=abs) < 0:
            v = [-x for x in v]
        axes.append(v)
        variances.append(max(0.0, _dot(v, [_dot(row, v) for row in cov])))
    total = math.fsum(cov[i][i] for i in range(d))
    return axes, variances, total, mean


def pca_2d(rows):
    """Each row's coordinates on the two principal axes, and the share of the
    total variance each axis explains."""
    axes, variances, total, mean = principal_axes(rows, 2)
    points = [[_dot([x - m for x, m in zip(r, mean)], a) for a in axes] for r in rows]
    if len(axes) < 2:  # a one-wide embedding: the second coordinate is 0
        points = [p + [0.0] for p in points]
        variances = variances + [0.0]
    return points, [v / total if total > 0 else 0.0 for v in variances]


def similarity(rows):
    """Cosine similarity of every pair of rows (0 where a row is all zeros)."""
    norms = [math.sqrt(_dot(r, r)) for r in rows]
    return [[_dot(a, b) / (na * nb) if na > 0 and nb > 0 else 0.0 for b, nb in zip(rows, norms)]
            for a, na in zip(rows, norms)]
