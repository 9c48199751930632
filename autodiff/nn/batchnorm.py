"""BatchNorm1d: normalise each feature over the batch, with running statistics for evaluation."""
from .. import creation, dtypes
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class BatchNorm1d(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per feature (dim 1) of (N, C) or (N, C, L).

    Training: mean and biased variance of the batch; running_mean and running_var
    (unbiased variance) move towards them by ``momentum``, or average all batches
    so far when momentum is None. Evaluation: the running statistics. With
    track_running_stats=False there are none, and batch statistics are always used.
    ``bias=False`` (keyword, with affine=True) learns a scale only, as in PyTorch 2.13.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(creation.zeros(num_features, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(creation.zeros(num_features, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", creation.zeros((), dtype=dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"BatchNorm1d: expected 2D (N, C) or 3D (N, C, L) input, got "
                             f"{input.ndim}D input of shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d: expected {self.num_features} features (dim 1), got input "
                             f"of shape {tuple(input.shape)}")

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            counter = self.num_batches_tracked
            counter._data += 1
            counter._bump_version()
            if self.momentum is None:     # cumulative moving average
                factor = 1.0 / float(counter._data)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_running = not self.training or self.track_running_stats
        return F.batch_norm(input,
                            self.running_mean if keep_running else None,
                            self.running_var if keep_running else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
