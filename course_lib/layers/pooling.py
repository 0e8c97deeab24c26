"""Max and average pooling (slide "Max-Pooling Layer" and its quiz).

Each forward and backward below is the slide's formula; the index mechanics (padding, the
k*k strided slices of the batch, the winners' flat indices) are in :mod:`.windows`.
"""

import numpy as np

from .base import Layer
from .geometry import pooled_size
from .windows import add_at, crop, pad_for_windows, spread, window_max, window_size, window_sum


class _Pool(Layer):
    def __init__(self, kernel_size, stride=None, pad=0, ceil_mode=False):
        super().__init__()
        stride = kernel_size if stride is None else stride
        if kernel_size < 1 or stride < 1 or pad < 0:
            raise ValueError(f"{self.name}: need kernel_size >= 1, stride >= 1, pad >= 0; "
                             f"got {kernel_size}, {stride}, {pad}")
        if pad >= kernel_size:
            raise ValueError(f"{self.name}: pad ({pad}) must be smaller than kernel_size ({kernel_size})")
        self.kernel_size, self.stride, self.pad, self.ceil_mode = int(kernel_size), int(stride), int(pad), bool(ceil_mode)
        self._shapes = None  # (bottom shape, padded shape) of the last forward

    def __repr__(self):
        return (f"{self.name}(kernel_size={self.kernel_size}, stride={self.stride}, pad={self.pad}"
                + (", ceil_mode=True)" if self.ceil_mode else ")"))

    def top_shape(self, bottom_shape):
        self._check_rank(bottom_shape, 4, "(N, C, H, W)")
        n, c, h, w = bottom_shape
        try:
            return (n, c, pooled_size(h, self.kernel_size, self.stride, self.pad, self.ceil_mode),
                    pooled_size(w, self.kernel_size, self.stride, self.pad, self.ceil_mode))
        except ValueError as e:
            raise ValueError(f"{self.name}: {e} (bottom shape {tuple(bottom_shape)})") from None

    def _pad(self, bottom, value):
        """(padded bottom, (H', W')); remembers both shapes for the backward."""
        bottom = self._check_float(bottom)
        top_hw = self.top_shape(bottom.shape)[2:]
        xp = pad_for_windows(bottom, self.kernel_size, self.stride, self.pad, top_hw, value)
        self._shapes = bottom.shape, xp.shape
        return xp, top_hw


class MaxPool(_Pool):
    """Max pooling. bottom (N, C, H, W) -> top (N, C, H', W').

    H' = floor((H + 2*pad - k) / stride) + 1, or ceil(...) + 1 with ``ceil_mode`` (Caffe).
    Padding is -inf, so it never wins. stride defaults to kernel_size; stride < k overlaps.

    Forward:  y = max over the window, remembering which input won (the first maximum in
              row-major order when there is a tie, as Caffe does).
    Backward: dE/dx = dE/dy at the winner, 0 at the other inputs of the window; an input that
              wins several overlapping windows receives the sum of their gradients.
    """

    def __init__(self, kernel_size, stride=None, pad=0, ceil_mode=False):
        super().__init__(kernel_size, stride, pad, ceil_mode)
        self.winner = None  # flat index (in the padded bottom) of each window's maximum

    def forward(self, bottom):
        xp, top_hw = self._pad(bottom, -np.inf)  # padding never wins
        top, self.winner = window_max(xp, self.kernel_size, self.stride, top_hw)
        return top

    def backward(self, top_diff, propagate_down=True):
        winner = self._need_forward(self.winner)
        top_diff = self._check_top_diff(top_diff, winner.shape)
        if not propagate_down:
            return None
        bottom_shape, padded_shape = self._shapes
        dxp = add_at(padded_shape, winner, top_diff)  # dE/dx = dE/dy at the winner, 0 elsewhere; overlaps add
        return crop(dxp, bottom_shape, self.pad)


class AvePool(_Pool):
    """Average pooling. bottom (N, C, H, W) -> top (N, C, H', W'), sizes as in :class:`MaxPool`.

    Forward:  y = (sum of the window) / size, where size counts the window's cells inside the
              *padded* input (Caffe's and PyTorch's rule; ceil mode's overhang is not counted).
    Backward: every input of the window receives dE/dy / size; overlaps add up.
    """

    def __init__(self, kernel_size, stride=None, pad=0, ceil_mode=False):
        super().__init__(kernel_size, stride, pad, ceil_mode)
        self.size = None  # (H', W') number of cells of each window

    def forward(self, bottom):
        xp, top_hw = self._pad(bottom, 0.0)
        k, s = self.kernel_size, self.stride
        self.size = window_size(self._shapes[0], k, s, self.pad, top_hw).astype(xp.dtype)
        return window_sum(xp, k, s, top_hw) / self.size

    def backward(self, top_diff, propagate_down=True):
        size = self._need_forward(self.size)
        bottom_shape, padded_shape = self._shapes
        top_diff = self._check_top_diff(top_diff, bottom_shape[:2] + size.shape)
        if not propagate_down:
            return None
        dxp = spread(top_diff / size, self.kernel_size, self.stride, padded_shape)  # every input of the window
        return crop(dxp, bottom_shape, self.pad)
