"""Convolution as im2col + GEMM (slides "Convolutional layer: Backward" and "im2col")."""

import numpy as np

from .base import Blob, Layer, conv_size, param_dtype
from .core import xavier
from .im2col import col2im, im2col


class Conv(Layer):
    """2-D convolution (cross-correlation, as in Caffe), square kernel.

    bottom (N, C, H, W) -> top (N, F, H', W'),  H' = (H + 2*pad - k) // stride + 1.
    weight (F, C, k, k) with F = num_output, C = num_input; bias (F,).

    Forward:  cols = im2col(x);   top = W.reshape(F, C*k*k) @ cols + b
    Backward (Caffe's conv_layer.cpp, one GEMM each):
        dE/dW += dE/dtop @ cols^T                 (sum over every pixel the kernel visited)
        dE/db += sum over n, y, x of dE/dtop
        dE/dx  = col2im(W^T @ dE/dtop)            (sum over every top pixel that used x)

    The batch is processed in chunks whose cols matrix holds at most ``max_cols`` numbers (4 MB
    in float32): a cols matrix that stays in the CPU's cache makes the GEMMs 2-3x faster than one
    huge matrix. The forward keeps every chunk's cols for the backward (C*k*k * H'*W' * N numbers,
    reused from one call to the next), which saves redoing im2col there.
    """

    max_cols = 1 << 20

    def __init__(self, num_input, num_output, kernel_size, stride=1, pad=0, seed=None, dtype=np.float64):
        super().__init__()
        if kernel_size < 1 or stride < 1 or pad < 0:
            raise ValueError(f"Conv: need kernel_size >= 1, stride >= 1, pad >= 0; "
                             f"got {kernel_size}, {stride}, {pad}")
        rng = np.random.default_rng(seed)
        self.num_input, self.num_output = int(num_input), int(num_output)
        self.kernel_size, self.stride, self.pad = int(kernel_size), int(stride), int(pad)
        fan_in = num_input * kernel_size * kernel_size
        self.params = {"weight": Blob(xavier((num_output, num_input, kernel_size, kernel_size), fan_in, rng, dtype)),
                       "bias": Blob(np.zeros(num_output, dtype))}
        self._cache = None
        self._cols = None

    def __repr__(self):
        return (f"Conv({self.num_input}, {self.num_output}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, pad={self.pad})")

    def setup(self, bottom_shape):
        self._check_rank(bottom_shape, 4, "(N, C, H, W)")
        n, c, h, w = bottom_shape
        if c != self.num_input:
            raise ValueError(f"{self.name}: expected bottom with {self.num_input} channels (N, {self.num_input}, H, W), "
                             f"got shape {tuple(bottom_shape)}")
        try:
            return (n, self.num_output, conv_size(h, self.kernel_size, self.stride, self.pad),
                    conv_size(w, self.kernel_size, self.stride, self.pad))
        except ValueError as e:
            raise ValueError(f"{self.name}: {e} (bottom shape {tuple(bottom_shape)})") from None

    def _workspace(self, size, dtype):
        """The cols of the whole batch, kept between calls like Caffe's col_buffer_: fresh memory
        every call would cost a page fault per 4 KB."""
        ws = self._cols
        if ws is None or ws.size < size or ws.dtype != dtype:
            self._cols = ws = np.empty(size, dtype=dtype)
        return ws

    def _chunks(self, n, per_image):
        step = max(1, self.max_cols // max(per_image, 1))
        return [slice(i, min(i + step, n)) for i in range(0, n, step)]

    def forward(self, bottom):
        bottom = self._check_float(bottom)
        top_shape = self.setup(bottom.shape)
        x = param_dtype(bottom, self.params["weight"])
        n, f, ho, wo = top_shape
        k, s, p = self.kernel_size, self.stride, self.pad
        w = self.params["weight"].data.reshape(f, -1)
        b = self.params["bias"].data.reshape(1, f, 1, 1)
        top = np.empty(top_shape, dtype=w.dtype)
        chunks = self._chunks(n, w.shape[1] * ho * wo)
        per_chunk = w.shape[1] * ho * wo * (chunks[0].stop - chunks[0].start)
        ws = self._workspace(per_chunk * len(chunks), w.dtype)
        pieces = []
        for i, sl in enumerate(chunks):
            cols = im2col(x[sl], k, s, p, batch_last=True, out=ws[i * per_chunk:(i + 1) * per_chunk])
            out = (w @ cols).reshape(f, ho, wo, -1)  # the one GEMM: (F, H', W', n)
            np.add(out.transpose(3, 0, 1, 2), b, out=top[sl])  # back to (n, F, H', W') and the bias, in one pass
            pieces.append((sl, cols))  # kept for the backward: no second im2col there
        self._cache = (x, pieces)
        return top

    def backward(self, top_diff, propagate_down=True):
        """Returns dE/dbottom, or None with ``propagate_down=False`` (Caffe's flag: a bottom that
        needs no gradient, e.g. the input images, skips the dx GEMM and col2im)."""
        x, pieces = self._need_forward(self._cache)
        top_diff = self._check_top_diff(top_diff, self.setup(x.shape))
        W, b = self.params["weight"], self.params["bias"]
        f = self.num_output
        k, s, p = self.kernel_size, self.stride, self.pad
        w = W.data.reshape(f, -1)
        dx = np.empty_like(x) if propagate_down else None
        dw = np.zeros_like(w)
        for sl, cols in pieces:
            dy = top_diff[sl].transpose(1, 2, 3, 0).astype(w.dtype, order="C").reshape(f, -1)  # (F, H'*W'*n): one copy
            dw += dy @ cols.T
            if propagate_down:
                dx[sl] = col2im(w.T @ dy, x[sl].shape, k, s, p, batch_last=True)
        W.diff += dw.reshape(W.data.shape)
        b.diff += top_diff.sum(axis=(0, 2, 3))
        return dx
