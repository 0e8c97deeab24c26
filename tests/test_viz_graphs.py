"""course_lib.viz.graphs: the bookkeeping behind the computation-graph pictures, and what they show."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.layers import Conv, InnerProduct, MaxPool, ReLU, SoftmaxWithLoss  # noqa: E402
from course_lib.viz.graphs import draw_fc_gradients, draw_net_graph, graph_nodes, layer_label  # noqa: E402


def lenet_layers():
    """Caffe's LeNet, built layer by layer (independent of course_lib.net)."""
    return [("conv1", Conv(1, 20, 5, seed=0)), ("pool1", MaxPool(2)), ("conv2", Conv(20, 50, 5, seed=1)),
            ("pool2", MaxPool(2)), ("ip1", InnerProduct(800, 500, seed=2)), ("relu1", ReLU()),
            ("ip2", InnerProduct(500, 10, seed=3)), ("loss", SoftmaxWithLoss())]


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_graph_nodes_lenet_shapes_by_hand():
    nodes = graph_nodes(lenet_layers(), (2, 1, 28, 28))
    # 28 -5+1-> 24 -/2-> 12 -5+1-> 8 -/2-> 4;  50*4*4 = 800
    expected_tops = [(2, 20, 24, 24), (2, 20, 12, 12), (2, 50, 8, 8), (2, 50, 4, 4),
                     (2, 500), (2, 500), (2, 10), ()]
    assert [n["top_shape"] for n in nodes] == expected_tops
    assert [n["bottom_shape"] for n in nodes] == [(2, 1, 28, 28)] + expected_tops[:-1]
    assert [n["name"] for n in nodes] == ["conv1", "pool1", "conv2", "pool2", "ip1", "relu1", "ip2", "loss"]
    assert nodes[0]["params"] == [("weight", (20, 1, 5, 5)), ("bias", (20,))]
    assert nodes[4]["params"] == [("weight", (500, 800)), ("bias", (500,))]
    assert nodes[1]["params"] == [] and nodes[5]["params"] == []


def test_graph_nodes_rejects_bad_input():
    with pytest.raises(TypeError, match="pairs"):
        graph_nodes([ReLU()], (1, 3))
    with pytest.raises(ValueError, match="InnerProduct"):
        graph_nodes([("ip", InnerProduct(5, 2))], (1, 4))


def test_layer_label_uses_slide_words():
    assert layer_label("conv1", Conv(1, 20, 5)) == "conv1: Conv 5×5"
    assert layer_label("pool1", MaxPool(2)) == "pool1: MaxPool 2×2, stride 2"
    assert layer_label("c", Conv(1, 2, 3, stride=2, pad=1)) == "c: Conv 3×3, stride 2, pad 1"
    assert layer_label("relu1", ReLU()) == "relu1: ReLU"


def test_draw_net_graph_shows_every_layer_shape_and_param():
    layers = lenet_layers()
    fig = draw_net_graph(layers, (1, 1, 28, 28))
    shown = "\n".join(texts(fig))
    for name, layer in layers:
        assert layer_label(name, layer) in shown
    for shape in ["(1, 1, 28, 28)", "(1, 20, 24, 24)", "(1, 50, 4, 4)", "(1, 500)", "(1, 10)"]:
        assert shape in shown
    assert shown.count("weight (") == 4  # conv1, conv2, ip1, ip2 carry parameters
    assert "labels $y_0$" in shown  # the labels enter at the loss only
    plt.close(fig)


def test_draw_fc_gradients_labels_and_checks():
    W = np.array([[0.1, 0.4], [0.2, -0.5], [0.3, 0.6]])
    fig = draw_fc_gradients(W, [2, 3, 6], [2.6, 2.9])
    shown = texts(fig)
    assert sum("W_" in t for t in shown) == 6
    assert any(t.endswith("= 2.6") for t in shown) and any(t.endswith("= 6") for t in shown)
    plt.close(fig)
    with pytest.raises(ValueError, match="top_diff"):
        draw_fc_gradients(W, [2, 3])
    with pytest.raises(ValueError, match="bottom_diff"):
        draw_fc_gradients(W, [2, 3, 6], [1.0, 2.0, 3.0])


def test_draw_net_graph_without_loss_shows_last_top():
    fig = draw_net_graph([("ip", InnerProduct(6, 4, seed=0)), ("relu", ReLU())], (3, 6))
    shown = "\n".join(texts(fig))
    assert "$x_{2}$ (3, 4)" in shown
    assert "labels" not in shown and "log" not in shown  # no loss layer: no labels, no E
    plt.close(fig)
