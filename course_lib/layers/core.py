"""Inner product, ReLU and Flatten: each backward sits right under its forward."""

import numpy as np

from .base import Blob, Layer, param_dtype
from .fillers import constant, xavier


class InnerProduct(Layer):
    """Fully connected layer (slide "Inner product"): y = W x + b.

    bottom (N, D) or (N, C, H, W) with C*H*W = D = num_input -> top (N, num_output).
    weight (num_output, num_input), bias (num_output,).

    Backward (keep x from the forward pass):
        dE/dx = dE/dy @ W          dE/dW += dE/dy^T @ x          dE/db += sum_n dE/dy
    """

    def __init__(self, num_input, num_output, seed=None, dtype=np.float64):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.num_input, self.num_output = int(num_input), int(num_output)
        self.params = {"weight": Blob(xavier((num_output, num_input), num_input, rng, dtype)),
                       "bias": Blob(constant(num_output, 0.0, dtype))}
        self._cache = None

    def __repr__(self):
        return f"InnerProduct({self.num_input}, {self.num_output})"

    def top_shape(self, bottom_shape):
        if len(bottom_shape) < 2 or int(np.prod(bottom_shape[1:])) != self.num_input:
            raise ValueError(f"{self.name}: expected bottom (N, {self.num_input}) or (N, C, H, W) with "
                             f"C*H*W = {self.num_input}, got shape {tuple(bottom_shape)}")
        return (bottom_shape[0], self.num_output)

    def forward(self, bottom):
        bottom = self._check_float(bottom)
        self.top_shape(bottom.shape)
        x = param_dtype(bottom, self.params["weight"]).reshape(bottom.shape[0], -1)
        self._cache = (x, bottom.shape)
        return x @ self.params["weight"].data.T + self.params["bias"].data

    def backward(self, top_diff, propagate_down=True):
        """Returns dE/dbottom, or None with ``propagate_down=False`` (no gradient needed below)."""
        x, bottom_shape = self._need_forward(self._cache)
        dy = self._check_top_diff(top_diff, (x.shape[0], self.num_output))
        W = self.params["weight"]
        W.diff += dy.T @ x
        self.params["bias"].diff += dy.sum(axis=0)
        return (dy @ W.data).reshape(bottom_shape) if propagate_down else None


class ReLU(Layer):
    """Rectified linear unit: y = max(0, x), any shape.

    Backward: dE/dx = dE/dy where x > 0, else 0 (the kink at 0 gets 0, as in Caffe).
    """

    def __init__(self):
        super().__init__()
        self._mask = None

    def forward(self, bottom):
        bottom = self._check_float(bottom)
        self._mask = bottom > 0
        return np.maximum(bottom, 0)  # keeps the dtype; 0 for x <= 0

    def backward(self, top_diff, propagate_down=True):
        mask = self._need_forward(self._mask)
        top_diff = self._check_top_diff(top_diff, mask.shape)
        return top_diff * mask if propagate_down else None


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W). Backward only reshapes the gradient back."""

    def __init__(self):
        super().__init__()
        self._shape = None

    def top_shape(self, bottom_shape):
        if len(bottom_shape) < 2:
            raise ValueError(f"{self.name}: expected a bottom (N, ...) of at least 2 dimensions, "
                             f"got shape {tuple(bottom_shape)}")
        return (bottom_shape[0], int(np.prod(bottom_shape[1:])))

    def forward(self, bottom):
        bottom = self._check_float(bottom)
        top_shape = self.top_shape(bottom.shape)
        self._shape = bottom.shape
        return bottom.reshape(top_shape)

    def backward(self, top_diff, propagate_down=True):
        shape = self._need_forward(self._shape)
        top_diff = self._check_top_diff(top_diff, self.top_shape(shape))
        return top_diff.reshape(shape) if propagate_down else None
