"""Computation-graph pictures for the lectures (forward goes up, backward comes down).

>>> from course_lib.viz.graphs import draw_net_graph
>>> fig = draw_net_graph(net.layers, (1, 1, 28, 28))      # doctest: +SKIP

``graph_nodes`` does the bookkeeping (each layer's bottom/top shape and parameters, found with the
layers' own ``top_shape``) so the drawing code only places boxes and arrows.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch

__all__ = ["graph_nodes", "layer_label", "draw_net_graph", "draw_fc_gradients"]

FORWARD_COLOR = "tab:blue"
BACKWARD_COLOR = "tab:red"
PARAM_COLOR = "tab:green"


def graph_nodes(layers, input_shape):
    """Walk a sequential net and describe every layer.

    layers: list of (name, Layer) pairs, as in ``Net.layers``; input_shape: the data's shape, e.g.
    (N, C, H, W). Returns one dict per layer, bottom first, with keys ``name``, ``layer`` (the
    layer's repr), ``bottom_shape``, ``top_shape`` (``()`` for a loss) and ``params``
    (list of (param name, shape)), plus ``label``, a short caption. A layer that rejects its bottom raises its own ValueError.
    """
    pairs = list(layers)
    for item in pairs:
        if not (isinstance(item, tuple) and len(item) == 2 and hasattr(item[1], "top_shape")):
            raise TypeError(f"graph_nodes: expected a list of (name, Layer) pairs, got {item!r}")
    nodes, shape = [], tuple(input_shape)
    for name, layer in pairs:
        top = tuple(layer.top_shape(shape))
        nodes.append({"name": str(name), "layer": repr(layer), "label": layer_label(name, layer),
                      "bottom_shape": shape, "top_shape": top,
                      "params": [(p, tuple(blob.shape)) for p, blob in layer.params.items()]})
        shape = top
    return nodes


def _box(ax, x, y, text, width, height, color, fontsize=10, weight="normal"):
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor="black", linewidth=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, weight=weight)


def _arrow(ax, start, end, color, style="-|>", linestyle="-"):
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle=style, color=color, lw=1.6, linestyle=linestyle,
                                shrinkA=0, shrinkB=0))


def layer_label(name, layer):
    """A one-line caption in the slides' words: "conv1: Conv 5x5", "pool1: MaxPool 2x2, stride 2"."""
    text = f"{name}: {type(layer).__name__}"
    k = getattr(layer, "kernel_size", None)
    if k is not None:
        text += f" {k}×{k}"
        stride = getattr(layer, "stride", None)
        if stride is not None and stride != 1:
            text += f", stride {stride}"
        pad = getattr(layer, "pad", 0)
        if pad:
            text += f", pad {pad}"
    return text


def _shape(shape):
    return "(" + ", ".join(str(s) for s in shape) + ")"


def draw_net_graph(layers, input_shape, ax=None, title=None):
    """Draw a sequential net as a computation graph: data at the bottom, the loss E at the top
    (or, for a net without a loss layer, its last top).

    Blue arrows going up carry the tops x_l (labelled with their shapes); red arrows coming down
    carry the diffs dE/dx_l that each layer's ``backward`` returns to the layer below. Green boxes
    are the parameters: used by the forward pass (dashed), they receive dE/dw (red). The labels y0
    enter only at the loss layer. Returns the Figure.
    """
    nodes = graph_nodes(layers, input_shape)
    n = len(nodes)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.95 * (n + 2) + 0.6))
    fig = ax.figure
    box_w, box_h, gap = 2.4, 0.42, 1.0
    y_top = (n + 1) * gap  # where E sits

    _box(ax, 0, 0, f"data $x_0$\n{_shape(input_shape)}", box_w, box_h, "whitesmoke", fontsize=9)
    for i, node in enumerate(nodes, start=1):
        y = i * gap
        is_loss = node["top_shape"] == ()
        _box(ax, 0, y, node["label"], box_w + 0.9, box_h,
             "moccasin" if is_loss else "lightsteelblue", fontsize=9, weight="bold")
        # the arrows from the row below into this layer
        lo, hi = y - gap + box_h / 2, y - box_h / 2
        below = "0" if i == 1 else str(i - 1)
        _arrow(ax, (-0.5, lo), (-0.5, hi), FORWARD_COLOR)
        ax.text(-0.65, (lo + hi) / 2, f"$x_{{{below}}}$ {_shape(node['bottom_shape'])}",
                ha="right", va="center", fontsize=9, color=FORWARD_COLOR)
        _arrow(ax, (0.5, hi), (0.5, lo), BACKWARD_COLOR)
        ax.text(0.65, (lo + hi) / 2, rf"$\partial E/\partial x_{{{below}}}$",
                ha="left", va="center", fontsize=10, color=BACKWARD_COLOR)
        if node["params"]:
            text = "\n".join(f"{p} {_shape(s)}" for p, s in node["params"])
            _box(ax, 4.3, y, text, 2.3, box_h + 0.12, "honeydew", fontsize=8)
            _arrow(ax, (3.15, y + 0.08), (box_w / 2 + 0.45, y + 0.08), PARAM_COLOR, linestyle="--")
            _arrow(ax, (box_w / 2 + 0.45, y - 0.08), (3.15, y - 0.08), BACKWARD_COLOR)
            ax.text(2.3, y - 0.1, r"$\partial E/\partial w$", ha="center", va="top", fontsize=9,
                    color=BACKWARD_COLOR)
        if is_loss:
            _box(ax, -4.0, y, "labels $y_0$", 1.5, box_h, "whitesmoke", fontsize=9)
            _arrow(ax, (-3.25, y), (-(box_w + 0.9) / 2, y), "black")

    # on top: the scalar loss (backward starts from dE/dE = 1), or the last top when the net has no loss
    lo, hi = n * gap + box_h / 2, y_top - 0.2
    _arrow(ax, (-0.5, lo), (-0.5, hi), FORWARD_COLOR)
    _arrow(ax, (0.5, hi), (0.5, lo), BACKWARD_COLOR)
    if nodes and nodes[-1]["top_shape"] == ():
        top_text, diff_text = r"$E = -\log\, p[y_0]$", r"$\partial E/\partial E = 1$"
    else:
        top_text = f"$x_{{{n}}}$ {_shape(nodes[-1]['top_shape'] if nodes else input_shape)}"
        diff_text = rf"$\partial E/\partial x_{{{n}}}$ (from the loss)"
    ax.text(0.65, (lo + hi) / 2, diff_text, ha="left", va="center", fontsize=9, color=BACKWARD_COLOR)
    ax.text(0, y_top, top_text, ha="center", va="center", fontsize=11, weight="bold")
    ax.text(-2.6, y_top, "FORWARD  ↑", ha="center", fontsize=11, color=FORWARD_COLOR, weight="bold")
    ax.text(2.6, y_top, "BACKWARD  ↓", ha="center", fontsize=11, color=BACKWARD_COLOR, weight="bold")

    ax.set_xlim(-5.6, 5.8)
    ax.set_ylim(-0.5, y_top + 0.45)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig


def draw_fc_gradients(weight, top_diff, bottom_diff=None, ax=None, bottom_name="P", top_name="FC"):
    """Draw a fully connected layer as a bipartite graph with its backward numbers.

    weight (num_output, num_input): edge j -> i is labelled W_ij; top_diff (num_output,): the
    gradients dE/dFC_i arriving from above; bottom_diff (num_input,), optional: the gradients
    dE/dP_j the layer returned, written next to each input neuron. Returns the Figure.
    """
    weight = np.asarray(weight, dtype=float)
    top_diff = np.asarray(top_diff, dtype=float)
    if weight.ndim != 2 or top_diff.shape != (weight.shape[0],):
        raise ValueError(f"draw_fc_gradients: need weight (num_output, num_input) and top_diff (num_output,), "
                         f"got {weight.shape} and {top_diff.shape}")
    n_out, n_in = weight.shape
    if bottom_diff is not None and np.shape(bottom_diff) != (n_in,):
        raise ValueError(f"draw_fc_gradients: bottom_diff must have shape ({n_in},), got {np.shape(bottom_diff)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 1.3 * max(n_in, n_out) + 1))
    fig = ax.figure
    half = 0.7 * (max(n_in, n_out) - 1)  # both columns span the same height, so labels fan apart
    y_in = np.linspace(half, -half, n_in) if n_in > 1 else np.zeros(1)
    y_out = np.linspace(half, -half, n_out) if n_out > 1 else np.zeros(1)
    palette = ["tab:blue", "tab:purple", "tab:orange", "tab:green", "tab:brown", "tab:olive", "tab:cyan"]
    colors = [palette[j % len(palette)] for j in range(n_in)]  # blue and purple, as in the learner's picture
    x_in, x_out = 0.0, 4.0
    for j in range(n_in):
        for i in range(n_out):
            ax.plot([x_in, x_out], [y_in[j], y_out[i]], color=colors[j], lw=1.5, zorder=1)
            t = 0.35  # label near the input end, where the edges of one neuron fan apart
            ax.text(x_in + t * (x_out - x_in), y_in[j] + t * (y_out[i] - y_in[j]),
                    f"$W_{{{i}{j}}}$={weight[i, j]:g}", fontsize=9, ha="center", va="center", color=colors[j],
                    bbox=dict(facecolor="white", edgecolor="none", pad=0.5), zorder=3)
    for j in range(n_in):
        ax.scatter([x_in], [y_in[j]], s=900, color=colors[j], edgecolor="black", zorder=4)
        ax.text(x_in, y_in[j], f"${bottom_name}_{j}$", ha="center", va="center", color="white", zorder=5,
                weight="bold")
        if bottom_diff is not None:
            ax.text(x_in - 0.45, y_in[j], rf"$\partial E/\partial {bottom_name}_{j}$ = {bottom_diff[j]:g}",
                    ha="right", va="center", fontsize=10, color=BACKWARD_COLOR)
    for i in range(n_out):
        ax.scatter([x_out], [y_out[i]], s=900, color="lightgray", edgecolor="black", zorder=4)
        ax.text(x_out, y_out[i], f"${top_name}_{i}$", ha="center", va="center", zorder=5, fontsize=9)
        ax.text(x_out + 0.45, y_out[i], rf"$\partial E/\partial {top_name}_{i}$ = {top_diff[i]:g}",
                ha="left", va="center", fontsize=10, color=BACKWARD_COLOR)
    ax.set_xlim(x_in - 3.2, x_out + 3.0)
    pad = 0.8
    ax.set_ylim(min(y_in.min(), y_out.min()) - pad, max(y_in.max(), y_out.max()) + pad)
    ax.axis("off")
    return fig
