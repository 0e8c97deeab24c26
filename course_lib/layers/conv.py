"""Convolution as im2col + GEMM (slides "Convolutional layer: Backward" and "im2col")."""

import numpy as np

from .base import Blob, Layer, param_dtype
from .fillers import constant, xavier
from .geometry import conv_size
from .im2col import ColBuffer


class Conv(Layer):
    """2-D convolution (cross-correlation, as in Caffe), square kernel.

    bottom (N, C, H, W) -> top (N, F, H', W'),  H' = (H + 2*pad - k) // stride + 1.
    weight (F, C, k, k) with F = num_output, C = num_input; bias (F,).

    Forward:  cols = im2col(x);   top = W @ cols + b          (W as a (F, C*k*k) matrix)
    Backward (Caffe's conv_layer.cpp, one GEMM each):
        dE/dW += dE/dtop @ cols^T                 (sum over every pixel the kernel visited)
        dE/db += sum over n, y, x of dE/dtop
        dE/dx  = col2im(W^T @ dE/dtop)            (sum over every top pixel that used x)

    The mechanics -- chunks of the batch, the reused cols buffer, the column order -- are in
    :class:`~course_lib.layers.im2col.ColBuffer` (``self.col_buffer``).
    """

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
                       "bias": Blob(constant(num_output, 0.0, dtype))}
        self.col_buffer = ColBuffer(self.kernel_size, self.stride, self.pad)
        self.bottom = None  # x of the last forward (its cols are in col_buffer)

    @property
    def max_cols(self):
        """Most numbers in one chunk's cols (see ColBuffer)."""
        return self.col_buffer.max_cols

    @max_cols.setter
    def max_cols(self, value):
        self.col_buffer.max_cols = int(value)

    def __repr__(self):
        return (f"Conv({self.num_input}, {self.num_output}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, pad={self.pad})")

    def top_shape(self, bottom_shape):
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

    def forward(self, bottom):
        x = param_dtype(self._check_float(bottom), self.params["weight"])  # (N, C, H, W)
        W = self.params["weight"].data.reshape(self.num_output, -1)         # (F, C*k*k)
        b = self.params["bias"].data.reshape(-1, 1)                          # (F, 1)
        top = np.empty(self.top_shape(x.shape), dtype=x.dtype)
        for images, cols in self.col_buffer.im2col(x):  # cols = im2col(x), one chunk of images at a time
            top[images] = self.col_buffer.to_image(W @ cols + b)
        self.bottom = x
        return top

    def backward(self, top_diff, propagate_down=True):
        """Returns dE/dbottom, or None with ``propagate_down=False`` (Caffe's flag: a bottom that
        needs no gradient, e.g. the input images, skips the dx GEMM and col2im)."""
        x = self._need_forward(self.bottom)
        top_diff = self._check_top_diff(top_diff, self.top_shape(x.shape))
        weight, bias = self.params["weight"], self.params["bias"]
        W = weight.data.reshape(self.num_output, -1)
        dW = np.zeros_like(W)
        dx = np.empty_like(x) if propagate_down else None
        for images, cols in self.col_buffer.kept():  # the forward's cols
            dy = self.col_buffer.to_cols(top_diff[images], W.dtype)  # dE/dtop as (F, n*H'*W'), ordered as cols
            dW += dy @ cols.T  # a sum over every pixel the kernel visited
            if propagate_down:
                dx[images] = self.col_buffer.col2im(W.T @ dy)  # a sum over every top pixel that used x
        weight.diff += dW.reshape(weight.shape)
        bias.diff += top_diff.sum(axis=(0, 2, 3))
        return dx
