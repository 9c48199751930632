"""``python -m autodiff.demo``: train the lecture MLP on two interleaved half-moons.

Builds 1000 noisy points (``make_moons``, noise 0.2), trains a 2-80-60-1 ReLU network
with ``BCEWithLogitsLoss``, mini-batches of 32 from a ``DataLoader`` and SGD with
momentum, prints the accuracy, and writes to ``--out`` (default ``./autodiff-demo``):

    graph.svg               the computation graph of one forward pass, with gradients
    loss.png                the training loss, per mini-batch and per epoch
    decision_boundary.png   the learned classifier over the data
"""
import argparse
import os

import numpy as np

import autodiff
from autodiff import nn, optim
from autodiff.data import DataLoader, TensorDataset
from autodiff.datasets import make_moons, train_test_split
from autodiff.nn import functional as F
from autodiff.viz import RendererNotFoundError, draw_graph


class MLP(nn.Module):
    """The lecture network: two hidden ReLU layers and one logit out."""

    def __init__(self, hidden=(80, 60)):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden[0])
        self.fc2 = nn.Linear(hidden[0], hidden[1])
        self.fc3 = nn.Linear(hidden[1], 1)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x).squeeze(-1)     # one logit per point


def accuracy(model, X, y):
    with autodiff.no_grad():
        predicted = model(X) > 0
    return (predicted == (y > 0.5)).float().mean().item()


def train(model, loader, epochs, lr, momentum):
    """Plain mini-batch SGD; returns the loss of every step and the mean loss of every epoch."""
    from tqdm.auto import tqdm

    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    step_losses, epoch_losses = [], []
    bar = tqdm(range(epochs), desc="training", unit="epoch")
    for _ in bar:
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            step_losses.append(loss.item())
            total += loss.item() * len(xb)
        epoch_losses.append(total / len(loader.dataset))
        bar.set_postfix(loss=f"{epoch_losses[-1]:.4f}")
    bar.close()
    return step_losses, epoch_losses


def save_graph(model, xb, yb, path):
    """Draw one forward pass (after its backward) grouped by layer; returns the file written."""
    model.zero_grad()
    loss = nn.BCEWithLogitsLoss()(model(xb), yb)
    loss.backward()
    picture = draw_graph(loss, module=model, labels={loss: "loss"}, group_by_module=True, legend=True)
    try:
        return picture.render(path)
    except RendererNotFoundError as error:     # the .dot file is written all the same
        print(f"note: {error}")
        return os.path.splitext(path)[0] + ".dot"


def save_loss_curve(step_losses, epoch_losses, steps_per_epoch, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    steps = np.arange(1, len(step_losses) + 1)
    ax.plot(steps, step_losses, color="tab:blue", alpha=0.35, lw=1, label="mini-batch")
    ends = np.arange(1, len(epoch_losses) + 1) * steps_per_epoch
    ax.plot(ends, epoch_losses, color="tab:blue", marker="o", ms=3, lw=2, label="epoch mean")
    ax.set(xlabel="step", ylabel="binary cross-entropy", title="Training loss", yscale="log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    return path


def save_decision_boundary(model, X, y, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    points, labels = X.numpy(), y.numpy()
    lo, hi = points.min(axis=0) - 0.5, points.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = autodiff.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32))
    with autodiff.no_grad():
        prob = model(grid).sigmoid().numpy().reshape(gx.shape)
    fig = Figure(figsize=(6, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    filled = ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.7)
    ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="RdBu_r", edgecolors="white", linewidths=0.5, s=16)
    fig.colorbar(filled, ax=ax, label="P(class 1)")
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title="Decision boundary (black: P = 0.5)")
    fig.tight_layout()
    fig.savefig(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autodiff.demo",
                                     description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("--out", default="autodiff-demo", help="folder for the pictures (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=60, help="training epochs (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=1000, help="points in the dataset (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")

    autodiff.manual_seed(args.seed)
    X, y = make_moons(args.samples, noise=0.2, seed=args.seed)
    y = y.float()                                   # BCE targets are 0.0 / 1.0
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=args.seed)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, generator=args.seed)
    model = MLP()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"make_moons: {len(X_train)} training and {len(X_test)} test points; "
          f"MLP 2-80-60-1 with {n_params} parameters")

    step_losses, epoch_losses = train(model, loader, args.epochs, args.lr, momentum=0.9)
    train_acc, test_acc = accuracy(model, X_train, y_train), accuracy(model, X_test, y_test)
    print(f"final loss {epoch_losses[-1]:.4f}   train accuracy {train_acc:.3f}   test accuracy {test_acc:.3f}")

    os.makedirs(args.out, exist_ok=True)
    xb, yb = next(iter(loader))
    written = [
        save_graph(model, xb, yb, os.path.join(args.out, "graph.svg")),
        save_loss_curve(step_losses, epoch_losses, len(loader), os.path.join(args.out, "loss.png")),
        save_decision_boundary(model, X, y, os.path.join(args.out, "decision_boundary.png")),
    ]
    print("wrote " + ", ".join(written))
    return {"train_accuracy": train_acc, "test_accuracy": test_acc, "loss": epoch_losses[-1],
            "files": written}


if __name__ == "__main__":
    main()
