"""Figures and a widget for the pooling, convolution-backward and im2col lectures.

The logic (which top pixels one input pixel influences, the terms that make up dE/dX at that
pixel) is kept apart from the drawing, so it can be tested without a display:

>>> influenced_pixels((3, 3), kernel_size=2, row=1, col=1)   # the centre of a 3x3 input
[(0, 0, 1, 1), (0, 1, 1, 0), (1, 0, 0, 1), (1, 1, 0, 0)]

Coordinates: an input pixel is (row, col) of the *unpadded* input; a top pixel (i, j) covers the
padded rows i*stride .. i*stride + k - 1, so input row r meets kernel row p = r + pad - i*stride.
"""

from typing import NamedTuple

import numpy as np

from ..layers.geometry import conv_size

__all__ = ["Term", "influenced_pixels", "dx_terms", "terms_table", "draw_influence",
           "influence_explorer", "draw_pool_routing", "draw_im2col"]


class Term(NamedTuple):
    """One summand of dE/dx at an input pixel: top_diff[n, f, i, j] * weight[f, c, p, q]."""
    f: int
    i: int
    j: int
    p: int
    q: int
    top_diff: float
    weight: float

    @property
    def product(self):
        return self.top_diff * self.weight


def influenced_pixels(x_hw, kernel_size, stride=1, pad=0, row=0, col=0):
    """Top pixels whose window covers input pixel (row, col).

    x_hw: (H, W) of the input (a longer shape's last two entries are used).
    Returns a list of (i, j, p, q): top pixel (i, j) and the kernel offset (p, q) that lands on
    the pixel, in row-major order of (i, j). The list is the same for every output feature map.
    """
    h, w = (int(v) for v in tuple(x_hw)[-2:])
    k = int(kernel_size)
    if k < 1 or stride < 1 or pad < 0:
        raise ValueError(f"influenced_pixels: need kernel_size >= 1, stride >= 1, pad >= 0; got {k}, {stride}, {pad}")
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f"influenced_pixels: pixel ({row}, {col}) is outside the {h}x{w} input")
    ho, wo = conv_size(h, k, stride, pad), conv_size(w, k, stride, pad)
    rows = [(i, row + pad - i * stride) for i in range(ho) if 0 <= row + pad - i * stride < k]
    cols = [(j, col + pad - j * stride) for j in range(wo) if 0 <= col + pad - j * stride < k]
    return [(i, j, p, q) for i, p in rows for j, q in cols]


def dx_terms(top_diff, weight, x_shape, pixel, stride=1, pad=0):
    """The terms of dE/dx at ``pixel`` = (n, c, row, col): one per (feature map, influenced top pixel).

    top_diff (N, F, H', W'); weight (F, C, k, k); x_shape (N, C, H, W).
    sum(t.product for t in terms) equals Conv.backward(top_diff)[n, c, row, col].
    """
    top_diff, weight = np.asarray(top_diff), np.asarray(weight)
    if top_diff.ndim != 4 or weight.ndim != 4 or len(x_shape) != 4:
        raise ValueError(f"dx_terms: need 4-D top_diff, weight and x_shape, got shapes "
                         f"{top_diff.shape}, {weight.shape}, {tuple(x_shape)}")
    n, c, row, col = pixel
    f_count, channels, k, _ = weight.shape
    expected = (x_shape[0], f_count, conv_size(x_shape[2], k, stride, pad), conv_size(x_shape[3], k, stride, pad))
    if top_diff.shape != expected:
        raise ValueError(f"dx_terms: top_diff has shape {top_diff.shape}, expected {expected}")
    if not (0 <= n < x_shape[0] and 0 <= c < channels):
        raise ValueError(f"dx_terms: image {n} / channel {c} outside x_shape {tuple(x_shape)}")
    return [Term(f, i, j, p, q, float(top_diff[n, f, i, j]), float(weight[f, c, p, q]))
            for f in range(f_count)
            for i, j, p, q in influenced_pixels(x_shape, k, stride, pad, row, col)]


def terms_table(terms, pixel=None):
    """A plain-text table of the terms and their sum (what the widget prints)."""
    head = f"dE/dx at (n, c, row, col) = {tuple(pixel)}\n" if pixel is not None else ""
    lines = [f"{'f':>2} {'top (i,j)':>9} {'w (p,q)':>8} {'top_diff':>9} {'weight':>8} {'product':>9}"]
    for t in terms:
        lines.append(f"{t.f:>2} {f'({t.i},{t.j})':>9} {f'({t.p},{t.q})':>8} {t.top_diff:>9.4f} "
                     f"{t.weight:>8.4f} {t.product:>9.4f}")
    total = sum(t.product for t in terms)
    lines.append(f"{len(terms)} terms{'':>37}sum = {total:.4f}")
    return head + "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# drawing helpers

def _grid(ax, x0, y0, values, colors=None, fmt="{:.2f}", fontsize=10, edge="0.3", lw=1.0):
    # text sits on a box of the cell's colour so that arrows crossing the cell never hide it
    """Draw an (H, W) grid whose cell (r, s) has its lower-left corner at (x0 + s, y0 - r - 1)."""
    from matplotlib.patches import Rectangle
    h, w = np.shape(values)[:2]
    for r in range(h):
        for s in range(w):
            face = "white" if colors is None or colors[r][s] is None else colors[r][s]
            ax.add_patch(Rectangle((x0 + s, y0 - r - 1), 1, 1, facecolor=face, edgecolor=edge, lw=lw))
            v = values[r][s]
            if v is not None and v != "":
                text = v if isinstance(v, str) else fmt.format(v)
                ax.text(x0 + s + 0.5, y0 - r - 0.5, text, ha="center", va="center", fontsize=fontsize, zorder=4,
                        bbox=dict(boxstyle="round,pad=0.15", facecolor=face, edgecolor="none"))


def _edge(x0, y0, r, s, top):
    """Midpoint of the top (or bottom) edge of cell (r, s): arrows start and end there."""
    return x0 + s + 0.5, y0 - r - (0 if top else 1)


def _arrow(ax, start, end, **style):
    ax.annotate("", xy=end, xytext=start, zorder=3,
                arrowprops=dict(arrowstyle="->", color="tab:red", lw=1.3, shrinkA=0, shrinkB=0, **style))


def _finish(ax, title, xlim, ylim):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=11, pad=12)


def draw_influence(x_shape, weight, top_diff, pixel, stride=1, pad=0, ax=None, names=("input", "top diff")):
    """The slide's question "take one pixel in layer n-1: which pixels of the next layer does it
    influence?" drawn for one input pixel.

    Bottom: channel c of the input (padding as a grey ring). Top: every feature map's top diff;
    the influenced pixels are orange and show the kernel offset (p, q) that touches the input
    pixel. ``names`` labels the bottom and the top grids. Returns the figure.
    """
    import matplotlib.pyplot as plt
    weight, top_diff = np.asarray(weight), np.asarray(top_diff)
    n, c, row, col = pixel
    terms = dx_terms(top_diff, weight, x_shape, pixel, stride, pad)
    h, w = x_shape[2], x_shape[3]
    f_count, _, k, _ = weight.shape
    ho, wo = top_diff.shape[2:]
    hp, wp = h + 2 * pad, w + 2 * pad
    width = max(wp, f_count * (wo + 1.5))
    xlim, ylim = (-0.3, width + 0.3), (-hp - 1.6, ho + 3.3)
    if ax is None:
        scale = min(0.7, 12 / (xlim[1] - xlim[0]))  # inches per cell, at most 12 inches wide
        fig, ax = plt.subplots(figsize=(max(6.5, scale * (xlim[1] - xlim[0])), scale * (ylim[1] - ylim[0]) + 0.9))
    fig = ax.figure
    # bottom: the padded input channel, the chosen pixel in red
    colors = [["0.88" if not (pad <= r < pad + h and pad <= s < pad + w) else None for s in range(wp)]
              for r in range(hp)]
    colors[row + pad][col + pad] = "tab:red"
    labels = [["" for _ in range(wp)] for _ in range(hp)]
    for r in range(h):
        for s in range(w):
            labels[r + pad][s + pad] = f"{r},{s}"
    bx0 = (width - wp) / 2
    _grid(ax, bx0, 0, labels, colors, fontsize=8)
    ax.text(bx0 + wp / 2, -hp - 0.6, f"{names[0]}, channel c={c} (image n={n})" + (f", pad={pad} in grey" if pad else ""),
            ha="center", va="top", fontsize=10)

    # top: one grid per feature map, influenced pixels in orange with their kernel offset
    ty0 = ho + 2.2
    src = _edge(bx0, 0, row + pad, col + pad, top=True)
    for f in range(f_count):
        tx0 = f * (wo + 1.5)
        hit = {(t.i, t.j): t for t in terms if t.f == f}
        colors = [["tab:orange" if (i, j) in hit else None for j in range(wo)] for i in range(ho)]
        labels = [[f"{top_diff[n, f, i, j]:.2f}" + (f"\nw{hit[i, j].p}{hit[i, j].q}" if (i, j) in hit else "")
                   for j in range(wo)] for i in range(ho)]
        _grid(ax, tx0, ty0, labels, colors, fontsize=9)
        ax.text(tx0 + wo / 2, ty0 + 0.3, f"{names[1]}, map f={f}", ha="center", va="bottom", fontsize=10)
        for (i, j) in hit:
            _arrow(ax, src, _edge(tx0, ty0, i, j, top=False), alpha=0.6)
    total = sum(t.product for t in terms)
    _finish(ax, f"{names[0]} pixel (row {row}, col {col}) influences {len(terms)} top pixels "
                f"(orange; wPQ = kernel offset)\ndE/dx there = sum of top_diff * w = {total:.4f}",
            xlim, ylim)
    return fig


def influence_explorer(x_shape, weight, top_diff, stride=1, pad=0, dx=None):
    """An ipywidgets box: sliders pick (n, c, row, col); shows :func:`draw_influence` and the
    table of :func:`terms_table`, and, if ``dx`` (the layer's backward output) is given, the
    value it holds at that pixel for comparison.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    def slider(name, hi):  # two to a row: four fit JupyterLab's notebook at 1440 px and narrower
        return widgets.IntSlider(value=0, min=0, max=hi - 1, description=name, continuous_update=False,
                                 disabled=hi == 1, layout=widgets.Layout(width="340px"))

    sliders = {"n": slider("image n", x_shape[0]), "c": slider("channel c", x_shape[1]),
               "row": slider("row", x_shape[2]), "col": slider("col", x_shape[3])}
    out = widgets.Output()

    def redraw(n, c, row, col):
        pixel = (n, c, row, col)
        with out:
            out.clear_output(wait=True)
            fig = draw_influence(x_shape, weight, top_diff, pixel, stride, pad)
            display(fig)
            plt.close(fig)
            print(terms_table(dx_terms(top_diff, weight, x_shape, pixel, stride, pad), pixel))
            if dx is not None:
                print(f"Conv.backward's dx at this pixel:{'':>19}{float(dx[pixel]):.4f}")

    widgets.interactive_output(redraw, sliders)
    return widgets.VBox([widgets.HBox(list(sliders.values()), layout=widgets.Layout(flex_flow="row wrap")), out])


def draw_pool_routing(x, kernel_size, stride=None, top_diff=None):
    """Max pooling's forward and backward on one (H, W) map, side by side.

    Left (forward): the input, each window tinted, its maximum outlined and an arrow up to the
    pooled value. Right (backward): the top diff, each routed down to its window's argmax;
    every other input gets 0. Ties go to the first maximum in row-major order (Caffe's rule).
    Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from course_lib.layers import naive

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"draw_pool_routing: expected one (H, W) map, got shape {x.shape}")
    k = int(kernel_size)
    s = k if stride is None else int(stride)
    h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    y, arg = naive.maxpool_forward(x[None, None], k, s, 0, ho, wo)
    y, arg = y[0, 0], arg[0, 0]
    g = np.arange(1.0, ho * wo + 1).reshape(ho, wo) if top_diff is None else np.asarray(top_diff, float)
    dx = naive.maxpool_backward(g[None, None], (1, 1, h, w), arg[None, None], 0)[0, 0]

    palette = plt.get_cmap("Pastel1").colors
    win_color = {(i, j): palette[(i * wo + j) % len(palette)] for i in range(ho) for j in range(wo)}
    tint = [[None] * w for _ in range(h)]
    if s >= k:  # non-overlapping windows: tint each one
        for (i, j), col in win_color.items():
            for r in range(i * s, i * s + k):
                for c in range(j * s, j * s + k):
                    tint[r][c] = col

    fig, axes = plt.subplots(1, 2, figsize=(2 * max(w, 4) * 0.8 + 1, (h + ho) * 0.8 + 2))
    ty0, tx0 = ho + 2, (w - wo) / 2
    panels = [(axes[0], x, y, "forward: top = max of the window"),
              (axes[1], dx, g, "backward: top diff goes to the argmax, 0 elsewhere")]
    for ax, bottom_vals, top_vals, title in panels:
        _grid(ax, 0, 0, bottom_vals.tolist(), tint, fmt="{:g}", fontsize=10)
        _grid(ax, tx0, ty0, top_vals.tolist(), [[win_color[i, j] for j in range(wo)] for i in range(ho)],
              fmt="{:g}", fontsize=10)
        for i in range(ho):
            for j in range(wo):
                r, c = arg[i, j]
                ax.add_patch(Rectangle((c, -r - 1), 1, 1, fill=False, edgecolor="tab:red", lw=2.5))
                a, b = _edge(0, 0, r, c, top=True), _edge(tx0, ty0, i, j, top=False)
                _arrow(ax, a, b) if ax is axes[0] else _arrow(ax, b, a)
        ax.text(w / 2, -h - 0.4, "bottom x" if ax is axes[0] else "bottom diff dE/dx", ha="center", va="top")
        ax.text(tx0 + wo / 2, ty0 + 0.3, "top y" if ax is axes[0] else "top diff dE/dy", ha="center", va="bottom")
        _finish(ax, title, (-0.3, w + 0.3), (-h - 1.2, ty0 + 1.0))
    fig.tight_layout()
    return fig


def draw_im2col(x_hw, kernel_size, stride=1, pad=0, highlight=0):
    """im2col of a small single-channel input whose pixels are numbered 1..H*W (0 = padding).

    Left: the input with the patch of column ``highlight`` outlined. Right: the im2col matrix,
    one column per output pixel, one row per kernel offset (p, q); the same number appears in
    several columns because windows overlap. Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from course_lib.layers import im2col

    h, w = x_hw
    k = int(kernel_size)
    x = np.arange(1.0, h * w + 1).reshape(1, 1, h, w)
    cols = im2col(x, k, stride, pad)
    ho, wo = conv_size(h, k, stride, pad), conv_size(w, k, stride, pad)
    if not 0 <= highlight < cols.shape[1]:
        raise ValueError(f"draw_im2col: highlight must be a column index in [0, {cols.shape[1]}), got {highlight}")
    cmap = plt.get_cmap("tab20")
    palette = [i for i in range(20) if i not in (14, 15)]  # tab20's greys would look like padding

    def color(v):
        if v == 0:
            return "0.9"
        rgb = cmap(palette[(int(v) - 1) % len(palette)])[:3]
        return tuple(0.45 + 0.55 * np.array(rgb))  # pale and opaque

    xp = np.pad(x[0, 0], pad)
    fig, axes = plt.subplots(1, 2, figsize=(3 + 0.55 * cols.shape[1] + 0.6 * xp.shape[1], 1.2 + 0.55 * max(cols.shape[0], xp.shape[0])),
                             gridspec_kw={"width_ratios": [xp.shape[1] + 1, cols.shape[1] + 2]})
    _grid(axes[0], 0, 0, [[f"{v:g}" for v in row] for row in xp], [[color(v) for v in row] for row in xp])
    i, j = divmod(highlight, wo)
    axes[0].add_patch(Rectangle((j * stride, -i * stride - k), k, k, fill=False, edgecolor="k", lw=3))
    _finish(axes[0], f"input {h}x{w}" + (f" (pad {pad})" if pad else "") + f",\nkernel {k}x{k}, stride {stride}",
            (-0.2, xp.shape[1] + 0.2), (-max(xp.shape[0], cols.shape[0]) - 0.2, 0.9))

    ax = axes[1]
    _grid(ax, 0, 0, [[f"{v:g}" for v in row] for row in cols], [[color(v) for v in row] for row in cols])
    ax.add_patch(Rectangle((highlight, -cols.shape[0]), 1, cols.shape[0], fill=False, edgecolor="k", lw=3))
    for r in range(cols.shape[0]):
        p, q = divmod(r, k)
        ax.text(-0.2, -r - 0.5, f"(p,q)=({p},{q})", ha="right", va="center", fontsize=8)
    for c in range(cols.shape[1]):
        ax.text(c + 0.5, 0.15, "{},{}".format(*divmod(c, wo)), ha="center", va="bottom", fontsize=8)
    _finish(ax, f"im2col matrix ({cols.shape[0]} x {cols.shape[1]}):\ncolumn = one output pixel (i, j), row = offset (p, q)",
            (-3.2, cols.shape[1] + 0.2), (-max(xp.shape[0], cols.shape[0]) - 0.2, 0.9))
    fig.tight_layout()
    return fig
