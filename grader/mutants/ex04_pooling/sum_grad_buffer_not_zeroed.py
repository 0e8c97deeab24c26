"""Sum-pool backward keeps one gradient buffer on the layer (allocated on the first call) and adds into it without zeroing it: a second backward returns the sum of both calls."""
# %% sum_pool
class SumPool(Layer):
    def __init__(self, kernel_size, stride=None, pad=0):
        super().__init__()
        stride = kernel_size if stride is None else stride
        if kernel_size < 1 or stride < 1 or not 0 <= pad < kernel_size:
            raise ValueError("SumPool: bad arguments")
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad
        self.dxp = None

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
        if self.dxp is None or self.dxp.shape != (n, c, h + 2 * p, w + 2 * p):
            self.dxp = np.zeros((n, c, h + 2 * p, w + 2 * p))   # allocated once per shape, to save time
        for i in range(top_diff.shape[2]):
            for j in range(top_diff.shape[3]):
                self.dxp[:, :, i * s:i * s + k, j * s:j * s + k] += top_diff[:, :, i, j, None, None]
        return self.dxp[:, :, p:p + h, p:p + w].copy()
