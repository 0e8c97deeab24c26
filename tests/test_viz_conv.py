"""course_lib.viz.conv: the logic behind the "which top pixels does one input pixel influence"
figure and widget, checked against independent computations (a one-hot forward pass through the
loop convolution, the loop backward, the fast layer)."""

import itertools

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from course_lib.layers import Conv, naive  # noqa: E402
from course_lib.viz import conv as V  # noqa: E402

CASES = [  # (H, W, k, stride, pad)
    (3, 3, 2, 1, 0),
    (5, 7, 3, 2, 1),
    (6, 4, 3, 1, 2),
    (7, 5, 2, 3, 0),
    (4, 4, 4, 1, 0),
]


def one_hot_probe(h, w, k, stride, pad, row, col):
    """Forward a one-hot input through the loop convolution whose kernel entries are 1..k*k:
    a top pixel is non-zero exactly when its window covers the pixel, and its value names the
    kernel offset that landed there."""
    x = np.zeros((1, 1, h, w))
    x[0, 0, row, col] = 1.0
    kernel = np.arange(1.0, k * k + 1).reshape(1, 1, k, k)
    top = naive.conv_forward(x, kernel, np.zeros(1), stride, pad)[0, 0]
    found = []
    for i, j in zip(*np.nonzero(top)):
        p, q = divmod(int(round(top[i, j])) - 1, k)
        found.append((int(i), int(j), p, q))
    return sorted(found)


@pytest.mark.parametrize("h,w,k,stride,pad", CASES)
def test_influenced_pixels_match_a_one_hot_forward_pass(h, w, k, stride, pad):
    for row, col in itertools.product(range(h), range(w)):
        got = V.influenced_pixels((h, w), k, stride, pad, row, col)
        assert sorted(got) == one_hot_probe(h, w, k, stride, pad, row, col), (row, col)


def test_centre_of_3x3_with_2x2_kernel_influences_all_four_top_pixels():
    # the slide's example (K = 2): the centre pixel is in every 2x2 window, a corner in one
    assert len(V.influenced_pixels((3, 3), 2, row=1, col=1)) == 4
    assert V.influenced_pixels((3, 3), 2, row=0, col=0) == [(0, 0, 0, 0)]
    assert V.influenced_pixels((3, 3), 2, row=2, col=2) == [(1, 1, 1, 1)]


@pytest.mark.parametrize("h,w,k,stride,pad", CASES)
def test_dx_terms_sum_to_the_loop_and_fast_backward(h, w, k, stride, pad):
    rng = np.random.default_rng(h * 100 + w)
    n, c, f = 2, 3, 4
    x = rng.standard_normal((n, c, h, w))
    layer = Conv(c, f, k, stride=stride, pad=pad, seed=1)
    top = layer.forward(x)
    top_diff = rng.standard_normal(top.shape)
    dx_fast = layer.backward(top_diff)
    dx_loop, _, _ = naive.conv_backward(top_diff, x, layer.params["weight"].data, stride, pad)
    weight = layer.params["weight"].data
    for pixel in itertools.product(range(n), range(c), range(h), range(w)):
        terms = V.dx_terms(top_diff, weight, x.shape, pixel, stride, pad)
        total = sum(t.product for t in terms)
        assert total == pytest.approx(dx_loop[pixel], abs=1e-12)
        assert total == pytest.approx(dx_fast[pixel], abs=1e-12)


def test_terms_read_the_right_entries():
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((2, 3, 3, 3))
    top_diff = rng.standard_normal((1, 2, 3, 4))  # 5x7 input, k=3, stride 2, pad 1
    terms = V.dx_terms(top_diff, weight, (1, 3, 5, 7), (0, 2, 2, 3), stride=2, pad=1)
    # by hand: padded row 3 lies only in window rows 2..4 (i = 1); padded col 4 lies in
    # window cols 2..4 (j = 1) and 4..6 (j = 2): 1 x 2 top pixels in each of the 2 maps
    assert sorted((t.f, t.i, t.j) for t in terms) == [(0, 1, 1), (0, 1, 2), (1, 1, 1), (1, 1, 2)]
    for t in terms:
        assert t.top_diff == top_diff[0, t.f, t.i, t.j]
        assert t.weight == weight[t.f, 2, t.p, t.q]
        assert 2 + 1 == 2 * t.i + t.p and 3 + 1 == 2 * t.j + t.q  # the window covers the pixel
        assert t.product == pytest.approx(t.top_diff * t.weight)


def test_table_lists_every_term_and_the_sum():
    terms = [V.Term(0, 0, 0, 1, 1, -0.5, 2.0), V.Term(1, 0, 1, 1, 0, 0.25, 4.0)]
    table = V.terms_table(terms, (0, 0, 1, 1))
    assert "2 terms" in table and "sum = 0.0000" in table
    assert "-1.0000" in table and "1.0000" in table


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match="outside"):
        V.influenced_pixels((3, 3), 2, row=3, col=0)
    with pytest.raises(ValueError, match="top_diff has shape"):
        V.dx_terms(np.zeros((1, 2, 3, 3)), np.zeros((2, 1, 2, 2)), (1, 1, 3, 3), (0, 0, 0, 0))
    with pytest.raises(ValueError, match="4-D"):
        V.dx_terms(np.zeros((2, 2)), np.zeros((2, 1, 2, 2)), (1, 1, 3, 3), (0, 0, 0, 0))
    with pytest.raises(ValueError, match="one \\(H, W\\) map"):
        V.draw_pool_routing(np.zeros((1, 4, 4)), 2)


def test_figures_draw_without_a_display():
    import matplotlib.pyplot as plt
    rng = np.random.default_rng(1)
    fig = V.draw_influence((1, 1, 3, 3), rng.standard_normal((2, 1, 2, 2)), rng.standard_normal((1, 2, 2, 2)),
                           (0, 0, 1, 1))
    # one orange cell per influenced top pixel: 4 in each of the 2 maps
    orange = [p for p in fig.axes[0].patches if matplotlib.colors.same_color(p.get_facecolor(), "tab:orange")]
    assert len(orange) == 8
    fig2 = V.draw_pool_routing(rng.standard_normal((4, 6)), 2)
    fig3 = V.draw_im2col((3, 4), 2, highlight=5)
    assert len(fig2.axes) == 2 and len(fig3.axes) == 2
    for fg in (fig, fig2, fig3):
        plt.close(fg)


def test_widget_redraws_the_table_for_the_chosen_pixel(capsys):
    # outside a kernel the widget's Output area does not capture, so its table reaches stdout
    pytest.importorskip("ipywidgets")
    rng = np.random.default_rng(2)
    x_shape, weight, top_diff = (1, 2, 4, 4), rng.standard_normal((3, 2, 2, 2)), rng.standard_normal((1, 3, 3, 3))
    dx, _, _ = naive.conv_backward(top_diff, np.zeros(x_shape), weight)
    box = V.influence_explorer(x_shape, weight, top_diff, dx=dx)
    sliders = box.children[0].children
    assert [s.max for s in sliders] == [0, 1, 3, 3]
    capsys.readouterr()
    sliders[1].value, sliders[2].value, sliders[3].value = 1, 2, 3
    shown = capsys.readouterr().out.splitlines()
    assert "dE/dx at (n, c, row, col) = (0, 1, 2, 3)" in shown
    # the last table's sum and the layer's value, both as printed
    total = float([ln for ln in shown if "sum =" in ln][-1].split("sum =")[1])
    assert total == pytest.approx(dx[0, 1, 2, 3], abs=1e-4)
    assert float(shown[-1].split()[-1]) == pytest.approx(dx[0, 1, 2, 3], abs=1e-4)
