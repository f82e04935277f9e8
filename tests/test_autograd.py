"""The Value engine against finite differences (and PyTorch where installed)."""

import math

import pytest

from microgpt.autograd import Value

H = 1e-6
TOL = 1e-6  # central differences with h=1e-6 are good to ~1e-9 on these smooth functions

# (name, function of Values or floats, inputs); math functions need a Value/float switch
OPS = [
    ("add", lambda a, b: a + b, (1.5, -2.25)),
    ("mul", lambda a, b: a * b, (1.5, -2.25)),
    ("pow", lambda a, b: a**3 + b**-2, (1.5, -2.25)),
    ("pow_frac", lambda a, b: a**0.5 * b, (1.7, 0.3)),
    ("log", lambda a, b: (a * b).log() if isinstance(a, Value) else math.log(a * b), (1.5, 2.25)),
    ("exp", lambda a, b: (a - b).exp() if isinstance(a, Value) else math.exp(a - b), (0.5, 1.25)),
    ("relu_pos", lambda a, b: (a * b).relu() if isinstance(a, Value) else max(0.0, a * b), (1.5, 2.0)),
    ("relu_neg", lambda a, b: (a * b).relu() + a if isinstance(a, Value) else max(0.0, a * b) + a, (1.5, -2.0)),
    ("neg_sub", lambda a, b: -a - b + 3 - (2 - a), (0.7, -1.1)),
    ("div", lambda a, b: a / b + 2 / a, (0.7, -1.1)),
    ("reuse", lambda a, b: a * b + a, (2.0, 3.0)),
]


@pytest.mark.parametrize("name,f,xs", OPS, ids=[o[0] for o in OPS])
def test_op_against_finite_differences(name, f, xs):
    vs = [Value(x) for x in xs]
    out = f(*vs)
    out.backward()
    assert out.data == pytest.approx(f(*xs), rel=1e-12)
    for i in range(len(xs)):
        up = list(xs)
        dn = list(xs)
        up[i] += H
        dn[i] -= H
        numeric = (f(*up) - f(*dn)) / (2 * H)
        assert vs[i].grad == pytest.approx(numeric, abs=TOL, rel=TOL), (name, i)


def test_worked_example():
    a, b = Value(2.0), Value(3.0)
    loss = a * b + a
    loss.backward()
    assert (a.grad, b.grad) == (4.0, 2.0)


def test_deep_sum_backprops_without_recursion_limit():
    xs = [Value(float(i)) for i in range(100_000)]
    total = Value(0.0)
    for x in xs:
        total = total + x * 2  # a chain 200,000 nodes deep
    total.backward()
    assert total.data == 2 * sum(range(100_000))
    assert all(x.grad == 2 for x in xs)


def test_topological_order_matches_recursive_dfs():
    """The iterative sort must visit nodes as the original recursive one, so
    gradients accumulate in the same floating-point order."""
    import random

    rng = random.Random(0)
    leaves = [Value(rng.uniform(0.5, 1.5)) for _ in range(6)]
    nodes = list(leaves)
    for _ in range(40):
        a, b = rng.choice(nodes), rng.choice(nodes)
        nodes.append(rng.choice([lambda: a * b * 0.7, lambda: (a + b) * 0.5, lambda: (a * b) ** 0.5])())
    root = sum(nodes[-10:])

    def recursive_topo(v, topo, visited):
        if v not in visited:
            visited.add(v)
            for c in v._children:
                recursive_topo(c, topo, visited)
            topo.append(v)

    expected = []
    recursive_topo(root, expected, set())
    root.backward()
    grads = [x.grad for x in leaves]
    for n in expected:
        n.grad = 0
    root.grad = 1
    for v in reversed(expected):
        for c, lg in zip(v._children, v._local_grads):
            c.grad += lg * v.grad
    assert [x.grad for x in leaves] == grads  # bit for bit


def test_against_torch_float64():
    torch = pytest.importorskip("torch")
    for name, f, xs in OPS:
        if name.startswith(("log", "exp", "relu")):
            continue  # these lambdas switch on Value; covered by finite differences above
        vs = [Value(x) for x in xs]
        out = f(*vs)
        out.backward()
        ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
        tout = f(*ts)
        tout.backward()
        assert out.data == pytest.approx(tout.item(), rel=1e-12)
        for v, t in zip(vs, ts):
            assert v.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-12), name
    # log, exp, relu through torch's own functions
    a, b = Value(1.3), Value(0.4)
    out = (a * b).log() + (a - b).exp() + (a - 2 * b).relu()
    out.backward()
    ta = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    tout = torch.log(ta * tb) + torch.exp(ta - tb) + torch.relu(ta - 2 * tb)
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-12)
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-12)
