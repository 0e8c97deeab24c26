"""Max-pool backward keeps one gradient buffer on the layer (allocated on the first call) and adds into it without zeroing it: a second backward returns the sum of both calls."""
# %% max_pool_overlap
class MaxPoolOverlap(Layer):
    def __init__(self, kernel_size, stride=1, pad=0):
        super().__init__()
        if kernel_size < 1 or stride < 1 or not 0 <= pad < kernel_size:
            raise ValueError("MaxPoolOverlap: bad arguments")
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad
        self.dxp = None

    def forward(self, bottom):
        x = self._check_float(bottom)
        n, c, h, w = x.shape
        k, s, p = self.kernel_size, self.stride, self.pad
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
        top = np.empty((n, c, ho, wo), dtype=x.dtype)
        self.argmax = np.empty((n, c, ho, wo), dtype=np.intp)
        for i in range(ho):
            for j in range(wo):
                window = xp[:, :, i * s:i * s + k, j * s:j * s + k].reshape(n, c, k * k)
                a = window.argmax(axis=2)
                self.argmax[:, :, i, j] = a
                top[:, :, i, j] = np.take_along_axis(window, a[:, :, None], axis=2)[:, :, 0]
        self.bottom_shape = x.shape
        return top

    def backward(self, top_diff):
        n, c, h, w = self.bottom_shape
        k, s, p = self.kernel_size, self.stride, self.pad
        top_diff = np.asarray(top_diff)
        if self.dxp is None or self.dxp.shape != (n, c, h + 2 * p, w + 2 * p):
            self.dxp = np.zeros((n, c, h + 2 * p, w + 2 * p))   # allocated once per shape, to save time
        nn, cc = np.indices((n, c))
        for i in range(top_diff.shape[2]):
            for j in range(top_diff.shape[3]):
                a = self.argmax[:, :, i, j]
                self.dxp[nn, cc, i * s + a // k, j * s + a % k] += top_diff[:, :, i, j]
        return self.dxp[:, :, p:p + h, p:p + w].copy()
