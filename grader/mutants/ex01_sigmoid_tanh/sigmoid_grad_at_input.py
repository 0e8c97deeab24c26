"""Sigmoid backward applies y(1-y) to the input: x * (1 - x) instead of sigma(x) * (1 - sigma(x))."""
# %% sigmoid
class Sigmoid(Layer):
    def __init__(self):
        super().__init__()
        self.top = None

    def forward(self, bottom):
        x = np.asarray(bottom)
        self.bottom = x
        e = np.exp(-np.abs(x))
        self.top = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self.top

    def backward(self, top_diff):
        x = self.bottom
        return top_diff * x * (1 - x)
