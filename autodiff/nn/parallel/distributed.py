"""DistributedDataParallel: each process trains a replica on its own shard of every batch,
and backward averages the gradients over the processes (PyTorch's DDP, on MPI).

    dist.init_process_group("mpi")
    model = nn.parallel.DistributedDataParallel(make_model())
    loss_fn(model(xb), yb).backward()     # .grad: the average over all ranks
    optimizer.step()                      # every replica takes the same step

How backward overlaps with communication. Gradients are grouped in buckets (about
``bucket_cap_mb`` each, parameters in reverse order, since backward produces the last
layers' gradients first). autodiff's engine computes every leaf's gradient during the pass
but writes the ``.grad`` attributes only at its end (so a failing backward leaves them all
untouched). DDP therefore works in two steps:

1. during the pass, a hook on each parameter (``register_hook``) copies the parameter's
   total gradient (plus what ``.grad`` already held, for gradient accumulation) into its
   bucket's flat buffer; when a bucket's last gradient arrives, a non-blocking allreduce
   of the bucket starts and runs while backward computes the remaining gradients;
2. after ``.grad`` was written (``register_post_accumulate_grad_hook``), it waits for the
   parameter's bucket and writes the averaged values into ``.grad``.

The sum over ranks is divided by the world size, so with equal per-rank batches and a
mean loss the update equals one process training on the concatenated batch.
"""
import contextlib
import functools
import weakref

import numpy as np

from ... import distributed as dist
from ...autograd import engine
from ...autograd.grad_mode import is_grad_enabled
from ...cuda.devices import DeviceArray
from ...tensor import Tensor
from ..module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024    # as PyTorch: the first bucket is at most 1 MB, to start sooner


class _Bucket:
    """Parameters whose gradients travel in one allreduce: a flat host buffer, their slices."""

    def __init__(self, indices, params, dtype):
        self.indices = indices
        self.slices = {}
        start = 0
        for i in indices:
            size = params[i]._data.size
            self.slices[i] = (start, start + size)
            start += size
        self.buffer = np.empty(start, dtype)
        self.ready = 0            # gradients copied in during this backward
        self.request = None       # the allreduce in flight
        self.averaged = False


class DistributedDataParallel(Module):
    """Wrap ``module`` so that backward averages gradients over all ranks.

    At construction every rank checks that the models agree (names, shapes, dtypes of
    parameters and buffers) and copies rank 0's parameters and buffers. Unused parameters
    (not reached from the output) make backward wait forever for their gradient unless
    ``find_unused_parameters=True``: then DDP walks the output's graph in forward and
    counts them as ready (a parameter no rank used keeps its ``.grad``). Without it, the
    next forward raises, naming the parameters that got no gradient.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel: " + dist._NOT_INITIALIZED)
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected an nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        world = dist._group(process_group, "DistributedDataParallel")
        d = self.__dict__
        d["_world"] = world
        d["broadcast_buffers"] = bool(broadcast_buffers)
        d["find_unused_parameters"] = bool(find_unused_parameters)
        d["require_backward_grad_sync"] = True
        d["bucket_cap_mb"] = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        d["_param_names"] = [n for n, _ in named]
        d["_params"] = [p for _, p in named]
        self._check_same_model()
        if init_sync:
            self._sync_from_rank0(include_parameters=True)
        d["_buckets"], d["_bucket_of"] = self._make_buckets()
        d["_armed"] = False          # this backward's gradients are to be averaged
        d["_arrived"] = [False] * len(self._params)    # gradient seen during the pass
        d["_expected"] = len(self._params)
        d["_finished"] = 0
        d["_locally_used"] = None    # find_unused_parameters: the used-map allreduce
        me = weakref.ref(self)       # the hooks must not keep a discarded DDP alive
        for i, p in enumerate(self._params):
            p.register_hook(functools.partial(_on_gradient, me, i))
            p.register_post_accumulate_grad_hook(functools.partial(_on_accumulated, me, i))

    # ------------------------------------------------------------------ construction
    def _check_same_model(self):
        world = self._world
        mine = [("parameter", n, tuple(p.shape), str(p.dtype))
                for n, p in zip(self._param_names, self._params)]
        mine += [("buffer", n, tuple(b.shape), str(b.dtype)) for n, b in self.module.named_buffers()]
        everyone = [None] * world.size
        dist.all_gather_object(everyone, mine)
        reference = everyone[0]
        for rank, theirs in enumerate(everyone[1:], start=1):
            if theirs == reference:
                continue
            if len(theirs) != len(reference):
                raise RuntimeError(
                    f"DistributedDataParallel: DDP expects the same model on every rank, but rank "
                    f"{rank} has {len(theirs)} parameters and buffers while rank 0 has "
                    f"{len(reference)}")
            for ours, other in zip(reference, theirs):
                if ours != other:
                    raise RuntimeError(
                        f"DistributedDataParallel: DDP expects the same model on every rank, but "
                        f"rank {rank} has {other[0]} {other[1]!r} of shape {other[2]} and dtype "
                        f"{other[3]} where rank 0 has {ours[0]} {ours[1]!r} of shape {ours[2]} "
                        f"and dtype {ours[3]}")

    def _sync_from_rank0(self, include_parameters):
        tensors = list(self.module.buffers())
        if include_parameters:
            tensors = list(self.module.parameters()) + tensors
        if self._world.size == 1 or not tensors:
            return
        works = [dist.broadcast(t, src=0, async_op=True) for t in tensors]
        for work in works:
            work.wait()

    def _make_buckets(self):
        """Reverse parameter order, one dtype and device per bucket, about bucket_cap_mb each."""
        params = self._params
        buckets, bucket_of = [], [None] * len(params)
        cap = min(_FIRST_BUCKET_BYTES, self.bucket_cap_mb * 1024 * 1024)
        current, key, size = [], None, 0
        for i in reversed(range(len(params))):
            p = params[i]
            this_key = (p._data.dtype, isinstance(p._data, DeviceArray))
            if current and (this_key != key or size >= cap):
                buckets.append(_Bucket(current, params, key[0]))
                current, size = [], 0
                cap = self.bucket_cap_mb * 1024 * 1024
            current.append(i)
            key = this_key
            size += p._data.nbytes
        if current:
            buckets.append(_Bucket(current, params, key[0]))
        for bucket in buckets:
            for i in bucket.indices:
                bucket_of[i] = bucket
        return buckets, bucket_of

    # ------------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self._world.size > 1:
            self._sync_from_rank0(include_parameters=False)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self._prepare_for_backward(out)
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside this block only accumulate local ``.grad``;
        the first backward after it averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.__dict__["require_backward_grad_sync"] = False
        try:
            yield
        finally:
            self.__dict__["require_backward_grad_sync"] = previous

    def _prepare_for_backward(self, out):
        if self._armed:
            missing = [self._param_names[i] for i, seen in enumerate(self._arrived) if not seen]
            if any(self._arrived):
                raise RuntimeError(
                    "DistributedDataParallel: Expected to have finished reduction in the prior "
                    "iteration before starting a new one. This error indicates that your module "
                    "has parameters that were not used in producing loss: "
                    f"{', '.join(missing)} received no gradient on rank {self._world.rank}. "
                    "Pass find_unused_parameters=True to DistributedDataParallel, and make sure "
                    "all forward outputs participate in calculating the loss.")
            self._wait_all()       # a forward without backward: finish what forward started
        d = self.__dict__
        d["_armed"] = True
        d["_arrived"] = [False] * len(self._params)
        d["_finished"] = 0
        d["_expected"] = len(self._params)
        for bucket in self._buckets:
            bucket.ready, bucket.request, bucket.averaged = 0, None, False
        if self.find_unused_parameters:
            self._mark_unused(out)

    def _mark_unused(self, out):
        """Parameters the output does not depend on count as ready now (their current .grad)."""
        roots = [t.grad_fn if t.grad_fn is not None else t for t in _tensors_in(out)
                 if t.requires_grad]
        reached = {id(v) for v in engine.count_dependencies(roots)} if roots else set()
        used = np.array([id(p) in reached for p in self._params], dtype=np.int32)
        used_anywhere = used.copy()
        world = self._world
        request = world.comm.Iallreduce(world.mpi.IN_PLACE, used_anywhere, op=world.mpi.SUM)
        self.__dict__["_locally_used"] = (used, request, used_anywhere)
        self.__dict__["_expected"] = int(used.sum())
        for i in np.flatnonzero(used == 0):
            self._collect(int(i), None)
        if self._expected == 0:
            self._finalize()

    # ------------------------------------------------------------------ backward
    def _collect(self, index, grad):
        """Copy parameter ``index``'s gradient (+ its current .grad) into its bucket."""
        bucket = self._bucket_of[index]
        start, stop = bucket.slices[index]
        view = bucket.buffer[start:stop]
        previous = self._params[index].grad
        view[...] = _host(grad._data).reshape(-1) if grad is not None else 0
        if previous is not None:
            view += _host(previous._data).reshape(-1)
        self._arrived[index] = True
        bucket.ready += 1
        if bucket.ready == len(bucket.indices):
            world = self._world
            bucket.request = world.comm.Iallreduce(world.mpi.IN_PLACE, bucket.buffer,
                                                   op=world.mpi.SUM)
        else:    # MPI progresses collectives inside MPI calls: poke the ones in flight
            for other in self._buckets:
                if other.request is not None and not other.averaged:
                    other.request.Test()

    def _average(self, bucket):
        if not bucket.averaged:
            if bucket.request is not None:
                dist._wait(bucket.request, "DistributedDataParallel's gradient allreduce")
            bucket.buffer /= self._world.size
            bucket.averaged = True

    def _write_average(self, index):
        bucket = self._bucket_of[index]
        self._average(bucket)
        start, stop = bucket.slices[index]
        p = self._params[index]
        average = bucket.buffer[start:stop].reshape(p._data.shape)
        if p.grad is None or p.grad._requires_grad:
            p.grad = Tensor._wrap(average.copy() if not isinstance(p._data, DeviceArray)
                                  else type(p._data).from_host(average))
        else:
            p.grad._data[...] = average
            p.grad._bump_version()

    def _after_accumulation(self, index):
        self._write_average(index)
        self.__dict__["_finished"] += 1
        if self._finished == self._expected:
            self._finalize()

    def _finalize(self):
        """Every used gradient is averaged: handle the unused ones and disarm."""
        self.__dict__["_armed"] = False
        if self._locally_used is None:
            return
        used, request, total = self._locally_used
        dist._wait(request, "DistributedDataParallel (find_unused_parameters)")
        self.__dict__["_locally_used"] = None
        for i in np.flatnonzero(used == 0):
            if total[i] > 0:                # another rank used it: take the average
                self._write_average(i)
        self._wait_all()

    def _wait_all(self):
        for bucket in self._buckets:
            if bucket.request is not None:
                dist._wait(bucket.request, "DistributedDataParallel's gradient allreduce")
                bucket.request = None
        if self._locally_used is not None:
            dist._wait(self._locally_used[1], "DistributedDataParallel (find_unused_parameters)")
            self.__dict__["_locally_used"] = None


def _on_gradient(ddp_ref, index, grad):
    ddp = ddp_ref()
    if ddp is not None and ddp._armed and not ddp._arrived[index]:
        ddp._collect(index, grad)


def _on_accumulated(ddp_ref, index, param):
    ddp = ddp_ref()
    if ddp is not None and ddp._armed and ddp._arrived[index]:
        ddp._after_accumulation(index)


def _host(array):
    return array.get() if isinstance(array, DeviceArray) else array


def _tensors_in(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)
