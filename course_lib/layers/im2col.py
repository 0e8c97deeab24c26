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

from .geometry import conv_size


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


class ColBuffer:
    """The mechanics under :class:`~course_lib.layers.Conv` (Caffe keeps them in base_conv_layer and
    its ``col_buffer_``), so that ``Conv.forward``/``backward`` can read as the slide.

    - **Chunks**: the batch is cut into chunks of images whose cols hold at most ``max_cols``
      numbers (4 MB in float32): a chunk's cols are still in the CPU's cache when the GEMM reads
      them, and no call allocates one huge matrix.
    - **Workspace**: the cols of every chunk live in one buffer reused from call to call (fresh
      memory costs a page fault per 4 KB) and are kept from the forward for the backward.
    - **Layout**: columns ordered (y, x, n) (``batch_last``), so every copy in im2col and col2im
      moves runs of W'*n contiguous numbers; :meth:`to_image` and :meth:`to_cols` convert between
      a top (n, F, H', W') and that order.
    - **Two passes** for stride 1 (:func:`_im2col_stride1`): short runs of W'*n numbers are what
      makes a copy slow, so the k*k strided copies become k short ones and k long ones.
    """

    max_cols = 1 << 20

    def __init__(self, kernel_size, stride=1, pad=0):
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad
        self.chunks = None  # [(images, cols)] of the last forward
        self._sizes = None  # (C, H, W, H', W') of the last forward
        self._workspace = None

    def im2col(self, x):
        """[(images, cols)]: chunks ``x[images]`` of the batch and their cols (C*k*k, H'*W'*n), kept."""
        k, s, p = self.kernel_size, self.stride, self.pad
        n, c, h, w, ho, wo = _sizes(x.shape, k, s, p)
        per_image = c * k * k * ho * wo
        step = max(1, self.max_cols // per_image)
        ws = self._buffer(per_image * n, x.dtype)
        self._sizes = c, h, w, ho, wo
        if s == 1:
            rows = self._buffer(c * k * (h + 2 * p) * wo * min(step, n), x.dtype, "_rows")
            self.chunks = [(slice(i, min(i + step, n)), _im2col_stride1(x[i:i + step], k, p, ws[i * per_image:], rows))
                           for i in range(0, n, step)]
        else:
            self.chunks = [(slice(i, min(i + step, n)),
                            im2col(x[i:i + step], k, s, p, batch_last=True, out=ws[i * per_image:]))
                           for i in range(0, n, step)]
        return self.chunks

    def kept(self):
        """The chunks and cols of the last forward."""
        if self.chunks is None:
            raise RuntimeError("backward called before forward")
        return self.chunks

    def to_image(self, y):
        """(F, H'*W'*n) with columns ordered as the cols -> a view (n, F, H', W')."""
        ho, wo = self._sizes[3:]
        return y.reshape(y.shape[0], ho, wo, -1).transpose(3, 0, 1, 2)

    def to_cols(self, top_diff, dtype):
        """(n, F, H', W') -> (F, H'*W'*n) with columns ordered as the cols, in ``dtype`` (one copy)."""
        return top_diff.transpose(1, 2, 3, 0).astype(dtype, order="C").reshape(top_diff.shape[1], -1)

    def col2im(self, dcols):
        """Adjoint of a chunk's im2col: (C*k*k, H'*W'*n) -> (n, C, H, W)."""
        c, h, w, ho, wo = self._sizes
        x_shape = (dcols.shape[1] // (ho * wo), c, h, w)
        if self.stride == 1:
            return _col2im_stride1(dcols, x_shape, self.kernel_size, self.pad)
        return col2im(dcols, x_shape, self.kernel_size, self.stride, self.pad, batch_last=True)

    def _buffer(self, size, dtype, name="_workspace"):
        ws = getattr(self, name, None)
        if ws is None or ws.size < size or ws.dtype != dtype:
            ws = np.empty(size, dtype=dtype)
            setattr(self, name, ws)
        return ws


def _im2col_stride1(x, k, pad, out, rows):
    """:func:`im2col` with stride 1 and ``batch_last``, in two passes (``out``, ``rows``: buffers).

    Pass 1, along each row: rows[c, q, Y, x, n] = xp[c, Y, x + q, n], k copies in runs of W'*n.
    Pass 2, down the columns: cols[c, p, q, (y, x, n)] = rows[c, q, (y + p, x, n)]: for each p one
    copy of contiguous runs of H'*W'*n numbers, because (y + p, x, n) is a shift of the flat index.
    """
    n, c, h, w, ho, wo = _sizes(x.shape, k, 1, pad)
    hp = h + 2 * pad
    xp = np.pad(x.transpose(1, 2, 3, 0), [(0, 0), (pad, pad), (pad, pad), (0, 0)])  # (C, Hp, Wp, n)
    r = rows[:c * k * hp * wo * n].reshape(c, k, hp, wo, n)
    for q in range(k):
        r[:, q] = xp[:, :, q:q + wo]
    r = r.reshape(c, k, hp * wo * n)
    cols = out[:c * k * k * ho * wo * n].reshape(c, k, k, ho * wo * n)
    for p in range(k):
        cols[:, p] = r[:, :, p * wo * n:(p + ho) * wo * n]
    return cols.reshape(c * k * k, ho * wo * n)


def _col2im_stride1(dcols, x_shape, k, pad):
    """The adjoint of :func:`_im2col_stride1`, its two passes in reverse, adding: (C*k*k, H'*W'*n) -> (n, C, H, W)."""
    n, c, h, w, ho, wo = _sizes(x_shape, k, 1, pad)
    hp, wp = h + 2 * pad, w + 2 * pad
    d = dcols.reshape(c, k, k, ho * wo * n)
    r = np.zeros((c, k, hp * wo * n), dtype=dcols.dtype)
    for p in range(k):
        r[:, :, p * wo * n:(p + ho) * wo * n] += d[:, p]
    r = r.reshape(c, k, hp, wo, n)
    xp = np.zeros((c, hp, wp, n), dtype=dcols.dtype)
    for q in range(k):
        xp[:, :, q:q + wo] += r[:, q]
    return xp.transpose(3, 0, 1, 2)[:, :, pad:pad + h, pad:pad + w]
