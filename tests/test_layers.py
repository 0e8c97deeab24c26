"""Every layer against the numerical gradient, the fast layers against the slides' loops,
the seeds' worked examples, stability, and the documented errors."""

import warnings

import numpy as np
import pytest

from course_lib.gradcheck import check_layer, rel_error
from course_lib.layers import (AvePool, Blob, Conv, Flatten, InnerProduct, Layer, MaxPool, ReLU, SoftmaxWithLoss,
                               col2im, im2col, naive)

TOL = 1e-6


def rng(seed=0):
    return np.random.default_rng(seed)


# --- gradient checks -------------------------------------------------------------------------

CONV_CASES = [  # (N, C, H, W, F, k, stride, pad)
    (2, 3, 7, 7, 4, 3, 1, 0),
    (2, 3, 7, 5, 2, 3, 2, 1),   # stride 2, non-square, pad 1
    (1, 2, 6, 9, 3, 2, 2, 2),   # pad 2, even kernel
    (3, 1, 5, 4, 2, 1, 1, 0),   # 1x1 kernel
    (1, 2, 8, 6, 2, 5, 3, 2),   # stride 3, large kernel
]


@pytest.mark.parametrize("N,C,H,W,F,k,s,p", CONV_CASES)
def test_conv_gradients(N, C, H, W, F, k, s, p):
    layer = Conv(C, F, k, stride=s, pad=p, seed=1)
    layer.params["bias"].data[:] = rng(2).standard_normal(F)
    errors = check_layer(layer, rng(3).standard_normal((N, C, H, W)))
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("N,C,H,W,F,k,s,p", CONV_CASES)
def test_conv_matches_loops(N, C, H, W, F, k, s, p):
    x = rng(4).standard_normal((N, C, H, W))
    layer = Conv(C, F, k, stride=s, pad=p, seed=5)
    w, b = layer.params["weight"].data, rng(6).standard_normal(F)
    layer.params["bias"].data[:] = b
    top = layer.forward(x)
    np.testing.assert_allclose(top, naive.conv_forward(x, w, b, s, p), rtol=1e-10, atol=1e-12)
    dtop = rng(7).standard_normal(top.shape)
    dx = layer.backward(dtop)
    dx_ref, dw_ref, db_ref = naive.conv_backward(dtop, x, w, s, p)
    np.testing.assert_allclose(dx, dx_ref, atol=1e-12)
    np.testing.assert_allclose(layer.params["weight"].diff, dw_ref, atol=1e-12)
    np.testing.assert_allclose(layer.params["bias"].diff, db_ref, atol=1e-12)


def test_conv_chunked_equals_unchunked(monkeypatch):
    x = rng(8).standard_normal((5, 2, 6, 6))
    a, b = Conv(2, 3, 3, pad=1, seed=0), Conv(2, 3, 3, pad=1, seed=0)
    monkeypatch.setattr(b, "max_cols", 2 * 9 * 36)  # forces one image per chunk
    np.testing.assert_allclose(a.forward(x), b.forward(x))
    dtop = rng(9).standard_normal((5, 3, 6, 6))
    np.testing.assert_allclose(a.backward(dtop), b.backward(dtop))
    np.testing.assert_allclose(a.params["weight"].diff, b.params["weight"].diff)


def test_inner_product_gradients_flat_and_4d():
    assert max(check_layer(InnerProduct(6, 4, seed=0), rng(1).standard_normal((3, 6))).values()) < TOL
    layer = InnerProduct(2 * 3 * 2, 5, seed=0)
    x = rng(2).standard_normal((4, 2, 3, 2))
    assert max(check_layer(layer, x).values()) < TOL
    assert layer.backward(np.ones((4, 5))).shape == x.shape


def test_inner_product_hand_formula():
    layer = InnerProduct(3, 2)
    layer.params["weight"].data[:] = [[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]]
    layer.params["bias"].data[:] = [0.5, -0.5]
    x = np.array([[1.0, 1.0, 2.0]])
    np.testing.assert_allclose(layer.forward(x), [[9.5, -0.5]])
    dx = layer.backward(np.array([[1.0, 2.0]]))
    np.testing.assert_allclose(dx, [[1.0, 0.0, 4.0]])              # W^T dy
    np.testing.assert_allclose(layer.params["weight"].diff, [[1, 1, 2], [2, 2, 4]])  # dy x^T
    np.testing.assert_allclose(layer.params["bias"].diff, [1.0, 2.0])


def test_relu_gradient_and_kink():
    assert check_layer(ReLU(), rng(0).standard_normal((2, 3, 4, 5)), kink_free=True)["bottom"] < TOL
    relu = ReLU()
    relu.forward(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(relu.backward(np.array([5.0, 5.0, 5.0])), [0.0, 0.0, 5.0])


def test_flatten_roundtrip():
    x = rng(0).standard_normal((2, 3, 4, 5))
    f = Flatten()
    assert f.forward(x).shape == (2, 60)
    np.testing.assert_array_equal(f.backward(np.arange(120.0).reshape(2, 60)), np.arange(120.0).reshape(x.shape))


POOL_CASES = [  # (H, W, k, stride, pad, ceil)
    (4, 4, 2, 2, 0, False),
    (5, 7, 2, 2, 0, False),    # odd sizes drop the last row/column
    (5, 7, 2, 2, 0, True),     # ceil mode keeps it (Caffe)
    (6, 5, 3, 2, 1, False),    # kernel != stride, padding
    (6, 5, 3, 2, 1, True),
    (5, 5, 3, 1, 0, False),    # overlapping windows, stride 1
    (7, 6, 3, 1, 2, False),    # pad 2
    (6, 6, 3, 3, 0, True),
]


@pytest.mark.parametrize("H,W,k,s,p,ceil", POOL_CASES)
def test_maxpool_matches_loops_and_numerical(H, W, k, s, p, ceil):
    x = rng(1).standard_normal((2, 3, H, W))
    pool = MaxPool(k, s, p, ceil_mode=ceil)
    top = pool.forward(x)
    ref, arg = naive.maxpool_forward(x, k, s, p, *top.shape[2:])
    np.testing.assert_array_equal(top, ref)
    dtop = rng(2).standard_normal(top.shape)
    np.testing.assert_allclose(pool.backward(dtop), naive.maxpool_backward(dtop, x.shape, arg, p), atol=1e-12)
    assert check_layer(MaxPool(k, s, p, ceil_mode=ceil), x, kink_free=True)["bottom"] < TOL


@pytest.mark.parametrize("H,W,k,s,p,ceil", POOL_CASES)
def test_avepool_matches_loops_and_numerical(H, W, k, s, p, ceil):
    x = rng(3).standard_normal((2, 2, H, W))
    pool = AvePool(k, s, p, ceil_mode=ceil)
    top = pool.forward(x)
    np.testing.assert_allclose(top, naive.avepool_forward(x, k, s, p, *top.shape[2:]), atol=1e-12)
    dtop = rng(4).standard_normal(top.shape)
    np.testing.assert_allclose(pool.backward(dtop), naive.avepool_backward(dtop, x.shape, k, s, p), atol=1e-12)
    assert check_layer(AvePool(k, s, p, ceil_mode=ceil), x)["bottom"] < TOL


def test_pool_output_sizes_follow_caffe():
    # Caffe: ceil((H + 2p - k) / s) + 1, minus one if the last window starts in the right padding
    assert MaxPool(3, 2, ceil_mode=True).setup((1, 1, 32, 32)) == (1, 1, 16, 16)   # cifar10_quick
    assert MaxPool(3, 2).setup((1, 1, 32, 32)) == (1, 1, 15, 15)
    assert AvePool(2, 2, pad=1, ceil_mode=True).setup((1, 1, 4, 4)) == (1, 1, 3, 3)  # 4th window dropped
    assert MaxPool(2).setup((1, 1, 5, 5)) == (1, 1, 2, 2)


def test_maxpool_tie_goes_to_first_maximum():
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    pool = MaxPool(2)
    pool.forward(x)
    np.testing.assert_array_equal(pool.backward(np.array([[[[7.0]]]])), [[[[0.0, 7.0], [0.0, 0.0]]]])


def test_maxpool_overlapping_windows_sum_gradients():
    # 1x3 row, windows [0,1] and [1,2] (stride 1): the middle value wins both and gets 2 + 5
    x = np.array([[[[1.0, 9.0, 2.0], [0.0, 0.0, 0.0]]]])
    pool = MaxPool(2, stride=1)
    top = pool.forward(x)
    np.testing.assert_array_equal(top, [[[[9.0, 9.0]]]])
    np.testing.assert_array_equal(pool.backward(np.array([[[[2.0, 5.0]]]])), [[[[0, 7.0, 0], [0, 0, 0]]]])


def test_avepool_divisor_counts_padding():
    # 2x2 input of ones, k=2, s=2, pad=1: every window holds one real pixel and three padded zeros
    pool = AvePool(2, 2, pad=1)
    np.testing.assert_allclose(pool.forward(np.ones((1, 1, 2, 2))), np.full((1, 1, 2, 2), 0.25))


def test_im2col_col2im_are_adjoint():
    x = rng(0).standard_normal((2, 3, 7, 6))
    for k, s, p in [(3, 1, 1), (2, 2, 0), (3, 2, 2)]:
        cols = im2col(x, k, s, p)
        c = rng(1).standard_normal(cols.shape)
        assert abs(np.sum(cols * c) - np.sum(x * col2im(c, x.shape, k, s, p))) < 1e-9


def test_col2im_does_not_use_add_at():
    import inspect

    from course_lib.layers import im2col as module
    assert "add.at" not in inspect.getsource(module)


# --- softmax with loss and the seeds' examples --------------------------------------------------

def test_softmax_loss_value_and_slide_gradient():
    scores = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    labels = np.array([2, 0])
    loss_layer = SoftmaxWithLoss()
    loss = loss_layer.forward(scores, labels)
    p0 = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    assert loss == pytest.approx((-np.log(p0[2]) + np.log(3)) / 2)
    # slide: dE/ds_k = p_k, and p_k0 - 1 for the right answer (here averaged over the batch of 2)
    expected = np.array([[p0[0], p0[1], p0[2] - 1], [1 / 3 - 1, 1 / 3, 1 / 3]]) / 2
    np.testing.assert_allclose(loss_layer.backward(), expected)
    assert check_layer(SoftmaxWithLoss(), rng(0).standard_normal((4, 5)), labels=np.array([0, 4, 2, 2]))["bottom"] < TOL


def test_initial_loss_is_log_c_for_equal_scores():
    assert SoftmaxWithLoss().forward(np.zeros((5, 100)), np.arange(5)) == pytest.approx(np.log(100))


def test_no_overflow_or_warning_at_1000():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is harmless
            layer = SoftmaxWithLoss()
            loss = layer.forward(np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]]), np.array([1, 2]))
            grad = layer.backward()
            relu_top = ReLU().forward(np.array([1000.0, -1000.0]))
            pool_top = MaxPool(2).forward(np.full((1, 1, 2, 2), -1000.0))
    assert np.isfinite(loss) and loss == pytest.approx(2000 / 2)
    assert np.all(np.isfinite(grad))
    np.testing.assert_array_equal(relu_top, [1000.0, 0.0])
    assert pool_top.item() == -1000.0


def test_seed_shared_weight_1d_example():
    """Portuguese learner's question: x = [1, 2, 3], w = [0.3, 0.5], stride 1, no padding, zero bias.
    A 1-D convolution is a 2-D one with a single row; Conv's kernels are square, so the 2x2 kernel
    carries w in its first row and zeros in the second, applied to a 2-row input whose second row is 0."""
    conv = Conv(1, 1, 2)
    conv.params["weight"].data[...] = [[[[0.3, 0.5], [0.0, 0.0]]]]
    x = np.array([[[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]]])
    np.testing.assert_allclose(conv.forward(x), [[[[1.3, 2.1]]]])
    dx = conv.backward(np.array([[[[-0.1, 0.2]]]]))
    np.testing.assert_allclose(conv.params["weight"].diff[0, 0, 0], [0.3, 0.4])
    np.testing.assert_allclose(conv.params["bias"].diff, [0.1])
    np.testing.assert_allclose(dx[0, 0, 0], [-0.03, 0.01, 0.1])


def test_param_diffs_accumulate():
    layer = Conv(1, 2, 2, seed=0)
    x = rng(0).standard_normal((1, 1, 3, 3))
    dtop = rng(1).standard_normal((1, 2, 2, 2))
    layer.forward(x)
    layer.backward(dtop)
    once = layer.params["weight"].diff.copy()
    layer.backward(dtop)
    np.testing.assert_allclose(layer.params["weight"].diff, 2 * once)
    layer.zero_diff()
    assert not layer.params["weight"].diff.any()


def test_float32_stays_float32():
    conv = Conv(1, 2, 3, seed=0).astype(np.float32)
    top = conv.forward(rng(0).standard_normal((2, 1, 5, 5)).astype(np.float32))
    assert top.dtype == np.float32
    assert conv.backward(np.ones_like(top)).dtype == np.float32
    for layer in (MaxPool(2), AvePool(2), ReLU()):
        assert layer.forward(np.ones((1, 1, 4, 4), np.float32)).dtype == np.float32


def test_blob_holds_data_and_diff():
    b = Blob(np.ones((2, 3)))
    assert b.shape == (2, 3) and not b.diff.any()


def test_rel_error_detects_difference():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0]), np.array([1.1])) > 1e-2
    with pytest.raises(ValueError, match="shapes differ"):
        rel_error(np.zeros(2), np.zeros(3))


def test_gradcheck_catches_a_wrong_backward():
    class WrongReLU(ReLU):
        def backward(self, top_diff):
            return super().backward(top_diff) * 1.01

    with pytest.raises(AssertionError, match="gradient check failed"):
        check_layer(WrongReLU(), rng(0).standard_normal((3, 4)), kink_free=True, tol=1e-6)


# --- documented errors ------------------------------------------------------------------------

@pytest.mark.parametrize("layer,bottom,pattern", [
    (Conv(3, 4, 3), np.zeros((2, 3, 5)), r"Conv: expected a 4-D bottom \(N, C, H, W\), got shape \(2, 3, 5\)"),
    (Conv(3, 4, 3), np.zeros((2, 1, 5, 5)), r"Conv: expected bottom with 3 channels .* got shape \(2, 1, 5, 5\)"),
    (Conv(1, 1, 5), np.zeros((1, 1, 3, 3)), r"Conv: kernel 5 larger than padded input 3"),
    (InnerProduct(10, 2), np.zeros((2, 9)), r"InnerProduct: expected bottom \(N, 10\) .* got shape \(2, 9\)"),
    (MaxPool(2), np.zeros((4, 4)), r"MaxPool: expected a 4-D bottom .* got shape \(4, 4\)"),
    (AvePool(5), np.zeros((1, 1, 3, 3)), r"AvePool: window 5 larger than padded input 3"),
])
def test_bad_shapes_name_layer_and_shapes(layer, bottom, pattern):
    with pytest.raises(ValueError, match=pattern):
        layer.forward(bottom)


@pytest.mark.parametrize("layer", [Conv(1, 1, 1), InnerProduct(4, 2), ReLU(), MaxPool(2), AvePool(2), Flatten()])
def test_non_float_bottom_is_a_type_error(layer):
    with pytest.raises(TypeError, match=f"{type(layer).__name__}: bottom must be a floating-point array, got dtype int64"):
        layer.forward(np.ones((1, 1, 2, 2), dtype=np.int64) if not isinstance(layer, InnerProduct)
                      else np.ones((1, 4), dtype=np.int64))


def test_loss_label_errors():
    loss = SoftmaxWithLoss()
    with pytest.raises(ValueError, match=r"labels have shape \(3,\), expected \(2,\)"):
        loss.forward(np.zeros((2, 4)), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="labels must be integers"):
        loss.forward(np.zeros((2, 4)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\)"):
        loss.forward(np.zeros((2, 4)), np.array([0, 4]))
    with pytest.raises(ValueError, match=r"SoftmaxWithLoss: expected a 2-D bottom"):
        loss.forward(np.zeros((2, 4, 1)), np.array([0, 1]))


def test_backward_errors():
    conv = Conv(1, 2, 3)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        conv.backward(np.zeros((1, 2, 1, 1)))
    conv.forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"top_diff has shape \(1, 2, 3, 3\), expected the top's shape \(1, 2, 2, 2\)"):
        conv.backward(np.zeros((1, 2, 3, 3)))


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="stride >= 1"):
        Conv(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match="pad .* must be smaller than kernel_size"):
        MaxPool(2, pad=2)


# --- the Layer contract ------------------------------------------------------------------------

def test_top_shape_and_its_old_name_setup_agree():
    for layer in (Conv(3, 4, 3, pad=1), MaxPool(2), AvePool(3, 2, ceil_mode=True), InnerProduct(12, 5), ReLU(), Flatten()):
        shape = (2, 3, 2, 2) if isinstance(layer, InnerProduct) else (2, 3, 8, 8)
        assert layer.setup(shape) == layer.top_shape(shape)


def test_a_subclass_written_against_setup_still_reports_its_shape():
    class Doubler(Layer):
        def setup(self, bottom_shape):
            return (bottom_shape[0], 2 * bottom_shape[1])

        def forward(self, bottom):
            return np.concatenate([bottom, bottom], axis=1)

        def backward(self, top_diff):
            half = top_diff.shape[1] // 2
            return top_diff[:, :half] + top_diff[:, half:]

    d = Doubler()
    assert d.top_shape((4, 3)) == d.setup((4, 3)) == (4, 6)

    class Renamed(Layer):  # the new name, calling the base class's default through super()
        def top_shape(self, bottom_shape):
            return super().top_shape(bottom_shape)
    assert Renamed().setup((2, 5)) == (2, 5)

    class OldWithSuper(Layer):  # the old name, calling the base class's default through super()
        def setup(self, bottom_shape):
            return super().setup(bottom_shape)[:1] + (1,)
    assert OldWithSuper().top_shape((3, 4)) == OldWithSuper().setup((3, 4)) == (3, 1)

    class ConvChild(Conv):  # an old-style override below a layer that defines top_shape
        def setup(self, bottom_shape):
            n, f, h, w = super().setup(bottom_shape)
            return (n, f, h, w)
    assert ConvChild(1, 2, 3).top_shape((1, 1, 5, 5)) == (1, 2, 3, 3)


def test_every_backward_takes_propagate_down():
    x = rng(0).standard_normal((2, 3, 6, 6))
    for layer in (Conv(3, 2, 3), MaxPool(2), AvePool(2), ReLU(), Flatten(), InnerProduct(3 * 6 * 6, 2)):
        top = layer.forward(x)
        assert layer.backward(np.ones_like(top), propagate_down=False) is None
        assert layer.backward(np.ones_like(top), propagate_down=True).shape == x.shape


def test_a_two_argument_backward_is_adapted_and_still_shows_its_source():
    import inspect

    class Square(Layer):
        def forward(self, bottom):
            self.x = bottom
            return bottom ** 2

        def backward(self, top_diff):
            return 2 * self.x * top_diff

    s = Square()
    s.forward(np.array([1.0, -3.0]))
    np.testing.assert_array_equal(s.backward(np.ones(2)), [2.0, -6.0])
    assert s.backward(np.ones(2), propagate_down=False) is None
    assert "return 2 * self.x * top_diff" in inspect.getsource(Square.backward)


def test_loss_layer_base():
    from course_lib.layers import LossLayer
    assert isinstance(SoftmaxWithLoss(), LossLayer)
    loss = SoftmaxWithLoss()
    assert loss.top_shape((4, 10)) == ()
    loss.forward(np.zeros((2, 3)), np.array([0, 2]))
    assert loss.backward(propagate_down=False) is None


def test_geometry_and_fillers_have_modules_of_their_own():
    from course_lib.layers import fillers, geometry
    from course_lib.layers.base import conv_size, pooled_size  # the old home still works
    assert geometry.conv_size(16, 5, 1, 2) == conv_size(16, 5, 1, 2) == 16
    assert geometry.pooled_size(32, 3, 2, 0, True) == pooled_size(32, 3, 2, 0, True) == 16
    w = fillers.xavier((1000, 30), 30, rng(0))
    assert abs(w.var() - 1 / 30) < 0.1 / 30 and np.abs(w).max() <= np.sqrt(3 / 30)
    np.testing.assert_array_equal(fillers.constant(3, 0.5), [0.5, 0.5, 0.5])


def test_col_buffer_keeps_the_forward_cols_and_reuses_its_workspace():
    conv = Conv(2, 3, 3, pad=1, seed=0)
    conv.max_cols = 2 * 9 * 36 * 2  # two images per chunk
    x = rng(1).standard_normal((5, 2, 6, 6))
    conv.forward(x)
    chunks = conv.col_buffer.kept()
    assert [c[0] for c in chunks] == [slice(0, 2), slice(2, 4), slice(4, 5)]
    for images, cols in chunks:  # each chunk's cols are im2col of its images, in batch-last order
        np.testing.assert_array_equal(cols, im2col(x[images], 3, 1, 1, batch_last=True))
    ws = conv.col_buffer._workspace
    conv.forward(x)
    assert conv.col_buffer._workspace is ws
