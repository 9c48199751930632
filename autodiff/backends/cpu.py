"""The CPU backend: numpy (BLAS) formulas, or a ``kernels.cpu`` Numba kernel where
``choice.kernel`` picks one (by the measured size thresholds, or ``use("numba")``).

Every formula here is written with numpy functions and operators only, so it also runs on
any array that speaks numpy's protocol: the CUDA backend falls back to these methods (on
CudaArrays) for what its kernels do not cover (integer dtypes, amsgrad, strided softmax ...).
Arrays in, arrays out; nothing here records a graph.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import choice


class CpuBackend:
    """The hot paths of the ops on numpy arrays (see the module docstring)."""

    name = "cpu"

    # ------------------------------------------------------------------ matrix products
    def matmul(self, a, b):
        """2-D matrix product: BLAS unless the Numba kernel is forced (BLAS wins at every size)."""
        if choice._mode == "numba" and a.dtype in choice._FLOATS and a.dtype == b.dtype:
            kernel = choice.kernel("matmul", a)
            if kernel:
                return kernel(a, b)
        return a @ b

    def matmul_tn(self, a, b):
        """a.T @ b for 2-D a and b (matmul's gradient for its second operand)."""
        if choice._mode == "numba" and a.dtype in choice._FLOATS and a.dtype == b.dtype:
            kernel = choice.kernel("matmul_tn", a)
            if kernel:
                return kernel(a, b)
        return a.T @ b        # (the operator: ~0.3 us less than calling np.matmul on small arrays)

    def matmul_nt(self, a, b):
        """a @ b.T for 2-D a and b (matmul's gradient for its first operand)."""
        if choice._mode == "numba" and a.dtype in choice._FLOATS and a.dtype == b.dtype:
            kernel = choice.kernel("matmul_nt", a)
            if kernel:
                return kernel(a, b)
        return a @ b.T

    def linear(self, x, weight, bias):
        """``x @ weight.T + bias`` for 2-D x (bias may be None)."""
        if choice._mode == "numba" and x.dtype == weight.dtype:
            fused = choice.kernel("linear_forward", x)
            if fused:
                return fused(x, weight, bias)
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    def linear_backward(self, grad, x, weight, need_x, need_weight, need_bias):
        """(grad_x, grad_weight, grad_bias) of ``linear`` for 2-D grad and x (None where not needed)."""
        if choice._mode == "numba" and grad.dtype == weight.dtype == x.dtype:
            fused = choice.kernel("linear_backward", grad)
            if fused:
                grad_x, grad_w, grad_b = fused(grad, x, weight)
                return (grad_x if need_x else None, grad_w if need_weight else None,
                        grad_b if need_bias else None)
        return (grad @ weight if need_x else None, grad.T @ x if need_weight else None,
                np.add.reduce(grad, 0) if need_bias else None)

    def bias_add(self, x, bias):
        """x + bias, bias (features,) added to every row of x (batch, features)."""
        return x + bias

    def bias_grad(self, grad):
        """The gradient of a bias added to every row: grad summed over rows."""
        return np.add.reduce(grad, 0)

    # ------------------------------------------------------------------ activations
    def relu(self, x):
        kernel = choice.kernel("relu", x)
        return kernel(x) if kernel else np.maximum(x, 0)

    def relu_backward(self, grad, out):
        """grad where relu's output is not 0 (NaN included), else 0: selected, not multiplied
        (an inf gradient where out == 0 gives 0), as in PyTorch."""
        kernel = choice.kernel("relu_backward", grad)
        if kernel:
            return kernel(grad, out)
        # where() reads out's truth itself (nonzero or NaN) and takes the zeros from out itself:
        # one call, 1.1 us against 1.6 us for a product with a 0/1 mask on the lecture's 10x40
        # (which is wrong at inf)
        return np.where(out, grad, out)

    def leaky_relu(self, x, negative_slope):
        kernel = choice.kernel("leaky_relu", x)
        return kernel(x, negative_slope) if kernel else np.where(x > 0, x, x * negative_slope)

    def leaky_relu_backward(self, grad, x, negative_slope):
        kernel = choice.kernel("leaky_relu_backward", grad)
        if kernel:
            return kernel(grad, x, negative_slope)
        return np.where(x > 0, grad, grad * negative_slope)

    def sigmoid(self, x):
        kernel = choice.kernel("sigmoid", x)
        if kernel:
            return kernel(x)
        # e^-|x| / (1 + e^-|x|) below 0, 1 / (1 + e^-|x|) from 0: nothing overflows, and numpy's
        # exp is a SIMD loop. (np.exp(-np.logaddexp(0, -x)) took 50 ns a value, logaddexp being
        # a scalar loop: 0.5 s for 10M float32, and up to 9 ulps off; this: ~3 ulps, 10x faster.)
        e = np.exp(-np.abs(x))
        numerator = np.where(x >= 0, x.dtype.type(1), e)
        return np.divide(numerator, e + 1, out=numerator)   # (np.where makes an array, 0-d too)

    def sigmoid_backward(self, grad, out):
        kernel = choice.kernel("sigmoid_backward", grad)
        return kernel(grad, out) if kernel else grad * out * (1 - out)

    def tanh(self, x):
        kernel = choice.kernel("tanh", x)
        return kernel(x) if kernel else np.tanh(x)

    def tanh_backward(self, grad, out):
        kernel = choice.kernel("tanh_backward", grad)
        return kernel(grad, out) if kernel else grad * (1 - out * out)

    def hardtanh(self, x, min_val, max_val):
        kernel = choice.kernel("hardtanh", x)
        return kernel(x, min_val, max_val) if kernel else np.clip(x, min_val, max_val)

    def hardtanh_backward(self, grad, x, min_val, max_val):
        """grad strictly inside (min_val, max_val), and at NaN (as PyTorch); else 0."""
        kernel = choice.kernel("hardtanh_backward", grad)
        if kernel:
            return kernel(grad, x, min_val, max_val)
        return grad * ~((x <= min_val) | (x >= max_val))

    def softplus(self, x, beta, threshold):
        kernel = choice.kernel("softplus", x)
        if kernel:
            return kernel(x, beta, threshold)
        scaled = x * beta
        return np.where(scaled > threshold, x, np.logaddexp(0, scaled) / beta).astype(x.dtype, copy=False)

    def softplus_backward(self, grad, x, beta, threshold):
        """grad * sigmoid(beta x), or grad itself where the forward returned x (linear part)."""
        kernel = choice.kernel("softplus_backward", grad)
        if kernel:
            return kernel(grad, x, beta, threshold)
        scaled = x * beta
        return grad * np.where(scaled > threshold, 1.0, self.sigmoid(scaled)).astype(grad.dtype, copy=False)

    def gelu(self, x):
        """Exact GELU by the kernel, or None: the op then runs its formula (erf is scipy's or
        math.erf per element, chosen with the op in ``ops.nn``)."""
        kernel = choice.kernel("gelu", x)
        return kernel(x) if kernel else None

    def gelu_backward(self, grad, x):
        """grad * d gelu(x) / dx by the kernel, or None (the op's formula)."""
        kernel = choice.kernel("gelu_backward", grad)
        return kernel(grad, x) if kernel else None

    # ------------------------------------------------------------------ softmax and cross-entropy
    def softmax(self, x, dim):
        if dim in (-1, x.ndim - 1) and x.ndim == 2:
            kernel = choice.kernel("softmax", x)
            if kernel:
                return kernel(x)
        e = np.exp(x - _row_max(x, dim))
        return e / e.sum(axis=dim, keepdims=True)

    def log_softmax(self, x, dim):
        if dim in (-1, x.ndim - 1) and x.ndim == 2:
            kernel = choice.kernel("log_softmax", x)
            if kernel:
                return kernel(x)
        shifted = x - _row_max(x, dim)
        return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))

    def softmax_cross_entropy(self, logits, targets, ignore_index, reduction):
        """Cross-entropy of (N, C) logits against integer class targets, no class weights or
        label smoothing: (loss, saved), ``saved`` what ``softmax_cross_entropy_backward``
        needs. loss_row = log sum exp(x - max) - (x[target] - max); 'mean' divides by the rows
        whose target is not ignore_index (NaN if none). The softmax is kept for backward, and
        no one-hot target matrix is made (nn.CrossEntropyLoss forward + backward: 130 us
        against 257 us through the one-hot matrix at (512, 65) float32)."""
        rows = logits.shape[0]
        kept = targets != ignore_index
        all_kept = kept.all()
        if reduction == "mean" and rows and all_kept:
            kernel = choice.kernel("softmax_cross_entropy_forward", logits)
            if kernel:
                loss, probs = kernel(logits, targets)
                return np.asarray(loss), (probs, rows, None, targets)
        safe = targets if all_kept else np.where(kept, targets, 0)
        probs = logits - logits.max(axis=1, keepdims=True)
        target_logit = probs[np.arange(rows), safe]
        np.exp(probs, out=probs)       # (in place: one fresh (N, C) array, not two)
        total = probs.sum(axis=1, keepdims=True)
        probs /= total
        losses = np.log(total[:, 0]) - target_logit
        if not all_kept:
            losses = np.where(kept, losses, 0).astype(losses.dtype, copy=False)
        saved_kept = None if all_kept else kept
        if reduction == "none":
            return losses, (probs, 1, saved_kept, safe)
        loss = np.add.reduce(losses)
        count = 1
        if reduction == "mean":
            count = rows if all_kept else int(np.count_nonzero(kept))
            # (no target counted: NaN, as PyTorch; numpy's errstate costs ~1 us, so only then)
            loss = loss / logits.dtype.type(count) if count else loss * np.nan
        return loss, (probs, count, saved_kept, safe)

    def softmax_cross_entropy_backward(self, grad, saved, targets, ignore_index, reduction):
        """d loss / d logits: (softmax - one_hot(target)) times the loss's gradient for each
        row (divided by the mean's count), 0 on ignored rows."""
        probs, count, kept, safe = saved
        rows = probs.shape[0]
        if reduction == "mean" and kept is None and type(grad) is np.ndarray and grad.ndim == 0:
            kernel = choice.kernel("softmax_cross_entropy_backward", probs)
            if kernel:
                return kernel(probs, targets, float(grad))
        if reduction == "none":
            scale = grad.reshape(-1, 1)
        else:
            scale = grad * (1.0 / count) if count else grad * 0.0
        if kept is not None:
            scale = scale * kept[:, None]
        grad_x = probs * scale
        grad_x[np.arange(rows), safe] -= scale if np.ndim(scale) == 0 else scale[:, 0]
        return grad_x

    def nll_loss(self, log_probs, targets, ignore_index, reduction):
        """Negative log-likelihood of (N, C) log-probabilities at integer class targets, no class
        weights: (loss, saved) as ``softmax_cross_entropy``."""
        kept = targets != ignore_index
        all_kept = kept.all()
        picked = np.take_along_axis(log_probs, np.where(kept, targets, 0)[:, None], axis=1)[:, 0]
        losses = -picked if all_kept else np.where(kept, -picked, 0).astype(picked.dtype, copy=False)
        count = 1
        if reduction == "none":
            loss = losses
        else:
            loss = np.add.reduce(losses)
            if reduction == "mean":
                count = int(np.count_nonzero(kept)) if not all_kept else log_probs.shape[0]
                with np.errstate(invalid="ignore", divide="ignore"):
                    loss = loss / log_probs.dtype.type(count) if count else loss * np.nan
            loss = np.asarray(loss, dtype=log_probs.dtype)
        return loss, (count, None if all_kept else kept, log_probs.shape[1], log_probs.dtype)

    def nll_loss_backward(self, grad, saved, targets, ignore_index, reduction):
        """d loss / d log_probs: minus the loss's gradient for each row (divided by the mean's
        count) at the row's target, 0 elsewhere and on ignored rows."""
        count, kept, classes, dtype = saved
        rows = targets.shape[0]
        if reduction == "none":
            scale = -grad.reshape(-1)
        else:
            scale = -(grad * (1.0 / count)) if count else grad * 0.0
            scale = np.broadcast_to(scale, (rows,))
        if kept is not None:
            scale = np.where(kept, scale, 0)
        out = np.zeros((rows, classes), dtype)
        out[np.arange(rows), np.where(targets != ignore_index, targets, 0)] = scale
        return out

    # ------------------------------------------------------------------ convolution and pooling
    def im2col(self, x, kernel, stride, padding, dilation, out_size):
        """(N, C, H, W) -> (N, C, KH, KW, OH, OW): for each kernel tap, the input values it meets
        at every output position (zero in the padding, (top, bottom, left, right)): one copy of
        a strided window view. (A copy per tap instead measured the same: 0.58 vs 0.54 ms for
        LeNet's first layer, 1.06 vs 0.92 ms for its second, one thread.)"""
        fast = choice.kernel("im2col", x)
        if fast is not None:
            return fast(x, kernel, stride, padding[::2], dilation, out_size)
        kh, kw = kernel
        (sh, sw), (dh, dw) = stride, dilation
        oh, ow = out_size
        padded = _pad_zeros(x, padding)
        view = sliding_window_view(padded, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
        view = view[:, :, :(oh - 1) * sh + 1:sh, :(ow - 1) * sw + 1:sw, ::dh, ::dw]
        return np.ascontiguousarray(view.transpose(0, 1, 4, 5, 2, 3))

    def col2im(self, cols, x_shape, stride, padding, dilation):
        """The adjoint of im2col: each tap's values added back where it read them (the Numba
        kernel from ``MIN_SIZE['col2im']`` elements, else one strided add per tap)."""
        fast = choice.kernel("col2im", cols)
        if fast is not None:
            return fast(cols, x_shape, stride, padding[::2], dilation)
        n, c, h, w = x_shape
        _, _, kh, kw, oh, ow = cols.shape
        (sh, sw), (dh, dw) = stride, dilation
        pt, pb, pl, pr = padding
        out = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                out[:, :, i * dh:i * dh + (oh - 1) * sh + 1:sh, j * dw:j * dw + (ow - 1) * sw + 1:sw] \
                    += cols[:, :, i, j]
        return out[:, :, pt:pt + h, pl:pl + w]

    def max_pool2d_indices(self, x, kernel, stride, padding, dilation, out_size):
        """For (N, C, H, W) ``x``: the flat index (h * W + w) of each window's maximum,
        (N, C, OH, OW) int64; the first maximum wins, a NaN counts as the maximum (as PyTorch)."""
        fast = choice.kernel("max_pool2d_indices", x)
        if fast is not None:
            return fast(x, kernel, stride, padding, dilation, out_size)
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
        oh, ow = out_size
        need_h = (oh - 1) * sh + dh * (kh - 1) + 1
        need_w = (ow - 1) * sw + dw * (kw - 1) + 1
        if ph or pw or need_h > h or need_w > w:       # padding counts as -inf
            fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
            padded = np.full((n, c, max(need_h, h + ph), max(need_w, w + pw)), fill, dtype=x.dtype)
            padded[:, :, ph:ph + h, pw:pw + w] = x
        else:
            padded = x
        view = sliding_window_view(padded, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
        view = view[:, :, :(oh - 1) * sh + 1:sh, :(ow - 1) * sw + 1:sw, ::dh, ::dw]
        flat = view.reshape(n, c, oh, ow, kh * kw)     # (argmax takes the first NaN, as max does)
        where = flat.argmax(axis=-1)
        ki, kj = np.divmod(where, kw)
        rows = np.arange(oh)[:, None] * sh - ph + ki * dh
        cols = np.arange(ow)[None, :] * sw - pw + kj * dw
        return (np.clip(rows, 0, h - 1) * w + np.clip(cols, 0, w - 1)).astype(np.int64)

    # ------------------------------------------------------------------ reductions
    def sum(self, x, axis=None, keepdims=False):
        return np.add.reduce(x, axis=axis, keepdims=keepdims)

    # ------------------------------------------------------------------ optimizer updates (in place)
    def sgd_step(self, param, grad, momentum_buffer, lr, momentum, dampening, weight_decay,
                 nesterov, maximize):
        """One SGD step in place (PyTorch's formulas); returns the momentum buffer, new on the
        first step with momentum (a copy of the gradient, as PyTorch)."""
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * param
        if momentum != 0:
            if momentum_buffer is None:
                momentum_buffer = g.copy()
            else:
                momentum_buffer *= momentum
                if dampening == 0:
                    momentum_buffer += g
                else:
                    momentum_buffer += (1.0 - dampening) * g
            g = g + momentum * momentum_buffer if nesterov else momentum_buffer
        param -= lr * g
        return momentum_buffer

    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2,
                  eps, weight_decay, decoupled, maximize):
        """One Adam (AdamW when ``decoupled``) step in place, PyTorch's formulas;
        ``max_exp_avg_sq`` is the amsgrad state (None without amsgrad), ``step`` counts from 1."""
        if not (maximize or weight_decay or max_exp_avg_sq is not None) and param.flags.c_contiguous \
                and all(a.dtype == param.dtype and a.flags.c_contiguous
                        for a in (grad, exp_avg, exp_avg_sq)):
            fused = choice.kernel("adam_step", param)
            if fused:    # one parallel pass over memory instead of ~10 numpy passes
                fused(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, step)
                return
        g = -grad if maximize else grad
        if weight_decay != 0:
            if decoupled:
                param *= 1.0 - lr * weight_decay
            else:
                g = g + weight_decay * param
        lerp_(exp_avg, g, 1.0 - beta1)
        exp_avg_sq *= beta2
        sq = g * (1.0 - beta2)
        sq *= g
        exp_avg_sq += sq
        step_size = lr / (1.0 - beta1 ** step)
        bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
        if max_exp_avg_sq is not None:
            np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            denom = np.sqrt(max_exp_avg_sq)
        else:
            denom = np.sqrt(exp_avg_sq)
        denom /= bias_correction2_sqrt
        denom += eps
        update = np.multiply(exp_avg, -step_size, out=sq)
        update /= denom
        param += update

    def rmsprop_step(self, param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                     weight_decay, momentum, maximize):
        """One RMSprop step in place; ``grad_avg`` is the centered state (None when not
        centered), ``momentum_buffer`` None without momentum."""
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * param
        square_avg *= alpha
        sq = g * (1.0 - alpha)
        sq *= g
        square_avg += sq
        if grad_avg is not None:
            lerp_(grad_avg, g, 1.0 - alpha)
            avg = square_avg - grad_avg * grad_avg
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            momentum_buffer *= momentum
            momentum_buffer += g / avg
            param -= lr * momentum_buffer
        else:
            update = g * -lr
            update /= avg
            param += update

    def adagrad_step(self, param, grad, state_sum, clr, eps, weight_decay, maximize):
        """One Adagrad step in place, ``clr`` the decayed learning rate lr / (1 + (step-1) lr_decay)."""
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * param
        state_sum += g * g
        std = np.sqrt(state_sum)
        std += eps
        update = g * -clr
        update /= std
        param += update


def _pad_zeros(x, padding):
    """``x`` (N, C, H, W) with (top, bottom, left, right) zeros around each plane."""
    pt, pb, pl, pr = padding
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=x.dtype)
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def _row_max(x, dim):
    """The max along ``dim`` (kept), 0 for an all -inf slice (so that its exp(x - max) is 0, not
    NaN); a +inf max makes NaNs, as in PyTorch. 0 for an empty array."""
    if x.size == 0:
        return x.dtype.type(0)
    top = x.max(axis=dim, keepdims=True)
    return np.where(top != -np.inf, top, 0)


def lerp_(start, end, weight):
    """``start += weight * (end - start)`` in place, in the order PyTorch's lerp uses."""
    diff = end - start
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1.0 - weight
        np.subtract(end, diff, out=start)


CPU = CpuBackend()
