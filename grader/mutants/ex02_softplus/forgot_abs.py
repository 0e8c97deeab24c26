"""Softplus forward as max(x, 0) + log1p(exp(-x)), forgetting the absolute value: wrong for x < 0 and overflows at x = -1000."""
# %% softplus
class Softplus(Layer):
    def __init__(self):
        super().__init__()
        self.bottom = None

    def forward(self, bottom):
        x = self.bottom = np.asarray(bottom)
        return np.maximum(x, 0) + np.log1p(np.exp(-x))

    def backward(self, top_diff):
        x = self.bottom
        e = np.exp(-np.abs(x))
        return top_diff * np.where(x >= 0, 1 / (1 + e), e / (1 + e))
