"""autodiff.backends: the engine's values and gradients do not depend on the implementation."""
import numpy as np
import pytest

import autodiff as ad
from autodiff import backends
from autodiff.ops.linalg import Linear


def run(fn, arrays, dtype, mode):
    with backends.use(mode):
        xs = [ad.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
        y = fn(*xs)
        y.backward(ad.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape), dtype=dtype))
    return [y.detach().numpy()] + [x.grad.numpy() for x in xs]


CASES = {
    "sigmoid": (lambda x: x.sigmoid(), [(6, 5)]),
    "tanh": (lambda x: x.tanh(), [(6, 5)]),
    "relu": (lambda x: x.relu(), [(6, 5)]),
    "leaky_relu": (lambda x: x.leaky_relu(0.2), [(6, 5)]),
    "matmul": (lambda a, b: a @ b, [(33, 17), (17, 9)]),
    "linear": (lambda x, w, b: Linear.apply(x, w, b), [(7, 5), (3, 5), (3,)]),
    "mlp": (lambda x, w, b: Linear.apply(Linear.apply(x, w, b).tanh(), w[:, :3], b).sigmoid(),
            [(7, 5), (3, 5), (3,)]),
}


@pytest.mark.parametrize("dtype", [ad.float32, ad.float64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_forced_numba_matches_numpy(name, dtype):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) + 0.05 for s in shapes]   # away from relu's kink
    expected = run(fn, arrays, dtype, "numpy")
    got = run(fn, arrays, dtype, "numba")
    tol = 1e-5 if dtype == ad.float32 else 1e-12
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "linear"])
def test_gradcheck_with_numba_forced(name):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(1)
    xs = [ad.tensor(rng.standard_normal(s), dtype=ad.float64, requires_grad=True) for s in shapes]
    with backends.use("numba"):
        assert ad.gradcheck(fn, xs)


def test_automatic_rule_uses_the_kernel_on_large_activations_only(monkeypatch):
    calls = []
    real = backends.choice.kernel     # the one function that hands out kernels

    def spy(name, array):
        fast = real(name, array)
        calls.append((name, array.size, fast is not None))
        return fast

    monkeypatch.setattr(backends.choice, "kernel", spy)
    # (this process may hold PyTorch's OpenMP runtime, which switches the rule to numpy:
    # that case has its own test below, in a fresh interpreter)
    monkeypatch.setattr(backends.choice, "openmp_contended", lambda: False)
    small = ad.ones(10, requires_grad=True)
    large = ad.ones(backends.MIN_SIZE['sigmoid'], requires_grad=True)
    small.sigmoid().sum().backward()
    large.sigmoid().sum().backward()
    assert ("sigmoid", 10, False) in calls
    assert ("sigmoid", backends.MIN_SIZE['sigmoid'], True) in calls
    s = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(large.grad.numpy(), s * (1 - s), rtol=1e-6)


def test_use_is_a_context_manager_and_checks_its_argument():
    assert backends.current() == "auto"
    with backends.use("numpy"):
        assert backends.current() == "numpy"
    assert backends.current() == "auto"
    with pytest.raises(ValueError, match="backends.use: mode must be one of"):
        backends.use("gpu")
    assert backends.current() == "auto"


def _in_fresh_interpreter(code):
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.split()


def test_automatic_choice_keeps_to_numpy_beside_another_openmp_runtime():
    """PyTorch imported first brings its own libgomp; Numba's pool would be a second OpenMP
    runtime spinning against it, so the automatic rule answers numpy (forcing still works)."""
    pytest.importorskip("torch")
    out = _in_fresh_interpreter(
        "import torch, numpy as np\n"
        "from autodiff import backends\n"
        "x = np.ones(1_000_000, np.float32)\n"
        "print(backends.openmp_contended(), backends.kernel('relu', x) is None)\n"
        "with backends.use('numba'):\n"
        "    print(backends.kernel('relu', x) is not None)\n")
    assert out == ["True", "True", "True"]


def test_automatic_choice_uses_kernels_when_numba_is_alone():
    out = _in_fresh_interpreter(
        "import numpy as np\n"
        "from autodiff import backends\n"
        "x = np.ones(1_000_000, np.float32)\n"
        "print(backends.openmp_contended(), backends.kernel('relu', x) is not None)\n"
        "backends.kernel('relu', x)(x)\n"          # Numba's own pool is now loaded: still alone
        "print(backends.openmp_contended())\n")
    assert out == ["False", "True", "False"]


def test_every_kernel_has_a_caller_in_the_engine():
    """A kernel nothing calls is dead code: each public name of kernels.cpu and kernels.cuda is
    handed out by name (backends.kernel("name"), a backend's self._forward("name") ...) or
    called as module.name( somewhere in autodiff/."""
    import pathlib
    import re

    import kernels.cpu
    import kernels.cuda

    root = pathlib.Path(ad.__file__).parent
    source = "\n".join(p.read_text() for p in root.rglob("*.py"))
    names = set(kernels.cpu.__all__) | (set(kernels.cuda.__all__) - {"is_available"})
    uncalled = sorted(name for name in names
                      if not re.search(rf'(kernel|_forward|_backward)\("{name}"|\.{name}\(', source))
    assert uncalled == []


@pytest.mark.parametrize("dtype, max_ulps", [(np.float32, 3), (np.float64, 2)])
def test_numpy_sigmoid_is_accurate_over_the_whole_range(dtype, max_ulps):
    """The numpy path's sigmoid (e^-|x| / (1 + e^-|x|) below 0): within a few ulps of the
    correctly rounded value from -110 to 110 and at the special values, NaN where x is NaN,
    on 0-d arrays too. (The earlier exp(-logaddexp(0, -x)) was 9 ulps off in float32.)"""
    x = np.concatenate([np.linspace(-110, 110, 200_001), [np.inf, -np.inf, 0.0, -0.0, 1e-30, -740.0]]).astype(dtype)
    with backends.use("numpy"):
        out = ad.tensor(x).sigmoid().numpy()
        nan = ad.tensor(np.array([np.nan, 1.0], dtype)).sigmoid().numpy()
        scalar = ad.tensor(dtype(-2.0)).sigmoid().numpy()
    exact = np.exp(-np.logaddexp(0, -x.astype(np.longdouble))).astype(dtype)
    ints = np.int32 if dtype is np.float32 else np.int64
    ulps = np.abs(out.view(ints).astype(np.int64) - exact.view(ints).astype(np.int64))
    assert ulps.max() <= max_ulps, f"{ulps.max()} ulps off at x = {x[ulps.argmax()]!r}"
    np.testing.assert_array_equal(out[-6:-2], [1.0, 0.0, 0.5, 0.5])
    assert np.isnan(nan[0]) and nan[1] == exact.dtype.type(1 / (1 + np.exp(-1.0)))
    assert scalar.shape == () and scalar == dtype(1 / (1 + np.exp(2.0)))
