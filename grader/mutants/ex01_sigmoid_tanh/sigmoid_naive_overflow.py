"""Sigmoid forward as the textbook 1 / (1 + exp(-x)): exp overflows (with a warning) at x = -1000."""
# %% sigmoid
class Sigmoid(Layer):
    def __init__(self):
        super().__init__()
        self.top = None

    def forward(self, bottom):
        self.top = 1.0 / (1.0 + np.exp(-np.asarray(bottom)))
        return self.top

    def backward(self, top_diff):
        y = self.top
        return top_diff * y * (1 - y)
