"""draw_graph draws the data that feeds a graph (tensors without grad, like the lecture's x),
dimmed, so that a network's picture starts at its input."""
import autodiff as ad
from autodiff import nn
from autodiff.viz import _STYLE, draw_graph


def _net_and_loss():
    ad.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    x = ad.randn(4, 2)
    return net, x, nn.MSELoss()(net(x), ad.zeros(4, 1))


def test_network_picture_starts_at_its_input():
    net, x, loss = _net_and_loss()
    picture = draw_graph(loss, module=net, labels={x: "x"})
    (x_node,) = picture.find("x")
    assert picture.nodes[x_node] == ["x", "(4, 2) float32"]       # 8 elements: no values shown
    heads = [h for t, h in picture.edges if t == x_node]
    assert len(heads) == 1 and picture.nodes[heads[0]][0] == "linear"
    assert f'{x_node} [label="x\\n(4, 2) float32" color="{_STYLE["data"]["color"]}"' in picture.source
    assert f'fontcolor="{_STYLE["data"]["fontcolor"]}"' in picture.source
    # the input is drawn before everything that uses it, with no edge into it
    assert all(h != x_node for _, h in picture.edges)


def test_unnamed_data_and_one_node_for_a_tensor_used_twice():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    x = ad.tensor([3.0, 4.0])
    y = (x * w).sum() + (w * x).sum()
    picture = draw_graph(y)
    data_nodes = picture.find("data")
    assert len(data_nodes) == 1
    assert picture.nodes[data_nodes[0]] == ["data", "(2,) float32", "data [3, 4]"]
    assert len([h for t, h in picture.edges if t == data_nodes[0]]) == 2


def test_data_is_drawn_while_the_graph_keeps_it():
    net, x, loss = _net_and_loss()
    loss.backward(retain_graph=True)
    assert draw_graph(loss, labels={x: "x"}).find("x")
    loss.backward()                         # frees the graph: the data is no longer held
    assert not draw_graph(loss, labels={x: "x"}).find("x")


def test_legend_names_the_data_kind():
    _, x, loss = _net_and_loss()
    assert "data (no grad)" in draw_graph(loss, legend=True).source
    w = ad.tensor([1.0], requires_grad=True)
    assert "data (no grad)" not in draw_graph((w * w).sum(), legend=True).source
