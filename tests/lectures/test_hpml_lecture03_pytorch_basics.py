"""HPML Lecture 3, "ML and PyTorch Basics" (seed 004): tensors, autograd, nn, the pytorch.org
examples (autograd by hand, nn.Sequential) and MorvanZhou's regression."""
import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F
import matplotlib.pyplot as plt
import numpy as np
import pytest


def test_tensors():
    x = torch.Tensor(2, 3)              # uninitialised 2x3
    assert x.shape == (2, 3) and x.dtype == torch.float32
    x = torch.zeros(2,3)
    assert x.tolist() == [[0.0] * 3] * 2
    x = torch.ones(2,3)
    assert x.tolist() == [[1.0] * 3] * 2
    a = np.arange(6.0).reshape(2, 3)
    b = torch.from_numpy(a)
    assert b.dtype == torch.float64 and b.tolist() == a.tolist()
    x = torch.rand(2,3) # Initialize a tensor randomly
    print(x[:,1]) #second column
    print(x[0,:]) #first row
    np.testing.assert_array_equal(x[:, 1].numpy(), x.numpy()[:, 1])
    np.testing.assert_array_equal(x[0, :].numpy(), x.numpy()[0, :])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_tensors_on_cuda():
    x = torch.Tensor(2, 3)
    device = torch.device("cuda")
    y = torch.ones_like(x, device=device) # directly create a tensor on GPU
    x = x.to(device) # or just use .to("cuda")
    assert y.device == x.device == device


def test_gradient_of_2x_squared_plus_5x_is_13():
    x = torch.tensor(torch.ones(2, 2) * 2,
    requires_grad=True)
    z = 2 * (x * x) + 5 * x
    z.backward(torch.ones(2, 2))
    assert x.grad.tolist() == [[13.0, 13.0], [13.0, 13.0]]


class Net(nn.Module):
  def __init__(self):
    super(Net, self).__init__()
    #y = Wx + b
    self.fc1 = nn.Linear(256, 120)
    self.fc2 = nn.Linear(120, 84)
    self.fc3 = nn.Linear(84, 10)
  def forward(self, x):
    x = F.relu(self.fc1(x))
    x = F.relu(self.fc2(x))
    x = self.fc3(x)
    return x


def test_net_loss_backprop_and_manual_sgd_update():
    torch.manual_seed(0)
    net = Net()
    input = torch.randn(256) # a dummy input
    output = net(input)
    criterion = nn.MSELoss()
    target = torch.arange(1, 11) # a dummy target
    loss = criterion(output, target)
    print(loss)
    expected = ((output.detach().numpy() - np.arange(1, 11)) ** 2).mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-5)

    net.zero_grad()
    loss.backward()
    learning_rate = 0.01
    before = [f.detach().numpy().copy() for f in net.parameters()]
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)
    for b, f in zip(before, net.parameters()):
        np.testing.assert_allclose(f.detach().numpy(), b - learning_rate * f.grad.numpy(), rtol=1e-6)
    assert criterion(net(input), target).item() < loss.item()


def test_autograd_example_two_layer_net_by_hand():
    torch.manual_seed(0)
    dtype = torch.float
    device = torch.device("cpu") # Use the CPU as device
    N, D_in, H, D_out = 64, 1000, 100, 10
    x = torch.randn(N, D_in, device=device, dtype=dtype)
    y = torch.randn(N, D_out, device=device, dtype=dtype)
    w1 = torch.randn(D_in, H, device=device, dtype=dtype, requires_grad=True)
    w2 = torch.randn(H, D_out, device=device, dtype=dtype, requires_grad=True)

    losses = []
    learning_rate = 1e-6
    for t in range(100):    # the notes run 500 iterations; 100 show the same descent
      y_pred = x.mm(w1).clamp(min=0).mm(w2)
      loss = (y_pred - y).pow(2).sum()
      losses.append(loss.item())
      loss.backward()
      with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
    # pytorch.org's run: ~3e7 at t = 0, a few hundred by t = 99
    assert losses[0] > 1e6 and losses[-1] < 1e-4 * losses[0]
    assert w1.is_leaf and w1.requires_grad


class RegressionNet(torch.nn.Module):
    def __init__(self, n_feature, n_hidden, n_output):
        super(RegressionNet, self).__init__()
        self.hidden = torch.nn.Linear(n_feature, n_hidden) # hidden layer
        self.predict = torch.nn.Linear(n_hidden, n_output) # output layer

    def forward(self, x):
        x = F.relu(self.hidden(x)) # activation function for hidden layer
        x = self.predict(x) # linear output
        return x


def test_morvan_regression(monkeypatch):
    monkeypatch.setattr(plt, "pause", lambda interval: None)   # no 0.1 s sleeps in a test
    torch.manual_seed(0)
    x = torch.unsqueeze(torch.linspace(-1, 1, 100), dim=1) # x data (tensor), shape=(100, 1)
    y = x.pow(2) + 0.2*torch.rand(x.size())
    assert x.shape == (100, 1) and y.shape == (100, 1)
    plt.scatter(x.numpy(), y.numpy())
    plt.show()

    net = RegressionNet(n_feature=1, n_hidden=10, n_output=1) # define the network
    print(net) # net architecture
    optimizer = torch.optim.SGD(net.parameters(), lr=0.2)
    loss_func = torch.nn.MSELoss()
    plt.ion() # turn on interactive mode
    for t in range(200):
      prediction = net(x) # input x and predict based on x
      loss = loss_func(prediction, y) # must be (1. nn output, 2. target)
      optimizer.zero_grad() # clear gradients for next train
      loss.backward()
      optimizer.step()
      if t % 5 == 0:
        plt.cla()
        plt.scatter(x.data.numpy(), y.data.numpy())
        plt.plot(x.data.numpy(), prediction.data.numpy(), 'r-', lw=5)
        plt.text(0.5, 0, 'Loss=%.4f' % loss.data.numpy(), fontdict={'size': 20, 'color': 'red'})
        plt.pause(0.1)
    plt.ioff()
    plt.show()
    # the noise is uniform on [0, 0.2): its variance alone is 0.0033
    assert loss.item() < 0.01
    assert f"{loss:.4f}" == "%.4f" % loss.data.numpy()


def test_nn_sequential_example():
    torch.manual_seed(0)
    N, D_in, H, D_out = 64, 1000, 100, 10
    x = torch.randn(N, D_in)
    y = torch.randn(N, D_out)
    model = torch.nn.Sequential(
        torch.nn.Linear(D_in, H),
        torch.nn.ReLU(),
        torch.nn.Linear(H, D_out),
    )
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = 1e-4
    losses = []
    for t in range(100):    # the notes run 500 iterations
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    assert losses[-1] < 1e-2 * losses[0]


def test_effective_mini_batch_gradient_accumulation():
    """The notes' two loops (garbled in the slide): accumulating the gradients of
    ``batch_multiplier`` mini-batches of loss/batch_multiplier, then one step, is one step on the
    union of the mini-batches."""
    torch.manual_seed(0)
    X, Y = torch.randn(32, 4), torch.randn(32, 1)
    training_data_loader = [(X[i:i + 8], Y[i:i + 8]) for i in range(0, 32, 8)]
    loss_function = nn.MSELoss()
    model = nn.Linear(4, 1)
    big_batch_model = nn.Linear(4, 1)
    big_batch_model.load_state_dict(model.state_dict())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    big_batch_optimizer = torch.optim.SGD(big_batch_model.parameters(), lr=0.1)

    batch_multiplier = 4
    count = batch_multiplier
    for inputs, targets in training_data_loader:
        if count == 0:
            optimizer.step()
            optimizer.zero_grad()
            count = batch_multiplier
        outputs = model(inputs)
        loss = loss_function(outputs, targets) / batch_multiplier
        loss.backward()
        count -= 1
    optimizer.step()

    big_batch_optimizer.zero_grad()
    loss_function(big_batch_model(X), Y).backward()
    big_batch_optimizer.step()
    for p, q in zip(model.parameters(), big_batch_model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
