"""TanH backward uses 1 - x^2 (the input) instead of 1 - y^2 (the output)."""
# %% tanh
class TanH(Layer):
    def __init__(self):
        super().__init__()
        self.top = None

    def forward(self, bottom):
        self.bottom = np.asarray(bottom)
        self.top = np.tanh(self.bottom)
        return self.top

    def backward(self, top_diff):
        return top_diff * (1 - self.bottom ** 2)
