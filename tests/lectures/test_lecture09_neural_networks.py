"""Lecture 9, "Artificial Neural Networks" (seed 001): the XOR network by hand, then Net on moons
trained with SGD, Adagrad, SGD with momentum, RMSprop and Adam."""
import math

import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F  # noqa: F401  (imported as the lecture does)
import matplotlib.pyplot as plt
import numpy as np
import pytest
from autodiff.data import DataLoader, TensorDataset
from autodiff.optim import SGD, Adagrad, Adam, RMSprop

sklearn_datasets = pytest.importorskip("sklearn.datasets")
make_moons = sklearn_datasets.make_moons


def test_not_xor_network_by_hand():
    """W2 = [[1, -1], [-1, 1]], b2 = 0, ReLU; W1 = [[-1], [-1]], b1 = 1/2, logistic output:
    (0,0) and (1,1) map to sigma(1/2), (1,0) and (0,1) to sigma(-1/2)."""
    W2 = torch.tensor([[1., -1.], [-1., 1.]])
    b2 = torch.tensor([0., 0.])
    W1 = torch.tensor([[-1.], [-1.]])
    b1 = torch.tensor(0.5)
    x = torch.tensor([[0., 0.], [1., 0.], [0., 1.], [1., 1.]])
    z2 = torch.relu(x @ W2 + b2)
    assert z2.tolist() == [[0, 0], [1, 0], [0, 1], [0, 0]]
    z1 = torch.sigmoid(z2 @ W1 + b1).reshape(-1)
    s = 1 / (1 + math.exp(-0.5))
    np.testing.assert_allclose(z1.numpy(), [s, 1 - s, 1 - s, s], rtol=1e-6)


class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(2, 20)
        self.fc2 = nn.Linear(20, 40)
        self.fc3 = nn.Linear(40, 20)
        self.fc4 = nn.Linear(20, 1)
        self.ReLU = nn.ReLU()

    def forward(self, x):
        u = self.fc1(x)
        z = self.ReLU(u)
        u = self.fc2(z)
        z = self.ReLU(u)
        u = self.fc3(z)
        z = self.ReLU(u)
        u = self.fc4(z)
        z = torch.sigmoid(u)
        return z

    def predict(self, A):
        with torch.no_grad():
            output = self.forward(A)
            output.cpu()
            output_ = output.detach().numpy()
        return np.array([0 if x < 1/2 else 1 for x in output_])


def _data():
    X, y = make_moons(500, noise=0.1, random_state=0)
    y_ = [-1 if t == 0 else 1 for t in y]
    plt.scatter(X[:, 0], X[:, 1], c=y_)
    X = X.astype('float32')
    y = y.astype('float32')
    return X, y


def test_shapes_the_lecture_prints():
    X, y = _data()
    ann = Net()
    X_p = torch.from_numpy(X)
    assert X_p.shape == torch.Size([500, 2])
    assert X_p[0:10].size() == torch.Size([10, 2])
    assert ann(X_p[0:10]).size() == torch.Size([10, 1])
    assert torch.log(torch.sigmoid(ann(X_p[0:10]))).size() == torch.Size([10, 1])
    y_p = torch.from_numpy(y)
    assert y_p[0:10].size() == torch.Size([10])
    y_p = torch.from_numpy(y).reshape(-1, 1)
    assert y_p[0:10].size() == torch.Size([10, 1])
    np.testing.assert_array_equal(ann.predict(X_p).shape, (500,))


# The notes print fc4 = Linear(20, 2) but also show ann(X_p[0:10]).size() == [10, 1], which needs
# one output (the labels are (N, 1) too), so fc4 has one output here. The notes name both BCELoss
# and BCEWithLogitsLoss; forward already applies the sigmoid, so the loss is BCELoss.
@pytest.mark.parametrize("make_optimizer", [
    lambda p: SGD(p, lr=0.1),
    lambda p: Adagrad(p, lr=0.05),
    lambda p: SGD(p, lr=0.05, momentum=0.9),
    lambda p: RMSprop(p, lr=0.005),
    lambda p: Adam(p, lr=0.005),
], ids=["sgd", "adagrad", "sgd_momentum", "rmsprop", "adam"])
def test_training_loop(make_optimizer):
    torch.manual_seed(0)
    X, y = _data()
    X_p = torch.from_numpy(X)
    y_p = torch.from_numpy(y).reshape(-1, 1)
    ann = Net()
    dataset = TensorDataset(X_p, y_p)
    training = DataLoader(dataset=dataset, batch_size=10,
                          shuffle=True)
    loss_fn = nn.BCELoss()
    optimizer1 = make_optimizer(ann.parameters())

    losses = []

    for epoch in range(15):
        aggr_loss = 0.0
        for points, labels in training:

            output = ann(points)

            loss = loss_fn(output, labels)

            optimizer1.zero_grad()

            loss.backward()

            optimizer1.step()
            aggr_loss += loss.item()

        losses.append(aggr_loss / len(training))

    plt.plot(losses)
    assert losses[-1] < 0.1 < losses[0]
    assert (ann.predict(X_p) == y).mean() > 0.97
