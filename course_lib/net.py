"""A sequential net (Caffe's Net for a chain of layers) and the two topologies of the lecture."""

import numpy as np

from .layers import AvePool, Conv, InnerProduct, MaxPool, ReLU, SoftmaxWithLoss
from .layers.base import Layer, LossLayer
from .layers.fillers import gaussian


class Net:
    """A chain of named layers; the last may be a loss layer (:class:`SoftmaxWithLoss`).

    ``forward(x, labels)`` runs every layer and returns the mean loss; ``forward(x)`` stops
    before the loss and returns the scores. ``backward()`` walks the chain from the loss down
    (the loss layer's p - onehot is the first top_diff: the "dE/dY" of the slides), adds every
    parameter's gradient into its ``diff`` and returns dE/dx. ``zero_diff()`` starts a new
    iteration.
    """

    def __init__(self, layers):
        layers = list(layers)
        names = [name for name, _ in layers]
        if len(set(names)) != len(names):
            raise ValueError(f"Net: layer names must be unique, got {names}")
        for name, layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Net: layer {name!r} is a {type(layer).__name__}, not a course_lib Layer")
        self.layers = layers
        self.tops = {}
        self._ran_loss = False

    @property
    def loss_layer(self):
        last = self.layers[-1][1] if self.layers else None
        return last if isinstance(last, LossLayer) else None

    @property
    def body(self):
        """The layers before the loss."""
        return self.layers[:-1] if self.loss_layer is not None else self.layers

    def forward(self, x, labels=None):
        """x (N, ...) -> mean loss (with labels) or scores (without)."""
        self.tops = {}
        for name, layer in self.body:
            x = layer.forward(x)
            self.tops[name] = x
        self._ran_loss = labels is not None
        if labels is None:
            return x
        if self.loss_layer is None:
            raise ValueError("Net: labels given but the net has no loss layer")
        loss = self.loss_layer.forward(x, labels)
        self.tops[self.layers[-1][0]] = loss
        return loss

    def backward(self, top_diff=None, input_diff=True):
        """From the loss (or from ``top_diff`` at the scores) down to the input; returns dE/dx.

        ``input_diff=False`` (what the solver uses) returns None and lets the first layer skip
        dE/dx when it can: nothing learns from the gradient of the images (Caffe infers the same).
        """
        if top_diff is None:
            if not self._ran_loss:
                raise RuntimeError("Net.backward: call forward(x, labels) first, or pass top_diff for the scores")
            top_diff = self.loss_layer.backward()
        body = self.body
        for i, (_, layer) in enumerate(reversed(body)):
            first = i == len(body) - 1
            top_diff = layer.backward(top_diff, propagate_down=input_diff or not first)
        return top_diff

    def params(self):
        """{"conv1.weight": Blob, ...} in layer order."""
        return {f"{name}.{p}": blob for name, layer in self.layers for p, blob in layer.params.items()}

    def zero_diff(self):
        for _, layer in self.layers:
            layer.zero_diff()

    def astype(self, dtype):
        for _, layer in self.layers:
            layer.astype(dtype)
        return self

    def predict(self, x, batch_size=256):
        """Scores for x, computed in batches (no loss, nothing kept for backward)."""
        return np.concatenate([self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])

    def summary(self, input_shape):
        """A table of each layer's top shape and parameter count (Caffe prints the same at setup)."""
        shape = tuple(input_shape)
        rows = [("data", "Input", shape, 0)]
        for name, layer in self.body:
            shape = layer.top_shape(shape)
            rows.append((name, repr(layer), shape, sum(b.data.size for b in layer.params.values())))
        if self.loss_layer is not None:
            rows.append((self.layers[-1][0], repr(self.loss_layer), (), 0))
        width = max(len(r[1]) for r in rows)
        lines = [f"{'name':<8} {'layer':<{width}} {'top shape':<20} {'params':>9}"]
        lines += [f"{n:<8} {lay:<{width}} {str(s):<20} {p:>9,}" for n, lay, s, p in rows]
        lines.append(f"total parameters: {sum(r[3] for r in rows):,}")
        return "\n".join(lines)

    def __repr__(self):
        return "Net(\n" + "".join(f"  {n}: {layer!r}\n" for n, layer in self.layers) + ")"


def _seeds(seed, n):
    return np.random.default_rng(seed).integers(0, 2**31 - 1, size=n)


def _bias_lr_mult(net, mult=2.0):
    """Caffe's example nets train every bias with twice the base learning rate (``lr_mult: 2``)."""
    for _, layer in net.layers:
        if "bias" in layer.params:
            layer.params["bias"].lr_mult = mult
    return net


def lenet(num_classes=10, seed=0, dtype=np.float64):
    """Caffe's LeNet (examples/mnist/lenet_train_test.prototxt) for (N, 1, 28, 28) inputs.

    conv1 20@5x5 -> pool1 max 2/2 -> conv2 50@5x5 -> pool2 max 2/2 -> ip1 500 -> relu1 -> ip2 -> loss;
    biases learn at twice the learning rate (``lr_mult: 2``), as in the prototxt.
    """
    s = _seeds(seed, 4)
    return _bias_lr_mult(Net([
        ("conv1", Conv(1, 20, 5, seed=s[0], dtype=dtype)),
        ("pool1", MaxPool(2, 2)),
        ("conv2", Conv(20, 50, 5, seed=s[1], dtype=dtype)),
        ("pool2", MaxPool(2, 2)),
        ("ip1", InnerProduct(50 * 4 * 4, 500, seed=s[2], dtype=dtype)),
        ("relu1", ReLU()),
        ("ip2", InnerProduct(500, num_classes, seed=s[3], dtype=dtype)),
        ("loss", SoftmaxWithLoss()),
    ]))


# The weight fillers of Caffe's cifar10_quick prototxt: gaussians with a std chosen per layer for
# its inputs (raw 0..255 pixels minus the mean image), biases 0.
CIFAR10_QUICK_STD = {"conv1": 1e-4, "conv2": 0.01, "conv3": 0.01, "ip1": 0.1, "ip2": 0.1}


def cifar10_quick(num_classes=10, seed=0, dtype=np.float64, fillers="xavier"):
    """Caffe's cifar10_quick (examples/cifar10/cifar10_quick_train_test.prototxt), (N, 3, 32, 32) inputs.

    conv1 32@5x5 pad 2 -> pool1 max 3/2 -> relu1 -> conv2 32@5x5 pad 2 -> relu2 -> pool2 ave 3/2
    -> conv3 64@5x5 pad 2 -> relu3 -> pool3 ave 3/2 -> ip1 64 -> ip2 -> loss.
    Caffe's pooling rounds output sizes up (ceil mode): 32 -> 16 -> 8 -> 4. Biases learn at twice
    the learning rate (``lr_mult: 2``), as in the prototxt.

    ``fillers``: "xavier" (the default) starts every layer with Caffe's xavier filler, which keeps
    a layer's output on the scale of its input whatever that scale is: right for pixels in [0, 1]
    and learning rates around 0.01. "caffe" uses the prototxt's own gaussian fillers
    (``CIFAR10_QUICK_STD``: std 1e-4 for conv1, 0.01 for conv2 and conv3, 0.1 for ip1 and ip2),
    made for what Caffe feeds this net -- raw 0..255 pixels minus the mean image -- and its
    solver's learning rate 0.001 (lecture 8 trains it that way).
    """
    if fillers not in ("xavier", "caffe"):
        raise ValueError(f"cifar10_quick: fillers must be 'xavier' or 'caffe', got {fillers!r}")
    s = _seeds(seed, 6)
    net = _bias_lr_mult(Net([
        ("conv1", Conv(3, 32, 5, pad=2, seed=s[0], dtype=dtype)),
        ("pool1", MaxPool(3, 2, ceil_mode=True)),
        ("relu1", ReLU()),
        ("conv2", Conv(32, 32, 5, pad=2, seed=s[1], dtype=dtype)),
        ("relu2", ReLU()),
        ("pool2", AvePool(3, 2, ceil_mode=True)),
        ("conv3", Conv(32, 64, 5, pad=2, seed=s[2], dtype=dtype)),
        ("relu3", ReLU()),
        ("pool3", AvePool(3, 2, ceil_mode=True)),
        ("ip1", InnerProduct(64 * 4 * 4, 64, seed=s[3], dtype=dtype)),
        ("ip2", InnerProduct(64, num_classes, seed=s[4], dtype=dtype)),
        ("loss", SoftmaxWithLoss()),
    ]))
    if fillers == "caffe":
        rng = np.random.default_rng(s[5])
        for name, layer in net.layers:
            if name in CIFAR10_QUICK_STD:
                weight = layer.params["weight"]
                weight.data[...] = gaussian(weight.shape, CIFAR10_QUICK_STD[name], rng, dtype)
    return net
