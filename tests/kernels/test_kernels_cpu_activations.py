"""kernels.cpu activations: forward against numpy formulas, backward against the analytic
derivative and against central differences of the forward (float64), for float32 and
float64 arrays of several shapes, contiguous or not, and at extreme values."""
import math
import warnings

import numpy as np
import pytest

import kernel_references as ref
from kernels import cpu

# A kernel whose loop Numba cannot parallelise warns when it compiles: make that a failure.
pytestmark = pytest.mark.filterwarnings("error::numba.NumbaPerformanceWarning")

DTYPES = [np.float32, np.float64]
SHAPES = [(), (1,), (1, 1), (7,), (1, 9), (9, 1), (3, 5, 4), (0, 3)]
CASES = ref.ACTIVATIONS


def tol(dtype):
    return dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-14)


sample = ref.activation_sample


@pytest.fixture
def rng():
    return np.random.default_rng(1)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_and_backward_match_references(rng, name, dtype, shape):
    forward_ref, derivative_ref, params, saves_output = CASES[name]
    forward = getattr(cpu, name)
    backward = getattr(cpu, name + "_backward")
    x = sample(rng, shape, dtype)
    grad = rng.standard_normal(shape).astype(dtype)
    out = forward(x, **params)
    assert out.dtype == dtype and out.shape == shape
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(out, forward_ref(x64, **params), **tol(dtype))
    grad_in = backward(grad, out if saves_output else x, **params)
    assert grad_in.dtype == dtype and grad_in.shape == shape
    # Derivative evaluated at the float32 output for relu/sigmoid/tanh, like the kernel.
    np.testing.assert_allclose(grad_in, grad * derivative_ref(x64, **params),
                               rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("name", CASES)
def test_backward_matches_central_differences(rng, name):
    _, _, params, saves_output = CASES[name]
    forward = getattr(cpu, name)
    backward = getattr(cpu, name + "_backward")
    x = sample(rng, (4, 6), np.float64)
    grad = rng.standard_normal(x.shape)
    eps = 1e-6
    numeric = grad * (forward(x + eps, **params) - forward(x - eps, **params)) / (2 * eps)
    analytic = backward(grad, forward(x, **params) if saves_output else x, **params)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs(rng, dtype):
    base = sample(rng, (6, 8), dtype)
    for x in (base.T, base[::2, 1::3], base[:, ::-1]):
        assert not x.flags.c_contiguous
        np.testing.assert_allclose(cpu.gelu(x), ref.gelu(x.astype(np.float64)), **tol(dtype))
        grad = np.full(x.shape[::-1], 2.0, dtype).T  # a transposed view
        np.testing.assert_allclose(cpu.tanh_backward(grad, x), 2 * (1 - x.astype(np.float64) ** 2),
                                   **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_values_are_finite_and_warning_free(dtype):
    x = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = cpu.sigmoid(x)
        np.testing.assert_array_equal(s[[0, -1]], [0.0, 1.0])
        assert np.all(np.isfinite(s)) and s[3] == 0.5
        np.testing.assert_allclose(s, ref.sigmoid(x.astype(np.float64)), **tol(dtype))
        np.testing.assert_array_equal(cpu.tanh(x)[[0, -1]], [-1.0, 1.0])
        sp = cpu.softplus(x)
        np.testing.assert_array_equal(sp[[0, -1]], [0.0, 1000.0])
        np.testing.assert_allclose(sp, ref.softplus(x.astype(np.float64)), **tol(dtype))
        ones = np.ones_like(x)
        np.testing.assert_array_equal(cpu.softplus_backward(ones, x)[[0, -1]], [0.0, 1.0])
        np.testing.assert_array_equal(cpu.gelu(x)[[0, -1]], [0.0, 1000.0])
        np.testing.assert_array_equal(cpu.gelu_backward(ones, x)[[0, -1]], [0.0, 1.0])


def test_hand_computed_values_and_nan():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0, np.nan])
    np.testing.assert_array_equal(cpu.relu(x), [0.0, 0.0, 0.0, 0.5, 2.0, np.nan])
    np.testing.assert_array_equal(cpu.leaky_relu(x, 0.1), [-0.2, -0.05, 0.0, 0.5, 2.0, np.nan])
    np.testing.assert_array_equal(cpu.hardtanh(x), [-1.0, -0.5, 0.0, 0.5, 1.0, np.nan])
    # NaN passes the gradient, as PyTorch's (x <= min or x >= max) ? 0 : grad
    np.testing.assert_array_equal(cpu.hardtanh_backward(np.ones(6), x), [0, 1, 1, 1, 0, 1])
    np.testing.assert_array_equal(cpu.relu_backward(np.full(6, 3.0), cpu.relu(x)),
                                  [0, 0, 0, 3, 3, 3])
    np.testing.assert_allclose(cpu.gelu(np.array([1.0])), [0.8413447460685429], rtol=1e-15)
    np.testing.assert_allclose(cpu.softplus(np.array([0.0])), [math.log(2)], rtol=1e-15)


def test_out_argument_and_errors():
    x = np.linspace(-1, 1, 5)
    out = np.empty(5)
    assert cpu.relu(x, out=out) is out
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    with pytest.raises(TypeError, match="sigmoid: x must be float32 or float64, got int64"):
        cpu.sigmoid(np.arange(3))
    with pytest.raises(ValueError, match=r"tanh_backward: grad shape \(3,\) does not match out shape \(4,\)"):
        cpu.tanh_backward(np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match="gelu_backward: expected one dtype, got grad float32, x float64"):
        cpu.gelu_backward(np.ones(3, np.float32), np.ones(3))
    with pytest.raises(ValueError, match="relu: out must not overlap an input"):
        cpu.relu(x, out=x)


def test_float32_sigmoid_is_within_two_ulps_over_the_whole_float32_range():
    """The float32 sigmoid kernel computes exp with float32 arithmetic LLVM vectorises
    (kernels/cpu/_exp.py): across random bit patterns (every exponent, subnormals too), a dense
    grid over the range where sigmoid is not 0 or 1, and the special values, it stays within
    two ulps of sigmoid computed in float64 and rounded once, and within one ulp on all but
    0.1% of them (PyTorch's float32 CPU sigmoid: also up to 2 ulps, on 0.07% of these inputs
    with normal results, and it flushes subnormal results to 0), with NaN where the input is NaN."""
    rng = np.random.default_rng(0)
    x = np.concatenate([
        rng.integers(-2**31, 2**31, size=300_000).astype(np.int32).view(np.float32),
        np.linspace(-110, 110, 400_001, dtype=np.float32),
        np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, -87.3, -103.9, -104.0], np.float32)])
    out = cpu.sigmoid(x)
    with np.errstate(invalid="ignore"):
        exact = np.exp(-np.logaddexp(0, -x.astype(np.float64))).astype(np.float32)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(x))
    finite = ~np.isnan(x)
    ulps = np.abs(out[finite].view(np.int32).astype(np.int64) - exact[finite].view(np.int32).astype(np.int64))
    assert ulps.max() <= 2, f"sigmoid is {ulps.max()} ulps off at x = {x[finite][ulps.argmax()]!r}"
    assert (ulps > 1).mean() < 1e-3, f"{(ulps > 1).sum()} of {ulps.size} values are 2 ulps off"
    np.testing.assert_array_equal(cpu.sigmoid(np.array([np.inf, -np.inf, 0.0], np.float32)), [1.0, 0.0, 0.5])


def test_float64_kernel_exp_is_within_one_ulp_of_numpys_and_sigmoid_within_two():
    """The kernels' float64 exp of values <= 0 (kernels/cpu/_exp.py, written so that LLVM can
    vectorise it) against numpy's exp: random bit patterns of every exponent, a dense grid down
    to where e^v is 0, subnormal results, -inf and NaN. And the float64 sigmoid kernel built on
    it, against sigmoid in long double."""
    import numba
    from kernels.cpu._exp import exp_nonpositive

    @numba.njit
    def exps(x, out):
        for i in range(x.size):
            out[i] = exp_nonpositive(x[i])

    rng = np.random.default_rng(1)
    x = np.concatenate([-np.abs(rng.integers(-2**63, 2**63 - 1, size=200_000, dtype=np.int64).view(np.float64)),
                        np.linspace(-750, 0, 500_001),
                        [0.0, -0.0, -np.inf, np.nan, -745.1, -745.2, -708.4, -709.8, -1e-300, -5e-324]])
    x = x[~(x > 0)]
    out = np.empty_like(x)
    exps(x, out)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(x))
    finite = ~np.isnan(x)
    ulps = np.abs(out[finite].view(np.int64) - np.exp(x[finite]).view(np.int64))
    assert ulps.max() <= 1, f"exp is {ulps.max()} ulps off at x = {x[finite][ulps.argmax()]!r}"

    s = np.concatenate([np.linspace(-745, 745, 400_001), [np.inf, -np.inf, 0.0]])
    got = cpu.sigmoid(s)
    exact = (1 / (1 + np.exp(-s.astype(np.longdouble)))).astype(np.float64)
    ulps = np.abs(got.view(np.int64) - exact.view(np.int64))
    assert ulps.max() <= 2, f"sigmoid is {ulps.max()} ulps off at x = {s[ulps.argmax()]!r}"
