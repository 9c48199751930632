"""Lecture 14, "Building a Pytorch Model" (seed 000): the NeuralNet(80, 60) on two moons."""
import autodiff as torch
import autodiff.nn as nn
import numpy as np
import pytest

sklearn_datasets = pytest.importorskip("sklearn.datasets")
make_moons = sklearn_datasets.make_moons


class NeuralNet(nn.Module):

    def __init__(self, hidden_dim1, hidden_dim2):
        super().__init__()
        self.hidden_dim1 = hidden_dim1
        self.hidden_dim2 = hidden_dim2

        self.linear_layer1 = nn.Linear(2, hidden_dim1)
        self.linear_layer2 = nn.Linear(hidden_dim1, hidden_dim2)
        self.final_layer = nn.Linear(hidden_dim2, 1)

        self.relu = nn.ReLU()
        self.output = nn.Sigmoid()

    def forward(self, x):

        out1 = self.linear_layer1(x)
        out2 = self.relu(out1)
        out3 = self.linear_layer2(out2)
        out4 = self.relu(out3)
        out5 = self.final_layer(out4)
        final = self.output(out5)

        return final


def test_lecture14_program():
    torch.manual_seed(0)
    X, y = make_moons(1000, noise=0.2, random_state=0)
    X = X.astype('float32')
    y = y.astype('float32')

    neuralnet = NeuralNet(80, 60)

    X_tensor = torch.from_numpy(X)
    y_tensor = torch.from_numpy(y)
    assert X_tensor.shape == torch.Size([1000, 2])
    assert X_tensor.dtype == torch.float32

    x = X_tensor[:3]
    out = neuralnet(x)
    assert out.shape == torch.Size([3, 1])
    assert "grad_fn=<SigmoidBackward" in repr(out)   # PyTorch prints SigmoidBackward0
    assert np.all((out.detach().numpy() > 0) & (out.detach().numpy() < 1))

    # "Training the neuralnet using SGD ... with momentum": the notes elide the loop; minimal fill
    optimizer = torch.optim.SGD(neuralnet.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.BCELoss()
    for epoch in range(10):
        for i in range(0, 1000, 50):
            optimizer.zero_grad()
            loss = loss_fn(neuralnet(X_tensor[i:i + 50]), y_tensor[i:i + 50].reshape(-1, 1))
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        accuracy = ((neuralnet(X_tensor).reshape(-1) > 0.5).float() == y_tensor).float().mean()
    assert accuracy.item() > 0.95
