"""TanH backward with the sign flipped: top_diff * (y^2 - 1)."""
# %% tanh
class TanH(Layer):
    def __init__(self):
        super().__init__()
        self.top = None

    def forward(self, bottom):
        self.top = np.tanh(np.asarray(bottom))
        return self.top

    def backward(self, top_diff):
        return top_diff * (self.top ** 2 - 1)
