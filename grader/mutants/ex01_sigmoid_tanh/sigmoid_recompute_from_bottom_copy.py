"""Sigmoid keeps a copy of the bottom and recomputes sigma(x) in backward instead of using the saved top (the slide's and Caffe's rule, needed in place)."""
# %% sigmoid
class Sigmoid(Layer):
    def __init__(self):
        super().__init__()
        self.top = None

    def _sigma(self, x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def forward(self, bottom):
        self.bottom = np.array(bottom, dtype=float)
        self.top = self._sigma(self.bottom)
        return self.top

    def backward(self, top_diff):
        s = self._sigma(self.bottom)
        return top_diff * s * (1 - s)
