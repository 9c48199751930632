"""kernels.cpu fused linear layer, softmax, log-softmax and softmax cross-entropy, against
numpy references (float64), central differences, and hand-computed values."""
import warnings

import numpy as np
import pytest

import kernel_references as ref
from kernels import cpu

# A kernel whose loop Numba cannot parallelise warns when it compiles: make that a failure.
pytestmark = pytest.mark.filterwarnings("error::numba.NumbaPerformanceWarning")

DTYPES = [np.float32, np.float64]
ACTIVATIONS = {
    None: (lambda z: z, lambda y: np.ones_like(y)),
    "relu": (lambda z: np.maximum(z, 0), lambda y: (y > 0) * 1.0),
    "sigmoid": (ref.sigmoid, lambda y: y * (1 - y)),
    "tanh": (np.tanh, lambda y: 1 - y * y),
}
# (batch, in, out): 1x1, one sample, K = 1, a single output, ragged sizes, K > one slice.
LINEAR_SHAPES = [(1, 1, 1), (1, 9, 5), (6, 1, 4), (7, 5, 1), (33, 129, 65), (20, 300, 40)]


def tol(dtype, k=1):
    eps = np.finfo(dtype).eps
    return dict(rtol=50 * eps, atol=50 * eps * np.sqrt(k))


@pytest.fixture
def rng():
    return np.random.default_rng(2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", LINEAR_SHAPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_and_backward(rng, dtype, shape, activation, bias):
    batch, n_in, n_out = shape
    x = rng.standard_normal((batch, n_in)).astype(dtype)
    w = rng.standard_normal((n_out, n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype) if bias else None
    act, act_grad_from_out = ACTIVATIONS[activation]
    out = cpu.linear_forward(x, w, b, activation)
    z = x.astype(np.float64) @ w.T + (b if bias else 0)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, act(z), **tol(dtype, n_in))

    grad_out = rng.standard_normal(out.shape).astype(dtype)
    grad_x, grad_w, grad_b = cpu.linear_backward(grad_out, x, w, out, activation)
    grad_z = grad_out * act_grad_from_out(out.astype(np.float64))
    np.testing.assert_allclose(grad_x, grad_z @ w, **tol(dtype, n_out))
    np.testing.assert_allclose(grad_w, grad_z.T @ x, **tol(dtype, batch))
    np.testing.assert_allclose(grad_b, grad_z.sum(axis=0), **tol(dtype, batch))
    assert grad_x.dtype == grad_w.dtype == grad_b.dtype == dtype


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_linear_backward_matches_central_differences(rng, activation):
    """d/dtheta of sum(grad_out * linear_forward(...)) for every entry of x, w and b."""
    x = rng.standard_normal((3, 4)) + 0.1
    w = rng.standard_normal((5, 4))
    b = rng.standard_normal(5)
    grad_out = rng.standard_normal((3, 5))
    out = cpu.linear_forward(x, w, b, activation)
    analytic = cpu.linear_backward(grad_out, x, w, out, activation)
    eps = 1e-6
    for arg, grad in zip((x, w, b), analytic):
        numeric = np.zeros_like(arg)
        for idx in np.ndindex(arg.shape):
            saved = arg[idx]
            arg[idx] = saved + eps
            up = np.sum(grad_out * cpu.linear_forward(x, w, b, activation))
            arg[idx] = saved - eps
            down = np.sum(grad_out * cpu.linear_forward(x, w, b, activation))
            arg[idx] = saved
            numeric[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_linear_non_contiguous_inputs(rng):
    x = rng.standard_normal((10, 12))[::2, ::3]      # 5 x 4, strided
    w = np.asfortranarray(rng.standard_normal((3, 4)))
    b = rng.standard_normal(6)[::2]
    out = cpu.linear_forward(x, w, b, "tanh")
    np.testing.assert_allclose(out, np.tanh(x @ w.T + b), rtol=1e-13)
    grad_out = rng.standard_normal((3, 5)).T          # a transposed view
    grad_x, grad_w, grad_b = cpu.linear_backward(grad_out, x, w, out, "tanh")
    grad_z = grad_out * (1 - out ** 2)
    np.testing.assert_allclose(grad_x, grad_z @ w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad_w, grad_z.T @ x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad_b, grad_z.sum(0), rtol=1e-12, atol=1e-14)


def test_linear_errors():
    with pytest.raises(ValueError, match=r"linear_forward: mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        cpu.linear_forward(np.ones((2, 3)), np.ones((5, 4)))
    with pytest.raises(ValueError, match=r"linear_forward: bias must have shape \(5,\), got \(4,\)"):
        cpu.linear_forward(np.ones((2, 3)), np.ones((5, 3)), np.ones(4))
    with pytest.raises(ValueError, match="linear_forward: activation must be one of"):
        cpu.linear_forward(np.ones((2, 3)), np.ones((5, 3)), None, "gelu")
    with pytest.raises(ValueError, match="linear_backward: out .* is needed for activation 'relu'"):
        cpu.linear_backward(np.ones((2, 5)), np.ones((2, 3)), np.ones((5, 3)), None, "relu")
    with pytest.raises(ValueError, match=r"linear_backward: grad_out must have shape \(2, 5\), got \(2, 4\)"):
        cpu.linear_backward(np.ones((2, 4)), np.ones((2, 3)), np.ones((5, 3)))


# ---- softmax family ----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (33, 65), (2, 3, 5), (4,)])
def test_softmax_and_log_softmax(rng, dtype, shape):
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    np.testing.assert_allclose(cpu.log_softmax(x), ref.log_softmax(x), **tol(dtype, 8))
    np.testing.assert_allclose(cpu.softmax(x), np.exp(ref.log_softmax(x)), **tol(dtype, 8))
    view = x[..., ::-1]  # strided unless the last axis has one element
    np.testing.assert_allclose(cpu.softmax(view), np.exp(ref.log_softmax(view)), **tol(dtype, 8))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_extreme_logits(dtype):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(cpu.log_softmax(x), [[0.0, -2000.0, -1000.0], [-np.log(3)] * 3],
                                   rtol=1e-6)
        np.testing.assert_allclose(cpu.softmax(x), [[1.0, 0.0, 0.0], [1 / 3] * 3], rtol=1e-6)
        loss, probs = cpu.softmax_cross_entropy_forward(x, np.array([1, 0]))
        np.testing.assert_allclose(loss, (2000.0 + np.log(3)) / 2, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (33, 65)])
def test_cross_entropy_forward_and_backward(rng, dtype, shape):
    logits = (2 * rng.standard_normal(shape)).astype(dtype)
    targets = rng.integers(0, shape[1], shape[0])
    loss, probs = cpu.softmax_cross_entropy_forward(logits, targets)
    expected_loss, expected_grad = ref.cross_entropy(logits, targets)
    assert loss.dtype == dtype and probs.dtype == dtype
    np.testing.assert_allclose(loss, expected_loss, **tol(dtype, 8))
    np.testing.assert_allclose(probs, np.exp(ref.log_softmax(logits)), **tol(dtype, 8))
    grad = cpu.softmax_cross_entropy_backward(probs, targets, 0.5)
    np.testing.assert_allclose(grad, 0.5 * expected_grad, **tol(dtype, 8))
    # non-contiguous logits and targets give the same results
    loss_f, probs_f = cpu.softmax_cross_entropy_forward(np.asfortranarray(logits),
                                                        np.repeat(targets, 2)[::2])
    assert loss_f == loss
    np.testing.assert_array_equal(probs_f, probs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_serial_and_parallel_paths_agree_bit_for_bit(rng, dtype):
    """Up to SERIAL_MAX_SIZE logits the rows run on the calling thread, above it in parallel
    tasks; both run the same row loop, so the results are the same bits whichever runs."""
    from kernels.cpu import _softmax
    rows, cols = 1100, 130                          # 143,000 logits: above SERIAL_MAX_SIZE
    assert rows * cols > _softmax.SERIAL_MAX_SIZE
    logits = (3 * rng.standard_normal((rows, cols))).astype(dtype)
    targets = rng.integers(0, cols, rows)
    loss, probs = cpu.softmax_cross_entropy_forward(logits, targets)          # parallel
    serial_probs, serial_losses = np.empty_like(logits), np.empty(rows, dtype)
    _softmax._cross_entropy_rows(logits, targets, serial_probs, serial_losses, 0, rows)
    np.testing.assert_array_equal(probs, serial_probs)
    assert loss == dtype(serial_losses.mean(dtype=np.float64))
    expected_loss, expected_grad = ref.cross_entropy(logits, targets)
    np.testing.assert_allclose(loss, expected_loss, **tol(dtype, 8))
    grad = cpu.softmax_cross_entropy_backward(probs, targets, 2.0)           # parallel
    serial_grad = np.empty_like(probs)
    _softmax._cross_entropy_rows_backward(probs, targets, dtype(2.0 / rows), serial_grad, 0, rows)
    np.testing.assert_array_equal(grad, serial_grad)
    np.testing.assert_allclose(grad, 2.0 * expected_grad, **tol(dtype, 8))
    # a slice of the rows through the serial path gives the same rows
    loss_part, probs_part = cpu.softmax_cross_entropy_forward(logits[:100], targets[:100])
    np.testing.assert_array_equal(probs_part, probs[:100])


def test_cross_entropy_gradient_matches_central_differences(rng):
    logits = rng.standard_normal((4, 5))
    targets = np.array([0, 4, 2, 2])
    _, probs = cpu.softmax_cross_entropy_forward(logits, targets)
    grad = cpu.softmax_cross_entropy_backward(probs, targets, 3.0)
    eps = 1e-6
    numeric = np.zeros_like(logits)
    for idx in np.ndindex(logits.shape):
        bumped = logits.copy()
        bumped[idx] += eps
        up = cpu.softmax_cross_entropy_forward(bumped, targets)[0]
        bumped[idx] -= 2 * eps
        down = cpu.softmax_cross_entropy_forward(bumped, targets)[0]
        numeric[idx] = 3.0 * (up - down) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_cross_entropy_hand_computed_and_errors():
    loss, _ = cpu.softmax_cross_entropy_forward(np.zeros((2, 4)), np.array([0, 3]))
    np.testing.assert_allclose(loss, np.log(4), rtol=1e-15)
    with pytest.raises(IndexError, match="softmax_cross_entropy_forward: target 4 is out of bounds for 4 classes"):
        cpu.softmax_cross_entropy_forward(np.zeros((2, 4)), np.array([0, 4]))
    with pytest.raises(TypeError, match="targets must be integers, got float64"):
        cpu.softmax_cross_entropy_forward(np.zeros((2, 4)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"targets must have shape \(2,\), got \(3,\)"):
        cpu.softmax_cross_entropy_backward(np.zeros((2, 4)), np.array([0, 1, 2]))
