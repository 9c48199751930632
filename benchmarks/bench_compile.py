"""autodiff.compile against autodiff eager, PyTorch eager and torch.compile, on CPU.

Three training steps, the same code in both libraries (only the import differs):

- the lecture network 2-20-40-20-1 (ReLU), batch 10, BCEWithLogitsLoss, SGD momentum 0.9,
  written with ``nn`` modules (bench_nn.py's step);
- the same step written with raw tensor ops (bench_core.py's step);
- an MNIST-sized MLP 784-256-128-10, batch 128, CrossEntropyLoss, Adam (bench_nn.py's).

Each (library, variant, case) is timed in a fresh process of its own (see timing.py), as
the minimum over repeats; ratios are against PyTorch eager from the same run. "first calls"
is the time of the first two calls: for autodiff.compile the warm-up and the capture (for
``fused`` also the Numba compilation, or its load from the disk cache), for torch.compile
its tracing and code generation; every variant takes these two steps, so the losses agree.

    python benchmarks/bench_compile.py [--repeats 7] [--cpu-time] [--no-torch-compile]
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the autodiff next to this file

import bench_core
import bench_nn
from timing import best_time, has_torch, measure_in_subprocess

CASES = {
    "lecture MLP 2-20-40-20-1, batch 10, BCEWithLogits, SGD momentum (nn modules)": dict(
        kind="nn", nn_case=0, steps=300),
    "the same step with raw tensor ops": dict(kind="raw", steps=300),
    "MNIST MLP 784-256-128-10, batch 128, CrossEntropy, Adam (nn modules)": dict(
        kind="nn", nn_case=1, steps=30),
}
VARIANTS = {"torch": ["eager", "compile"], "autodiff": ["eager", "replay", "fused"]}


def make_step(lib, case):
    if case["kind"] == "raw":
        weights, x, y = bench_core.init_weights()
        step, _ = bench_core.make_step(lib, weights, x, y)
        return step
    nn_case = bench_nn.CASES[list(bench_nn.CASES)[case["nn_case"]]]
    rng = np.random.default_rng(1)
    x, y = nn_case["data"](rng, nn_case["batch"])
    return bench_nn.make_step(lib, nn_case["sizes"], x, y, nn_case["loss_fn"], nn_case["optimizer"])


def measure(lib_name, variant, title, repeats, cpu_time):
    """Seconds per step, seconds of the first calls, and the final loss, in this process."""
    if lib_name == "torch":
        lib = bench_nn.import_torch()
        lib.set_num_threads(1)
        bench_core.torch = lib
    else:
        import autodiff as lib
    case = CASES[title]
    step = make_step(lib, case)
    start = time.perf_counter()
    if lib_name == "torch" and variant == "compile":
        step = lib.compile(step)
        step()
        step()
    else:
        if lib_name == "autodiff" and variant != "eager":
            step = lib.compile(step, mode=variant)
        step()          # (eager too: every variant then takes the same number of steps)
        step()
    first_calls = time.perf_counter() - start
    for _ in range(5):
        step()
    clock = time.process_time if cpu_time else time.perf_counter
    seconds = best_time(step, case["steps"], repeats, clock)
    if lib_name == "autodiff" and variant != "eager":
        assert step.stats["replays"] > 0, step.explain()
    return seconds, first_calls, float(step().item())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cpu-time", action="store_true",
                        help="time in process CPU time (steadier on a loaded, shared machine)")
    parser.add_argument("--no-torch-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--cases", default="0,1,2", help="which cases (indices), e.g. 0,2")
    parser.add_argument("--measure", nargs=3, metavar=("LIB", "VARIANT", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        lib_name, variant, index = args.measure
        print(json.dumps(measure(lib_name, variant, list(CASES)[int(index)], args.repeats, args.cpu_time)))
        return
    runs = [("autodiff", v) for v in VARIANTS["autodiff"]]
    if has_torch():
        runs = [("torch", "eager")] + ([] if args.no_torch_compile else [("torch", "compile")]) + runs
    clock = "process CPU time" if args.cpu_time else "wall-clock time"
    for index in map(int, args.cases.split(",")):
        title = list(CASES)[index]
        print(f"{title}: min of {args.repeats} x {CASES[title]['steps']} steps ({clock}), "
              "each in its own process")
        times = {}
        for lib_name, variant in runs:
            label = f"{lib_name} {variant}"
            extra = ["--cpu-time"] if args.cpu_time else []
            try:
                seconds, first, loss = measure_in_subprocess(
                    __file__, "--repeats", args.repeats, *extra, "--measure", lib_name, variant, index)
            except Exception as exc:      # (torch.compile needs a working C++ toolchain)
                print(f"  {label:17s}      n/a   ({type(exc).__name__}: does not run here)")
                continue
            times[label] = seconds
            ratio = ""
            if "torch eager" in times:
                ratio = f"{times['torch eager'] / seconds:6.2f}x torch eager"
            print(f"  {label:17s} {seconds * 1e6:9.1f} us/step  {ratio}   first calls {first:7.3f} s"
                  f"   loss {loss:.6f}")


if __name__ == "__main__":
    main()
