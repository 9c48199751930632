"""autodiff.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against PyTorch and
central differences in float64; grad()'s keywords and errors; next_functions with
AccumulateGrad nodes, walked as the tutorials do."""
import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
from autodiff.autograd import functional as AF

torch = pytest.importorskip("torch")
TF = torch.autograd.functional


def one_to_one(lib):
    return lambda x: x ** 2 * x.sin() + x.exp().sum()


def two_to_two(lib):
    return lambda x, y: (x @ y, x.sum() * y.tanh())


def scalar_of_one(lib):
    return lambda x: (x.exp() * x).sum() + (x[0] * x[1]) ** 2


def scalar_of_two(lib):
    return lambda x, y: (x ** 2).sum() * y.sum() + (x * y.sin()).sum()


def _inputs(lib, kind):
    rng = np.random.default_rng(0)
    arrays = {"one": [rng.uniform(-1, 1, 3)], "two": [rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 3)],
              "two_same": [rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 3)]}[kind]
    make = ad.tensor if lib is ad else torch.tensor
    return tuple(make(a) for a in arrays)


def _flat(result):
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _flat(r)]
    return [result]


def _same(ours, theirs):
    ours, theirs = _flat(ours), _flat(theirs)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)


CASES = [
    ("jacobian", one_to_one, "one", {}),
    ("jacobian", two_to_two, "two", {}),
    ("hessian", scalar_of_one, "one", {}),
    ("hessian", scalar_of_two, "two_same", {}),
    ("vjp", one_to_one, "one", {"v": "out"}),
    ("vjp", two_to_two, "two", {"v": "out"}),
    ("jvp", one_to_one, "one", {"v": "in"}),
    ("jvp", two_to_two, "two", {"v": "in"}),
    ("hvp", scalar_of_one, "one", {"v": "in"}),
    ("hvp", scalar_of_two, "two_same", {"v": "in"}),
    ("vhp", scalar_of_one, "one", {"v": "in"}),
    ("vhp", scalar_of_two, "two_same", {"v": "in"}),
    ("vjp", scalar_of_one, "one", {}),
]


def _v(lib, spec, func, xs):
    rng = np.random.default_rng(1)
    make = ad.tensor if lib is ad else torch.tensor
    if spec == "in":
        shapes = [tuple(x.shape) for x in xs]
    else:
        out = func(*xs)
        shapes = [tuple(o.shape) for o in (out if isinstance(out, tuple) else (out,))]
    vs = tuple(make(rng.standard_normal(s)) for s in shapes)
    return vs if len(vs) > 1 else vs[0]


@pytest.mark.parametrize("name, make_func, kind, options", CASES,
                         ids=[f"{c[0]}-{c[1].__name__}" for c in CASES])
@pytest.mark.parametrize("create_graph", [False, True])
def test_matches_pytorch(name, make_func, kind, options, create_graph):
    results = []
    for lib, module in ((ad, AF), (torch, TF)):
        xs = _inputs(lib, kind)
        func = make_func(lib)
        kwargs = {"create_graph": create_graph}
        if "v" in options:
            kwargs["v"] = _v(lib, options["v"], func, xs)
        results.append(getattr(module, name)(func, xs if len(xs) > 1 else xs[0], **kwargs))
    _same(*results)


def _numeric_jacobian(func, x, eps=1e-6):
    """Central differences of a numpy function, output.shape + input.shape."""
    base = np.asarray(func(x))
    jac = np.zeros(base.shape + x.shape)
    for idx in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[idx] = eps
        jac[(...,) + idx] = (np.asarray(func(x + step)) - np.asarray(func(x - step))) / (2 * eps)
    return jac


def test_jacobian_and_hessian_match_central_differences():
    x = np.random.default_rng(2).uniform(-1, 1, 4)

    def f_ad(t):
        return t ** 2 * t.sin() * t.sum()

    def f_np(a):
        return a ** 2 * np.sin(a) * a.sum()

    np.testing.assert_allclose(AF.jacobian(f_ad, ad.tensor(x)).numpy(), _numeric_jacobian(f_np, x),
                               rtol=1e-6, atol=1e-8)

    def g_ad(t):
        return (t.exp() * t).sum() * t.sum()

    def gradient_np(a):
        t = ad.tensor(a).requires_grad_(True)
        (g,) = ad.grad(g_ad(t), t)
        return g.numpy()

    np.testing.assert_allclose(AF.hessian(g_ad, ad.tensor(x)).numpy(), _numeric_jacobian(gradient_np, x),
                               rtol=1e-6, atol=1e-8)


def test_create_graph_results_are_differentiable_like_pytorch():
    grads = []
    for lib, module in ((ad, AF), (torch, TF)):
        x = (ad.tensor if lib is ad else torch.tensor)([0.3, -0.7, 1.1], requires_grad=True)
        jac = module.jacobian(lambda t: t ** 3 * t.sum(), x, create_graph=True)
        (jac ** 2).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_without_create_graph_results_are_detached_and_inputs_untouched():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    jac = AF.jacobian(lambda t: t * t, x)
    assert not jac.requires_grad and x.grad is None
    out, vjp = AF.vjp(lambda t: (t * t).sum(), x)
    assert not out.requires_grad and not vjp.requires_grad and vjp.tolist() == [2.0, 4.0]


def test_strict_and_independent_inputs():
    x, y = ad.tensor([1.0, 2.0]), ad.tensor([3.0])
    jx, jy = AF.jacobian(lambda a, b: a * 2, (x, y))
    assert jy.tolist() == [[0.0], [0.0]] and jx.tolist() == [[2.0, 0.0], [0.0, 2.0]]
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="independent"):
        AF.vjp(lambda a, b: a * 2, (x, y), ad.ones(2), strict=True)
    assert AF.jacobian(lambda a: ad.ones(2), x).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert AF.jacobian(lambda a: a * 3, x, vectorize=True).tolist() == [[3.0, 0.0], [0.0, 3.0]]


def test_argument_errors():
    x = ad.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="single-element"):
        AF.hessian(lambda t: t * 2, x)
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.vjp(lambda t: t * 2, x)
    with pytest.raises(RuntimeError, match="shape"):
        AF.jvp(lambda t: t * 2, x, ad.ones(3))
    with pytest.raises(TypeError, match="inputs"):
        AF.jacobian(lambda t: t, [1.0, 2.0])


# ---------------------------------------------------------------------- grad keywords
def test_grad_accepts_only_inputs_and_materialize_grads():
    x, y = ad.tensor(2.0, requires_grad=True), ad.tensor(1.0, requires_grad=True)
    (gx,) = ad.grad(x * x, x, only_inputs=True)
    assert gx.item() == 4.0
    gx, gy = ad.grad(x * x, (x, y), materialize_grads=True)
    assert gy.item() == 0.0
    assert ad.grad(x * x, (x, y), allow_unused=True)[1] is None


@pytest.mark.parametrize("inputs", [3.0, [ad.tensor(1.0), "x"]], ids=["float", "list_with_str"])
def test_grad_with_a_non_tensor_input_says_so(inputs):
    x = ad.tensor(2.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"grad: inputs\[\d\] must be a tensor"):
        ad.grad(x * x, inputs)
    if inputs == 3.0:
        with pytest.raises(TypeError):
            torch.autograd.grad(torch.tensor(2.0, requires_grad=True) * 2, inputs)


# ---------------------------------------------------------------------- next_functions
def test_next_functions_input_order_accumulate_grad_and_none():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0])
    y = c * x
    (first, k0), (second, k1) = y.grad_fn.next_functions
    assert first is None and (k0, k1) == (0, 0)
    assert second.name() == "AccumulateGrad" and second.variable is x and second.next_functions == ()
    assert (x + 1).grad_fn.next_functions[0][0] is second      # one node per leaf
    tx, tc = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0, 4.0])
    theirs = (tc * tx).grad_fn.next_functions
    assert [n is None for n, _ in theirs] == [n is None for n, _ in y.grad_fn.next_functions]


def test_tutorial_walk_from_the_loss_back_to_the_parameters():
    """The 60-minute blitz prints loss.grad_fn, then .next_functions[0][0] twice: the walk
    goes loss -> last layer's op -> ... and ends at AccumulateGrad nodes of the parameters."""
    ad.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x, target = ad.randn(5, 4), ad.randn(5, 2)
    loss = nn.MSELoss()(net(x), target)
    node = loss.grad_fn.next_functions[0][0]
    assert node is not None and node.name() != "AccumulateGrad"
    node.next_functions[0][0].next_functions   # noqa: B018  (walks work, as in the tutorial)
    leaves, stack, seen = set(), [loss.grad_fn], set()
    while stack:
        n = stack.pop()
        for child, _ in n.next_functions:
            if child is None or id(child) in seen:
                continue
            seen.add(id(child))
            if child.name() == "AccumulateGrad":
                leaves.add(id(child.variable))
            else:
                stack.append(child)
    assert leaves == {id(p) for p in net.parameters()}    # x (no grad) is never reached
    hook_grads = []
    accumulate = next(n for n, _ in _all_nodes(loss) if n.name() == "AccumulateGrad")
    accumulate.register_hook(lambda g: hook_grads.append(g))
    loss.backward()
    assert len(hook_grads) == 1


def _all_nodes(loss):
    stack, out = [loss.grad_fn], []
    while stack:
        for child, k in stack.pop().next_functions:
            if child is not None:
                out.append((child, k))
                stack.append(child)
    return out
