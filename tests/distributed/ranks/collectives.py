"""Run under mpiexec -n 2: every collective's values, for each reduce op and dtype.

Rank r's input is a known function of r, so each rank computes the expected result with
numpy and asserts it; any mismatch raises (and the launcher aborts the job non-zero).
Argument: the device ('cpu', or 'cuda' on a GPU or the CUDA simulator).
"""
import os
import sys

import numpy as np

import autodiff
import autodiff.distributed as dist
from autodiff.distributed import ReduceOp

DEVICE = sys.argv[1] if len(sys.argv) > 1 else "cpu"
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
assert (rank, world) == (int(os.environ["RANK"]), 2)
DTYPES = ["float64", "float32", "int64", "int32", "uint8", "bool"]
if DEVICE == "cpu":
    DTYPES += ["float16", "int16"]


def value(r, dtype, shape=(2, 3)):
    """Rank r's input: small distinct numbers (bools: a pattern that differs between ranks)."""
    base = np.arange(int(np.prod(shape))).reshape(shape)
    if dtype == "bool":
        return (base + r) % 2 == 0
    return (base % 4 + 1 + 2 * r).astype(dtype)


def on_device(array):
    return autodiff.tensor(array).to(DEVICE)


def check(t, expected, what):
    got = t.cpu().numpy()
    assert got.dtype == expected.dtype, (what, got.dtype, expected.dtype)
    assert np.array_equal(got, expected), (what, got, expected)


inputs = {}
for dtype in DTYPES:
    everyone = [value(r, dtype) for r in range(world)]
    ops = {ReduceOp.SUM: np.sum, ReduceOp.MAX: np.max, ReduceOp.MIN: np.min,
           ReduceOp.PRODUCT: np.prod}
    if dtype.startswith("float"):
        ops[ReduceOp.AVG] = np.mean
    for op, combine in ops.items():
        if dtype == "bool":
            expected = (np.any if op in (ReduceOp.SUM, ReduceOp.MAX) else np.all)(everyone, axis=0)
        else:
            expected = combine(np.stack(everyone), axis=0).astype(dtype)
        for async_op in (False, True):
            t = on_device(value(rank, dtype))
            work = dist.all_reduce(t, op=op, async_op=async_op)
            if async_op:
                assert work.wait() and work.is_completed()
            check(t, expected, f"all_reduce {op} {dtype} async={async_op}")
        t = on_device(value(rank, dtype))
        dist.reduce(t, dst=1, op=op)
        check(t, expected if rank == 1 else value(rank, dtype), f"reduce {op} {dtype}")
    t = on_device(value(rank, dtype))
    dist.broadcast(t, src=1)
    check(t, value(1, dtype), f"broadcast {dtype}")
    outs = [on_device(np.zeros((2, 3), dtype)) for _ in range(world)]
    dist.all_gather(outs, on_device(value(rank, dtype)))
    for r in range(world):
        check(outs[r], value(r, dtype), f"all_gather {dtype} [{r}]")
    gathered = [on_device(np.zeros((2, 3), dtype)) for _ in range(world)] if rank == 0 else None
    dist.gather(on_device(value(rank, dtype)), gathered, dst=0)
    if rank == 0:
        for r in range(world):
            check(gathered[r], value(r, dtype), f"gather {dtype} [{r}]")
    t = on_device(np.zeros((2, 3), dtype))
    pieces = [on_device(value(10 + r, dtype)) for r in range(world)] if rank == 1 else None
    dist.scatter(t, pieces, src=1)
    check(t, value(10 + rank, dtype), f"scatter {dtype}")
    print(f"rank {rank} {DEVICE} {dtype}: all_reduce/reduce (every op), broadcast, all_gather, "
          "gather, scatter OK", flush=True)

# a strided view is reduced and written back in place
base = on_device(np.arange(12.0).reshape(3, 4) + rank)
view = base.t()
dist.all_reduce(view)
check(base, 2 * np.arange(12.0).reshape(3, 4) + 1, "all_reduce of a transposed view")

# async: several in flight at once, completed in any order
tensors = [on_device(np.full(4, float(rank + i))) for i in range(3)]
works = [dist.all_reduce(t, async_op=True) for t in tensors]
for i in (2, 0, 1):
    works[i].wait()
    check(tensors[i], np.full(4, float(2 * i + 1)), f"async all_reduce {i}")
dist.barrier()
assert dist.barrier(async_op=True).wait()

# Python objects
objects = [None] * world
dist.all_gather_object(objects, {"rank": rank, "name": f"r{rank}"})
assert objects == [{"rank": 0, "name": "r0"}, {"rank": 1, "name": "r1"}], objects
shared = [{"lr": 0.1}, rank, None] if rank == 1 else [None, None, None]
dist.broadcast_object_list(shared, src=1)
assert shared == [{"lr": 0.1}, 1, None], shared
collected = [None] * world if rank == 0 else None
dist.gather_object(("hello", rank), collected, dst=0)
assert rank != 0 or collected == [("hello", 0), ("hello", 1)], collected

# errors that every rank detects before communicating
for call, error, words in [
        (lambda: dist.all_reduce(on_device(np.ones(2, "int64")), op=ReduceOp.AVG), TypeError,
         "ReduceOp.AVG needs a floating-point tensor"),
        (lambda: dist.all_gather([on_device(np.ones(2))], on_device(np.ones(2))), ValueError,
         "list of 2 tensors"),
        (lambda: dist.broadcast(on_device(np.ones(2)), src=2), ValueError, "src=2 is not a rank"),
        (lambda: dist.all_reduce(np.ones(2)), TypeError, "expected a tensor")]:
    try:
        call()
    except error as e:
        assert words in str(e), (words, str(e))
    else:
        raise AssertionError(f"no {error.__name__} for {words}")

# TORCH_DISTRIBUTED_DEBUG=DETAIL: ranks that disagree get an error, not wrong data or a hang
os.environ["TORCH_DISTRIBUTED_DEBUG"] = "DETAIL"
try:
    if rank == 0:
        dist.all_reduce(on_device(np.ones(3)))
    else:
        dist.all_reduce(on_device(np.ones(4)))
except RuntimeError as e:
    assert "rank 0: all_reduce((3,)" in str(e) and "rank 1: all_reduce((4,)" in str(e), str(e)
else:
    raise AssertionError("different shapes were not detected")
try:
    if rank == 0:
        dist.all_reduce(on_device(np.ones(3)))
    else:
        dist.broadcast(on_device(np.ones(3)), src=0)
except RuntimeError as e:
    assert "different collectives" in str(e), str(e)
else:
    raise AssertionError("different collectives were not detected")
del os.environ["TORCH_DISTRIBUTED_DEBUG"]

dist.destroy_process_group()
assert not dist.is_initialized()
print(f"rank {rank} COLLECTIVES-OK", flush=True)
