"""Max-pool backward places window (i, j) at (i, j) instead of (i*stride, j*stride): right only for stride 1."""
# %% max_pool_overlap
class MaxPoolOverlap(Layer):
    """Max pooling whose windows may overlap. bottom (N, C, H, W) -> top (N, C, H', W'),
    H' = (H + 2*pad - k) // stride + 1 (same for W'); stride defaults to 1.

    forward(bottom):    top[n, c, i, j] = max of the k x k window at (i*stride, j*stride) of the bottom padded
                        with `pad` values of -inf on each side (padding never wins).
    backward(top_diff): top_diff (N, C, H', W') -> bottom_diff (N, C, H, W): each window's top_diff goes to its
                        maximum only -- on a tie, to the first maximum in row-major order -- and an input that
                        wins several windows gets the sum.
    """

    def __init__(self, kernel_size, stride=1, pad=0):
        super().__init__()
        if kernel_size < 1 or stride < 1 or not 0 <= pad < kernel_size:
            raise ValueError(f"MaxPoolOverlap: need kernel_size >= 1, stride >= 1 and 0 <= pad < kernel_size, "
                             f"got {kernel_size}, {stride}, {pad}")
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad

    def forward(self, bottom):
        x = self._check_float(bottom)
        self._check_rank(x.shape, 4, "(N, C, H, W)")
        n, c, h, w = x.shape
        k, s, p = self.kernel_size, self.stride, self.pad
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        if ho < 1 or wo < 1:
            raise ValueError(f"MaxPoolOverlap: a {k}x{k} window does not fit the padded bottom {(h + 2 * p, w + 2 * p)}")
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
        top = np.empty((n, c, ho, wo), dtype=x.dtype)
        self.argmax = np.empty((n, c, ho, wo), dtype=np.intp)  # winner's index in the flattened window
        for i in range(ho):
            for j in range(wo):
                window = xp[:, :, i * s:i * s + k, j * s:j * s + k].reshape(n, c, k * k)
                a = window.argmax(axis=2)  # first maximum in row-major order: Caffe's tie rule
                self.argmax[:, :, i, j] = a
                top[:, :, i, j] = np.take_along_axis(window, a[:, :, None], axis=2)[:, :, 0]
        self.bottom_shape = x.shape
        return top

    def backward(self, top_diff):
        n, c, h, w = self.bottom_shape
        k, s, p = self.kernel_size, self.stride, self.pad
        top_diff = np.asarray(top_diff)
        dxp = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=np.result_type(top_diff, np.float32))
        nn, cc = np.indices((n, c))
        for i in range(top_diff.shape[2]):
            for j in range(top_diff.shape[3]):
                a = self.argmax[:, :, i, j]
                # one winner per (n, c): the indices are distinct, so += adds every window's gradient
                dxp[nn, cc, i + a // k, j + a % k] += top_diff[:, :, i, j]
        return dxp[:, :, p:p + h, p:p + w]
