"""SumPool's stride defaults to 1 (like MaxPoolOverlap's) instead of kernel_size: SumPool(k) without a stride gives overlapping windows."""
# %% sum_pool
class SumPool(Layer):
    def __init__(self, kernel_size, stride=1, pad=0):
        super().__init__()
        if kernel_size < 1 or stride < 1 or not 0 <= pad < kernel_size:
            raise ValueError("SumPool: bad arguments")
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad

    def forward(self, bottom):
        x = self._check_float(bottom)
        n, c, h, w = x.shape
        k, s, p = self.kernel_size, self.stride, self.pad
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
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
        dxp = np.zeros((n, c, h + 2 * p, w + 2 * p))
        for i in range(top_diff.shape[2]):
            for j in range(top_diff.shape[3]):
                dxp[:, :, i * s:i * s + k, j * s:j * s + k] += top_diff[:, :, i, j, None, None]
        return dxp[:, :, p:p + h, p:p + w]
