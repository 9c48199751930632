"""Several processes training one model: PyTorch's ``torch.distributed`` API, on MPI.

    import autodiff.distributed as dist
    dist.init_process_group("mpi")            # plain `python train.py`: a world of one
    dist.all_reduce(t, op=dist.ReduceOp.SUM)   # every rank now holds the sum

Launch a job with ``python -m autodiff.distributed.run -n 4 train.py`` (a thin wrapper
over the environment's ``mpiexec``; see ``autodiff/distributed/run.py``). The runtime is
MPI through ``mpi4py`` (``pip install "autodiff[distributed]"`` installs mpi4py and the
MPICH wheel, which brings ``mpiexec``): MPI's launcher wires the processes together, so
PyTorch's ``MASTER_ADDR``/``MASTER_PORT`` are not needed; ``RANK`` and ``WORLD_SIZE``,
when set, must agree with MPI's. ``backend`` may be "mpi" or, for code written for
PyTorch, "gloo" or "nccl": every backend name runs on MPI.

Collectives work in place on CPU tensors and on CUDA tensors (staged through host memory:
the MPICH wheel is not CUDA-aware). ``async_op=True`` returns a ``Work`` whose ``wait()``
finishes the operation. With ``TORCH_DISTRIBUTED_DEBUG=DETAIL`` (PyTorch's variable) every
collective first checks that all ranks call the same collective on the same shapes and
dtypes, and raises naming the ranks that differ, instead of hanging or mixing up data.

``mpi4py`` is imported by ``init_process_group`` only: ``import autodiff`` never needs it.
"""
import datetime
import enum
import importlib.util
import os
import time

import numpy as np

from ..cuda.devices import DeviceArray as _DeviceArray
from ..tensor import Tensor

__all__ = ["is_available", "is_mpi_available", "is_nccl_available", "is_gloo_available",
           "init_process_group", "is_initialized", "destroy_process_group", "get_rank",
           "get_world_size", "get_backend", "ReduceOp", "Work", "barrier", "broadcast",
           "all_reduce", "reduce", "all_gather", "gather", "scatter", "all_gather_object",
           "broadcast_object_list", "gather_object", "group", "GroupMember"]

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")


def is_available():
    """True when the MPI runtime (the ``mpi4py`` package) is installed."""
    return importlib.util.find_spec("mpi4py") is not None


is_mpi_available = is_available


def is_nccl_available():
    return False


def is_gloo_available():
    return False


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce`` combine the ranks' tensors."""
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class _World:
    """The default process group: a private duplicate of MPI's COMM_WORLD."""

    def __init__(self, mpi, comm, backend, timeout):
        self.mpi, self.comm, self.backend = mpi, comm, backend
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.timeout = timeout      # seconds a collective may wait for the others, or None


class _GroupMember:
    WORLD = None        # PyTorch's name for the default group; pass None or this


group = GroupMember = _GroupMember
_world = None


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError("autodiff.distributed needs MPI: pip install 'autodiff[distributed]' "
                           "(installs mpi4py and the MPICH wheel)") from error
    return MPI


def _env_int(name):
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"init_process_group: environment variable {name}={value!r} is not an "
                         "integer") from None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job's processes into the default group (all of MPI's ranks).

    ``world_size``/``rank`` (or the ``WORLD_SIZE``/``RANK`` environment variables), when
    given, must match what MPI's launcher assigned; a mismatch raises instead of training
    with wrong shards. ``timeout`` (a ``datetime.timedelta`` or seconds): a tensor
    collective that waits longer for the other ranks raises RuntimeError (a collective
    called on some ranks only), which under the launcher ends the job; without it, waits
    are unbounded, as MPI's are. ``init_method`` and ``store`` are accepted for PyTorch
    code and not used: MPI's launcher already connects the processes.
    """
    global _world
    if _world is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    names = [] if backend is None else [part.split(":")[-1].strip().lower()
                                        for part in str(backend).split(",")]
    unknown = [name for name in names if name not in ("mpi", "gloo", "nccl", "undefined")]
    if unknown:
        raise ValueError(f"init_process_group: unknown backend {backend!r}; autodiff runs every "
                         "group on MPI (use 'mpi'; 'gloo' and 'nccl' are accepted as aliases)")
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if timeout is not None and not timeout > 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout!r}")
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    mpi_rank, mpi_size = comm.Get_rank(), comm.Get_size()
    for what, given, mpi_value in (("world_size", world_size, mpi_size), ("rank", rank, mpi_rank),
                                   ("WORLD_SIZE", _env_int("WORLD_SIZE"), mpi_size),
                                   ("RANK", _env_int("RANK"), mpi_rank)):
        if given is not None and given != -1 and given != mpi_value:
            comm.Free()
            raise RuntimeError(
                f"init_process_group: {what}={given} but MPI started this process as rank "
                f"{mpi_rank} of {mpi_size}; launch with `python -m autodiff.distributed.run "
                f"-n N script.py` (or mpiexec -n N) and leave {what} unset or equal to MPI's")
    _world = _World(MPI, comm, "mpi", timeout)


def is_initialized():
    return _world is not None


def _group(group, name):
    if _world is None:
        raise ValueError(_NOT_INITIALIZED)
    if group is not None and group is not _world:
        raise ValueError(f"{name}: only the default group (group=None) is supported")
    return _world


def destroy_process_group(group=None):
    """Leave the default group (MPI itself stays up until the process exits)."""
    global _world
    world = _group(group, "destroy_process_group")
    _world = None
    world.comm.Free()


def get_rank(group=None):
    return _group(group, "get_rank").rank


def get_world_size(group=None):
    return _group(group, "get_world_size").size


def get_backend(group=None):
    return _group(group, "get_backend").backend


# ---------------------------------------------------------------------- buffers
class _Staged:
    """A contiguous host array with a tensor's values, and how to write results back.

    CPU tensors that are C-contiguous numpy arrays are used as they are (no copy); CUDA
    tensors and strided views go through a host copy that ``write_back`` returns to them.
    """

    def __init__(self, tensor, name):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{name}: expected a tensor, got {type(tensor).__name__}")
        self.tensor = tensor
        data = tensor._data
        if isinstance(data, _DeviceArray):
            self.host, self.copied = data.get(), True
        elif data.flags.c_contiguous:
            self.host, self.copied = data, False
        else:
            self.host, self.copied = np.ascontiguousarray(data), True

    def write_back(self):
        tensor = self.tensor
        if self.copied:
            tensor._data[...] = self.host
        tensor._bump_version()


def _mpi_op(MPI, op, dtype, name):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be a ReduceOp (ReduceOp.SUM, ...), got {op!r}")
    if dtype == np.bool_:     # PyTorch: SUM/MAX of bools is a logical or, PRODUCT/MIN an and
        return MPI.LOR if op in (ReduceOp.SUM, ReduceOp.MAX, ReduceOp.AVG) else MPI.LAND
    if op is ReduceOp.AVG and dtype.kind not in "fc":
        raise TypeError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got dtype {dtype}")
    if op in (ReduceOp.MIN, ReduceOp.MAX) and dtype.kind == "c":
        raise TypeError(f"{name}: ReduceOp.{op.name} is not defined for complex tensors")
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}[op]


def _check_same_call(world, name, signature):
    """TORCH_DISTRIBUTED_DEBUG=DETAIL: every rank must call ``name`` on the same shapes."""
    if os.environ.get("TORCH_DISTRIBUTED_DEBUG", "").upper() != "DETAIL" or world.size == 1:
        return
    calls = world.comm.allgather((name, signature))
    if any(call != calls[0] for call in calls):
        described = "; ".join(f"rank {r}: {c[0]}{c[1]}" for r, c in enumerate(calls))
        raise RuntimeError(f"{name}: the ranks called different collectives or passed different "
                           f"shapes or dtypes: {described}")


def _signature(tensor):
    return (tuple(tensor.shape), str(tensor._data.dtype))


def _wait(request, name="collective"):
    """Wait for ``request``; past the group's timeout, raise instead of waiting forever."""
    timeout = _world.timeout if _world is not None else None
    if timeout is None:
        request.Wait()
        return
    deadline = time.monotonic() + timeout
    pause = 1e-6
    while not request.Test():
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{name}: timed out after {timeout:g} s waiting for the other ranks on rank "
                f"{_world.rank}; did every rank call the same collectives in the same order?")
        time.sleep(pause)
        pause = min(2 * pause, 1e-3)


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` completes it."""

    def __init__(self, request=None, finish=None, result=(), buffers=(), name="collective"):
        self._request, self._finish, self._result = request, finish, list(result)
        self._name = name
        self._buffers = buffers     # host arrays MPI reads or writes until the request is done
        self._done = request is None
        if self._done and finish is not None:
            finish()

    def _complete(self):
        self._done = True
        self._request = self._buffers = None
        if self._finish is not None:
            self._finish()

    def wait(self, timeout=None):
        """Block until the collective has finished and its results are in the tensors."""
        if not self._done:
            _wait(self._request, self._name)
            self._complete()
        return True

    def is_completed(self):
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def is_success(self):
        return self.is_completed()

    def result(self):
        self.wait()
        return self._result


def _finish(request, finish, async_op, result=(), buffers=(), name="collective"):
    if not async_op:
        if request is not None:
            _wait(request, name)
        if finish is not None:
            finish()
        return None
    return Work(request, finish, result, buffers, name)


# ---------------------------------------------------------------------- collectives
def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank has reached this call."""
    world = _group(group, "barrier")
    _check_same_call(world, "barrier", ())
    return _finish(world.comm.Ibarrier(), None, async_op, name="barrier")


def _check_rank(world, value, what, name):
    if not isinstance(value, (int, np.integer)) or not 0 <= value < world.size:
        raise ValueError(f"{name}: {what}={value!r} is not a rank of this group "
                         f"(0..{world.size - 1})")
    return int(value)


def broadcast(tensor, src=0, group=None, async_op=False):
    """Every rank's ``tensor`` becomes rank ``src``'s (in place)."""
    world = _group(group, "broadcast")
    src = _check_rank(world, src, "src", "broadcast")
    staged = _Staged(tensor, "broadcast")
    _check_same_call(world, "broadcast", _signature(tensor) + (src,))
    request = world.comm.Ibcast(staged.host, root=src)
    return _finish(request, staged.write_back, async_op, [tensor], (staged.host,),
                   name="broadcast")


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Every rank's ``tensor`` becomes the reduction (``op``) over all ranks (in place)."""
    world = _group(group, "all_reduce")
    staged = _Staged(tensor, "all_reduce")
    mpi_op = _mpi_op(world.mpi, op, staged.host.dtype, "all_reduce")
    _check_same_call(world, "all_reduce", _signature(tensor) + (op.name,))
    request = world.comm.Iallreduce(world.mpi.IN_PLACE, staged.host, op=mpi_op)
    return _finish(request, _averaging(staged, op, world), async_op, [tensor], name="all_reduce")


def _averaging(staged, op, world):
    if op is not ReduceOp.AVG:
        return staged.write_back

    def finish():
        staged.host /= world.size
        staged.write_back()
    return finish


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False):
    """Rank ``dst``'s ``tensor`` becomes the reduction over all ranks; the others keep theirs."""
    world = _group(group, "reduce")
    dst = _check_rank(world, dst, "dst", "reduce")
    staged = _Staged(tensor, "reduce")
    mpi_op = _mpi_op(world.mpi, op, staged.host.dtype, "reduce")
    _check_same_call(world, "reduce", _signature(tensor) + (op.name, dst))
    if world.rank == dst:
        request = world.comm.Ireduce(world.mpi.IN_PLACE, staged.host, op=mpi_op, root=dst)
        return _finish(request, _averaging(staged, op, world), async_op, [tensor], name="reduce")
    request = world.comm.Ireduce(staged.host, None, op=mpi_op, root=dst)
    return _finish(request, None, async_op, [tensor], (staged.host,), name="reduce")


def _check_list(tensors, like, world, name, what):
    if not isinstance(tensors, (list, tuple)) or len(tensors) != world.size:
        size = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{name}: {what} must be a list of {world.size} tensors (the world "
                         f"size), got {size}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor) or tuple(t.shape) != tuple(like.shape) or \
                t._data.dtype != like._data.dtype:
            got = (f"shape {tuple(t.shape)} and dtype {t._data.dtype}" if isinstance(t, Tensor)
                   else type(t).__name__)
            raise ValueError(f"{name}: {what}[{i}] has {got}; every tensor must have the input's "
                             f"shape {tuple(like.shape)} and dtype {like._data.dtype}")


def _scatter_rows(rows, tensors):
    """Write ``rows[i]`` into ``tensors[i]`` (host or device), bumping versions."""
    def finish():
        for row, t in zip(rows, tensors):
            t._data[...] = row
            t._bump_version()
    return finish


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[r]`` becomes rank r's ``tensor``, on every rank."""
    world = _group(group, "all_gather")
    _check_list(tensor_list, tensor, world, "all_gather", "tensor_list")
    staged = _Staged(tensor, "all_gather")
    _check_same_call(world, "all_gather", _signature(tensor))
    rows = np.empty((world.size,) + staged.host.shape, staged.host.dtype)
    request = world.comm.Iallgather(staged.host, rows)
    return _finish(request, _scatter_rows(rows, tensor_list), async_op, tensor_list,
                   name="all_gather")


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """On rank ``dst``, ``gather_list[r]`` becomes rank r's ``tensor``."""
    world = _group(group, "gather")
    dst = _check_rank(world, dst, "dst", "gather")
    staged = _Staged(tensor, "gather")
    if world.rank == dst:
        _check_list(gather_list, tensor, world, "gather", "gather_list")
    elif gather_list:
        raise ValueError(f"gather: gather_list must be given on the destination rank {dst} only")
    _check_same_call(world, "gather", _signature(tensor) + (dst,))
    if world.rank != dst:
        request = world.comm.Igather(staged.host, None, root=dst)
        return _finish(request, None, async_op, (), (staged.host,), name="gather")
    rows = np.empty((world.size,) + staged.host.shape, staged.host.dtype)
    request = world.comm.Igather(staged.host, rows, root=dst)
    return _finish(request, _scatter_rows(rows, gather_list), async_op, gather_list,
                   name="gather")


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """Each rank r's ``tensor`` becomes ``scatter_list[r]`` of rank ``src``."""
    world = _group(group, "scatter")
    src = _check_rank(world, src, "src", "scatter")
    staged = _Staged(tensor, "scatter")
    rows = None
    if world.rank == src:
        _check_list(scatter_list, tensor, world, "scatter", "scatter_list")
        rows = np.stack([np.asarray(t._data.get() if isinstance(t._data, _DeviceArray)
                                    else t._data) for t in scatter_list])
    elif scatter_list:
        raise ValueError(f"scatter: scatter_list must be given on the source rank {src} only")
    _check_same_call(world, "scatter", _signature(tensor) + (src,))
    request = world.comm.Iscatter(rows, staged.host, root=src)
    return _finish(request, staged.write_back, async_op, [tensor], (rows, staged.host),
                   name="scatter")


# ---------------------------------------------------------------------- Python objects
# Objects travel pickled, as in PyTorch: only between the processes of one job, which
# trust each other (nothing is ever unpickled from a file).
def all_gather_object(object_list, obj, group=None):
    """``object_list[r]`` becomes rank r's ``obj`` (any picklable object), on every rank."""
    world = _group(group, "all_gather_object")
    if not isinstance(object_list, list) or len(object_list) != world.size:
        raise ValueError(f"all_gather_object: object_list must be a list of {world.size} "
                         "elements (the world size)")
    object_list[:] = world.comm.allgather(obj)


def gather_object(obj, object_gather_list=None, dst=0, group=None):
    """On rank ``dst``, ``object_gather_list[r]`` becomes rank r's ``obj``."""
    world = _group(group, "gather_object")
    dst = _check_rank(world, dst, "dst", "gather_object")
    if world.rank == dst and (not isinstance(object_gather_list, list)
                              or len(object_gather_list) != world.size):
        raise ValueError(f"gather_object: object_gather_list must be a list of {world.size} "
                         "elements on the destination rank")
    gathered = world.comm.gather(obj, root=dst)
    if world.rank == dst:
        object_gather_list[:] = gathered


def broadcast_object_list(object_list, src=0, group=None, device=None):
    """Every rank's ``object_list`` becomes rank ``src``'s (same length on every rank)."""
    world = _group(group, "broadcast_object_list")
    src = _check_rank(world, src, "src", "broadcast_object_list")
    if not isinstance(object_list, list):
        raise TypeError("broadcast_object_list: object_list must be a list")
    received = world.comm.bcast(object_list if world.rank == src else len(object_list), root=src)
    if world.rank != src:
        if len(received) != len(object_list):
            raise ValueError(f"broadcast_object_list: rank {src} sent {len(received)} objects but "
                             f"this rank's object_list has {len(object_list)}")
        object_list[:] = received
