"""Checkpoints for data-parallel jobs: rank 0 writes, every rank resumes from the same file.

    from autodiff.distributed import checkpoint
    state = checkpoint.load("ckpt.safetensors")          # None on a fresh start
    if state is not None:
        model.load_state_dict(state["model"]); optimizer.load_state_dict(state["optimizer"])
        start = state["step"]
    for step in range(start, total_steps):
        ...train one step...
        if (step + 1) % every == 0:
            checkpoint.save({"model": model.state_dict(),
                             "optimizer": optimizer.state_dict(), "step": step + 1}, path)

All replicas hold the same parameters and optimizer state, so one copy (rank 0's) is
enough. ``save`` writes it with ``autodiff.save`` (atomic: a crash mid-write leaves the
previous checkpoint whole). ``load`` has rank 0 read the file and send its bytes to the
others, so the file need only exist on rank 0's machine. A job that resumes at step s and
derives its data order from s (``DistributedSampler.set_epoch(s // steps_per_epoch)``,
then skipping ``s % steps_per_epoch`` batches) continues exactly as an uninterrupted run.
"""
import io
import os

from .. import serialization
from . import broadcast_object_list, get_rank, barrier, is_initialized


def save(obj, path):
    """Rank 0 writes ``obj`` to ``path`` atomically; every rank returns once it is on disk."""
    if not is_initialized() or get_rank() == 0:
        serialization.save(obj, path)
    if is_initialized():
        barrier()


def load(path):
    """The checkpoint at ``path`` as rank 0 reads it (the same on every rank), or None if
    rank 0 has no file there."""
    payload = [None]
    if not is_initialized() or get_rank() == 0:
        if os.path.exists(path):
            with open(path, "rb") as f:
                payload[0] = f.read()
    if is_initialized():
        broadcast_object_list(payload, src=0)
    if payload[0] is None:
        return None
    return serialization.load(io.BytesIO(payload[0]))
