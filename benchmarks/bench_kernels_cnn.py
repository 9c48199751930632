"""Where the CNN Numba kernels pay off: im2col, col2im and max-pooling indices, numpy vs Numba,
through the same functions the ops call (``backends.use`` forces each), on the shapes of
LeNet-5 (batch 64) and of the 2-layer digits conv net (batch 32), and a few smaller ones.

    python benchmarks/bench_kernels_cnn.py [--repeats 7]     (NUMBA_NUM_THREADS=1 for one core)
"""
import argparse
import timeit

import numpy as np

from autodiff import backends
from autodiff.ops.conv import Geometry, col2im, im2col
from autodiff.ops.pooling import max_pool_indices

COL2IM = [   # (x shape, kernel, padding)
    ((64, 6, 14, 14), 5, 0), ((64, 1, 28, 28), 5, 2), ((32, 8, 8, 8), 3, 1), ((8, 4, 8, 8), 3, 1),
    ((2, 2, 6, 6), 3, 1),
]
POOL = [(64, 6, 28, 28), (64, 16, 10, 10), (32, 16, 8, 8), (8, 4, 8, 8), (2, 2, 4, 4)]


def best(fn, repeats):
    number = 20
    return min(timeit.repeat(fn, number=number, repeat=repeats)) / number


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print("im2col (a convolution's input, one column per window), float32")
    for shape, k, p in COL2IM:
        g = Geometry((k, k), (1, 1), (p,) * 4, (1, 1))
        out_size = g.output_size(*shape[2:])
        x = rng.random(shape).astype(np.float32)
        times = {}
        for mode in ("numpy", "numba"):
            with backends.use(mode):
                im2col(x, g, out_size)
                times[mode] = best(lambda: im2col(x, g, out_size), args.repeats)
        print(f"  {str(shape):18s} k={k} x {x.size:8d}: numpy {times['numpy'] * 1e6:8.1f} us  "
              f"numba {times['numba'] * 1e6:8.1f} us  speed-up {times['numpy'] / times['numba']:.2f}x")
    print("col2im (the input gradient of a convolution), float32")
    for shape, k, p in COL2IM:
        g = Geometry((k, k), (1, 1), (p,) * 4, (1, 1))
        oh, ow = g.output_size(*shape[2:])
        cols = rng.random(shape[:2] + (k, k, oh, ow)).astype(np.float32)
        times = {}
        for mode in ("numpy", "numba"):
            with backends.use(mode):
                col2im(cols, g, shape)
                times[mode] = best(lambda: col2im(cols, g, shape), args.repeats)
        print(f"  {str(shape):18s} k={k} cols {cols.size:8d}: numpy {times['numpy'] * 1e6:8.1f} us  "
              f"numba {times['numba'] * 1e6:8.1f} us  speed-up {times['numpy'] / times['numba']:.2f}x")
    print("max_pool2d indices, kernel 2, float32")
    for shape in POOL:
        x = rng.random(shape).astype(np.float32)
        times = {}
        for mode in ("numpy", "numba"):
            with backends.use(mode):
                max_pool_indices(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
                times[mode] = best(lambda: max_pool_indices(x, (2, 2), (2, 2), (0, 0), (1, 1), False),
                                   args.repeats)
        print(f"  {str(shape):18s} x {x.size:8d}: numpy {times['numpy'] * 1e6:8.1f} us  "
              f"numba {times['numba'] * 1e6:8.1f} us  speed-up {times['numpy'] / times['numba']:.2f}x")


if __name__ == "__main__":
    main()
