"""Data-parallel training (course_lib.replicas): the split batch must give the whole batch's gradient.

The reference is independent of the code under test: central differences of the whole batch's
mean loss (float64), and a plain single pass for the training trajectory.
"""

import numpy as np
import pytest

from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.layers import Conv, InnerProduct, MaxPool, ReLU, SoftmaxWithLoss
from course_lib.net import Net, lenet
from course_lib.replicas import Replicas
from course_lib.solver import SGDSolver


def small_net(seed=0):
    return Net([("conv", Conv(2, 3, 3, pad=1, seed=seed)), ("relu", ReLU()), ("pool", MaxPool(2, 2)),
                ("ip", InnerProduct(3 * 3 * 3, 4, seed=seed + 1)), ("loss", SoftmaxWithLoss())])


@pytest.mark.parametrize("n_replicas", [2, 3])
def test_split_batch_gives_the_numerical_gradient_of_the_whole_batch(n_replicas):
    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(7, 2, 6, 6)), rng.integers(0, 4, 7)  # 7 examples: parts of 2-3, unequal
    net = small_net()
    loss = Replicas(net, n_replicas).forward_backward(x, labels)
    reference = small_net()  # the same weights, never split
    assert loss == pytest.approx(reference.forward(x, labels), rel=1e-12)
    for name, blob in reference.params().items():
        numeric = numerical_gradient(lambda _: reference.forward(x, labels), blob.data)
        assert rel_error(net.params()[name].diff, numeric) < 1e-6, name


def test_replicas_share_one_set_of_weights_and_train_like_one_pass():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(64, 1, 28, 28)), rng.integers(0, 10, 64)
    split, whole = SGDSolver(lenet(seed=3), batch_size=16, seed=0), SGDSolver(lenet(seed=3), batch_size=16, seed=0)
    for _ in range(4):  # each update must reach the replicas, or later steps would differ
        idx = split._next_batch(len(X))
        assert np.array_equal(idx, whole._next_batch(len(X)))
        a, b = split.step(X[idx], y[idx], replicas=2), whole.step(X[idx], y[idx])
        assert a == pytest.approx(b, rel=1e-10)
    for name, blob in whole.net.params().items():
        assert np.allclose(split.net.params()[name].data, blob.data, rtol=1e-9, atol=1e-12), name
    replica = split._replicas.copies[0]
    assert all(replica.params()[k].data is b.data for k, b in split.net.params().items())


def test_a_batch_smaller_than_the_replicas_runs_in_one_pass():
    rng = np.random.default_rng(2)
    x, labels = rng.normal(size=(1, 2, 6, 6)), np.array([3])
    net, reference = small_net(), small_net()
    assert Replicas(net, 2).forward_backward(x, labels) == pytest.approx(reference.forward(x, labels))


def test_replicas_refuse_a_net_whose_layers_changed():
    net = small_net()
    replicas = Replicas(net, 2)
    net.layers.insert(0, ("extra", Conv(2, 2, 1, seed=0)))
    with pytest.raises(RuntimeError, match="layers changed"):
        replicas.forward_backward(np.zeros((4, 2, 6, 6)), np.zeros(4, int))
    with pytest.raises(ValueError, match="at least 2"):
        Replicas(net, 1)
