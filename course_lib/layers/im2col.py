"""im2col / col2im: convolution as one matrix product (Chellapilla et al., 2006; Caffe's im2col_cpu).

``im2col`` copies every k x k patch of the (padded) input into a column, so that the
convolution becomes ``W (F, C*k*k) @ cols (C*k*k, N*H'*W')``. ``col2im`` is its adjoint:
it adds every column back onto the pixels it came from. Overlapping patches make a pixel
appear in several columns, so col2im must *add*: that sum is the slide's
"dE/dX is the sum over all outputs that used X".

Both loop over the k*k kernel offsets only, moving a whole strided slice of the batch
at a time; no Python loop over pixels and no ``np.add.at``.
"""

import numpy as np


def im2col(x, kernel_size, stride=1, pad=0):
    """(N, C, H, W) -> cols of shape (C*k*k, N*H'*W'); rows ordered (c, p, q), columns (n, y, x)."""
    n, c, h, w = x.shape
    k = kernel_size
    ho = (h + 2 * pad - k) // stride + 1
    wo = (w + 2 * pad - k) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    cols = np.empty((c, k, k, n, ho, wo), dtype=x.dtype)
    for p in range(k):
        for q in range(k):
            patch = xp[:, :, p:p + stride * ho:stride, q:q + stride * wo:stride]  # (N, C, H', W')
            cols[:, p, q] = patch.transpose(1, 0, 2, 3)
    return cols.reshape(c * k * k, n * ho * wo)


def col2im(cols, x_shape, kernel_size, stride=1, pad=0):
    """Adjoint of :func:`im2col`: (C*k*k, N*H'*W') -> (N, C, H, W), summing overlaps."""
    n, c, h, w = x_shape
    k = kernel_size
    ho = (h + 2 * pad - k) // stride + 1
    wo = (w + 2 * pad - k) // stride + 1
    cols = cols.reshape(c, k, k, n, ho, wo)
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for p in range(k):
        for q in range(k):
            xp[:, :, p:p + stride * ho:stride, q:q + stride * wo:stride] += cols[:, p, q].transpose(1, 0, 2, 3)
    return xp[:, :, pad:pad + h, pad:pad + w] if pad else xp
