"""The layer contract of the slides (Caffe's ``layer.hpp``): Setup, Forward, Backward.

A layer maps a *bottom* array to a *top* array. ``backward(top_diff)`` receives
dE/dtop from the layer above and

1. returns dE/dbottom (propagates the gradient down), and
2. **adds** dE/dparam into ``params[name].diff``.

Adding (not assigning) is Caffe's rule: a parameter used in several places -- a
convolution kernel slid over every pixel, or one layer shared by two branches --
gets the *sum* of the gradients of all its uses. The net (or solver) zeroes the
diffs once per iteration.
"""

import numpy as np


class Blob:
    """A parameter: ``data`` and its gradient ``diff`` (dE/d data), same shape."""

    def __init__(self, data):
        self.data = np.asarray(data)
        self.diff = np.zeros_like(self.data)

    @property
    def shape(self):
        return self.data.shape

    def zero_diff(self):
        self.diff[...] = 0

    def __repr__(self):
        return f"Blob(shape={self.data.shape}, dtype={self.data.dtype})"


class Layer:
    """Base class: subclasses implement ``setup``, ``forward`` and ``backward``.

    - ``setup(bottom_shape)`` checks the bottom's shape and returns the top's shape.
      ``forward`` calls it, so a bad input fails with the layer's name in the message.
    - ``forward(bottom)`` computes the top and keeps what ``backward`` needs.
    - ``backward(top_diff)`` returns dE/dbottom and accumulates parameter diffs.
    """

    def __init__(self):
        self.params = {}

    # -- the contract -----------------------------------------------------
    def setup(self, bottom_shape):
        return tuple(bottom_shape)

    def forward(self, bottom):
        raise NotImplementedError

    def backward(self, top_diff):
        raise NotImplementedError

    # -- helpers shared by all layers ---------------------------------------
    def zero_diff(self):
        for blob in self.params.values():
            blob.zero_diff()

    def astype(self, dtype):
        """Cast the parameters (and reset their diffs) to ``dtype``; returns self."""
        for blob in self.params.values():
            blob.data = blob.data.astype(dtype)
            blob.diff = np.zeros_like(blob.data)
        return self

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"{self.name}()"

    def _check_float(self, x, what="bottom"):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"{self.name}: {what} must be a floating-point array, got dtype {x.dtype} "
                            f"(convert with x.astype(np.float32) or np.float64)")
        return x

    def _check_rank(self, shape, ndim, layout):
        if len(shape) != ndim:
            raise ValueError(f"{self.name}: expected a {ndim}-D bottom {layout}, got shape {tuple(shape)}")

    def _check_top_diff(self, top_diff, expected_shape):
        top_diff = self._check_float(top_diff, "top_diff")
        if top_diff.shape != tuple(expected_shape):
            raise ValueError(f"{self.name}: top_diff has shape {top_diff.shape}, expected the top's shape "
                             f"{tuple(expected_shape)}")
        return top_diff

    def _need_forward(self, cache):
        if cache is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        return cache


def param_dtype(bottom, blob):
    """Compute in the parameters' dtype (float64 by default; float32 after ``astype``)."""
    return bottom.astype(blob.data.dtype, copy=False)


def pooled_size(size, kernel, stride, pad, ceil_mode):
    """Output length of a pooling window sweep (Caffe's rule when ``ceil_mode``)."""
    span = size + 2 * pad - kernel
    if span < 0:
        raise ValueError(f"window {kernel} larger than padded input {size + 2 * pad}")
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and pad > 0 and (out - 1) * stride >= size + pad:
        out -= 1  # Caffe/PyTorch: the last window must start inside the input or left padding
    return out


def conv_size(size, kernel, stride, pad):
    span = size + 2 * pad - kernel
    if span < 0:
        raise ValueError(f"kernel {kernel} larger than padded input {size + 2 * pad}")
    return span // stride + 1
