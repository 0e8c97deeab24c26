"""The sequential net and the SGD solver: gradients through the whole net, training, snapshots."""

import numpy as np
import pytest

from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.layers import Conv, InnerProduct, MaxPool, ReLU, SoftmaxWithLoss
from course_lib.net import Net, cifar10_quick, lenet
from course_lib.solver import SGDSolver


def tiny_net(seed=0):
    return Net([("conv1", Conv(1, 2, 3, pad=1, seed=seed)), ("pool1", MaxPool(2)), ("relu1", ReLU()),
                ("ip1", InnerProduct(2 * 3 * 3, 3, seed=seed + 1)), ("loss", SoftmaxWithLoss())])


def test_whole_net_gradient_matches_numerical():
    net = tiny_net()
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6))
    y = np.array([0, 2])
    net.zero_diff()
    net.forward(x, y)
    dx = net.backward()
    assert rel_error(dx, numerical_gradient(lambda v: net.forward(v, y), x.copy())) < 1e-6
    for name, blob in net.params().items():
        num = numerical_gradient(lambda _: net.forward(x, y), blob.data)
        assert rel_error(blob.diff, num) < 1e-6, name


def test_topologies_shapes_and_initial_loss():
    lenet_net, quick = lenet(seed=0), cifar10_quick(num_classes=100, seed=0)
    assert lenet_net.forward(np.zeros((2, 1, 28, 28))).shape == (2, 10)
    assert quick.forward(np.zeros((2, 3, 32, 32))).shape == (2, 100)
    assert sum(b.data.size for b in lenet_net.params().values()) == 431080  # Caffe's LeNet
    # small random weights: the initial loss is close to log C (the sanity check of the ladder)
    x = np.random.default_rng(1).random((16, 3, 32, 32))
    assert abs(quick.forward(x, np.arange(16) % 100) - np.log(100)) < 0.5
    assert "ip1" in quick.summary((1, 3, 32, 32))


def test_net_rejects_bad_layers():
    with pytest.raises(ValueError, match="unique"):
        Net([("a", ReLU()), ("a", ReLU())])
    with pytest.raises(TypeError, match="not a course_lib Layer"):
        Net([("a", lambda x: x)])


def synthetic(n=96, seed=0):
    """Two classes: a bright square in the top-left or in the bottom-right corner, plus noise."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 2, n)
    X = 0.1 * g.standard_normal((n, 1, 8, 8))
    for i, c in enumerate(y):
        X[i, 0, (0 if c == 0 else 5):(3 if c == 0 else 8), (0 if c == 0 else 5):(3 if c == 0 else 8)] += 1.0
    return X.astype(np.float32), y


def small_net(seed=0):
    return Net([("conv1", Conv(1, 4, 3, seed=seed)), ("relu1", ReLU()), ("pool1", MaxPool(2)),
                ("ip1", InnerProduct(4 * 3 * 3, 2, seed=seed + 1)), ("loss", SoftmaxWithLoss())]).astype(np.float32)


def test_training_lowers_the_loss_and_learns():
    X, y = synthetic()
    solver = SGDSolver(small_net(), lr=0.05, momentum=0.9, weight_decay=1e-4, batch_size=16, seed=0)
    hist = solver.train(X, y, epochs=8, progress=False)
    assert np.mean(hist["loss"][-6:]) < 0.5 * np.mean(hist["loss"][:6])
    assert hist["train_acc"][-1] >= 0.95
    assert len(hist["train_acc"]) == 8  # one evaluation per epoch


def test_each_epoch_visits_every_example_once():
    X, y = synthetic(n=40)
    solver = SGDSolver(small_net(), batch_size=16, seed=3)
    seen = [solver._next_batch(len(X)) for _ in range(3)]  # 16 + 16 + 8 = one epoch
    assert sorted(np.concatenate(seen).tolist()) == list(range(40))
    assert solver.epoch == 0
    solver._next_batch(len(X))
    assert solver.epoch == 1


def test_lr_policies_follow_caffe_formulas():
    net = small_net()
    assert SGDSolver(net, lr=0.01, lr_policy="inv", gamma=1e-4, power=0.75).learning_rate(100) == \
        pytest.approx(0.01 * (1 + 1e-4 * 100) ** -0.75)
    assert SGDSolver(net, lr=0.1, lr_policy="step", gamma=0.5, stepsize=10).learning_rate(25) == pytest.approx(0.025)
    assert SGDSolver(net, lr=0.1, lr_policy="fixed").learning_rate(1000) == 0.1
    with pytest.raises(ValueError, match="lr_policy must be one of"):
        SGDSolver(net, lr_policy="cosine")


def test_momentum_and_weight_decay_update_by_hand():
    layer = InnerProduct(2, 2, seed=0)
    net = Net([("ip", layer), ("loss", SoftmaxWithLoss())])
    solver = SGDSolver(net, lr=0.1, momentum=0.9, weight_decay=0.01, batch_size=1)
    x, y = np.array([[1.0, -2.0]]), np.array([1])
    w0 = layer.params["weight"].data.copy()
    solver.step(x, y)
    g1 = layer.params["weight"].diff.copy()
    v1 = 0.1 * (g1 + 0.01 * w0)
    np.testing.assert_allclose(layer.params["weight"].data, w0 - v1)
    w1 = layer.params["weight"].data.copy()
    solver.step(x, y)
    v2 = 0.9 * v1 + 0.1 * (layer.params["weight"].diff + 0.01 * w1)
    np.testing.assert_allclose(layer.params["weight"].data, w1 - v2)


def test_snapshot_restore_continues_identically(tmp_path):
    X, y = synthetic(n=50)
    straight = SGDSolver(small_net(), lr=0.05, batch_size=16, seed=7)
    straight.train(X, y, iterations=11, progress=False)

    first = SGDSolver(small_net(), lr=0.05, batch_size=16, seed=7)
    first.train(X, y, iterations=5, progress=False)   # stops in the middle of the second epoch
    path = first.snapshot(tmp_path / "snap.npz")
    resumed = SGDSolver(small_net(seed=99), lr=0.05, batch_size=16, seed=12345).restore(path)
    resumed.train(X, y, iterations=6, progress=False)

    for name, blob in straight.net.params().items():
        np.testing.assert_array_equal(resumed.net.params()[name].data, blob.data, err_msg=name)
    assert resumed.history["loss"] == straight.history["loss"]
    assert resumed.iter == 11
    assert [p.name for p in tmp_path.iterdir()] == ["snap.npz"]  # no temporary file left behind


def test_restore_rejects_a_snapshot_of_another_net(tmp_path):
    path = SGDSolver(small_net()).snapshot(tmp_path / "a.npz")
    other = Net([("ip1", InnerProduct(3, 2)), ("loss", SoftmaxWithLoss())])
    with pytest.raises(ValueError, match="does not fit this net"):
        SGDSolver(other).restore(path)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable snapshot"):
        SGDSolver(small_net()).restore(tmp_path / "bad.npz")


def test_train_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="10 examples but 9 labels"):
        SGDSolver(small_net()).train(np.zeros((10, 1, 8, 8), np.float32), np.zeros(9, int), progress=False)


def test_backward_without_input_diff_gives_the_same_parameter_gradients():
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6))
    y = np.array([1, 0])
    full, lean = tiny_net(), tiny_net()
    for net, input_diff in ((full, True), (lean, False)):
        net.zero_diff()
        net.forward(x, y)
        out = net.backward(input_diff=input_diff)
        assert (out is None) == (not input_diff)
    for name, blob in full.params().items():
        np.testing.assert_array_equal(lean.params()[name].diff, blob.diff, err_msg=name)


def test_first_layer_without_propagate_down_still_works():
    class OldStyleReLU(ReLU):  # a user's layer whose backward takes only top_diff
        def backward(self, top_diff):
            return super().backward(top_diff)

    net = Net([("relu0", OldStyleReLU()), ("ip1", InnerProduct(4, 2, seed=0)), ("loss", SoftmaxWithLoss())])
    net.forward(np.ones((3, 4)), np.array([0, 1, 1]))
    assert net.backward(input_diff=False) is None
    assert net.params()["ip1.weight"].diff.any()


# --- update rules, learning-rate policies, per-parameter multipliers ----------------------------

def test_update_rules_are_pure_functions_of_their_arguments():
    from course_lib import optim
    w, dw, v = np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([0.1, 0.0])
    before = [a.copy() for a in (w, dw, v)]
    w2, v2 = optim.sgd_momentum(w, dw, v, lr=0.1, momentum=0.9, weight_decay=0.01)
    np.testing.assert_allclose(v2, 0.9 * v + 0.1 * (dw + 0.01 * w))
    np.testing.assert_allclose(w2, w - v2)
    np.testing.assert_allclose(optim.sgd(w, dw, lr=0.1, weight_decay=0.01), w - 0.1 * (dw + 0.01 * w))
    for a, b in zip((w, dw, v), before):
        np.testing.assert_array_equal(a, b)  # nothing changed in place


def test_lr_policy_functions():
    from course_lib import optim
    assert optim.fixed(0.1, 1000) == 0.1
    assert optim.step(0.1, 25, gamma=0.5, stepsize=10) == pytest.approx(0.025)
    assert optim.inv(0.01, 100, gamma=1e-4, power=0.75) == pytest.approx(0.01 * 1.01 ** -0.75)
    assert optim.exp(0.1, 3, gamma=0.5) == pytest.approx(0.0125)
    assert optim.learning_rate("step", 0.1, 25, gamma=0.5, stepsize=10) == pytest.approx(0.025)
    with pytest.raises(ValueError, match="lr_policy must be one of"):
        optim.learning_rate("cosine", 0.1, 0)


def test_lr_mult_and_decay_mult_scale_each_parameter():
    layer = InnerProduct(2, 2, seed=0)
    layer.params["bias"].data[:] = [0.3, -0.2]
    layer.params["bias"].lr_mult, layer.params["bias"].decay_mult = 2.0, 0.0
    net = Net([("ip", layer), ("loss", SoftmaxWithLoss())])
    solver = SGDSolver(net, lr=0.1, momentum=0.9, weight_decay=0.01, batch_size=1)
    w0, b0 = layer.params["weight"].data.copy(), layer.params["bias"].data.copy()
    solver.step(np.array([[1.0, -2.0]]), np.array([1]))
    gw, gb = layer.params["weight"].diff, layer.params["bias"].diff
    np.testing.assert_allclose(layer.params["weight"].data, w0 - 0.1 * (gw + 0.01 * w0))
    np.testing.assert_allclose(layer.params["bias"].data, b0 - 0.2 * gb)  # twice the rate, no decay


def test_caffe_nets_train_biases_at_twice_the_rate():
    for net in (lenet(), cifar10_quick()):
        mults = {name: (b.lr_mult, b.decay_mult) for name, b in net.params().items()}
        assert all(m == ((2.0, 1.0) if name.endswith("bias") else (1.0, 1.0)) for name, m in mults.items()), mults


def test_snapshot_module_round_trip(tmp_path):
    from course_lib import snapshot
    path = snapshot.save(tmp_path / "s.npz", {"a": np.arange(3.0)}, {"iter": np.int64(4)})
    arrays, state = snapshot.load(path)
    np.testing.assert_array_equal(arrays["a"], [0.0, 1.0, 2.0])
    assert state == {"iter": 4}
    with pytest.raises(ValueError, match="not a readable snapshot"):
        snapshot.load(tmp_path / "missing.npz")


def test_net_calls_backward_with_propagate_down_without_inspecting_signatures():
    calls = []

    class Spy(ReLU):
        def backward(self, top_diff, propagate_down=True):
            calls.append(propagate_down)
            return super().backward(top_diff, propagate_down)

    net = Net([("spy0", Spy()), ("ip1", InnerProduct(4, 2, seed=0)), ("spy1", Spy()), ("loss", SoftmaxWithLoss())])
    net.forward(np.ones((3, 4)), np.array([0, 1, 1]))
    net.backward(input_diff=False)
    assert calls == [True, False]


# --- threads -----------------------------------------------------------------------------------

def test_thread_tuner_leaves_small_steps_alone():
    from course_lib.threads import ThreadTuner
    tuner = ThreadTuner()
    for _ in range(10):
        assert tuner.run(lambda: 7) == 7
    assert tuner.threads is None and tuner.candidates == []


def test_thread_tuner_respects_an_explicit_thread_count(monkeypatch):
    from course_lib.threads import ThreadTuner
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # e.g. the grader's sandbox
    assert ThreadTuner().candidates == []


def _no_thread_settings(monkeypatch):
    """The tuner stays off when the environment fixes BLAS threads; other tests (Dask's nanny)
    may have set them in this process."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)


def test_thread_tuner_keeps_the_fastest_plan_and_restores_the_blas_setting(monkeypatch):
    import time

    from course_lib import threads
    _no_thread_settings(monkeypatch)
    if not threads.ThreadTuner().candidates:
        pytest.skip("needs threadpoolctl and more than one core")
    tuner = threads.ThreadTuner(trials=2, recheck=3)
    plans = tuner.candidates
    assert plans[0] == (1, 1) and plans[-1] == (threads.cores(), 1)  # one core; one replica per core
    fast = plans[-1]

    def step():  # pretend that one replica per core is 1.5x faster than anything else
        time.sleep(0.02 if (tuner.replicas, tuner.threads) == fast else 0.03)
        return (tuner.replicas, tuner.threads)

    # each plan: an untimed first step (it allocates), then timed; then every plan again, alternately
    seen = [tuner.run(step) for _ in range(3 * len(plans))]
    assert tuner.choice == fast
    assert seen == [p for p in plans for _ in (0, 1)] + plans
    seen = [tuner.run(step) for _ in range(3)]  # the choice for `recheck` steps, then it measures again
    assert seen == [fast] * 3
    assert tuner.choice is None and tuner.timings == {}
    assert tuner.run(step) == plans[0]
    tuner.restore()
    assert tuner.threads is None and tuner.replicas == 1


def test_thread_tuner_stops_trying_much_slower_plans(monkeypatch):
    import time

    from course_lib import threads
    _no_thread_settings(monkeypatch)
    tuner = threads.ThreadTuner(trials=3)
    if not tuner.candidates:
        pytest.skip("needs threadpoolctl and more than one core")

    def step():  # every extra core much slower, as on a machine busy with other jobs
        time.sleep(0.011 if (tuner.replicas, tuner.threads) == (1, 1) else 0.05)
        return (tuner.replicas, tuner.threads)

    seen = [tuner.run(step) for _ in range(2 * len(tuner.candidates) + 2)]  # each plan warmed and timed once: decided
    assert seen == [p for p in tuner.candidates for _ in (0, 1)] + [(1, 1), (1, 1)] and tuner.choice == (1, 1)
    tuner.restore()


def test_solver_trains_replicas_with_one_blas_thread_each():
    from threadpoolctl import threadpool_info

    from course_lib import threads
    if threads.ThreadpoolController is None:
        pytest.skip("needs threadpoolctl")
    net = lenet(seed=0)
    solver = SGDSolver(net, batch_size=8)
    seen = []
    real = solver.step

    def spy(xb, yb, replicas=1):
        seen.append((replicas, [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]))
        return real(xb, yb, replicas=replicas)

    solver.step = spy
    rng = np.random.default_rng(0)
    solver.train(rng.normal(size=(32, 1, 28, 28)), rng.integers(0, 10, 32), iterations=3, progress=False,
                 threads=2)
    assert [r for r, _ in seen] == [2, 2, 2]
    assert all(t and set(t) == {1} for _, t in seen)  # one BLAS thread in each replica
    assert solver.threads_used == (2, 1)
    with pytest.raises(ValueError, match="threads must be"):
        solver.train(np.zeros((4, 1, 28, 28)), np.zeros(4, int), iterations=1, threads=0)


def test_cifar10_quick_caffe_fillers_follow_the_prototxt():
    # the std of each gaussian filler in Caffe's examples/cifar10/cifar10_quick_train_test.prototxt
    prototxt_std = {"conv1": 0.0001, "conv2": 0.01, "conv3": 0.01, "ip1": 0.1, "ip2": 0.1}
    net = cifar10_quick(seed=0, fillers="caffe")
    for name, layer in net.layers:
        if name in prototxt_std:
            w = layer.params["weight"].data
            assert abs(w.mean()) < 0.05 * prototxt_std[name] * 3, name  # centred
            assert w.std() == pytest.approx(prototxt_std[name], rel=0.05 if w.size > 2000 else 0.15), name
            assert not layer.params["bias"].data.any(), name
    xavier = cifar10_quick(seed=0)  # the default is unchanged: Caffe's xavier filler, U(-a, a), a = sqrt(3/fan_in)
    w = xavier.params()["conv1.weight"].data
    assert np.abs(w).max() <= np.sqrt(3 / 75) and w.std() == pytest.approx(np.sqrt(1 / 75), rel=0.1)
    with pytest.raises(ValueError, match="fillers must be"):
        cifar10_quick(fillers="gaussian")
