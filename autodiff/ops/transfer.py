"""Moving a tensor between devices, as an op: ``x.to('cuda')`` is recorded, and its gradient
goes back to ``x``'s device (PyTorch's ToCopyBackward)."""
from ..autograd.function import Op
from ..cuda.devices import device_of, move


class ToDevice(Op):
    op_name = "to"

    @staticmethod
    def forward(ctx, x, target):
        ctx.source = device_of(x)
        return move(x, target)

    @staticmethod
    def backward(ctx, grad):
        if hasattr(grad, "grad_fn"):          # create_graph: a tensor, recorded
            return ToDevice.apply(grad, ctx.source)
        return move(grad, ctx.source)
