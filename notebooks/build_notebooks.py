"""Write the lecture notebooks from the cells below, and run them so they are saved with outputs.

    python notebooks/build_notebooks.py              # write and execute all of them
    python notebooks/build_notebooks.py 03 10        # only those whose file name starts so
    python notebooks/build_notebooks.py --no-execute # write them without outputs

Edit the cells here, not in the .ipynb files: this script overwrites them.
Each notebook must run top to bottom in well under a minute (``pytest --nbmake notebooks/``).
"""
import argparse
import pathlib
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = pathlib.Path(__file__).resolve().parent
NOTEBOOKS = {}


def notebook(filename):
    """Register a function returning the notebook's cells under ``filename``."""
    def register(fn):
        NOTEBOOKS[filename] = fn
        return fn
    return register


def md(text):
    return new_markdown_cell(_dedent(text))


def code(*parts):
    """A code cell; several parts (each indented as you like) are joined by blank lines."""
    return new_code_cell("\n\n\n".join(_dedent(part) for part in parts))


def _dedent(text):
    import textwrap
    return textwrap.dedent(text).strip("\n")


# ============================================================================ 01
@notebook("01_computational_graph.ipynb")
def computational_graph():
    return [
        md("""
        # 01 · The computational graph, and backprop by hand vs autodiff

        Every expression a program computes is a **graph**: inputs flow through
        operations to an output. Take the lecture example

        $$f(x, y, z) = (x + y)\\,z \\qquad\\text{at}\\quad x=-2,\\; y=5,\\; z=-4.$$

        Name the intermediate result $q = x + y$, so that $f = q\\,z$. The graph has two
        operation nodes, `+` and `*`.

        **Forward pass**: compute values from the inputs to the output.
        **Backward pass**: start from $\\partial f/\\partial f = 1$ and walk the graph
        backwards. Each node multiplies the gradient arriving at its output by its own
        *local* derivative (the chain rule):

        * `*` node, $f = q z$: $\\;\\partial f/\\partial q = z$, $\\;\\partial f/\\partial z = q$
        * `+` node, $q = x + y$: $\\;\\partial q/\\partial x = \\partial q/\\partial y = 1$,
          so $\\partial f/\\partial x = \\partial f/\\partial q \\cdot 1$.
        """),
        md("## By hand"),
        code("""
        x, y, z = -2.0, 5.0, -4.0

        # forward pass
        q = x + y            # 3
        f = q * z            # -12

        # backward pass, from the output to the inputs
        df_df = 1.0
        df_dq = z * df_df    # local derivative of q*z with respect to q is z
        df_dz = q * df_df    # ... and with respect to z it is q
        df_dx = 1.0 * df_dq  # local derivative of x+y with respect to x is 1
        df_dy = 1.0 * df_dq

        print(f"f = {f}")
        print(f"df/dx = {df_dx}, df/dy = {df_dy}, df/dz = {df_dz}")
        """),
        md("""
        ## The same with `autodiff.Scalar`

        A `Scalar` is one number that remembers how it was computed: its operands and the
        local derivative with respect to each. `backward()` runs exactly the steps above, on
        any graph: it orders the nodes so that each one comes after everything that uses it,
        then applies the chain rule node by node.

        `draw_graph` shows the graph: boxes are values (with `data` and, after backward,
        `grad`), ellipses are operations. Inputs are blue, the output is orange.
        """),
        code("""
        import autodiff
        from autodiff.viz import draw_graph

        x = autodiff.Scalar(-2.0, label="x")
        y = autodiff.Scalar(5.0, label="y")
        z = autodiff.Scalar(-4.0, label="z")
        q = x + y;  q.label = "q"
        f = q * z;  f.label = "f"
        f.backward()

        print(f"f = {f.data}")
        print(f"df/dx = {x.grad}, df/dy = {y.grad}, df/dz = {z.grad}, df/dq = {q.grad}")
        draw_graph(f)
        """),
        md("""
        ## The same with tensors (PyTorch's API)

        `autodiff.tensor(..., requires_grad=True)` marks a value we want gradients for,
        exactly as in PyTorch. The result remembers the operation that made it
        (`f.grad_fn`), and `f.backward()` fills `.grad` of every input.

        A tensor graph records *operations*, not intermediate results, so by default only
        the inputs and the output keep a gradient. `q.retain_grad()` asks to keep `q`'s, and
        `labels={q: "q"}` asks `draw_graph` to draw its value.
        """),
        code("""
        x = autodiff.tensor(-2.0, requires_grad=True)
        y = autodiff.tensor(5.0, requires_grad=True)
        z = autodiff.tensor(-4.0, requires_grad=True)
        x.name, y.name, z.name = "x", "y", "z"     # names for the picture

        q = x + y
        q.retain_grad()
        f = q * z
        print(f)                                    # the output knows its grad_fn
        f.backward()
        print(x.grad, y.grad, z.grad, q.grad)
        draw_graph(f, labels={q: "q", f: "f"})
        """),
        md("""
        ## Checking gradients numerically

        A derivative is a limit of difference quotients, so we can check any gradient with
        a *central difference* $\\big(f(x+h) - f(x-h)\\big) / 2h$ for a small $h$. This is
        how every operation in autodiff is tested.
        """),
        code("""
        def f_of(x, y, z):
            return (x + y) * z

        h = 1e-6
        point = dict(x=-2.0, y=5.0, z=-4.0)
        for name in point:
            plus, minus = dict(point), dict(point)
            plus[name] += h
            minus[name] -= h
            print(f"df/d{name} ~ {(f_of(**plus) - f_of(**minus)) / (2 * h):.6f}")
        """),
        md("""
        ## A neuron: many small nodes, or one node with its own derivative

        The lecture's second circuit is a 2-input neuron with a sigmoid,
        $f(w, x) = \\sigma(w_0 x_0 + w_1 x_1 + w_2)$ with $\\sigma(a) = 1/(1 + e^{-a})$.
        Built from `*`, `+`, `exp` and `/`, backprop walks through every small node.
        """),
        code("""
        w0, w1, w2 = (autodiff.Scalar(v, label=f"w{i}") for i, v in enumerate([2.0, -3.0, -3.0]))
        x0, x1 = autodiff.Scalar(-1.0, label="x0"), autodiff.Scalar(-2.0, label="x1")

        a = w0 * x0 + w1 * x1 + w2;  a.label = "a"
        f = 1 / (1 + (-a).exp());    f.label = "f"
        f.backward()
        print(f"f = {f.data:.4f}")
        print(f"grads: w0 {w0.grad:.4f}  w1 {w1.grad:.4f}  w2 {w2.grad:.4f}  x0 {x0.grad:.4f}  x1 {x1.grad:.4f}")
        draw_graph(f)
        """),
        md("""
        The sigmoid's derivative has a simple closed form, $\\sigma'(a) = \\sigma(a)(1 - \\sigma(a))$.
        So the whole sigmoid can be **one** node whose local derivative is that product:
        same gradients, a smaller graph. By hand: $\\sigma(1) = 0.7311$,
        $\\partial f/\\partial a = 0.7311 \\cdot 0.2689 = 0.1966$, and then
        $\\partial f/\\partial w_0 = x_0 \\cdot 0.1966$ and so on.
        """),
        code("""
        for v in (w0, w1, w2, x0, x1):
            v.grad = 0.0
        f = (w0 * x0 + w1 * x1 + w2).sigmoid();  f.label = "f"
        f.backward()
        df_da = f.data * (1 - f.data)
        print(f"by hand: df/da = {df_da:.4f}, df/dw0 = {-1.0 * df_da:.4f}, df/dx0 = {2.0 * df_da:.4f}")
        print(f"autodiff: w0 {w0.grad:.4f}  w1 {w1.grad:.4f}  w2 {w2.grad:.4f}  x0 {x0.grad:.4f}  x1 {x1.grad:.4f}")
        draw_graph(f, rankdir="TB")
        """),
        md("""
        ## Where paths meet, gradients add up

        When a value is used twice, the chain rule sums the gradient over every path from
        it to the output. For $b = a \\cdot a + a$, $\\;db/da = 2a + 1 = 7$ at $a = 3$: two
        paths through `*` contribute $a$ each, one path through `+` contributes 1.
        """),
        code("""
        a = autodiff.Scalar(3.0, label="a")
        b = a * a + a;  b.label = "b"
        b.backward()
        print(f"db/da = {a.grad}")
        draw_graph(b)
        """),
        md("""
        **Summary.** A program's arithmetic is a graph. Backpropagation visits it once,
        from the output back, multiplying by local derivatives and summing where paths
        meet. `Scalar` and `Tensor` run the same engine; tensors do it for whole arrays at
        once, with PyTorch's API.
        """),
    ]


# ============================================================================ 02
@notebook("02_scalar_to_mlp.ipynb")
def scalar_to_mlp():
    return [
        md("""
        # 02 · From `Scalar` to a tiny MLP

        A neural network is just a bigger graph. Here we build one from single numbers,
        micrograd-style: a **neuron** computes $\\tanh(\\sum_i w_i x_i + b)$, a **layer** is a
        list of neurons, an **MLP** a list of layers. Then we train it with gradient
        descent, and finally compute the very same thing with tensors, where a layer is
        one matrix product.
        """),
        code("""
        import random

        import numpy as np

        import autodiff
        from autodiff import Scalar
        from autodiff.viz import draw_graph


        class Neuron:
            def __init__(self, n_in, nonlin=True):
                self.w = [Scalar(random.uniform(-1, 1)) for _ in range(n_in)]
                self.b = Scalar(0.0)
                self.nonlin = nonlin

            def __call__(self, x):
                act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
                return act.tanh() if self.nonlin else act

            def parameters(self):
                return self.w + [self.b]


        class Layer:
            def __init__(self, n_in, n_out, **kwargs):
                self.neurons = [Neuron(n_in, **kwargs) for _ in range(n_out)]

            def __call__(self, x):
                out = [n(x) for n in self.neurons]
                return out[0] if len(out) == 1 else out

            def parameters(self):
                return [p for n in self.neurons for p in n.parameters()]


        class MLP:
            def __init__(self, n_in, sizes):
                dims = [n_in] + sizes
                self.layers = [Layer(dims[i], dims[i + 1], nonlin=i != len(sizes) - 1)
                               for i in range(len(sizes))]

            def __call__(self, x):
                for layer in self.layers:
                    x = layer(x)
                return x

            def parameters(self):
                return [p for layer in self.layers for p in layer.parameters()]
        """),
        md("""
        One neuron on a 3-d input is already a graph of a dozen nodes. Passing
        `module=neuron` colours its parameters (weights and bias) green.
        """),
        code("""
        random.seed(0)
        neuron = Neuron(3)
        x = [Scalar(2.0, label="x0"), Scalar(3.0, label="x1"), Scalar(-1.0, label="x2")]
        for i, w in enumerate(neuron.w):
            w.label = f"w{i}"
        neuron.b.label = "b"
        out = neuron(x)
        out.backward()
        draw_graph(out, module=neuron)
        """),
        md("""
        ## Training on four points

        Four inputs, four targets ($\\pm 1$), a 3-4-4-1 MLP and the squared error
        $L = \\sum_k (\\hat y_k - y_k)^2$. Each step: forward, reset gradients to zero
        (`.grad` *accumulates*), backward, and move every parameter a little against its
        gradient.
        """),
        code("""
        xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
        ys = [1.0, -1.0, -1.0, 1.0]

        random.seed(1)
        model = MLP(3, [4, 4, 1])
        # keep a copy of the starting weights, to train a tensor version from the same point
        initial = [[[[w.data for w in n.w], n.b.data] for n in layer.neurons] for layer in model.layers]

        lr, steps = 0.05, 40
        scalar_losses = []
        for step in range(steps):
            preds = [model(x) for x in xs]
            loss = sum((p - y) ** 2 for p, y in zip(preds, ys))
            for p in model.parameters():
                p.grad = 0.0
            loss.backward()
            for p in model.parameters():
                p.data -= lr * p.grad
            scalar_losses.append(loss.data)
            if step % 10 == 0 or step == steps - 1:
                print(f"step {step:2d}  loss {loss.data:.4f}")
        print("predictions:", [round(model(x).data, 3) for x in xs])
        """),
        md("""
        The loss of four predictions is a graph of hundreds of `Scalar` nodes, one per
        multiplication and addition. That is why real networks work on whole arrays:
        `max_nodes` draws only the part nearest the output.
        """),
        code("""
        from autodiff.autograd.engine import topological_order

        print(len(model.parameters()), "parameters,", len(topological_order([loss])), "Scalar nodes in the loss")
        draw_graph(loss, module=model, max_nodes=30)
        """),
        md("""
        ## The same network with tensors

        A layer of neurons is a matrix product: neuron $j$ computes
        $\\sum_i W_{ji} x_i + b_j$, so a whole layer on a whole batch is $X W^T + b$.
        Starting from the same weights (in float64, like `Scalar`), the tensor version
        follows the same training path, number for number.
        """),
        code("""
        params = []
        for layer in initial:
            W = autodiff.tensor([w for w, b in layer], dtype=autodiff.float64, requires_grad=True)
            b = autodiff.tensor([b for w, b in layer], dtype=autodiff.float64, requires_grad=True)
            params.append((W, b))

        X = autodiff.tensor(xs, dtype=autodiff.float64)
        Y = autodiff.tensor(ys, dtype=autodiff.float64)


        def forward(X):
            h = X
            for i, (W, b) in enumerate(params):
                h = h @ W.T + b
                if i < len(params) - 1:
                    h = h.tanh()
            return h.squeeze(-1)


        tensor_losses = []
        for step in range(steps):
            loss = ((forward(X) - Y) ** 2).sum()
            for W, b in params:
                W.grad = b.grad = None
            loss.backward()
            with autodiff.no_grad():          # updates are not part of the graph
                for W, b in params:
                    W -= lr * W.grad
                    b -= lr * b.grad
            tensor_losses.append(loss.item())

        print("same losses as with Scalar:", np.allclose(scalar_losses, tensor_losses))
        print("final loss:", tensor_losses[-1])
        """),
        code("""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot(scalar_losses, label="Scalar MLP", lw=3, alpha=0.5)
        ax.plot(tensor_losses, "--", label="tensor MLP")
        ax.set(xlabel="step", ylabel="loss", title="Same network, same updates")
        ax.legend()
        plt.show()
        """),
        md("""
        The tensor graph has a handful of nodes per layer instead of one per
        multiplication, and each node does its work with numpy on whole arrays:
        """),
        code("""
        W1, b1 = params[0]
        W1.name, b1.name = "W1", "b1"
        draw_graph(((forward(X) - Y) ** 2).sum())
        """),
    ]


# ============================================================================ 03
@notebook("03_tensors_and_autograd.ipynb")
def tensors_and_autograd():
    return [
        md("""
        # 03 · Tensors and autograd

        The PyTorch API for gradients, on one example: $z = 2x^2 + 5x$, whose derivative is
        $dz/dx = 4x + 5$, so **13** at $x = 2$.
        """),
        code("""
        import numpy as np

        import autodiff

        x = autodiff.tensor(2.0, requires_grad=True)
        z = 2 * x ** 2 + 5 * x
        z.backward()
        print(z, x.grad)
        """),
        md("""
        On a vector, `backward()` needs a scalar to start from (the gradient of what with
        respect to `x`?). Summing the outputs gives each element its own derivative,
        because $\\partial \\sum_k z_k / \\partial x_i = dz_i/dx_i$.
        """),
        code("""
        x = autodiff.linspace(-2, 2, 5, requires_grad=True)
        z = 2 * x ** 2 + 5 * x
        z.sum().backward()
        print(x.grad)
        print(4 * x.detach() + 5)
        """),
        md("""
        ## Gradients accumulate

        `.grad` is *added to* by every backward pass (so that gradients from several
        losses or several mini-batches can be summed). Reset it between steps: that is what
        `optimizer.zero_grad()` does.
        """),
        code("""
        x = autodiff.tensor(2.0, requires_grad=True)
        for _ in range(2):
            (2 * x ** 2 + 5 * x).backward()
        print("after two backward passes:", x.grad)
        x.grad = None
        (2 * x ** 2 + 5 * x).backward()
        print("after resetting:", x.grad)
        """),
        md("""
        ## `retain_graph`: a graph is used once

        Backward frees the values each node saved for it (inputs of `*`, outputs of `exp`
        ...), so the memory of a training step is released right away. Going backward
        through the same graph a second time is an error, unless the first pass asked to
        keep them with `retain_graph=True`.
        """),
        code("""
        x = autodiff.tensor(2.0, requires_grad=True)
        z = 2 * x ** 2 + 5 * x
        z.backward()
        try:
            z.backward()
        except RuntimeError as error:
            print("RuntimeError:", error)

        x.grad = None
        z = 2 * x ** 2 + 5 * x
        z.backward(retain_graph=True)
        z.backward()
        print("twice with retain_graph:", x.grad)
        """),
        md("""
        ## `no_grad` and `detach`: values without a graph

        Inside `with autodiff.no_grad():` nothing is recorded: use it for parameter
        updates and evaluation. `t.detach()` is the same values cut off from the graph:
        gradients do not flow through it (a "stop-gradient"). Below, $w = y \\cdot x$ with
        $y = x^2$ detached: the derivative treats $y$ as a constant, $dw/dx = y = 4$,
        not $3x^2 = 12$.
        """),
        code("""
        x = autodiff.tensor(2.0, requires_grad=True)
        with autodiff.no_grad():
            y = x * 2
        print("made under no_grad:", y, "requires_grad =", y.requires_grad)

        y = x ** 2
        (y.detach() * x).backward()
        print("through detach:", x.grad)
        x.grad = None
        (y * x).backward()
        print("without detach:", x.grad)
        """),
        md("""
        ## `autodiff.grad`: gradients as return values

        `autodiff.grad(outputs, inputs)` returns the gradients instead of adding them to
        `.grad`, as `torch.autograd.grad` does. Useful when you want a gradient as a value
        (notebook 10 differentiates it again).
        """),
        code("""
        x = autodiff.tensor(2.0, requires_grad=True)
        (dz_dx,) = autodiff.grad(2 * x ** 2 + 5 * x, x)
        print(dz_dx, x.grad)
        """),
        md("""
        ## `gradcheck`: compare with finite differences

        `autodiff.gradcheck(fn, inputs)` computes the whole Jacobian twice, with backward
        and with central differences, and compares them (in float64: with float32 the
        differences are too coarse). It returns True or raises an error naming the entry
        that disagrees.
        """),
        code("""
        autodiff.manual_seed(0)
        a = autodiff.randn(3, 4, dtype=autodiff.float64, requires_grad=True)
        b = autodiff.randn(4, 2, dtype=autodiff.float64, requires_grad=True)
        print(autodiff.gradcheck(lambda a, b: (a @ b).tanh().sum(dim=0), (a, b)))
        """),
        md("""
        ## A custom operation: `autodiff.Function`

        As in PyTorch, subclass `Function` with a static `forward(ctx, ...)` and
        `backward(ctx, grad)`; `ctx.save_for_backward` keeps what backward needs. Here
        $\\mathrm{logcosh}(x) = \\log\\cosh x$, a smooth version of $|x|$, with derivative
        $\\tanh x$. The forward pass uses the stable form
        $|x| + \\log(1 + e^{-2|x|}) - \\log 2$, which never overflows.
        """),
        code("""
        import math


        class LogCosh(autodiff.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.abs() + (-2 * x.abs()).exp().log1p() - math.log(2)

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * x.tanh()


        x = autodiff.tensor([-3.0, 0.0, 0.5, 40.0], dtype=autodiff.float64, requires_grad=True)
        y = LogCosh.apply(x)
        y.sum().backward()
        print(y)
        print(x.grad)
        print(autodiff.gradcheck(LogCosh.apply, (x,)))
        """),
        md("""
        ## Property-based testing with hypothesis

        A check at one point can be lucky. `hypothesis` draws many inputs (here tensors of
        random shapes and values from `autodiff.testing.tensors`), and
        `assert_gradients_match` pushes a random upstream gradient through backward and
        compares with central differences. This is how the project tests every op.
        """),
        code("""
        from hypothesis import given, settings

        from autodiff.testing import assert_gradients_match, shapes, tensors


        @settings(max_examples=25, deadline=None, database=None)
        @given(tensors(shape=shapes(max_dims=3), min_value=-20, max_value=20))
        def test_logcosh_gradient(x):
            assert_gradients_match(LogCosh.apply, x)


        @settings(max_examples=25, deadline=None, database=None)
        @given(tensors(shape=shapes(max_dims=3), min_value=-20, max_value=20))
        def test_logcosh_is_even_and_nonnegative(x):
            y, y_neg = LogCosh.apply(x).detach(), LogCosh.apply(-x).detach()
            assert (y >= 0).all() and y.allclose(y_neg)


        test_logcosh_gradient()
        test_logcosh_is_even_and_nonnegative()
        print("both properties hold on every drawn example")
        """),
        md("""
        And the point of it: a backward with a mistake (here $x$ instead of $\\tanh x$) is
        caught, and hypothesis shrinks the failure to a small example.
        """),
        code("""
        class WrongLogCosh(LogCosh):
            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * x          # wrong: d/dx log cosh x = tanh x


        @settings(max_examples=25, deadline=None, database=None)
        @given(tensors(shape=shapes(max_dims=2), min_value=-5, max_value=5))
        def test_wrong_gradient(x):
            assert_gradients_match(WrongLogCosh.apply, x)


        try:
            test_wrong_gradient()
        except Exception as error:
            print("caught:", str(error).strip().splitlines()[0])
        """),
    ]


# ============================================================================ 04
_PLOT_BOUNDARY = '''
def plot_boundary(model, X, y, ax, title=""):
    """Colour the plane by the model's P(class 1); draw the P = 0.5 line and the points."""
    lo, hi = X.numpy().min(0) - 0.5, X.numpy().max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150))
    grid = autodiff.tensor(np.c_[gx.ravel(), gy.ravel()].astype(np.float32))
    with autodiff.no_grad():
        prob = model(grid).sigmoid().numpy().reshape(gx.shape)
    ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(*X.numpy().T, c=y.numpy(), cmap="RdBu_r", s=10, edgecolors="white", linewidths=0.4)
    ax.set_title(title)
'''


@notebook("04_training_an_mlp.ipynb")
def training_an_mlp():
    return [
        md("""
        # 04 · Training an MLP on two moons

        The complete PyTorch workflow on a small problem: a **dataset**, a **data loader**
        that cuts it into shuffled mini-batches, a **model** made of layers, a **loss**, an
        **optimizer**, and the four-line training step. Then we look at what was learned:
        the loss curves and the decision boundary.
        """),
        code("""
        import matplotlib.pyplot as plt
        import numpy as np

        import autodiff
        from autodiff import nn, optim
        from autodiff.data import DataLoader, Dataset, TensorDataset
        from autodiff.datasets import make_moons, train_test_split
        from autodiff.viz import draw_graph

        autodiff.manual_seed(0)
        X, y = make_moons(1000, noise=0.2, seed=0)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)
        print("train:", X_train.shape, X_train.dtype, " labels:", y_train.shape, y_train.dtype)
        print("test: ", X_test.shape)

        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.scatter(*X_train.numpy().T, c=y_train.numpy(), cmap="RdBu_r", s=10)
        ax.set_title("make_moons: 800 training points, noise 0.2")
        plt.show()
        """),
        md("""
        ## Dataset and DataLoader

        A **map-style dataset** is anything with `__len__` and `__getitem__`: sample $i$ is
        a (features, label) pair. The `DataLoader` draws a new random order every epoch
        and stacks `batch_size` samples into one tensor per field.
        `TensorDataset(X, y)` is exactly this class for data that already sits in
        tensors (and it cuts each batch with one indexing operation).
        """),
        code("""
        class Moons(Dataset):
            def __init__(self, X, y):
                self.X, self.y = X, y.float()       # BCE wants float targets

            def __len__(self):
                return len(self.X)

            def __getitem__(self, i):
                return self.X[i], self.y[i]


        print(len(Moons(X_train, y_train)), "samples; the first:", Moons(X_train, y_train)[0])

        train_set = TensorDataset(X_train, y_train.float())
        loader = DataLoader(train_set, batch_size=32, shuffle=True, generator=0)
        xb, yb = next(iter(loader))
        print("one batch:", xb.shape, yb.shape, "|", len(loader), "batches per epoch")
        """),
        md("""
        ## The model

        The lecture network: 2 inputs, hidden layers of 80 and 60 ReLU units, and one
        output, the **logit** $z$ of class 1 ($P(\\text{class }1) = \\sigma(z)$).
        `BCEWithLogitsLoss` takes logits: it fuses the sigmoid and the cross-entropy
        into one numerically stable formula, $\\max(z,0) - zy + \\log(1 + e^{-|z|})$.
        """),
        code("""
        model = nn.Sequential(
            nn.Linear(2, 80), nn.ReLU(),
            nn.Linear(80, 60), nn.ReLU(),
            nn.Linear(60, 1),
        )
        print(model)
        print(sum(p.numel() for p in model.parameters()), "parameters:",
              [(name, tuple(p.shape)) for name, p in model.named_parameters()])
        """),
        md("""
        ## Training

        Every step is the same four lines: forget the previous gradients, compute the
        loss, backpropagate, update. After each epoch we measure the loss on the test
        points under `no_grad()` (no graph is needed to evaluate).
        """),
        code("""
        loss_fn = nn.BCEWithLogitsLoss()
        optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


        def evaluate(model, X, y):
            with autodiff.no_grad():
                logits = model(X).squeeze(-1)
                loss = loss_fn(logits, y.float()).item()
                accuracy = ((logits > 0) == (y == 1)).float().mean().item()
            return loss, accuracy


        history = {"train": [], "test": []}
        for epoch in range(30):
            total = 0.0
            for xb, yb in loader:
                optimizer.zero_grad()                       # 1. .grad accumulates: reset it
                loss = loss_fn(model(xb).squeeze(-1), yb)   # 2. forward
                loss.backward()                             # 3. backward: every parameter's .grad
                optimizer.step()                            # 4. p -= lr * (momentum-averaged) grad
                total += loss.item() * len(xb)
            history["train"].append(total / len(train_set))
            history["test"].append(evaluate(model, X_test, y_test)[0])
            if epoch % 5 == 4:
                print(f"epoch {epoch + 1:2d}  train loss {history['train'][-1]:.4f}  "
                      f"test loss {history['test'][-1]:.4f}")

        print("train accuracy %.3f, test accuracy %.3f" % (evaluate(model, X_train, y_train)[1],
                                                           evaluate(model, X_test, y_test)[1]))
        """),
        code(_PLOT_BOUNDARY, """
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
        ax1.plot(history["train"], label="train")
        ax1.plot(history["test"], label="test")
        ax1.set(xlabel="epoch", ylabel="binary cross-entropy", yscale="log", title="Loss")
        ax1.legend()
        plot_boundary(model, X_test, y_test, ax2, "Decision boundary, test points")
        plt.show()
        """),
        md("""
        The test loss follows the training loss: with 5,000 parameters and 800 points the
        network could memorise the noise, but 30 epochs are not enough for that here.
        The boundary is the smooth S between the moons; the points on the wrong side are
        the noise.

        ## The graph of one training step

        One forward pass of this model is a short graph: each `Linear` layer is a single
        `linear` node (`x @ W.T + b`), fed by its weight and bias. `group_by_module=True`
        boxes each layer with its parameters; after backward every parameter shows its
        gradient (its norm, for big tensors).
        """),
        code("""
        optimizer.zero_grad()
        loss = loss_fn(model(xb).squeeze(-1), yb)
        loss.backward()
        draw_graph(loss, module=model, labels={loss: "loss"}, group_by_module=True)
        """),
    ]


# ============================================================================ 05
@notebook("05_optimizers.ipynb")
def optimizers():
    return [
        md("""
        # 05 · Optimizers compared

        All optimizers use the gradient $g_t$ of the current mini-batch; they differ in what
        they do with it ($\\eta$ is the learning rate, operations are per parameter entry):

        | optimizer | update |
        |---|---|
        | SGD | $\\theta \\leftarrow \\theta - \\eta\\, g_t$ |
        | SGD + momentum | $v \\leftarrow \\mu v + g_t$, $\\;\\theta \\leftarrow \\theta - \\eta\\, v$ (a running sum that smooths the direction) |
        | Adagrad | $G \\leftarrow G + g_t^2$, $\\;\\theta \\leftarrow \\theta - \\eta\\, g_t / (\\sqrt{G} + \\epsilon)$ (per-entry step sizes that only shrink) |
        | RMSprop | $s \\leftarrow \\alpha s + (1-\\alpha) g_t^2$, $\\;\\theta \\leftarrow \\theta - \\eta\\, g_t / (\\sqrt{s} + \\epsilon)$ (a moving average instead of a sum) |
        | Adam | momentum on $g$ and RMSprop's scaling, both bias-corrected |

        First on a function we can draw, then on a network.
        """),
        code("""
        import copy

        import matplotlib.pyplot as plt
        import numpy as np

        import autodiff
        from autodiff import nn, optim
        from autodiff.data import DataLoader, TensorDataset
        from autodiff.datasets import make_moons

        NAMES = ["SGD", "SGD + momentum", "Adagrad", "RMSprop", "Adam"]
        """),
        md("""
        ## A long, narrow valley

        $f(a, b) = \\tfrac12 (a^2 + 25\\, b^2)$ is 25 times steeper along $b$ than along $a$.
        Plain SGD must keep $\\eta$ below $2/25$ to stay stable along $b$, and then crawls
        along $a$. Momentum builds up speed along the valley floor. Adagrad, RMSprop and
        Adam divide each coordinate by its own gradient scale, so both directions move at
        a similar pace.
        """),
        code("""
        def valley(p):
            return 0.5 * (p[0] ** 2 + 25 * p[1] ** 2)


        settings = {"SGD": (optim.SGD, dict(lr=0.035)),
                    "SGD + momentum": (optim.SGD, dict(lr=0.01, momentum=0.9)),
                    "Adagrad": (optim.Adagrad, dict(lr=1.0)),
                    "RMSprop": (optim.RMSprop, dict(lr=0.1)),
                    "Adam": (optim.Adam, dict(lr=0.3))}

        paths = {}
        for name, (Optimizer, kwargs) in settings.items():
            p = autodiff.tensor([-4.0, 1.5], requires_grad=True)
            opt = Optimizer([p], **kwargs)
            path = [p.detach().numpy().copy()]
            for _ in range(60):
                opt.zero_grad()
                valley(p).backward()
                opt.step()
                path.append(p.detach().numpy().copy())
            paths[name] = np.array(path)
            print(f"{name:15s} after 60 steps: f = {valley(p).item():.2e}")

        a, b = np.meshgrid(np.linspace(-4.5, 1, 200), np.linspace(-1.8, 1.8, 200))
        fig, ax = plt.subplots(figsize=(9, 4.5))
        ax.contour(a, b, 0.5 * (a ** 2 + 25 * b ** 2), levels=np.geomspace(0.01, 60, 14), colors="0.8")
        for name, path in paths.items():
            ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1, label=name)
        ax.plot(0, 0, "k*", ms=12)
        ax.set(xlabel="a", ylabel="b", title="60 steps from (-4, 1.5)")
        ax.legend()
        plt.show()
        """),
        md("""
        ## On a network

        The same five optimizers train the same network from the **same initial weights**
        (`copy.deepcopy` of one model) on the **same mini-batches** (a `DataLoader` with the
        same seed), so only the update rule differs. Their learning rates are typical
        values for each: adaptive methods use smaller $\\eta$, because their steps are
        already normalised.
        """),
        code("""
        X, y = make_moons(1000, noise=0.2, seed=0)
        dataset = TensorDataset(X, y.float())
        autodiff.manual_seed(0)
        initial = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
        loss_fn = nn.BCEWithLogitsLoss()

        settings = {"SGD": (optim.SGD, dict(lr=0.05)),
                    "SGD + momentum": (optim.SGD, dict(lr=0.05, momentum=0.9)),
                    "Adagrad": (optim.Adagrad, dict(lr=0.05)),
                    "RMSprop": (optim.RMSprop, dict(lr=0.003)),
                    "Adam": (optim.Adam, dict(lr=0.005))}

        curves = {}
        for name, (Optimizer, kwargs) in settings.items():
            model = copy.deepcopy(initial)
            opt = Optimizer(model.parameters(), **kwargs)
            loader = DataLoader(dataset, batch_size=32, shuffle=True, generator=0)
            losses = []
            for epoch in range(20):
                total = 0.0
                for xb, yb in loader:
                    opt.zero_grad()
                    loss = loss_fn(model(xb).squeeze(-1), yb)
                    loss.backward()
                    opt.step()
                    total += loss.item() * len(xb)
                losses.append(total / len(dataset))
            curves[name] = losses
            print(f"{name:15s} final training loss {losses[-1]:.4f}")

        fig, ax = plt.subplots(figsize=(7, 4))
        for name, losses in curves.items():
            ax.plot(range(1, 21), losses, label=name)
        ax.set(xlabel="epoch", ylabel="training loss", yscale="log", title="Same network, same batches")
        ax.legend()
        plt.show()
        """),
        md("""
        Plain SGD with this learning rate stalls near 0.28, where a nearly linear
        boundary is as good as small steps can make it; momentum and the adaptive methods
        find the curved boundary. Rankings like this depend on the learning rates: each
        optimizer has its own good range, and tuning $\\eta$ matters more than the choice
        among the last four.
        """),
    ]


# ============================================================================ 06
@notebook("06_activations_and_initialisation.ipynb")
def activations_and_initialisation():
    return [
        md("""
        # 06 · Activations, initialisation, and vanishing or exploding gradients

        Backpropagation multiplies, layer after layer, by each layer's weights and by the
        derivative of its activation. Over many layers, a product of factors a bit
        smaller than 1 **vanishes**, and one of factors a bit larger **explodes**. We
        measure it on a 10-layer network of width 64: the gradient norm of each layer's
        weight after one backward pass.
        """),
        code("""
        import matplotlib.pyplot as plt
        import numpy as np

        import autodiff
        from autodiff import nn
        from autodiff.datasets import make_moons

        X, y = make_moons(512, noise=0.2, seed=0)
        y = y.float()
        DEPTH, WIDTH = 10, 64


        def deep_net(activation, init=None):
            autodiff.manual_seed(0)
            layers, n_in = [], 2
            for _ in range(DEPTH):
                linear = nn.Linear(n_in, WIDTH)
                if init is not None:
                    init(linear.weight)
                    nn.init.zeros_(linear.bias)
                layers += [linear, activation()]
                n_in = WIDTH
            return nn.Sequential(*layers, nn.Linear(WIDTH, 1))


        def hidden_linears(model):
            return [m for m in model if isinstance(m, nn.Linear)][:-1]


        def gradient_norms(model):
            model.zero_grad()
            nn.BCEWithLogitsLoss()(model(X).squeeze(-1), y).backward()
            return [np.linalg.norm(m.weight.grad.numpy()) for m in hidden_linears(model)]


        def activation_stds(model):
            stds, h = [], X
            with autodiff.no_grad():
                for layer in list(model)[:-1]:
                    h = layer(h)
                    if not isinstance(layer, nn.Linear):
                        stds.append(h.std().item())
            return stds
        """),
        md("""
        ## Sigmoid versus ReLU

        $\\sigma'(a) = \\sigma(a)(1 - \\sigma(a)) \\le 1/4$: every sigmoid layer divides the
        gradient by at least 4. ReLU's derivative is 1 wherever the unit is active, so it
        lets the gradient through unchanged. Both networks use PyTorch's default
        initialisation.
        """),
        code("""
        layers = np.arange(1, DEPTH + 1)
        fig, ax = plt.subplots(figsize=(6, 3.8))
        for name, activation in [("sigmoid", nn.Sigmoid), ("ReLU", nn.ReLU)]:
            norms = gradient_norms(deep_net(activation))
            ax.semilogy(layers, norms, "o-", label=name)
            print(f"{name:8s} layer 1: {norms[0]:.1e}   layer {DEPTH}: {norms[-1]:.1e}")
        ax.set(xlabel="layer (1 = next to the input)", ylabel="‖∂L/∂W‖", title="Gradient norm per layer")
        ax.legend()
        plt.show()
        """),
        md("""
        With sigmoids the first layer gets a gradient about a million times smaller
        than the last: it barely learns. That is the vanishing-gradient problem that held deep
        networks back until ReLUs (and the initialisations below) came along.

        ## Initialisation

        For a linear layer with `fan_in` inputs and weights of variance $\\sigma^2$, the
        output variance is $\\text{fan\\_in}\\cdot\\sigma^2$ times the input's; a ReLU then
        halves it (it zeroes half the units). So each layer multiplies the variance of
        the signal by $\\tfrac12\\,\\text{fan\\_in}\\,\\sigma^2$ (here, with width 64):

        * $\\sigma = 0.01$: factor $0.0032$, the signal dies;
        * $\\sigma = 1$: factor $32$, it explodes;
        * **Xavier/Glorot**, $\\sigma^2 = 2/(\\text{fan\\_in} + \\text{fan\\_out})$: factor 1 without
          the ReLU's halving, right for tanh and linear layers, $\\tfrac12$ per layer with ReLU;
        * **He/Kaiming**, $\\sigma^2 = 2/\\text{fan\\_in}$: factor exactly 1 with ReLU.
        """),
        code("""
        inits = {
            "normal σ=0.01": lambda w: nn.init.normal_(w, 0.0, 0.01),
            "normal σ=1": lambda w: nn.init.normal_(w, 0.0, 1.0),
            "Xavier": nn.init.xavier_normal_,
            "He": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
        }
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
        for name, init in inits.items():
            model = deep_net(nn.ReLU, init)
            ax1.semilogy(layers, activation_stds(model), "o-", label=name)
            ax2.semilogy(layers, gradient_norms(model), "o-", label=name)
        ax1.set(xlabel="layer", ylabel="std of the ReLU outputs", title="Forward: activations")
        ax2.set(xlabel="layer", ylabel="‖∂L/∂W‖", title="Backward: gradient norms")
        ax1.legend()
        plt.show()
        """),
        md("""
        Only He initialisation keeps the activations at the same scale through all ten
        ReLU layers. On the right, the gradient of layer $k$'s weights is the product of
        the gradient arriving from above (scaled by every layer after $k$) and the
        activation entering from below (scaled by every layer before $k$). So every layer
        carries the same total factor, $\\big(\\sqrt{\\tfrac12\\text{fan\\_in}}\\,\\sigma\\big)^{9}$: the
        curves are flat, but at the wrong height. With $\\sigma = 0.01$ every gradient is
        around $10^{-13}$ (the output is essentially 0 whatever the input); with
        $\\sigma = 1$ activations reach $10^{7}$ and gradients $10^6$: one SGD step would
        throw the weights far away.

        Does it matter for training? Ten epochs of the same training, from each
        initialisation:
        """),
        code("""
        from autodiff import optim
        from autodiff.data import DataLoader, TensorDataset

        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=0)
        for name in ["normal σ=0.01", "Xavier", "He"]:
            model = deep_net(nn.ReLU, inits[name])
            opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            for epoch in range(10):
                for xb, yb in loader:
                    opt.zero_grad()
                    loss = nn.BCEWithLogitsLoss()(model(xb).squeeze(-1), yb)
                    loss.backward()
                    opt.step()
            with autodiff.no_grad():
                final = nn.BCEWithLogitsLoss()(model(X).squeeze(-1), y).item()
            print(f"{name:14s} loss after 10 epochs: {final:.4f}   (log 2 = 0.6931 is a coin toss)")
        """),
        md("""
        The network started at $\\sigma = 0.01$ has not moved from a coin toss; the
        He-initialised one learns fastest. This is why `nn.Linear` initialises its weights
        with a variance proportional to $1/\\text{fan\\_in}$, and why batch normalization
        (notebook 08), which rescales activations explicitly, makes deep networks far
        less sensitive to all this.
        """),
    ]


# ============================================================================ 07
@notebook("07_schedules_batches_accumulation.ipynb")
def schedules_batches_accumulation():
    return [
        md("""
        # 07 · Learning-rate schedules, batch size, gradient accumulation

        Three knobs of the training loop that are not the model: how the learning rate
        changes over time, how many samples each step sees, and how to get a large
        batch's step from several small ones.
        """),
        code("""
        import copy

        import matplotlib.pyplot as plt
        import numpy as np

        import autodiff
        from autodiff import nn, optim
        from autodiff.data import DataLoader, TensorDataset
        from autodiff.datasets import make_moons
        from autodiff.optim import lr_scheduler

        X, y = make_moons(1000, noise=0.2, seed=0)
        dataset = TensorDataset(X, y.float())
        loss_fn = nn.BCEWithLogitsLoss()
        autodiff.manual_seed(0)
        initial = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))


        def train_epoch(model, opt, loader, scheduler=None):
            total = 0.0
            for xb, yb in loader:
                opt.zero_grad()
                loss = loss_fn(model(xb).squeeze(-1), yb)
                loss.backward()
                opt.step()
                total += loss.item() * len(xb)
            if scheduler is not None:
                scheduler.step()               # once per epoch, after the optimizer's steps
            return total / len(loader.dataset)
        """),
        md("""
        ## Schedules

        Large steps early move fast; small steps late settle into a minimum instead of
        bouncing around it. A scheduler changes `optimizer.param_groups[i]["lr"]` each
        time `scheduler.step()` is called (here once per epoch). The formulas are
        PyTorch's.
        """),
        code("""
        def lr_curve(make_scheduler, epochs=60):
            opt = optim.SGD([autodiff.zeros(1, requires_grad=True)], lr=0.1)
            scheduler = make_scheduler(opt)
            lrs = []
            for _ in range(epochs):
                lrs.append(opt.param_groups[0]["lr"])
                opt.step()
                scheduler.step()
            return lrs


        schedules = {
            "StepLR(step_size=20, gamma=0.3)": lambda o: lr_scheduler.StepLR(o, step_size=20, gamma=0.3),
            "ExponentialLR(gamma=0.95)": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.95),
            "CosineAnnealingLR(T_max=60)": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=60),
            "linear warm-up (LambdaLR)": lambda o: lr_scheduler.LambdaLR(o, lambda e: min(1.0, (e + 1) / 10)),
        }
        fig, ax = plt.subplots(figsize=(7, 3.5))
        for name, make in schedules.items():
            ax.plot(lr_curve(make), label=name)
        ax.set(xlabel="epoch", ylabel="learning rate")
        ax.legend(fontsize=8)
        plt.show()
        """),
        md("""
        The same network and batches, with a constant learning rate and with cosine
        annealing from the same starting value:
        """),
        code("""
        results = {}
        for name in ["constant", "cosine"]:
            model = copy.deepcopy(initial)
            opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
            scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=40) if name == "cosine" else None
            loader = DataLoader(dataset, batch_size=32, shuffle=True, generator=0)
            results[name] = [train_epoch(model, opt, loader, scheduler) for _ in range(40)]
            print(f"{name:8s} mean loss of the last 5 epochs: {np.mean(results[name][-5:]):.4f}")

        fig, ax = plt.subplots(figsize=(6, 3.5))
        for name, losses in results.items():
            ax.plot(losses, label=name)
        ax.set(xlabel="epoch", ylabel="training loss", yscale="log")
        ax.legend()
        plt.show()
        """),
        md("""
        With a constant rate the loss keeps jumping from epoch to epoch: each step
        follows one noisy mini-batch. As the cosine schedule brings the rate towards 0,
        the noise fades and the loss settles lower.

        ## Batch size

        A mini-batch gradient is an average over `batch_size` samples: an estimate of the
        full gradient whose noise shrinks like $1/\\sqrt{\\text{batch size}}$. Larger batches
        give better steps, but fewer of them per epoch. Same learning rate, same number of
        epochs:
        """),
        code("""
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
        for batch_size in [8, 32, 128, 1000]:
            model = copy.deepcopy(initial)
            opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
            loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=0)
            losses = [train_epoch(model, opt, loader) for _ in range(20)]
            steps = np.arange(1, 21) * len(loader)
            ax1.plot(range(1, 21), losses, label=f"batch {batch_size}")
            ax2.plot(steps, losses, label=f"batch {batch_size}")
            print(f"batch {batch_size:4d}: {len(loader):3d} steps per epoch, final loss {losses[-1]:.4f}")
        ax1.set(xlabel="epoch", ylabel="training loss", yscale="log", title="per epoch")
        ax2.set(xlabel="optimizer steps", xscale="log", yscale="log", title="per step")
        ax1.legend()
        plt.show()
        """),
        md("""
        Per epoch (the same amount of computation), the small batches (8 and 32) end far
        below 128 and 1000: many cheap steps beat a few precise ones. Per step, large batches win: each step is better.
        On a GPU, a batch of 128 costs about as much time as a batch of 8, which is why
        practice favours the largest batch that fits, with the learning rate scaled up.

        ## Gradient accumulation

        When a large batch does not fit in memory, split it into micro-batches, run
        backward on each **without** zeroing the gradients in between (`.grad`
        accumulates), and step once. With a mean-reduced loss, scale each micro-batch's
        loss by $1/k$ for $k$ micro-batches: the sum of the $k$ gradients is then the
        gradient of the mean over the whole batch, and the update is the same.
        """),
        code("""
        xb, yb = X[:64], y[:64].float()

        big = copy.deepcopy(initial)
        opt = optim.SGD(big.parameters(), lr=0.1)
        opt.zero_grad()
        loss_fn(big(xb).squeeze(-1), yb).backward()            # one batch of 64
        opt.step()

        small = copy.deepcopy(initial)
        opt = optim.SGD(small.parameters(), lr=0.1)
        opt.zero_grad()
        k = 4
        for xm, ym in zip(xb.chunk(k), yb.chunk(k)):            # four micro-batches of 16
            (loss_fn(small(xm).squeeze(-1), ym) / k).backward()  # gradients add up in .grad
        opt.step()

        diff = max(np.abs(p.detach().numpy() - q.detach().numpy()).max()
                   for p, q in zip(big.parameters(), small.parameters()))
        print(f"largest difference between the two updated networks: {diff:.1e}")
        """),
        md("""
        The two updates agree to float32 rounding. (The equivalence holds for layers that
        treat samples independently; batch normalization, which mixes the samples of a
        batch, sees micro-batch statistics instead.)
        """),
    ]


# ============================================================================ 08
@notebook("08_batch_normalization.ipynb")
def batch_normalization():
    return [
        md("""
        # 08 · Batch normalization

        Notebook 06 showed how the scale of activations drifts from layer to layer unless
        the initialisation is just right. **Batch normalization** fixes the scale
        explicitly: for each feature, over the samples of the mini-batch,

        $$\\hat x = \\frac{x - \\mu_B}{\\sqrt{\\sigma_B^2 + \\epsilon}}, \\qquad y = \\gamma\\,\\hat x + \\beta,$$

        with $\\gamma, \\beta$ learned (so the layer can still choose any scale). During
        training it uses the batch's statistics and keeps running averages of them; in
        evaluation (`model.eval()`) it uses those running averages, so a prediction does
        not depend on which other samples share its batch.
        """),
        code("""
        import matplotlib.pyplot as plt
        import numpy as np

        import autodiff
        from autodiff import nn, optim
        from autodiff.data import DataLoader, TensorDataset
        from autodiff.datasets import make_spiral

        autodiff.manual_seed(0)
        bn = nn.BatchNorm1d(3)
        x = autodiff.randn(8, 3) * 5 + 2
        y = bn(x)                                                 # training mode: batch statistics
        by_hand = (x - x.mean(dim=0)) / (x.var(dim=0, unbiased=False) + bn.eps).sqrt() * bn.weight + bn.bias
        print("same as the formula:", y.allclose(by_hand, atol=1e-5))
        print("per-feature mean", y.mean(dim=0).detach(), " std", y.std(dim=0, unbiased=False).detach())
        print("running mean after one batch:", bn.running_mean)   # moved 10% of the way to the batch mean
        bn.eval()
        print("eval mode uses the running statistics:", bn(x)[0].detach())
        """),
        md("""
        ## Training with and without it

        A harder dataset, three interleaved spirals, and a 6-layer network of width 64.
        We train it with and without a `BatchNorm1d` after each linear layer, in two
        settings known to be difficult: **sigmoid** activations (vanishing gradients), and
        ReLU with a **large learning rate**.
        """),
        code("""
        X, y = make_spiral(600, n_classes=3, noise=0.2, seed=0)
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.scatter(*X.numpy().T, c=y.numpy(), cmap="brg", s=8)
        ax.set_title("make_spiral: 3 classes")
        plt.show()


        def network(activation, batch_norm, depth=6, width=64):
            autodiff.manual_seed(0)
            layers, n_in = [], 2
            for _ in range(depth):
                layers.append(nn.Linear(n_in, width))
                if batch_norm:
                    layers.append(nn.BatchNorm1d(width))
                layers.append(activation())
                n_in = width
            return nn.Sequential(*layers, nn.Linear(width, 3))


        def train(model, lr, epochs=30):
            opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
            loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=0)
            loss_fn = nn.CrossEntropyLoss()
            losses = []
            for epoch in range(epochs):
                model.train()
                total = 0.0
                for xb, yb in loader:
                    opt.zero_grad()
                    loss = loss_fn(model(xb), yb)
                    loss.backward()
                    opt.step()
                    total += loss.item() * len(xb)
                losses.append(total / len(X))
            model.eval()
            with autodiff.no_grad():
                accuracy = (model(X).argmax(dim=1) == y).float().mean().item()
            return losses, accuracy
        """),
        code("""
        experiments = [("sigmoid, lr 0.05", nn.Sigmoid, 0.05), ("ReLU, lr 0.5", nn.ReLU, 0.5)]
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
        for ax, (title, activation, lr) in zip(axes, experiments):
            for batch_norm in (False, True):
                losses, accuracy = train(network(activation, batch_norm), lr)
                label = "with BatchNorm" if batch_norm else "without"
                ax.plot(losses, label=f"{label} (accuracy {accuracy:.2f})")
                print(f"{title:17s} {label:15s} final loss {losses[-1]:.3f}  accuracy {accuracy:.3f}")
            ax.axhline(np.log(3), color="0.6", ls=":", lw=1)
            ax.set(title=title, xlabel="epoch")
            ax.legend()
        axes[0].set_ylabel("training loss (dotted: log 3, chance)")
        plt.show()
        """),
        md("""
        Without batch normalization neither network gets past chance (a loss of
        $\\log 3$, accuracy 1/3): the sigmoid network's gradients vanish, and the ReLU
        network, knocked about by steps too large, gets stuck there too. With it, both
        learn the spirals.

        Things to remember when using it:
        * call `model.train()` before training and `model.eval()` before evaluating:
          the two modes compute different things;
        * a linear layer followed by batch normalization does not need its own bias
          ($\\beta$ plays that role; the mean subtraction removes any constant);
        * statistics need enough samples per batch; with tiny batches they are noisy.
        """),
    ]


# ============================================================================ 09
@notebook("09_kernels_and_devices.ipynb")
def kernels_and_devices():
    return [
        md("""
        # 09 · Kernels and devices

        A **kernel** is the compiled loop that does an operation's arithmetic. numpy's
        operations are kernels written in C (and matmul calls BLAS, hand-tuned assembly).
        The `kernels/` package holds this project's own, written in Python and compiled by
        **Numba**: `kernels.cpu` runs loops in parallel on all CPU cores, `kernels.cuda` runs
        them on an NVIDIA GPU. Both take plain arrays (numpy arrays, or GPU device arrays),
        so they can be tested and timed on their own.

        Three parts: the CPU kernels against numpy; how autodiff chooses between the two
        (`autodiff.backends`); and the CUDA path, from a GPU kernel written by hand to
        tensors and a model on `'cuda'`.

        **No GPU? The CUDA simulator.** Numba's CUDA simulator runs the very same GPU code
        on the CPU, thread by thread in Python: slow (about 2,000 GPU threads a second, so
        only tiny sizes), but enough to check kernels and to run CUDA tensors. The
        environment variable `NUMBA_ENABLE_CUDASIM=1` switches it on, and only if it is set
        **before Numba is first imported**: Numba reads its `NUMBA_*` settings once, at
        import, and `numba.cuda` then stays bound to the GPU driver or to the simulator for
        the life of the process. Set any later, it does nothing: `autodiff.cuda.is_available()`
        stays False and `.to("cuda")` raises an error that says why (in Jupyter, restart the
        kernel). `import autodiff` does not import Numba, but `import numba` and
        `from kernels import cpu` below do, so the first cell sets it before anything else.
        On a machine with an NVIDIA GPU we leave it unset, and everything below runs on the GPU.
        """),
        code("""
        import os
        import shutil

        HAVE_GPU = shutil.which("nvidia-smi") is not None
        if not HAVE_GPU:
            os.environ["NUMBA_ENABLE_CUDASIM"] = "1"    # before the first `import numba`

        import time

        import numba
        import numpy as np

        import autodiff
        from kernels import cpu

        print("GPU:", "yes" if HAVE_GPU else "no, CUDA code runs on Numba's simulator")
        print("Numba", numba.__version__, "with", numba.get_num_threads(), "CPU threads")
        """),
        md("""
        ## A Numba kernel

        `@numba.njit` compiles a Python function to machine code on its first call (for the
        argument types of that call). With `parallel=True`, the iterations of a
        `numba.prange` loop are split among the CPU's threads. The first call pays for the
        compilation; the project's kernels add `cache=True`, which keeps the machine code on
        disk for the next run.
        """),
        code("""
        @numba.njit(parallel=True)
        def relu_loop(x, out):
            for i in numba.prange(x.size):
                out[i] = x[i] if x[i] > 0 else 0.0


        x = np.random.default_rng(0).standard_normal(1_000_000).astype(np.float32)
        out = np.empty_like(x)
        for call in ["first", "second"]:
            start = time.perf_counter()
            relu_loop(x, out)
            print(f"{call} call: {1000 * (time.perf_counter() - start):8.2f} ms")
        print("same as numpy:", np.array_equal(out, np.maximum(x, 0)))
        """),
        md("""
        ## The project's CPU kernels against numpy

        First, that they compute the same thing:
        """),
        code("""
        rng = np.random.default_rng(0)
        a = rng.standard_normal((300, 200)).astype(np.float32)
        b = rng.standard_normal((200, 100)).astype(np.float32)
        x = rng.standard_normal(1_000_000).astype(np.float32)

        print("matmul  ", np.allclose(cpu.matmul(a, b), a @ b, rtol=1e-5, atol=1e-4))
        print("relu    ", np.array_equal(cpu.relu(x), np.maximum(x, 0)))
        print("sigmoid ", np.allclose(cpu.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-6, atol=1e-7))
        """),
        md("""
        Then how fast. We time each call several times and keep the best (the least
        disturbed by anything else running on the machine). The numbers are from the
        machine that ran this notebook: run it again on yours.
        """),
        code("""
        def best_ms(fn, *args, repeat=7):
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                fn(*args)
                times.append(time.perf_counter() - start)
            return 1000 * min(times)


        def numpy_sigmoid(x):
            return 1 / (1 + np.exp(-x))


        rows = []
        for n in [64, 256, 512]:
            a = rng.standard_normal((n, n)).astype(np.float32)
            b = rng.standard_normal((n, n)).astype(np.float32)
            rows.append((f"matmul {n}x{n}", best_ms(np.matmul, a, b), best_ms(cpu.matmul, a, b)))
        for n in [10_000, 1_000_000]:
            x = rng.standard_normal(n).astype(np.float32)
            rows.append((f"relu, {n:,} values", best_ms(np.maximum, x, 0), best_ms(cpu.relu, x)))
            rows.append((f"sigmoid, {n:,} values", best_ms(numpy_sigmoid, x), best_ms(cpu.sigmoid, x)))

        print(f"{'':26s}{'numpy':>10s}{'kernels.cpu':>13s}")
        for name, numpy_ms, kernel_ms in rows:
            print(f"{name:26s}{numpy_ms:8.3f} ms{kernel_ms:10.3f} ms   x{numpy_ms / kernel_ms:.1f}")
        """),
        md("""
        How to read this (the last column is numpy's time over the kernel's: above 1, the
        kernel is faster):

        * **matmul**: numpy hands it to BLAS, decades of hand-tuned assembly. A Numba
          kernel gets part of the way with the same ideas (blocking for the caches, a
          register tile of the output in the inner loop), but does not beat it; the reasons
          to write one are to learn how it works, and to **fuse** more work into the same
          pass (`kernels.cpu.linear_forward` adds the bias and the activation while the
          tile is still in registers).
        * **elementwise**: numpy's sigmoid is four passes over memory (negate, exp, add,
          divide), each writing a temporary array, on one core. The kernel is one pass on
          all cores. On small arrays the cost of starting the threads dominates, and numpy
          can win.
        * **the machine**: a parallel kernel is only as fast as its slowest thread. On a
          machine with few cores that is busy with other work, threads wait for a turn
          and every parallel kernel loses; `numba.set_num_threads(1)` makes them serial.

        ## Which one autodiff runs: `autodiff.backends`

        Neither wins everywhere, so autodiff chooses **per op and per size**. An activation
        asks `backends.kernel(name, array)` for a Numba kernel and runs its numpy expression
        when the answer is None. The sizes in `backends.MIN_SIZE`, from which the kernel
        runs, were measured (`benchmarks/bench_dispatch.py`): a kernel call has a fixed
        cost (waking the threads) that only large arrays repay. sigmoid switches early,
        because autodiff's numpy sigmoid is the overflow-free `exp(-logaddexp(0, -x))`,
        slower than the four passes timed above; tanh never does, as numpy's vectorised
        tanh beats Numba's at every size. Matrix products always go to BLAS.
        """),
        code("""
        from autodiff import backends

        print("mode:", backends.current())
        print("Numba kernel from (elements):", {name: n for name, n in backends.MIN_SIZE.items()
                                                if not name.endswith("_backward")})
        for n in [1_000, 10_000, 100_000]:
            x = np.zeros(n, np.float32)
            choice = {name: "numba" if backends.kernel(name, x) else "numpy" for name in ["sigmoid", "relu", "tanh"]}
            print(f"{n:>9,} values:", choice)
        """),
        md("""
        `backends.use("numpy")` or `backends.use("numba")` forces one implementation
        everywhere (under `"numba"`, matmul and `nn.Linear` too), for benchmarks and
        debugging: as a call, or as here as a `with` block, after which the automatic rule
        (`"auto"`) is back. The gradients do not depend on the choice: both compute the
        same formulas, so they agree to float32 rounding. Forward and backward of
        `sigmoid(x) * relu(x)`:
        """),
        code("""
        def forward_backward(values):
            x = autodiff.tensor(values, requires_grad=True)
            (x.sigmoid() * x.relu()).sum().backward()
            return x.grad.numpy()


        for n in [1_000, 10_000, 1_000_000]:
            values = rng.standard_normal(n).astype(np.float32)
            grads, ms = {}, {}
            for mode in ["numpy", "numba", "auto"]:
                with backends.use(mode):
                    grads[mode] = forward_backward(values)
                    ms[mode] = best_ms(forward_backward, values)
            assert np.allclose(grads["numpy"], grads["numba"], rtol=1e-6, atol=1e-6)
            print(f"{n:>9,} values: " + "   ".join(f"{mode} {t:6.3f} ms" for mode, t in ms.items()),
                  "   max gradient difference", np.abs(grads["numpy"] - grads["numba"]).max())
        print("mode after the with blocks:", backends.current())
        """),
        md("""
        ## The CUDA path

        A GPU runs thousands of threads at once. A CUDA kernel is the code of **one**
        thread; the launch `kernel[blocks, threads_per_block](...)` says how many to start,
        and each thread uses its index (`cuda.grid(1)`) to pick its element. Threads of
        one block can share a small fast memory and wait for each other
        (`cuda.syncthreads()`).

        The tiled matrix product below is the classic example: each block computes a
        $T \\times T$ tile of the output; for each step along the inner dimension, its
        threads first copy one tile of `a` and one of `b` into shared memory, **wait**
        until all copies are done, multiply out of the fast memory, and **wait again**
        before the tiles are overwritten. Forgetting the second `syncthreads()` is a race
        (MiniTorch's CUDA matmul had exactly this bug): the results are wrong only
        sometimes.
        """),
        code("""
        from numba import cuda

        T = 8   # tile size: blocks of T x T threads


        @cuda.jit
        def tiled_matmul(a, b, out):
            sa = cuda.shared.array((T, T), numba.float32)
            sb = cuda.shared.array((T, T), numba.float32)
            row, col = cuda.grid(2)
            ty, tx = cuda.threadIdx.x, cuda.threadIdx.y
            acc = numba.float32(0.0)
            for start in range(0, a.shape[1], T):
                # each thread copies one element of each tile (zero outside the matrices)
                sa[ty, tx] = a[row, start + tx] if row < a.shape[0] and start + tx < a.shape[1] else 0.0
                sb[ty, tx] = b[start + ty, col] if start + ty < b.shape[0] and col < b.shape[1] else 0.0
                cuda.syncthreads()          # the tiles are complete
                for k in range(T):
                    acc += sa[ty, k] * sb[k, tx]
                cuda.syncthreads()          # everyone is done with them before the next copy
            if row < out.shape[0] and col < out.shape[1]:
                out[row, col] = acc


        a = rng.standard_normal((20, 12)).astype(np.float32)
        b = rng.standard_normal((12, 10)).astype(np.float32)
        d_a, d_b = cuda.to_device(a), cuda.to_device(b)          # host -> device
        d_out = cuda.device_array((20, 10), np.float32)
        blocks = (-(-20 // T), -(-10 // T))                      # enough tiles to cover the output
        tiled_matmul[blocks, (T, T)](d_a, d_b, d_out)
        print("tiled matmul correct:", np.allclose(d_out.copy_to_host(), a @ b, atol=1e-5))
        """),
        md("""
        `kernels.cuda` has the project's GPU kernels, with the same names as `kernels.cpu`.
        They take and return **device arrays**: data is moved to the GPU once
        (`cuda.to_device`) and back once (`.copy_to_host()`), and a chain of operations in
        between stays on the device. Copying to the GPU and back around every single
        operation is the classic way to make GPU training slower than the CPU.

        One layer, `relu(x @ W + b)`, on the device (tiny sizes: on the simulator every
        GPU thread is a Python thread):
        """),
        code("""
        from kernels import cuda as gpu

        x = rng.standard_normal((16, 8)).astype(np.float32)
        W = rng.standard_normal((8, 4)).astype(np.float32)
        bias = rng.standard_normal(4).astype(np.float32)

        d_x, d_W, d_b = cuda.to_device(x), cuda.to_device(W), cuda.to_device(bias)
        d_h = gpu.relu(gpu.bias_add(gpu.matmul(d_x, d_W), d_b))   # three kernels, no copies
        h = d_h.copy_to_host()
        print("relu(x @ W + b) correct:", np.allclose(h, np.maximum(x @ W + bias, 0), atol=1e-5))
        """),
        md("""
        ## Tensors on the GPU

        As in PyTorch, a tensor has a `.device`: `t.to("cuda")` (or `t.cuda()`) copies it
        to the GPU, `t.cpu()` copies it back, and the factories take `device=`. An operation
        on CUDA tensors runs on the GPU and returns a CUDA tensor; its printed form names
        the device. (autodiff's ops are numpy code; a CUDA tensor's values are a
        `CudaArray` that answers that numpy code with GPU kernels, so every op, every
        derivative and every optimizer runs on either device.) Code that should run
        anywhere picks the device once:
        `device = "cuda" if autodiff.cuda.is_available() else "cpu"`.
        """),
        code("""
        from autodiff import nn, optim

        print("CUDA available:", autodiff.cuda.is_available(), "| device name:", autodiff.cuda.get_device_name())
        t = autodiff.tensor([[1.0, -2.0, 3.0]])
        g = t.to("cuda")
        print(t)
        print(g)
        print(repr(g.device))
        print((2 * g).relu())                       # computed on the GPU; the result stays there
        print(autodiff.zeros(2, device="cuda", requires_grad=True))
        """),
        md("""
        Values cross between host and GPU only where you ask: `.to()`, `.cpu()`, `.cuda()`,
        `.item()` and printing. `.numpy()` shares the tensor's memory, which for a CUDA
        tensor is not host memory, so it refuses and says what to do:
        """),
        code("""
        try:
            g.numpy()
        except TypeError as error:
            print("TypeError:", error)
        print(g.cpu().numpy())                      # an explicit copy to the host, then numpy
        """),
        md("""
        The tensors of one operation must be on the same device: autodiff never copies
        behind your back (a hidden copy in every op is how GPU training ends up slower than
        the CPU). The error names the operation and both devices. Python numbers and 0-d
        tensors are the exception, as in PyTorch: they mix with CUDA tensors as scalars.
        """),
        code("""
        def show_error(fn):
            try:
                fn()
            except RuntimeError as error:
                print(f"{type(error).__name__}: {error}")


        show_error(lambda: g + t)                              # a CUDA tensor plus a CPU tensor
        show_error(lambda: nn.Linear(3, 2).to("cuda")(t))      # a model on the GPU, a batch on the CPU
        print(g * 2 + autodiff.tensor(1.0))                    # a 0-d CPU tensor is a scalar: fine
        """),
        md("""
        ## Training on the GPU

        `model.to("cuda")` moves a model's parameters and buffers in place (the same
        `Parameter` objects), and an optimizer keeps its state, here SGD's momentum
        buffers, on the device of each parameter. So the training loop is the same code on
        either device. A 3→4→2 MLP, cross-entropy and SGD with momentum, from the same seed
        on the CPU and on `'cuda'`: two complete steps (the second also uses the momentum
        buffers) leave the same parameters.
        """),
        code("""
        def train(device, steps=2):
            autodiff.manual_seed(0)                    # the same initial weights and data on both
            model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to(device)
            optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
            loss_fn = nn.CrossEntropyLoss()
            x = autodiff.randn(5, 3, device=device)
            y = autodiff.tensor([0, 1, 1, 0, 1], device=device)
            for step in range(steps):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
            return model, optimizer, loss


        cpu_model, _, cpu_loss = train("cpu")
        gpu_model, gpu_optimizer, gpu_loss = train("cuda")
        print("last loss on the CPU:", cpu_loss)
        print("last loss on CUDA:   ", gpu_loss)
        weight = gpu_model[0].weight
        print("weight, gradient, momentum buffer on", weight.device, weight.grad.device,
              gpu_optimizer.state[weight]["momentum_buffer"].device)
        for p, q in zip(cpu_model.parameters(), gpu_model.parameters()):
            assert np.allclose(p.detach().numpy(), q.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
        print("same parameters after training on either device")
        """),
        md("""
        On the simulator this is quick only because everything is tiny. On a real GPU a
        network this small is no faster than on the CPU either: every op is at least one
        kernel launch, which costs more than its arithmetic. A GPU pays off when each op
        works on millions of values, and the data stays on the device from one op to the
        next.

        **Summary.** Kernels are where the arithmetic happens; everything else in an
        autograd engine is bookkeeping. Elementwise kernels gain from fusing passes and
        using every core, but only on arrays large enough to repay the call, so autodiff
        picks numpy or Numba per op and per size (`autodiff.backends`), with the same
        gradients either way. Matrix products come down to cache blocking and register
        tiles, where BLAS is hard to beat. On a GPU, the same ideas appear as thread blocks
        and shared memory; tensors, models and optimizers move there with `.to("cuda")`,
        and the main rule is to keep the data on the device.
        """),
    ]


# ============================================================================ 10
@notebook("10_higher_order_gradients.ipynb")
def higher_order_gradients():
    return [
        md("""
        # 10 · Higher-order gradients

        Every derivative formula in autodiff is itself written with differentiable tensor
        operations. With `create_graph=True`, the backward pass is recorded like any other
        computation, so a gradient can be differentiated again.

        First, $f(x) = x^3$ at $x = 2$: $f' = 3x^2 = 12$ and $f'' = 6x = 12$.
        """),
        code("""
        import numpy as np

        import autodiff

        x = autodiff.tensor(2.0, dtype=autodiff.float64, requires_grad=True)
        (df,) = autodiff.grad(x ** 3, x, create_graph=True)   # df is a tensor with a graph
        (d2f,) = autodiff.grad(df, x)
        print(df, d2f)
        """),
        md("""
        ## Hessian-vector products

        For $f:\\mathbb{R}^n \\to \\mathbb{R}$, the Hessian $H$ is $n \\times n$: too big to
        form for a network. But $Hv$ is the gradient of $g(x) \\cdot v$, where
        $g = \\nabla f$: one backward pass with `create_graph=True`, one more on the dot
        product. It costs about two gradients, whatever $n$.

        Test function: $f(x) = \\tfrac12 x^T A x + \\sum_i \\sin x_i$, whose Hessian is
        $A + \\mathrm{diag}(-\\sin x)$ for symmetric $A$.
        """),
        code("""
        rng = np.random.default_rng(0)
        n = 5
        M = rng.normal(size=(n, n))
        A = autodiff.tensor(M + M.T)


        def f(x):
            return 0.5 * (x @ A @ x) + x.sin().sum()


        def hvp(f, x, v):
            (g,) = autodiff.grad(f(x), x, create_graph=True)
            (hv,) = autodiff.grad((g * v).sum(), x)
            return hv


        x = autodiff.tensor(rng.normal(size=n), requires_grad=True)
        v = autodiff.tensor(rng.normal(size=n))
        H_exact = (M + M.T) - np.diag(np.sin(x.detach().numpy()))
        print("Hv by double backward:", hvp(f, x, v))
        print("Hv from the formula:  ", H_exact @ v.numpy())
        """),
        md("""
        $n$ products with the unit vectors give the whole Hessian, column by column:
        """),
        code("""
        H = np.stack([hvp(f, x, autodiff.tensor(e)).numpy() for e in np.eye(n)], axis=1)
        print("max |H - H_exact| =", np.abs(H - H_exact).max())
        """),
        md("""
        `gradgradcheck` tests second derivatives the same way `gradcheck` tests first
        ones: the backward of the backward against finite differences.
        """),
        code("""
        print(autodiff.gradgradcheck(lambda x: f(x), (x,)))
        """),
        md("""
        ## Newton's method

        Newton's method uses curvature: $x \\leftarrow x - H^{-1} \\nabla f(x)$. On the
        Rosenbrock function $f(a, b) = (1 - a)^2 + 100 (b - a^2)^2$, whose long curved valley
        makes gradient descent crawl, it reaches the minimum $(1, 1)$ in six steps. (Pure
        Newton does not always go downhill, see step 2: it jumps to where the local
        quadratic model has its minimum. Practical versions add a line search.)
        """),
        code("""
        def rosenbrock(p):
            a, b = p[0], p[1]
            return (1 - a) ** 2 + 100 * (b - a ** 2) ** 2


        p = autodiff.tensor([-1.2, 1.0], dtype=autodiff.float64, requires_grad=True)
        for step in range(7):
            (g,) = autodiff.grad(rosenbrock(p), p)
            H = np.stack([hvp(rosenbrock, p, autodiff.tensor(e)).numpy() for e in np.eye(2)], axis=1)
            print(f"step {step}  p = {p.detach().numpy().round(6)}  f = {rosenbrock(p).item():.3e}")
            with autodiff.no_grad():
                p -= autodiff.tensor(np.linalg.solve(H, g.numpy()))
        """),
        md("""
        ## A gradient penalty

        Some losses contain a gradient. The WGAN-GP critic, for one, is trained so that
        the norm of its gradient **with respect to its input** stays near 1:

        $$P = \\operatorname{mean}_k \\big(\\lVert \\nabla_x D(x_k) \\rVert_2 - 1\\big)^2 .$$

        Minimising $P$ over the critic's weights means differentiating through
        $\\nabla_x D$: a second derivative. Here $D$ is a small tanh MLP built from raw
        tensors.
        """),
        code("""
        autodiff.manual_seed(0)
        W1 = autodiff.randn(16, 2, dtype=autodiff.float64, requires_grad=True)
        b1 = autodiff.zeros(16, dtype=autodiff.float64, requires_grad=True)
        W2 = (0.3 * autodiff.randn(1, 16, dtype=autodiff.float64)).requires_grad_()
        weights = [W1, b1, W2]


        def critic(x):
            return ((x @ W1.T + b1).tanh() @ W2.T).squeeze(-1)


        def penalty(points):
            x = points.detach().requires_grad_()
            (grad_x,) = autodiff.grad(critic(x).sum(), x, create_graph=True)
            norms = (grad_x ** 2).sum(dim=1).sqrt()
            return ((norms - 1) ** 2).mean(), norms


        points = autodiff.randn(64, 2, dtype=autodiff.float64)
        P, norms = penalty(points)
        P.backward()
        print(f"penalty {P.item():.4f}, gradient norms from {norms.min().item():.3f} to {norms.max().item():.3f}")
        print("dP/dW2[0, :4] =", W2.grad[0, :4])
        """),
        md("""
        Is `W2.grad` right? Nudge one weight and watch the penalty change:
        """),
        code("""
        h = 1e-6
        with autodiff.no_grad():
            W2[0, 0] += h
        up = penalty(points)[0].item()
        with autodiff.no_grad():
            W2[0, 0] -= 2 * h
        down = penalty(points)[0].item()
        with autodiff.no_grad():
            W2[0, 0] += h
        print(f"finite difference {(up - down) / (2 * h):.6f}   backward {W2.grad[0, 0].item():.6f}")
        """),
        md("""
        A few steps of gradient descent on the penalty alone pull every gradient norm
        towards 1:
        """),
        code("""
        for step in range(201):
            for w in weights:
                w.grad = None
            P, norms = penalty(points)
            P.backward()
            with autodiff.no_grad():
                for w in weights:
                    w -= 0.05 * w.grad
            if step % 50 == 0:
                print(f"step {step:3d}  penalty {P.item():.5f}  "
                      f"norms from {norms.min().item():.3f} to {norms.max().item():.3f}")
        """),
    ]


# ============================================================================ building
def build(filename, execute=True, timeout=120):
    nb = new_notebook(cells=NOTEBOOKS[filename]())
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"      # stable ids: a rebuild changes only what really changed
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if execute:
        from nbclient import NotebookClient
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(HERE)}}).execute()
        _clean(nb)
    nbformat.validate(nb)
    path = HERE / filename
    nbformat.write(nb, str(path))
    return path


def _clean(nb):
    """Drop what differs from run to run or machine to machine (timings, font warnings, and
    where the kernel happened to split a cell's printed text into several stream outputs)."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.outputs:
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                lines = [l for l in out["text"].splitlines(keepends=True)
                         if not l.startswith("Fontconfig warning")]
                if not "".join(lines).strip():
                    continue
                out["text"] = "".join(lines)
            if (kept and out.get("output_type") == "stream" and kept[-1].get("output_type") == "stream"
                    and kept[-1]["name"] == out["name"]):
                kept[-1]["text"] += out["text"]     # Jupyter shows them as one block anyway
                continue
            kept.append(out)
        cell.outputs = kept


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="prefixes of the notebooks to build (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="write the notebooks without running them")
    args = parser.parse_args(argv)
    chosen = [f for f in NOTEBOOKS if not args.names or any(f.startswith(n) for n in args.names)]
    if not chosen:
        sys.exit(f"no notebook matches {args.names}; known: {', '.join(NOTEBOOKS)}")
    for filename in chosen:
        path = build(filename, execute=not args.no_execute)
        print(f"{path.name}: {'written' if args.no_execute else 'written with outputs'}")


if __name__ == "__main__":
    main()
