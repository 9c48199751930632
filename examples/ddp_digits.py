"""Data-parallel training of the digits MLP: 2 processes, the same loss curve as 1.

    python -m autodiff.distributed.run -n 2 examples/ddp_digits.py     # 2 processes
    python examples/ddp_digits.py                                      # 1 process

Each rank trains a DistributedDataParallel replica on its half of every batch of 64
(DistributedSampler), and backward averages the gradients over the ranks: every step is
the step one process would take on the whole batch. Rank 0 also trains that single
process itself and prints both loss curves; they agree to rounding (float64).
"""
import argparse

import numpy as np

import autodiff
import autodiff.distributed as dist
from autodiff import datasets, nn, optim
from autodiff.data import DataLoader, DistributedSampler, TensorDataset
from autodiff.nn.parallel import DistributedDataParallel as DDP

GLOBAL_BATCH = 64


def make_model():
    autodiff.manual_seed(0)
    f64 = autodiff.float64
    return nn.Sequential(nn.Linear(64, 64, dtype=f64), nn.ReLU(), nn.Linear(64, 10, dtype=f64))


def load():
    X, y = datasets.load_digits()
    X = (X / 16.0).to(autodiff.float64)
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size=0.25, seed=0)
    n = len(X_train) // GLOBAL_BATCH * GLOBAL_BATCH          # whole batches: 1344 samples
    return TensorDataset(X_train[:n], y_train[:n]), X_test, y_test


def train_data_parallel(dataset, epochs, world):
    """This rank's replica; the loss of each step averaged over the ranks (= the whole batch's)."""
    model = DDP(make_model())
    sampler = DistributedSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=GLOBAL_BATCH // world, sampler=sampler)
    opt = optim.Adam(model.parameters(), lr=0.005)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            step_loss = loss.detach().clone()
            dist.all_reduce(step_loss, op=dist.ReduceOp.AVG)
            losses.append(step_loss.item())
    return model.module, losses


def train_one_process(dataset, epochs):
    """The reference: batches of 64 made of the same samples as the ranks' halves."""
    model = make_model()
    opt = optim.Adam(model.parameters(), lr=0.005)
    loss_fn = nn.CrossEntropyLoss()
    X, y = dataset.tensors
    losses = []
    for epoch in range(epochs):
        sampler = DistributedSampler(dataset, num_replicas=1, rank=0, shuffle=True, seed=0)
        sampler.set_epoch(epoch)
        order = np.array(list(sampler))
        for start in range(0, len(order), GLOBAL_BATCH):
            idx = autodiff.tensor(order[start:start + GLOBAL_BATCH])
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return model, losses


def accuracy(model, X, y):
    with autodiff.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    epochs = parser.parse_args().epochs
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    dataset, X_test, y_test = load()
    model, losses = train_data_parallel(dataset, epochs, world)
    if rank == 0:
        reference, reference_losses = train_one_process(dataset, epochs)
        steps = len(losses)
        print(f"{world} process(es), batch {GLOBAL_BATCH // world} each, vs 1 process, batch "
              f"{GLOBAL_BATCH}: {steps} steps")
        print(" step   loss (data-parallel)   loss (one process)")
        for s in sorted(set(range(0, steps, max(1, steps // 8))) | {steps - 1}):
            print(f"{s:5d}   {losses[s]:.12f}         {reference_losses[s]:.12f}")
        diff = max(abs(a - b) for a, b in zip(losses, reference_losses))
        params = max(float(np.abs(p.detach().numpy() - q.detach().numpy()).max())
                     for p, q in zip(model.parameters(), reference.parameters()))
        print(f"largest loss difference {diff:.1e}, largest parameter difference {params:.1e}")
        print(f"test accuracy {accuracy(model, X_test, y_test):.3f} (data-parallel), "
              f"{accuracy(reference, X_test, y_test):.3f} (one process)")
        assert diff < 1e-9 and params < 1e-9, (diff, params)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
