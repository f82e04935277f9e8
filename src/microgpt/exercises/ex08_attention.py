"""Exercise 8: one attention head with the KV cache.

Oracle: the project's forward.gpt on a random one-head GPT (oracle.py reads
the head's output and its cache out of it). Edge case: position 0, where the
only thing to attend to is the position itself. Mistakes recognised: no
1/sqrt(head_dim), no softmax, attending to future positions, attending to
the past without the current position.
"""

from microgpt import forward
from microgpt.exercises import oracle
from microgpt.exercises.grading import check, expect

TITLE = "one attention head with the KV cache"
TEACHES = "scores q.k/sqrt(d), softmax, weighted sum of values; the cache holds positions 0..t, never later ones"
OBJECTIVES = (19, 20, 34)

EMPTY = ("position 0 attended over an empty cache: append this position's key and value BEFORE attending, "
         "so position t sees 0..t, itself included")


def _attend_mistakes(q, keys, values):
    hd = len(q)
    return [
        (lambda: oracle.attend(q, keys, values, scale=False), "the scores are not scaled: divide q . k by "
                                                                 "sqrt(head_dim)"),
        (lambda: oracle.attend([x * hd**-0.5 for x in q], keys, values),
         "divided by head_dim: the scale is 1 / sqrt(head_dim)"),
        (lambda: oracle.attend([x * (hd / len(keys)) ** 0.5 for x in q], keys, values),
         "divided by the square root of the number of keys: the scale is 1 / sqrt(head_dim), the size of one "
         "q . k, whatever the position"),
        (lambda: oracle.attend(q, keys, values, normalise=False), "the scores were used as weights: take "
                                                                     "their softmax first"),
        (lambda: [sum(v[j] for v in values) / len(values) for j in range(hd)], "a plain average of the values: "
                                                                               "weight each by softmax(scores)"),
    ]


def _attend(s, step, given):
    expect(s.call("attend", step["q"], step["keys"], step["values"], given=given), step["out"], given,
           _attend_mistakes(step["q"], step["keys"], step["values"]))


@check("attend at position 0 returns the only value, v_0")
def position_zero(s):
    step = oracle.block_trace()[0][0]
    _attend(s, step, "attend(q, [k_0], [v_0]) of a random head, head_dim 8")


@check("attend at position 4 equals the model's head output")
def position_four(s):
    step = oracle.block_trace()[0][4]
    _attend(s, step, "attend(q, keys 0..4, values 0..4) of a random head, head_dim 8")


@check("attend with head_dim 2 (the scale is 1/sqrt(2))")
def narrow(s):
    step = oracle.block_trace(n_embd=2, seed=3)[0][2]  # 3 keys: neither 2 nor 2 squared, so mistakes differ
    _attend(s, step, "attend(q, keys 0..2, values 0..2), head_dim 2")


def _steps_mistakes(xs, w):
    qs = [forward.linear(x, w["layer0.attn_wq"]) for x in xs]
    ks = [forward.linear(x, w["layer0.attn_wk"]) for x in xs]
    vs = [forward.linear(x, w["layer0.attn_wv"]) for x in xs]
    n = len(xs)
    return [
        (lambda: [oracle.attend(qs[t], ks, vs) for t in range(n)],
         "every position attended to ALL positions, the future included: position t may only see 0..t. Append "
         "each k and v to the cache as you go, and attend over the cache as it is then"),
        (lambda: [oracle.attend(qs[t], ks[1:t + 2], vs[1:t + 2]) for t in range(n)],
         "off by one: position t attended to 1..t+1 (one step into the future); the cache at t holds 0..t"),
        (lambda: [oracle.attend(qs[t], ks[t:t + 1], vs[t:t + 1]) for t in range(n)],
         "each position attended only to itself: the cache must keep the keys and values of every earlier "
         "position (create it once, before the loop)"),
    ]


@check("attention_steps over 5 positions equals the model's head, position by position")
def steps(s):
    trace, w = oracle.block_trace(seed=1)
    xs = [st["x"] for st in trace]
    given = "attention_steps(5 random positions, wq, wk, wv), head_dim 8"
    got = s.call("attention_steps", xs, w["layer0.attn_wq"], w["layer0.attn_wk"], w["layer0.attn_wv"],
                 given=given, errors={ValueError: EMPTY, ZeroDivisionError: EMPTY, IndexError: EMPTY})
    expect(got, [st["out"] for st in trace], given, _steps_mistakes(xs, w))


@check("attention_steps: position 0's output does not depend on later positions")
def causal(s):
    trace, w = oracle.block_trace(seed=2)
    xs = [st["x"] for st in trace]
    args = (w["layer0.attn_wq"], w["layer0.attn_wk"], w["layer0.attn_wv"])
    given = "attention_steps(xs[:1], ...)[0] against attention_steps(xs, ...)[0]"
    alone = s.call("attention_steps", xs[:1], *args, given=given,
                   errors={ValueError: EMPTY, ZeroDivisionError: EMPTY, IndexError: EMPTY})
    full = s.call("attention_steps", xs, *args, given=given)
    expect(full[:1], alone[:1], given, hint="position 0 changed when later positions were added: it looked at "
                                            "the future. Attend over the cache as it is at that position")


CHECKS = [position_zero, position_four, narrow, steps, causal]
