"""Figures for the training lecture: learning curves, first-layer filters, confusion matrix, predictions.

The numeric parts (``running_mean``, ``confusion_matrix``, ``per_class_accuracy``,
``filter_grid``, ``to_display``) are plain functions so they can be tested without drawing;
each ``plot_*`` function draws with them and returns the matplotlib ``Figure``.
"""

import math

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["running_mean", "confusion_matrix", "per_class_accuracy", "filter_grid", "to_display",
           "plot_history", "plot_filters", "plot_confusion", "plot_predictions"]


# -- numeric helpers (no drawing) ----------------------------------------------------------
def running_mean(values, window):
    """Mean of each run of ``window`` consecutive values: (n,) -> (n - window + 1,).

    Mini-batch losses are noisy; their running mean shows the trend. A window larger than
    the series is shrunk to the series' length (one point: the overall mean).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"running_mean: expected a non-empty 1-D series, got shape {v.shape}")
    if int(window) < 1:
        raise ValueError(f"running_mean: window must be >= 1, got {window}")
    w = min(int(window), v.size)
    c = np.concatenate([[0.0], np.cumsum(v)])
    return (c[w:] - c[:-w]) / w


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Counts (C, C) int64: entry [i, j] = number of examples of true class i predicted as j.

    y_true, y_pred: (N,) integer labels in [0, C). ``num_classes`` defaults to 1 + the
    largest label seen (pass it so that classes absent from a small sample still get a row).
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"confusion_matrix: y_true and y_pred must be 1-D of equal length, "
                         f"got shapes {t.shape} and {p.shape}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"confusion_matrix: {name} must hold integer labels, got dtype {a.dtype}")
    t, p = t.astype(np.int64), p.astype(np.int64)  # uint8 labels would wrap in the arithmetic below
    top = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    c = top if num_classes is None else int(num_classes)
    if t.size and (min(t.min(), p.min()) < 0 or top > c):
        raise ValueError(f"confusion_matrix: labels must lie in [0, {c}), got range "
                         f"[{min(t.min(), p.min())}, {top - 1}]")
    # each (true, pred) pair gets one cell index; bincount counts them all at once
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c)


def per_class_accuracy(cm):
    """(C, C) confusion counts -> (C,) fraction of each true class predicted right (NaN if absent)."""
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"per_class_accuracy: expected a square (C, C) matrix, got shape {cm.shape}")
    totals = cm.sum(axis=1)
    out = np.full(len(cm), np.nan)
    np.divide(np.diag(cm), totals, out=out, where=totals > 0)
    return out


def _unit_range(a):
    """Stretch ``a`` linearly to [0, 1]; a constant array becomes 0.5 (no division by zero)."""
    lo, hi = float(a.min()), float(a.max())
    return np.full(a.shape, 0.5) if hi == lo else (a - lo) / (hi - lo)


def filter_grid(weights, ncols=None, pad=1, pad_value=1.0):
    """Tile conv filters into one image, each filter stretched to [0, 1] on its own.

    weights: (F, C, k, k) with C = 1 (grey) or C = 3 (RGB).
    Returns (rows*(k+pad)-pad, ncols*(k+pad)-pad) for C = 1, or the same with a trailing
    RGB axis for C = 3; ncols defaults to ceil(sqrt(F)). Gaps hold ``pad_value``.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 4 or w.shape[1] not in (1, 3) or w.shape[0] == 0:
        raise ValueError(f"filter_grid: expected weights (F, C, k, k) with F >= 1 and C = 1 or 3, "
                         f"got shape {w.shape}")
    f, c, kh, kw = w.shape
    ncols = int(ncols or math.ceil(math.sqrt(f)))
    nrows = -(-f // ncols)
    grid = np.full((nrows * (kh + pad) - pad, ncols * (kw + pad) - pad, c), float(pad_value))
    for i in range(f):
        r, col = divmod(i, ncols)
        tile = _unit_range(w[i]).transpose(1, 2, 0)  # (k, k, C): colour last for imshow
        grid[r * (kh + pad):r * (kh + pad) + kh, col * (kw + pad):col * (kw + pad) + kw] = tile
    return grid[..., 0] if c == 1 else grid


def to_display(images):
    """Images (N, C, H, W) with C = 1 or 3 -> (N, H, W) or (N, H, W, 3), each stretched to [0, 1].

    Inputs are often mean-subtracted or scaled; per-image stretching makes them viewable.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"to_display: expected images (N, C, H, W) with C = 1 or 3, got shape {x.shape}")
    out = np.stack([_unit_range(im) for im in x]) if len(x) else x
    return out[:, 0] if x.shape[1] == 1 else out.transpose(0, 2, 3, 1)


# -- figures ---------------------------------------------------------------------------------
def plot_history(history, smooth=50, title=None):
    """Left: mini-batch loss per iteration (faint) and its running mean; right: accuracies.

    ``history`` is :attr:`SGDSolver.history` (keys "iter", "loss", "eval_iter", "train_acc",
    "val_acc"; the accuracies are drawn against the iteration at which they were measured).
    """
    missing = [k for k in ("iter", "loss") if k not in history]
    if missing or not len(history["loss"]):
        raise ValueError(f"plot_history: history needs non-empty 'iter' and 'loss' lists (missing {missing})")
    it, loss = np.asarray(history["iter"]), np.asarray(history["loss"], dtype=np.float64)
    fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(11, 3.8))
    ax_l.plot(it, loss, color="tab:blue", alpha=0.3, lw=0.8, label="mini-batch loss")
    w = min(int(smooth), len(loss))
    ax_l.plot(it[w - 1:], running_mean(loss, w), color="tab:blue", lw=2, label=f"running mean ({w} it)")
    ax_l.set(xlabel="iteration", ylabel="softmax log-loss", title="training loss")
    ax_l.legend()
    ev = np.asarray(history.get("eval_iter", []))
    for key, label, color in (("train_acc", "train", "tab:orange"), ("val_acc", "held-out", "tab:green")):
        acc = history.get(key, [])
        if len(acc) and len(acc) == len(ev):
            ax_a.plot(ev, acc, "o-", color=color, label=f"{label} ({acc[-1]:.3f})")
    ax_a.set(xlabel="iteration", ylabel="accuracy", title="accuracy")
    if ax_a.lines:
        ax_a.legend(loc="lower right")
    ax_a.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_filters(weights, title="first-layer filters", ncols=None, scale=0.45, max_width=9.5):
    """Draw :func:`filter_grid` of conv weights (F, C, k, k), C = 1 or 3.

    ``weights`` may also be a dict {panel title: weights} to draw several sets side by side
    (e.g. the filters before and after training, and their change); ``title`` is then the
    figure's title. The figure is at most ``max_width`` inches wide: JupyterLab shows a wider
    one shrunk to the notebook's width, and its titles with it (below 10 px at 1440x900).
    """
    sets = dict(weights) if isinstance(weights, dict) else {title: weights}
    if not sets:
        raise ValueError("plot_filters: no filters to draw")
    grids = {name: filter_grid(w, ncols=ncols) for name, w in sets.items()}
    h, w = next(iter(grids.values())).shape[:2]
    panel = (max(2.5, scale * w / 2), max(2.5, scale * h / 2))
    shrink = min(1.0, max_width / (panel[0] * len(grids)))
    panel = (panel[0] * shrink, panel[1] * shrink)
    fig, axes = plt.subplots(1, len(grids), figsize=(panel[0] * len(grids), panel[1] + 0.3), squeeze=False)
    for ax, (name, grid), wts in zip(axes[0], grids.items(), sets.values()):
        ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"{name} ({len(wts)} @ {wts.shape[2]}x{wts.shape[3]})")
    if isinstance(weights, dict):
        fig.suptitle(title)
        fig.tight_layout(rect=(0, 0, 1, 0.92))  # leave the top strip to the figure title
    else:
        fig.tight_layout()
    return fig


def plot_confusion(cm, class_names=None, title="confusion matrix (rows: true, columns: predicted)"):
    """Draw (C, C) counts with each cell's count; colour is the row-normalised fraction."""
    cm = np.asarray(cm)
    acc = per_class_accuracy(cm)  # validates the shape
    c = len(cm)
    names = list(class_names) if class_names is not None else [str(i) for i in range(c)]
    if len(names) != c:
        raise ValueError(f"plot_confusion: {len(names)} class names for a {c}x{c} matrix")
    rows = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    size = max(4.0, 0.55 * c + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(c):
        for j in range(c):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if frac[i, j] > 0.5 else "black")
    ax.set_xticks(range(c), names, rotation=45, ha="right")
    ax.set_yticks(range(c), [f"{n} ({a:.0%})" if np.isfinite(a) else n for n, a in zip(names, acc)])
    ax.set(xlabel="predicted", ylabel="true class (per-class accuracy)", title=title)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    fig.tight_layout()
    return fig


def plot_predictions(images, y_true, y_pred=None, class_names=None, ncols=8, title=None, max_width=9.5):
    """A grid of images (N, C, H, W) titled "predicted (true)"; wrong predictions in red.

    With ``y_pred=None`` each image is titled with its label only (a look at the data).
    At most ``max_width`` inches wide: JupyterLab shrinks a wider figure, and its titles with it.
    """
    disp = to_display(images)
    y_true = np.asarray(y_true)
    y_pred = y_true if y_pred is None else np.asarray(y_pred)
    labels_only = y_pred is y_true
    if not len(disp) == len(y_true) == len(y_pred):
        raise ValueError(f"plot_predictions: {len(disp)} images, {len(y_true)} labels, {len(y_pred)} predictions")
    if len(disp) == 0:
        raise ValueError("plot_predictions: no images to draw")
    name = (lambda k: str(class_names[k])) if class_names is not None else str
    ncols = min(int(ncols), len(disp))
    nrows = -(-len(disp) // ncols)
    cell = min(1.5, max_width / ncols)  # inches per image
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols, (cell + (0.2 if labels_only else 0.5)) * nrows + 0.4),
                             squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, im, t, p in zip(axes.ravel(), disp, y_true, y_pred):
        ax.imshow(im, cmap="gray" if im.ndim == 2 else None, vmin=0, vmax=1)
        text = name(t) if labels_only else f"{name(p)}\n({name(t)})"
        ax.set_title(text, fontsize=9, color="black" if p == t else "red")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
