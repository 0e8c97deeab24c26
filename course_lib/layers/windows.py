"""The index mechanics under pooling, so that ``MaxPool`` and ``AvePool`` can read as the slide.

A pooling window at output (i, j) covers rows i*s .. i*s+k-1 and columns j*s .. j*s+k-1 of the
padded input. Offset (p, q) of *every* window is one strided slice of the padded batch, so each
function below loops over the k*k offsets only, moving a whole slice at a time; overlapping
windows (stride < kernel) need no special case.
"""

import numpy as np


def pad_for_windows(x, k, stride, pad, top_hw, value):
    """Pad (N, C, H, W) by ``pad`` on every side, plus what ceil mode's last window needs on the
    right and bottom, with ``value`` (-inf for max, 0 for sums). No copy when nothing is padded."""
    _, _, h, w = x.shape
    ho, wo = top_hw
    extra_h = max(0, (ho - 1) * stride + k - (h + 2 * pad))
    extra_w = max(0, (wo - 1) * stride + k - (w + 2 * pad))
    if pad == extra_h == extra_w == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad, pad + extra_h), (pad, pad + extra_w)), constant_values=value)


def crop(dxp, shape, pad):
    """The inverse of the padding: dE/dx of the real pixels only."""
    _, _, h, w = shape
    return dxp[:, :, pad:pad + h, pad:pad + w]


def offsets(k, stride, top_hw):
    """Yield (p, q, index): ``xp[index]`` is what offset (p, q) of every window sees, (N, C, H', W')."""
    ho, wo = top_hw
    for p in range(k):
        for q in range(k):
            yield p, q, (slice(None), slice(None), slice(p, p + stride * ho, stride), slice(q, q + stride * wo, stride))


def phases(xp, k, stride):
    """{(a, b): xp[:, :, a::stride, b::stride]} for the phases a, b < min(k, stride) that windows use,
    each copied once into contiguous memory (no copy for stride 1). Offset (p, q) of every window is
    then a plain slice of phase (p % stride, q % stride): rows p // stride + i, columns q // stride + j.
    Nine strided gathers of a 3x3/2 pooling become four, and every pass runs on contiguous rows."""
    if stride == 1:
        return {(0, 0): xp}
    m = min(k, stride)
    return {(a, b): np.ascontiguousarray(xp[:, :, a::stride, b::stride]) for a in range(m) for b in range(m)}


def window_max(xp, k, stride, top_hw):
    """(max of every window, flat index into xp of its winner). A tie goes to the first maximum in
    row-major order (Caffe's rule); a NaN never wins."""
    n, c, hp, wp = xp.shape
    ho, wo = top_hw
    planes = phases(xp, k, stride)
    top = np.full((n, c) + tuple(top_hw), -np.inf, dtype=xp.dtype)
    arg = np.zeros(top.shape, dtype=np.min_scalar_type(k * k - 1))  # winning offset p*k + q; uint8 streams fast
    for p in range(k):
        for q in range(k):
            a, b = p // stride, q // stride
            v = planes[p % stride, q % stride][:, :, a:a + ho, b:b + wo]  # offset (p, q) of every window
            better = v > top  # strict: a later equal value never replaces the first maximum
            np.fmax(top, v, out=top)  # fmax, not maximum: a NaN never wins, as with ">"
            # Offsets come in increasing order, so "this offset where better" is a maximum: arithmetic on the
            # mask is ~10x faster than a masked assignment (arg[better] = ..., np.where, np.copyto).
            np.maximum(arg, better * arg.dtype.type(p * k + q), out=arg)
    # Flat index of the winner in xp, built in place (no big temporaries): offset, window corner, map start.
    # int32 while xp is small enough: half the memory traffic of int64.
    itype = np.int32 if xp.size < 2**31 else np.int64
    winner = (np.arange(k, dtype=itype).reshape(k, 1) * wp + np.arange(k, dtype=itype)).ravel()[arg]
    winner += stride * np.arange(ho, dtype=itype).reshape(ho, 1) * wp + stride * np.arange(wo, dtype=itype)
    winner += np.arange(n * c, dtype=itype).reshape(n, c, 1, 1) * itype(hp * wp)
    return top, winner


def add_at(padded_shape, index, values):
    """A zero array of ``padded_shape`` with every value added at its flat index. Overlapping windows
    can share a winner: np.add.at adds both values (``dxp[index] += values`` would keep one)."""
    out = np.zeros(int(np.prod(padded_shape)), dtype=values.dtype)
    np.add.at(out, index.ravel(), values.ravel())  # 1-D operands take add.at's fast path
    return out.reshape(padded_shape)


def window_sum(xp, k, stride, top_hw):
    """Sum of every window."""
    total = np.zeros(xp.shape[:2] + tuple(top_hw), dtype=xp.dtype)
    for _, _, index in offsets(k, stride, top_hw):
        total += xp[index]
    return total


def spread(values, k, stride, padded_shape):
    """The adjoint of :func:`window_sum`: every input of window (i, j) receives values[..., i, j];
    inputs in several windows receive the sum."""
    out = np.zeros(padded_shape, dtype=values.dtype)
    for _, _, index in offsets(k, stride, values.shape[2:]):
        out[index] += values
    return out


def window_size(shape, k, stride, pad, top_hw):
    """(H', W') window sizes counted within the padded input (ceil mode's overhang is not counted)."""
    _, _, h, w = shape
    ho, wo = top_hw
    rows = np.minimum(np.arange(ho) * stride + k, h + 2 * pad) - np.arange(ho) * stride
    cols = np.minimum(np.arange(wo) * stride + k, w + 2 * pad) - np.arange(wo) * stride
    return np.outer(rows, cols)
