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


def code(text):
    return new_code_cell(_dedent(text))


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
        draw_graph(loss, max_nodes=30)
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
    """Drop what differs from run to run or machine to machine (timings, font warnings)."""
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
