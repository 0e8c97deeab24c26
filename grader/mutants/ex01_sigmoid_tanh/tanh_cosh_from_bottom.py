"""TanH backward as top_diff / cosh(x)^2 from the saved bottom: cosh overflows at |x| = 1000 and in-place use breaks it."""
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
        return top_diff / np.cosh(self.bottom) ** 2
