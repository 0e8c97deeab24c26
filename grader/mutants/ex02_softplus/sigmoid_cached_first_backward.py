"""Softplus computes sigmoid(bottom) on the first backward and keeps it for later calls: after a new forward, backward still uses the old batch's sigmoid."""
# %% softplus
class Softplus(Layer):
    def __init__(self):
        super().__init__()
        self.bottom = None
        self.sig = None

    def forward(self, bottom):
        self.bottom = self._check_float(bottom)
        return np.logaddexp(0, self.bottom)

    def backward(self, top_diff):
        if self.sig is None or self.sig.shape != self.bottom.shape:
            e = np.exp(-np.abs(self.bottom))
            self.sig = np.where(self.bottom >= 0, 1 / (1 + e), e / (1 + e))
        return top_diff * self.sig
