"""Training one model in several processes: ``DistributedDataParallel`` (PyTorch's
``torch.nn.parallel``). It imports no MPI until a process group exists."""
from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DistributedDataParallel"]
