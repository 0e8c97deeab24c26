"""Max and average pooling (slide "Max-Pooling Layer" and its quiz).

Both forwards loop over the k*k offsets of the window, each step moving one strided slice
of the whole batch, so overlapping windows (stride < kernel) need no special case. Their
backwards *add* each window's gradient onto its inputs: AvePool with the same loop, MaxPool
with one scatter-add of every window's gradient onto its winner (np.add.at).
"""

import numpy as np

from .base import Layer, pooled_size


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
        self._cache = None

    def __repr__(self):
        return (f"{self.name}(kernel_size={self.kernel_size}, stride={self.stride}, pad={self.pad}"
                + (", ceil_mode=True)" if self.ceil_mode else ")"))

    def setup(self, bottom_shape):
        self._check_rank(bottom_shape, 4, "(N, C, H, W)")
        n, c, h, w = bottom_shape
        try:
            return (n, c, pooled_size(h, self.kernel_size, self.stride, self.pad, self.ceil_mode),
                    pooled_size(w, self.kernel_size, self.stride, self.pad, self.ceil_mode))
        except ValueError as e:
            raise ValueError(f"{self.name}: {e} (bottom shape {tuple(bottom_shape)})") from None

    def _padded(self, x, ho, wo, value):
        """Pad by ``pad`` on every side, plus what ceil mode's last window needs on the right/bottom."""
        k, s, p = self.kernel_size, self.stride, self.pad
        _, _, h, w = x.shape
        extra_h = max(0, (ho - 1) * s + k - (h + 2 * p))
        extra_w = max(0, (wo - 1) * s + k - (w + 2 * p))
        if p == extra_h == extra_w == 0:
            return x  # nothing to pad: skip np.pad's copy
        return np.pad(x, ((0, 0), (0, 0), (p, p + extra_h), (p, p + extra_w)), constant_values=value)

    def _offsets(self, ho, wo):
        """Yield (p, q, window slice): the input seen at offset (p, q) of every window."""
        k, s = self.kernel_size, self.stride
        for p in range(k):
            for q in range(k):
                yield p, q, (slice(None), slice(None), slice(p, p + s * ho, s), slice(q, q + s * wo, s))

    def _crop(self, dxp, shape):
        _, _, h, w = shape
        return dxp[:, :, self.pad:self.pad + h, self.pad:self.pad + w]


class MaxPool(_Pool):
    """Max pooling. bottom (N, C, H, W) -> top (N, C, H', W').

    H' = floor((H + 2*pad - k) / stride) + 1, or ceil(...) + 1 with ``ceil_mode`` (Caffe).
    Padding is -inf, so it never wins. stride defaults to kernel_size; stride < k overlaps.

    Forward:  y = max over the window, remembering which input won (the first maximum in
              row-major order when there is a tie, as Caffe does).
    Backward: dE/dx = dE/dy at the winner, 0 at the other inputs of the window; an input that
              wins several overlapping windows receives the sum of their gradients.
    """

    def forward(self, bottom):
        bottom = self._check_float(bottom)
        n, c, ho, wo = self.setup(bottom.shape)
        k = self.kernel_size
        xp = self._padded(bottom, ho, wo, -np.inf)
        top = np.full((n, c, ho, wo), -np.inf, dtype=bottom.dtype)
        arg = np.zeros((n, c, ho, wo), dtype=np.min_scalar_type(k * k - 1))  # uint8 for k <= 16: less to stream
        for p, q, sl in self._offsets(ho, wo):
            v = np.ascontiguousarray(xp[sl])  # one strided read; the two passes below then run on contiguous memory
            better = v > top  # strict: a later equal value never replaces the first maximum
            np.fmax(top, v, out=top)  # fmax, not maximum: a NaN never wins, as with ">"
            # Offsets come in increasing order, so "this offset where better" is a maximum; arithmetic on
            # the mask is ~10x faster than a masked assignment (arg[better] = ..., np.where, np.copyto).
            np.maximum(arg, better * arg.dtype.type(p * k + q), out=arg)
        self._cache = (bottom.shape, xp.shape, arg)
        return top

    def backward(self, top_diff):
        shape, padded_shape, arg = self._need_forward(self._cache)
        top_diff = self._check_top_diff(top_diff, arg.shape)
        n, c, hp, wp = padded_shape
        _, _, ho, wo = arg.shape
        k, s = self.kernel_size, self.stride
        # Flat index (in the padded input) of each window's winner, built in place (no big temporaries):
        idx = (np.arange(k).reshape(k, 1) * wp + np.arange(k)).ravel()[arg]  # winning offset (p, q): p*wp + q
        idx += s * np.arange(ho).reshape(ho, 1) * wp + s * np.arange(wo)  # + the window's corner in its map
        idx += np.arange(n * c).reshape(n, c, 1, 1) * (hp * wp)  # + where the map starts
        dxp = np.zeros(n * c * hp * wp, dtype=top_diff.dtype)
        # Overlapping windows can share a winner: np.add.at adds both gradients (dxp[idx] += g would keep one).
        np.add.at(dxp, idx.ravel(), top_diff.ravel())  # 1-D operands take add.at's fast path
        return self._crop(dxp.reshape(padded_shape), shape)


class AvePool(_Pool):
    """Average pooling. bottom (N, C, H, W) -> top (N, C, H', W'), sizes as in :class:`MaxPool`.

    Forward:  y = (sum of the window) / size, where size counts the window's cells inside the
              *padded* input (Caffe's and PyTorch's rule; ceil mode's overhang is not counted).
    Backward: every input of the window receives dE/dy / size; overlaps add up.
    """

    def _window_size(self, shape, ho, wo):
        _, _, h, w = shape
        k, s, p = self.kernel_size, self.stride, self.pad
        rows = np.minimum(np.arange(ho) * s + k, h + 2 * p) - np.arange(ho) * s
        cols = np.minimum(np.arange(wo) * s + k, w + 2 * p) - np.arange(wo) * s
        return np.outer(rows, cols)

    def forward(self, bottom):
        bottom = self._check_float(bottom)
        n, c, ho, wo = self.setup(bottom.shape)
        xp = self._padded(bottom, ho, wo, 0.0)
        total = np.zeros((n, c, ho, wo), dtype=bottom.dtype)
        for _, _, sl in self._offsets(ho, wo):
            total += xp[sl]
        size = self._window_size(bottom.shape, ho, wo).astype(bottom.dtype)
        self._cache = (bottom.shape, xp.shape, size)
        return total / size

    def backward(self, top_diff):
        shape, padded_shape, size = self._need_forward(self._cache)
        n, c = shape[:2]
        top_diff = self._check_top_diff(top_diff, (n, c) + size.shape)
        g = top_diff / size
        dxp = np.zeros(padded_shape, dtype=g.dtype)
        for _, _, sl in self._offsets(*size.shape):
            dxp[sl] += g
        return self._crop(dxp, shape)
