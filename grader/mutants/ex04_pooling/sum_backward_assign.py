"""Sum-pool backward assigns (=) each window's gradient instead of adding (+=): overlapping windows overwrite each other."""
# %% sum_pool
class SumPool(Layer):
    """Sum pooling. bottom (N, C, H, W) -> top (N, C, H', W'), H' = (H + 2*pad - k) // stride + 1 (same for W').

    forward(bottom):    top[n, c, i, j] = sum of the k x k window at (i*stride, j*stride) of the bottom
                        padded with `pad` zeros on each side.
    backward(top_diff): top_diff (N, C, H', W') -> bottom_diff (N, C, H, W): every input of a window gets
                        that window's top_diff; an input in several (overlapping) windows gets the sum.
    """

    def __init__(self, kernel_size, stride=None, pad=0):
        super().__init__()
        stride = kernel_size if stride is None else stride
        if kernel_size < 1 or stride < 1 or not 0 <= pad < kernel_size:
            raise ValueError(f"SumPool: need kernel_size >= 1, stride >= 1 and 0 <= pad < kernel_size, "
                             f"got {kernel_size}, {stride}, {pad}")
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad

    def forward(self, bottom):
        x = self._check_float(bottom)
        self._check_rank(x.shape, 4, "(N, C, H, W)")
        n, c, h, w = x.shape
        k, s, p = self.kernel_size, self.stride, self.pad
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        if ho < 1 or wo < 1:
            raise ValueError(f"SumPool: a {k}x{k} window does not fit the padded bottom {(h + 2 * p, w + 2 * p)}")
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        top = np.zeros((n, c, ho, wo), dtype=x.dtype)
        for i in range(ho):
            for j in range(wo):
                top[:, :, i, j] = xp[:, :, i * s:i * s + k, j * s:j * s + k].sum(axis=(2, 3))
        self.bottom_shape = x.shape
        return top

    def backward(self, top_diff):
        n, c, h, w = self.bottom_shape
        k, s, p = self.kernel_size, self.stride, self.pad
        top_diff = np.asarray(top_diff)
        dxp = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=np.result_type(top_diff, np.float32))
        for i in range(top_diff.shape[2]):
            for j in range(top_diff.shape[3]):
                # += : overlapping windows (stride < k) each add their gradient
                dxp[:, :, i * s:i * s + k, j * s:j * s + k] = top_diff[:, :, i, j, None, None]
        return dxp[:, :, p:p + h, p:p + w]  # the padding's gradient is dropped
