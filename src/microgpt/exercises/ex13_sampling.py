"""Exercise 13: temperature and top-k sampling.

Oracle: the project's sample.next_token_probs (renormalised after top-k, as
random.choices does implicitly), greedy = the arg max. Edge cases: top_k=1,
temperature 0, a tiny temperature (logits / T overflow exp without the max
subtracted), a huge one (almost uniform). Draws are checked by what can and
cannot come out, and by their frequencies over many draws.
"""

import random

from microgpt.exercises.grading import Failed, check, expect
from microgpt.forward import softmax
from microgpt.sample import next_token_probs as project_probs

TITLE = "temperature + top-k sampling"
TEACHES = "softmax(logits / T), keep the k most likely and renormalise; T = 0 and top_k = 1 are greedy"
OBJECTIVES = (34, 35, 36)

LOGITS = [1.0, 3.0, -0.5, 2.2, 0.3]
OVERFLOW = ("logits / T are huge for a tiny T, and exp overflows: subtract the max of the scaled logits before exp "
            "(exercise 5)")


def ref(logits, temperature, top_k=None):
    if temperature == 0:
        best = max(range(len(logits)), key=logits.__getitem__)
        return [float(i == best) for i in range(len(logits))]
    probs = project_probs(logits, temperature, top_k)
    total = sum(probs)
    return [p / total for p in probs]


def _mistakes(logits, t, k):
    def topk(probs, smallest=False, renorm=True):
        order = sorted(range(len(probs)), key=lambda i: probs[i] if smallest else -probs[i])
        keep = set(order[:k]) if k is not None else set(order)
        kept = [p if i in keep else 0.0 for i, p in enumerate(probs)]
        return [p / sum(kept) for p in kept] if renorm else kept

    return [
        (lambda: topk(softmax([x * t for x in logits])), "the logits were MULTIPLIED by the temperature: divide "
                                                         "them, softmax(logits / T), so a small T sharpens"),
        (lambda: topk(softmax(logits)), "the temperature had no effect: divide the LOGITS by T before softmax "
                                        "(dividing the probabilities changes nothing once they are renormalised)"),
        (lambda: topk(softmax([x / t for x in logits]), renorm=False), "after top-k the kept probabilities must "
                                                                       "be renormalised to sum to 1"),
        (lambda: topk(softmax([x / t for x in logits]), smallest=True), "top-k kept the k LEAST likely tokens: "
                                                                        "keep the k largest"),
    ]


def _probs(s, logits, t, k, errors=None):
    given = f"next_token_probs({logits}, temperature={t}, top_k={k})"
    got = s.call("next_token_probs", list(logits), t, k, given=given, errors=errors)
    expect(got, ref(logits, t, k), given, _mistakes(logits, t, k) if t else ())


@check("temperature 1, no top-k: plain softmax")
def plain(s):
    _probs(s, LOGITS, 1.0, None)


@check("temperature 0.5 and 2")
def temperatures(s):
    _probs(s, LOGITS, 0.5, None)
    _probs(s, LOGITS, 2.0, None)


@check("top_k = 2 and top_k = 1 (greedy), renormalised")
def top_k(s):
    _probs(s, LOGITS, 0.8, 2)
    _probs(s, LOGITS, 0.8, 1)


@check("top_k = vocabulary size keeps everything")
def top_k_all(s):
    _probs(s, LOGITS, 1.0, len(LOGITS))


@check("temperature 0 is greedy: all the probability on the largest logit")
def greedy(s):
    errors = {ZeroDivisionError: "temperature 0 means greedy: return 1.0 at the largest logit and 0.0 elsewhere, "
                                 "before dividing by T"}
    _probs(s, LOGITS, 0, None, errors=errors)
    _probs(s, LOGITS[::-1], 0, None, errors=errors)  # the largest logit at another place


@check("the last token can win: the largest logit last, with and without top-k")
def last_token(s):
    last = [0.5, -1.0, 2.0, 4.0]  # every token must be a candidate, the last one too
    _probs(s, last, 0, None)
    _probs(s, last, 0.8, 2)


@check("a tiny temperature (0.001) does not overflow, and is nearly greedy")
def tiny(s):
    _probs(s, LOGITS, 0.001, None, errors={OverflowError: OVERFLOW})


@check("a huge temperature (1000) is nearly uniform")
def huge(s):
    _probs(s, LOGITS, 1000.0, None)


def _draw(s, logits, t, k, n, seed):
    rng = random.Random(seed)
    given = f"sample_token({logits}, temperature={t}, top_k={k}, rng) x {n}"
    out = [s.call("sample_token", list(logits), t, k, rng, given=given) for _ in range(n)]
    bad = [x for x in out if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < len(logits)]
    if bad:
        raise Failed(given, note=f"got {bad[0]!r}: a token id is an int in 0..{len(logits) - 1}",
                     hint="return the index drawn, e.g. rng.choices(range(n), weights=probs)[0]")
    return out, given


@check("top_k = 1 and temperature 0 always draw the most likely token")
def draws_greedy(s):
    for t, k in ((1.0, 1), (0, None)):
        out, given = _draw(s, LOGITS, t, k, 50, 1)
        if set(out) != {1}:
            raise Failed(given, note=f"drew {sorted(set(out))}; only token 1 (logit 3.0) can be drawn",
                         hint="draw from next_token_probs(logits, temperature, top_k), not from the raw logits")


@check("draws follow the distribution (4,000 draws) and stay inside the top k")
def draws_frequency(s):
    out, given = _draw(s, LOGITS, 1.0, 3, 4000, 2)
    want = ref(LOGITS, 1.0, 3)
    if any(want[x] == 0 for x in out):
        raise Failed(given, note=f"drew token {next(x for x in out if want[x] == 0)}, outside the top 3",
                     hint="tokens outside the top k have probability 0 and must never be drawn")
    freq = [out.count(i) / len(out) for i in range(len(LOGITS))]
    if max(abs(f - w) for f, w in zip(freq, want)) > 0.035:
        raise Failed(given, [round(w, 3) for w in want], [round(f, 3) for f in freq], note="frequencies of "
                     "each token against next_token_probs", hint="draw with the probabilities as weights: "
                                                                 "rng.choices(range(n), weights=probs)[0]")


@check("the draws come from the rng given (the same seed, the same draws)")
def draws_seeded(s):
    a, given = _draw(s, LOGITS, 1.0, None, 30, 5)
    b, _ = _draw(s, LOGITS, 1.0, None, 30, 5)
    if a != b:
        raise Failed(given, note="two runs with random.Random(5) drew different tokens",
                     hint="draw with the rng passed in (rng.choices), not the random module's global generator")


CHECKS = [plain, temperatures, top_k, top_k_all, greedy, last_token, tiny, huge, draws_greedy, draws_frequency, draws_seeded]
