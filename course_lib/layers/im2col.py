"""im2col / col2im: convolution as one matrix product (Chellapilla et al., 2006; Caffe's im2col_cpu).

``im2col`` copies every k x k patch of the (padded) input into a column, so that the
convolution becomes ``W (F, C*k*k) @ cols (C*k*k, N*H'*W')``. ``col2im`` is its adjoint:
it adds every column back onto the pixels it came from. Overlapping patches make a pixel
appear in several columns, so col2im must *add*: that sum is the slide's
"dE/dX is the sum over all outputs that used X".

Both loop over the k*k kernel offsets only, moving a whole strided slice of the batch
at a time; no Python loop over pixels and no ``np.add.at``.

``batch_last=True`` orders the columns (y, x, n) instead of (n, y, x): the image index then
varies fastest, so every copy moves runs of W'*N contiguous numbers instead of runs of W'
(up to several times faster for small images). :class:`~course_lib.layers.Conv` uses that order.
"""

import numpy as np

from .base import conv_size


def _sizes(x_shape, k, stride, pad):
    n, c, h, w = x_shape
    return n, c, h, w, conv_size(h, k, stride, pad), conv_size(w, k, stride, pad)


def _window(p, q, stride, ho, wo, batch_last):
    """Index of the pixels that offset (p, q) of every window sees, in the channels-first layout."""
    rows, cols = slice(p, p + stride * ho, stride), slice(q, q + stride * wo, stride)
    return (slice(None), rows, cols) if batch_last else (slice(None), slice(None), rows, cols)


def im2col(x, kernel_size, stride=1, pad=0, batch_last=False, out=None):
    """(N, C, H, W) -> cols of shape (C*k*k, N*H'*W'); rows ordered (c, p, q), columns (n, y, x)
    (or (y, x, n) with ``batch_last``). ``out``: a contiguous array with room for cols, to reuse."""
    n, c, h, w, ho, wo = _sizes(x.shape, kernel_size, stride, pad)
    k = kernel_size
    # One copy pads and moves the channels first (C, H, W, N) or (C, N, H, W), so the k*k copies below
    # read and write in the same order (np.pad always returns a fresh C-ordered array).
    spatial = [(0, 0), (pad, pad), (pad, pad)]
    xp = np.pad(x.transpose(1, 2, 3, 0), spatial + [(0, 0)]) if batch_last else \
        np.pad(x.transpose(1, 0, 2, 3), [(0, 0)] + spatial)
    shape = (c, k, k) + ((ho, wo, n) if batch_last else (n, ho, wo))
    if out is not None and not (out.flags.c_contiguous and out.size >= np.prod(shape) and out.dtype == x.dtype):
        raise ValueError(f"im2col: out must be a C-contiguous {x.dtype} array of at least {np.prod(shape)} numbers")
    cols = np.empty(shape, dtype=x.dtype) if out is None else out.reshape(-1)[:np.prod(shape)].reshape(shape)
    for p in range(k):
        for q in range(k):
            cols[:, p, q] = xp[_window(p, q, stride, ho, wo, batch_last)]
    return cols.reshape(c * k * k, n * ho * wo)


def col2im(cols, x_shape, kernel_size, stride=1, pad=0, batch_last=False):
    """Adjoint of :func:`im2col`: (C*k*k, N*H'*W') -> (N, C, H, W), summing overlaps."""
    n, c, h, w, ho, wo = _sizes(x_shape, kernel_size, stride, pad)
    k = kernel_size
    cols = cols.reshape((c, k, k) + ((ho, wo, n) if batch_last else (n, ho, wo)))
    hp, wp = h + 2 * pad, w + 2 * pad
    xp = np.zeros((c, hp, wp, n) if batch_last else (c, n, hp, wp), dtype=cols.dtype)  # channels first, as im2col
    for p in range(k):
        for q in range(k):
            xp[_window(p, q, stride, ho, wo, batch_last)] += cols[:, p, q]
    xp = xp.transpose(3, 0, 1, 2) if batch_last else xp.transpose(1, 0, 2, 3)  # back to (N, C, H+2p, W+2p)
    return xp[:, :, pad:pad + h, pad:pad + w]
