"""exp(v) for v <= 0 that LLVM can vectorise, and the CPU sigmoid kernel's formula built on it.

The pip builds of llvmlite have no SVML, so `math.exp` in a kernel is a libm call per
value and the loop around it stays scalar: sigmoid ran at 0.8-1.1x PyTorch while relu and
tanh's backward, pure arithmetic, ran at ~2.8x (benchmarks/bench_dispatch.py). Written
with float32 arithmetic, `floor`, int32 shifts and a bit cast only, and run under numpy's
error model (Python's checks every division for zero, a branch that stops vectorisation:
see `_jit.kernel`), the loop vectorises: the sigmoid kernel went from 9.4 ms to about 5 ms
on 10M float32 values with two threads (memory-bound relu: 1.7 ms).

Method: v = n ln2 + r with n = round(v / ln2) and |r| <= ln2/2; e^r by its Taylor series
to r^7/7! (truncation error below 6e-9 on that interval, under a tenth of a float32 ulp);
2^n built from its exponent bits, as two factors 2^(n//2) and 2^(n - n//2) so that each
is a normal float32 even where e^v itself is subnormal (down to v = -103.9, below which
it rounds to 0). float64 has a form of its own, to r^13/13! (`_exp_nonpositive_float64`).

Accuracy (tests/kernels/test_kernels_cpu_activations.py): sigmoid within 2 ulps of the
correctly rounded value everywhere and within 1 ulp for all but ~0.05% of inputs; PyTorch's
float32 CPU sigmoid is also up to 2 ulps off (on more inputs), and flushes subnormal results to 0.
"""
import math

import numpy as np

from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic, overload, register_jitable

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693359375                # ln 2 in 10 bits: n * _LN2_HI is exact for |n| < 2^13
_LN2_LO = -2.1219444005469057e-4     # ln 2 - _LN2_HI


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose IEEE bit pattern is the low 32 bits of the integer ``bits``."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        value = args[0]
        if bits.bitwidth > 32:
            value = builder.trunc(value, ir.IntType(32))
        return builder.bitcast(value, ir.FloatType())

    return types.float32(bits), codegen


@intrinsic
def _float64_from_bits(typingctx, bits):
    """The float64 whose IEEE bit pattern is the 64-bit integer ``bits``."""
    if not (isinstance(bits, types.Integer) and bits.bitwidth == 64):
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(bits), codegen


def exp_nonpositive(v):
    """e^v for v <= 0 (NaN stays NaN). In Python: math.exp."""
    return math.exp(v)


@overload(exp_nonpositive, jit_options={"fastmath": False})
def _exp_nonpositive(v):
    if v == types.float64:
        return _exp_nonpositive_float64()
    if v != types.float32:
        return lambda v: math.exp(v)
    # Every constant is a float32 or int32 so that nothing is promoted to float64/int64:
    # promoted, the loop ran at half the width (eight float64 lanes with conversions).
    f32, i32 = np.float32, np.int32
    log2e, ln2_hi, ln2_lo = f32(_LOG2E), f32(_LN2_HI), f32(_LN2_LO)
    floor_v = f32(-104.0)
    c2, c3, c4, c5, c6, c7 = (f32(1 / math.factorial(k)) for k in range(2, 8))
    one, half = f32(1.0), f32(0.5)
    shift, bias, mantissa_bits = i32(1), i32(127), i32(23)

    def impl(v):
        w = v if v > floor_v else floor_v            # (NaN and -inf too; restored below)
        n = np.floor(w * log2e + half)               # (np.floor keeps float32; math.floor gives int64)
        r = (w - n * ln2_hi) - n * ln2_lo
        p = one + r * (one + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * c7))))))
        k = i32(n)
        k1 = k >> shift                               # floor(k / 2): both halves >= -75, normal
        k2 = k - k1
        scale1 = _float32_from_bits((k1 + bias) << mantissa_bits)
        scale2 = _float32_from_bits((k2 + bias) << mantissa_bits)
        out = p * scale1 * scale2
        return out if v == v else v
    return impl


def _exp_nonpositive_float64():
    """The float64 form: the same method with ln 2 split for float64 (fdlibm's 32-bit head, so
    n * head is exact) and the series to r^13/13! (truncation below 4e-18). Within 1 ulp of
    numpy's exp on [-750, 0] (tests/kernels/test_kernels_cpu_activations.py); 1.8x libm's speed
    in a loop (numpy's own SIMD exp is faster still, but a kernel cannot call it)."""
    log2e, ln2_hi, ln2_lo = _LOG2E, 0.6931471803691238, 1.9082149292705877e-10
    c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13 = (1 / math.factorial(k) for k in range(2, 14))
    shift, bias, mantissa_bits = np.int64(1), np.int64(1023), np.int64(52)

    def impl(v):
        w = v if v > -746.0 else -746.0               # (NaN and -inf too; restored below)
        n = np.floor(w * log2e + 0.5)
        r = (w - n * ln2_hi) - n * ln2_lo
        p = 1.0 + r * (1.0 + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * (
            c7 + r * (c8 + r * (c9 + r * (c10 + r * (c11 + r * (c12 + r * c13))))))))))))
        k = np.int64(n)
        k1 = k >> shift                               # both halves >= -538: normal scales
        k2 = k - k1
        out = p * _float64_from_bits((k1 + bias) << mantissa_bits) * \
            _float64_from_bits((k2 + bias) << mantissa_bits)
        return out if v == v else v
    return impl


@register_jitable
def sigmoid(v):
    """1 / (1 + e^-v), exponentiating only -|v| so that nothing overflows (as
    `kernels._scalar.sigmoid`, with the vectorisable exp for float32): one division,
    e^-|v| / (1 + e^-|v|) below 0 (fewer 2-ulp results than e^-|v| times the reciprocal)."""
    e = exp_nonpositive(-abs(v))
    numerator = type(v)(1) if v >= type(v)(0) else e
    return numerator / (type(v)(1) + e)
