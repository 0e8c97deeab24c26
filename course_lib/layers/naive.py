"""The slides' loop versions of convolution and pooling: slow, literal, and the reference
that the fast layers are tested against. Every index is written out as on the slides.

Shapes: x (N, C, H, W); w (F, C, k, k); b (F,); top (N, F, H', W').
"""

import numpy as np


def _pad(x, pad, value=0.0):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=value)


def conv_forward(x, w, b, stride=1, pad=0):
    """y[n, f, i, j] = b[f] + sum_{c,p,q} x[n, c, i*s + p, j*s + q] * w[f, c, p, q]  (padded x)."""
    N, C, H, W = x.shape
    F, _, k, _ = w.shape
    xp = _pad(x, pad)
    Ho, Wo = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
    y = np.zeros((N, F, Ho, Wo), dtype=np.result_type(x, w))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    y[n, f, i, j] = b[f]
                    for c in range(C):
                        for p in range(k):
                            for q in range(k):
                                y[n, f, i, j] += xp[n, c, i * stride + p, j * stride + q] * w[f, c, p, q]
    return y


def conv_backward(top_diff, x, w, stride=1, pad=0):
    """Returns (dx, dw, db). Every top pixel (n, f, i, j) that used input pixel x[...]
    sends back top_diff * w; every use of weight w[f, c, p, q] adds top_diff * x."""
    N, C, H, W = x.shape
    F, _, k, _ = w.shape
    _, _, Ho, Wo = top_diff.shape
    xp = _pad(x, pad)
    dxp = np.zeros_like(xp, dtype=np.result_type(x, w, top_diff))
    dw = np.zeros_like(w, dtype=dxp.dtype)
    db = np.zeros(F, dtype=dxp.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    g = top_diff[n, f, i, j]
                    db[f] += g
                    for c in range(C):
                        for p in range(k):
                            for q in range(k):
                                dxp[n, c, i * stride + p, j * stride + q] += g * w[f, c, p, q]
                                dw[f, c, p, q] += g * xp[n, c, i * stride + p, j * stride + q]
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def _windows(H, W, Ho, Wo, k, stride, pad):
    """Yield (i, j, rows, cols): window (i, j) in padded coordinates, clipped to the padded input."""
    for i in range(Ho):
        for j in range(Wo):
            r0, c0 = i * stride, j * stride
            yield i, j, range(r0, min(r0 + k, H + 2 * pad)), range(c0, min(c0 + k, W + 2 * pad))


def maxpool_forward(x, k, stride, pad, Ho, Wo):
    """y[n, c, i, j] = max over the window; padding never wins. Returns (y, argmax) where
    argmax holds the (row, col) in padded coordinates of the window's *first* maximum."""
    N, C, H, W = x.shape
    xp = _pad(x, pad, -np.inf)
    y = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    arg = np.zeros((N, C, Ho, Wo, 2), dtype=int)
    for n in range(N):
        for c in range(C):
            for i, j, rows, cols in _windows(H, W, Ho, Wo, k, stride, pad):
                best = -np.inf
                for r in rows:
                    for s in cols:
                        if xp[n, c, r, s] > best:  # strict: a tie keeps the first (row-major)
                            best, arg[n, c, i, j] = xp[n, c, r, s], (r, s)
                y[n, c, i, j] = best
    return y, arg


def maxpool_backward(top_diff, x_shape, arg, pad):
    """The whole top gradient goes to the argmax; the other inputs of the window get 0.
    Overlapping windows: an input that is the max of several windows gets the sum."""
    N, C, H, W = x_shape
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=top_diff.dtype)
    for n, c, i, j in np.ndindex(top_diff.shape):
        r, s = arg[n, c, i, j]
        dxp[n, c, r, s] += top_diff[n, c, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W]


def avepool_forward(x, k, stride, pad, Ho, Wo):
    """Mean over the window; the divisor is the window's size within the padded input."""
    N, C, H, W = x.shape
    xp = _pad(x, pad)
    y = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i, j, rows, cols in _windows(H, W, Ho, Wo, k, stride, pad):
                total = sum(xp[n, c, r, s] for r in rows for s in cols)
                y[n, c, i, j] = total / (len(rows) * len(cols))
    return y


def avepool_backward(top_diff, x_shape, k, stride, pad):
    """Each input of a window gets top_diff / window size; overlaps add up."""
    N, C, H, W = x_shape
    _, _, Ho, Wo = top_diff.shape
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=top_diff.dtype)
    for n in range(N):
        for c in range(C):
            for i, j, rows, cols in _windows(H, W, Ho, Wo, k, stride, pad):
                g = top_diff[n, c, i, j] / (len(rows) * len(cols))
                for r in rows:
                    for s in cols:
                        dxp[n, c, r, s] += g
    return dxp[:, :, pad:pad + H, pad:pad + W]
