"""Exercise 9, a reference solution: multi-head split, attend, concat."""


def split_heads(vec, n_head):
    hd = len(vec) // n_head
    return [vec[h * hd:(h + 1) * hd] for h in range(n_head)]


def concat_heads(outs):
    return [x for out in outs for x in out]


def multi_head(q, keys, values, n_head, attend):
    k_heads = [split_heads(k, n_head) for k in keys]
    v_heads = [split_heads(v, n_head) for v in values]
    outs = [attend(q_h, [k[h] for k in k_heads], [v[h] for v in v_heads])
            for h, q_h in enumerate(split_heads(q, n_head))]
    return concat_heads(outs)
