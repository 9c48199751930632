# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10 · Higher-order gradients
#
# Every derivative formula in autodiff is itself written with differentiable tensor
# operations. With `create_graph=True`, the backward pass is recorded like any other
# computation, so a gradient can be differentiated again.
#
# First, $f(x) = x^3$ at $x = 2$: $f' = 3x^2 = 12$ and $f'' = 6x = 12$.

# %%
import numpy as np

import autodiff

x = autodiff.tensor(2.0, dtype=autodiff.float64, requires_grad=True)
(df,) = autodiff.grad(x ** 3, x, create_graph=True)   # df is a tensor with a graph
(d2f,) = autodiff.grad(df, x)
print(df, d2f)

# %% [markdown]
# ## Hessian-vector products
#
# For $f:\mathbb{R}^n \to \mathbb{R}$, the Hessian $H$ is $n \times n$: too big to
# form for a network. But $Hv$ is the gradient of $g(x) \cdot v$, where
# $g = \nabla f$: one backward pass with `create_graph=True`, one more on the dot
# product. It costs about two gradients, whatever $n$.
#
# Test function: $f(x) = \tfrac12 x^T A x + \sum_i \sin x_i$, whose Hessian is
# $A + \mathrm{diag}(-\sin x)$ for symmetric $A$.

# %%
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

# %% [markdown]
# $n$ products with the unit vectors give the whole Hessian, column by column:

# %%
H = np.stack([hvp(f, x, autodiff.tensor(e)).numpy() for e in np.eye(n)], axis=1)
print("max |H - H_exact| =", np.abs(H - H_exact).max())

# %% [markdown]
# `gradgradcheck` tests second derivatives the same way `gradcheck` tests first
# ones: the backward of the backward against finite differences.

# %%
print(autodiff.gradgradcheck(lambda x: f(x), (x,)))


# %% [markdown]
# ## Newton's method
#
# Newton's method uses curvature: $x \leftarrow x - H^{-1} \nabla f(x)$. On the
# Rosenbrock function $f(a, b) = (1 - a)^2 + 100 (b - a^2)^2$, whose long curved valley
# makes gradient descent crawl, it reaches the minimum $(1, 1)$ in six steps. (Pure
# Newton does not always go downhill, see step 2: it jumps to where the local
# quadratic model has its minimum. Practical versions add a line search.)

# %%
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

# %% [markdown]
# ## A gradient penalty
#
# Some losses contain a gradient. The WGAN-GP critic, for one, is trained so that
# the norm of its gradient **with respect to its input** stays near 1:
#
# $$P = \operatorname{mean}_k \big(\lVert \nabla_x D(x_k) \rVert_2 - 1\big)^2 .$$
#
# Minimising $P$ over the critic's weights means differentiating through
# $\nabla_x D$: a second derivative. Here $D$ is a small tanh MLP built from raw
# tensors.

# %%
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

# %% [markdown]
# Is `W2.grad` right? Nudge one weight and watch the penalty change:

# %%
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

# %% [markdown]
# A few steps of gradient descent on the penalty alone pull every gradient norm
# towards 1:

# %%
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
