"""Where the raw-tensor lecture step of bench_core.py spends its time, in autodiff alone.

Prints the step's phases (forward, backward, optimizer), then the time of each
op class in forward (``Op.apply``) and in backward (``Function._propagate``),
measured by wrapping those two methods with a timer. That pass is one run with
the wrappers in place (~0.2 us each), so its totals run higher than the phases
above: read them as shares. What backward spends outside its nodes is the
engine itself (ordering, gradient bookkeeping, leaves).

    python benchmarks/profile_core_step.py [--steps 2000]
"""
import argparse
import collections
import time

import autodiff
from autodiff.autograd import function
from bench_core import init_weights, make_step
from timing import best_time


def timed(totals, counts, name_of, method):
    """``method`` wrapped to add its time to ``totals[name_of(first argument)]``."""
    clock = time.perf_counter

    def wrapper(first, *args, **kwargs):
        start = clock()
        try:
            return method(first, *args, **kwargs)
        finally:
            name = name_of(first)
            totals[name] += clock() - start
            counts[name] += 1
    return wrapper


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args(argv)
    weights, x, y = init_weights()
    step, params = make_step(autodiff, weights, x, y)
    for _ in range(50):
        step()

    # the phases, with the step's own code split in three
    state = {}

    def forward():
        state["loss"] = step.forward()

    def backward_after_forward():
        loss = step.forward()
        for p in params:
            p.grad = None
        loss.backward()

    t_forward = best_time(forward, args.steps)
    t_both = best_time(backward_after_forward, args.steps)
    t_update = best_time(step.update, args.steps)
    print(f"raw-tensor lecture step, min of 7 x {args.steps}:")
    print(f"  forward {t_forward * 1e6:7.1f} us   backward {(t_both - t_forward) * 1e6:7.1f} us   "
          f"optimizer {t_update * 1e6:7.1f} us")

    # per op class, forward and backward
    fwd_t, fwd_n = collections.defaultdict(float), collections.Counter()
    bwd_t, bwd_n = collections.defaultdict(float), collections.Counter()
    apply, propagate = function.Op.apply.__func__, function.Function._propagate
    function.Op.apply = classmethod(timed(fwd_t, fwd_n, lambda cls: cls.__name__, apply))
    function.Function._propagate = timed(bwd_t, bwd_n, lambda node: type(node).__name__, propagate)
    try:
        total_forward = total_backward = 0.0
        clock = time.perf_counter
        for _ in range(args.steps):
            start = clock()
            loss = step.forward()
            middle = clock()
            for p in params:
                p.grad = None
            loss.backward()
            total_forward += middle - start
            total_backward += clock() - middle
        total_forward /= args.steps
        total_backward /= args.steps
    finally:
        function.Op.apply, function.Function._propagate = classmethod(apply), propagate
    for title, totals, counts, whole in [("forward", fwd_t, fwd_n, total_forward),
                                         ("backward", bwd_t, bwd_n, total_backward)]:
        print(f"{title}: {whole * 1e6:.1f} us per step (timed), of which in nodes "
              f"{sum(totals.values()) / args.steps * 1e6:.1f} us")
        for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
            per_step = counts[name] / args.steps
            print(f"  {name:10s} x{per_step:3.0f}  {seconds / counts[name] * 1e6:6.2f} us each  "
                  f"{seconds / args.steps * 1e6:6.1f} us per step")


if __name__ == "__main__":
    main()
