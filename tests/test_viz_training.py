"""course_lib.viz.training: the numeric helpers against loop references; the plots draw on small inputs."""

import matplotlib

matplotlib.use("Agg")  # headless: no window, no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_lib.viz import training as vt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- running_mean ------------------------------------------------------------------------------
@pytest.mark.parametrize("n, window", [(10, 1), (10, 3), (7, 7), (50, 8)])
def test_running_mean_matches_loop(n, window):
    v = np.random.default_rng(n).normal(size=n)
    expected = [sum(v[i:i + window]) / window for i in range(n - window + 1)]
    np.testing.assert_allclose(vt.running_mean(v, window), expected, rtol=1e-12)


def test_running_mean_window_longer_than_series_gives_overall_mean():
    np.testing.assert_allclose(vt.running_mean([1.0, 2.0, 6.0], 10), [3.0])


@pytest.mark.parametrize("values, window", [([], 3), ([[1.0, 2.0]], 1), ([1.0, 2.0], 0)])
def test_running_mean_rejects_bad_input(values, window):
    with pytest.raises(ValueError, match="running_mean"):
        vt.running_mean(values, window)


# -- confusion_matrix --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_confusion_matrix_matches_loop(dtype):
    rng = np.random.default_rng(0)
    c = 7
    t = rng.integers(0, c, 500).astype(dtype)
    p = np.where(rng.random(500) < 0.6, t, rng.integers(0, c, 500)).astype(dtype)
    expected = np.zeros((c, c), dtype=np.int64)
    for ti, pi in zip(t, p):
        expected[int(ti), int(pi)] += 1
    cm = vt.confusion_matrix(t, p, num_classes=c)
    np.testing.assert_array_equal(cm, expected)
    assert cm.sum() == 500 and np.trace(cm) == int((t == p).sum())


def test_confusion_matrix_hand_example():
    # true 0 0 1 2 2 2, predicted 0 1 1 2 0 2: row i = true class i
    cm = vt.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_confusion_matrix_keeps_absent_classes_with_num_classes():
    cm = vt.confusion_matrix([1, 1], [1, 0], num_classes=4)
    assert cm.shape == (4, 4)
    np.testing.assert_array_equal(cm[1], [1, 1, 0, 0])
    assert cm.sum() == 2


@pytest.mark.parametrize("t, p, c, err", [
    ([0, 1], [0], None, ValueError),           # lengths differ
    ([0, 5], [0, 1], 3, ValueError),           # label outside [0, C)
    ([0, -1], [0, 1], 3, ValueError),          # negative label
    ([0.0, 1.0], [0, 1], None, TypeError),     # float labels
])
def test_confusion_matrix_rejects_bad_input(t, p, c, err):
    with pytest.raises(err, match="confusion_matrix"):
        vt.confusion_matrix(t, p, num_classes=c)


def test_per_class_accuracy_is_diagonal_over_row_sums():
    cm = np.array([[3, 1, 0], [0, 0, 0], [2, 2, 4]])
    acc = vt.per_class_accuracy(cm)
    np.testing.assert_allclose(acc[[0, 2]], [3 / 4, 4 / 8])
    assert np.isnan(acc[1])  # class never seen: no accuracy, and no division warning
    with pytest.raises(ValueError, match="square"):
        vt.per_class_accuracy(np.zeros((2, 3)))


# -- filter_grid / to_display -------------------------------------------------------------------
def _stretch(a):
    return (a - a.min()) / (a.max() - a.min())


def test_filter_grid_grey_layout_and_per_filter_stretch():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(5, 1, 3, 3))
    grid = vt.filter_grid(w, ncols=3, pad=1, pad_value=-1.0)
    assert grid.shape == (2 * 4 - 1, 3 * 4 - 1)
    for i in range(5):
        r, c = divmod(i, 3)
        np.testing.assert_allclose(grid[4 * r:4 * r + 3, 4 * c:4 * c + 3], _stretch(w[i, 0]))
    # the unused sixth slot and the gaps keep pad_value
    assert np.all(grid[4:7, 8:11] == -1.0)
    assert np.all(grid[3, :] == -1.0) and np.all(grid[:, 3] == -1.0)


def test_filter_grid_rgb_puts_colour_last_and_defaults_to_square_layout():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(4, 3, 5, 5))
    grid = vt.filter_grid(w, pad=0)
    assert grid.shape == (10, 10, 3)
    np.testing.assert_allclose(grid[5:10, 0:5], _stretch(w[2]).transpose(1, 2, 0))


def test_filter_grid_constant_filter_is_mid_grey():
    grid = vt.filter_grid(np.zeros((1, 1, 2, 2)))
    np.testing.assert_array_equal(grid, np.full((2, 2), 0.5))


@pytest.mark.parametrize("shape", [(4, 2, 3, 3), (4, 3, 3), (0, 1, 3, 3)])
def test_filter_grid_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="filter_grid"):
        vt.filter_grid(np.zeros(shape))


def test_to_display_shapes_and_range():
    rng = np.random.default_rng(3)
    grey = vt.to_display(rng.normal(size=(2, 1, 4, 6)))
    rgb = vt.to_display(rng.normal(size=(2, 3, 4, 6)) * 50 - 10)
    assert grey.shape == (2, 4, 6) and rgb.shape == (2, 4, 6, 3)
    for img in (*grey, *rgb):
        assert img.min() == 0.0 and img.max() == 1.0
    with pytest.raises(ValueError, match="to_display"):
        vt.to_display(np.zeros((2, 2, 4, 4)))


# -- figures --------------------------------------------------------------------------------------
def _history():
    return {"iter": list(range(30)), "loss": list(np.linspace(2.3, 0.2, 30)), "lr": [0.01] * 30,
            "eval_iter": [10, 20, 30], "epoch": [1, 2, 3], "train_acc": [0.5, 0.8, 0.9],
            "val_acc": [0.4, 0.7, 0.85], "val_loss": [1.5, 0.8, 0.5]}


def test_plot_history_returns_figure_with_loss_and_accuracy_lines():
    fig = vt.plot_history(_history(), smooth=5, title="t")
    assert isinstance(fig, Figure)
    ax_l, ax_a = fig.axes
    assert len(ax_l.lines) == 2 and len(ax_a.lines) == 2
    np.testing.assert_allclose(ax_a.lines[1].get_ydata(), [0.4, 0.7, 0.85])


def test_plot_history_without_evaluations_and_rejects_empty():
    h = {"iter": [0, 1], "loss": [2.0, 1.0]}
    assert isinstance(vt.plot_history(h, smooth=10), Figure)
    with pytest.raises(ValueError, match="plot_history"):
        vt.plot_history({"iter": [], "loss": []})


def test_plot_filters_grey_and_rgb():
    rng = np.random.default_rng(4)
    assert isinstance(vt.plot_filters(rng.normal(size=(20, 1, 5, 5))), Figure)
    assert isinstance(vt.plot_filters(rng.normal(size=(32, 3, 5, 5))), Figure)


def test_plot_confusion_labels_rows_with_accuracy():
    cm = vt.confusion_matrix([0, 0, 1, 2], [0, 1, 1, 2], num_classes=3)
    fig = vt.plot_confusion(cm, ["cat", "dog", "ship"])
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["cat (50%)", "dog (100%)", "ship (100%)"]
    with pytest.raises(ValueError, match="class names"):
        vt.plot_confusion(cm, ["a", "b"])


def test_plot_predictions_marks_mistakes_red():
    rng = np.random.default_rng(5)
    fig = vt.plot_predictions(rng.normal(size=(3, 1, 8, 8)), [0, 1, 2], [0, 2, 2], ["a", "b", "c"], ncols=2)
    assert isinstance(fig, Figure)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == ["a\n(a)", "c\n(b)", "c\n(c)"]
    assert matplotlib.colors.same_color(titled[1].title.get_color(), "red")
    assert not matplotlib.colors.same_color(titled[0].title.get_color(), "red")
    with pytest.raises(ValueError, match="plot_predictions"):
        vt.plot_predictions(np.zeros((2, 1, 4, 4)), [0], [0, 1])


def test_plot_predictions_without_predictions_titles_labels_only():
    fig = vt.plot_predictions(np.zeros((2, 3, 4, 4)), [1, 0], class_names=["cat", "dog"])
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["dog", "cat"]


def test_plot_filters_dict_draws_one_panel_per_set():
    rng = np.random.default_rng(6)
    w0 = rng.normal(size=(6, 1, 5, 5))
    fig = vt.plot_filters({"before": w0, "after": w0 * 2, "change": w0}, title="conv1")
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["before (6 @ 5x5)", "after (6 @ 5x5)", "change (6 @ 5x5)"]
    with pytest.raises(ValueError, match="plot_filters"):
        vt.plot_filters({})


def test_plot_filters_fits_the_notebook_width():
    """Three panels of 32 filters stay within max_width inches, so JupyterLab shows them at their
    size (at 1440x900 a wider figure is shrunk, and its titles fall below 10 px)."""
    import matplotlib
    matplotlib.use("Agg")
    from course_lib.viz.training import plot_filters
    w = np.random.default_rng(0).normal(size=(32, 3, 5, 5))
    fig = plot_filters({"before": w, "after": w, "change": w})
    width, height = fig.get_size_inches()
    assert width <= 9.5 + 1e-9 and height > 0
    assert fig.get_size_inches()[0] * fig.dpi <= 990  # JupyterLab's notebook width at 1440 px
    small = plot_filters(w[:4])
    assert small.get_size_inches()[0] >= 2.5  # a small grid is not blown up or shrunk below readable
