"""Exercise 9: multi-head split and concat.

Oracle: the project's forward.gpt on a random four-head GPT (oracle.py):
the concatenated head outputs, at every position. The student's multi_head is
handed the reference one-head attend, so only the splitting and joining are
graded here.
"""

from microgpt.exercises import oracle
from microgpt.exercises.grading import Failed, check, expect

TITLE = "multi-head split/concat"
TEACHES = "head h owns the consecutive slice [h*hd, (h+1)*hd) of q, k, v; outputs are joined in head order"
OBJECTIVES = (19, 21)


def _split_mistakes(vec, n_head):
    hd = len(vec) // n_head
    return [
        (lambda: [vec[h::n_head] for h in range(n_head)], "interleaved: head h takes every n_head-th number. "
                                                         "Heads own CONSECUTIVE slices, vec[h*hd:(h+1)*hd]"),
        (lambda: [vec[h * n_head:(h + 1) * n_head] for h in range(n_head)],
         "slices n_head wide: each head has head_dim = len(vec) // n_head numbers"),
        (lambda: [vec[h * hd:(h + 1) * hd] for h in range(n_head - 1)], "one head short: range(n_head)"),
    ]


@check("split_heads(list(range(8)), 2)")
def split_two(s):
    vec = [float(i) for i in range(8)]
    expect(s.call("split_heads", vec, 2), [vec[:4], vec[4:]], "split_heads([0, 1, ..., 7], 2)",
           _split_mistakes(vec, 2))


@check("split_heads with n_head 4 of 8 numbers (head_dim 2), and 1 head")
def split_four(s):
    vec = [0.5 * i for i in range(8)]
    expect(s.call("split_heads", vec, 4), [vec[0:2], vec[2:4], vec[4:6], vec[6:8]],
           "split_heads([0, 0.5, ..., 3.5], 4)", _split_mistakes(vec, 4))
    expect(s.call("split_heads", vec, 1), [vec], "split_heads([0, 0.5, ..., 3.5], 1)")


@check("concat_heads([[1, 2], [3, 4], [5, 6]])")
def concat(s):
    outs = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    expect(s.call("concat_heads", outs), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "concat_heads([[1, 2], [3, 4], [5, 6]])",
           [(outs, "still one list per head: join them into one flat list (outs[0] + outs[1] + ...)"),
            ([5.0, 6.0, 3.0, 4.0, 1.0, 2.0], "the heads are in reverse: head 0 comes first")])


def _mh_mistakes(step, n_head):
    q, keys, values = step["q"], step["keys"], step["values"]
    hd = len(q) // n_head

    def sl(v, h):
        return v[h * hd:(h + 1) * hd]

    return [
        # (the attend handed over reads head_dim numbers, so whole keys act as head 0's slice)
        (lambda: [x for h in range(n_head) for x in oracle.attend(sl(q, h), [sl(k, 0) for k in keys],
                                                                     [sl(v, 0) for v in values])],
         "every head saw head 0's numbers of the keys and values (whole keys, or always slice 0): give head h "
         "the slice [h*hd:(h+1)*hd] of every key and value"),
        (lambda: oracle.attend(q, keys, values), "one attention over all n_embd numbers: that is a single head "
                                                   "of width n_embd. Split into n_head heads"),
    ]


def _multi(s, n_head, pos, seed):
    trace = oracle.block_trace(n_embd=8, n_head=n_head, seed=seed)[0]
    step = trace[pos]
    given = f"multi_head(q, keys 0..{pos}, values 0..{pos}, n_head={n_head}, attend) of a random GPT"
    got = s.call("multi_head", step["q"], step["keys"], step["values"], n_head, oracle.attend, given=given)
    expect(got, step["out"], given, _mh_mistakes(step, n_head))


@check("multi_head with 4 heads at position 3 equals the model's attention")
def four_heads(s):
    _multi(s, 4, 3, 0)


@check("multi_head with 2 heads at positions 0 and 4")
def two_heads(s):
    _multi(s, 2, 0, 1)
    _multi(s, 2, 4, 1)


@check("multi_head calls attend once per head")
def calls(s):
    step = oracle.block_trace(n_embd=8, n_head=4, seed=2)[0][2]
    seen = []

    def counting(q, keys, values):
        seen.append((len(q), len(keys), len(keys[0]) if keys else 0))
        return oracle.attend(q, keys, values)

    s.call("multi_head", step["q"], step["keys"], step["values"], 4, counting)
    if seen != [(2, 3, 2)] * 4:
        raise Failed("multi_head(q, 3 keys, 3 values, n_head=4, attend)", note=f"attend was called as (len(q), "
                     f"len(keys), len(keys[0])) = {seen}; expected (2, 3, 2) four times",
                     hint="one call per head, each with head_dim numbers of q and of every key")


CHECKS = [split_two, split_four, concat, four_heads, two_heads, calls]
