"""Sigmoid 'stabilised' with np.where(x >= 0, 1/(1+exp(-x)), exp(x)/(1+exp(x))): np.where evaluates both branches, so exp still overflows."""
# %% sigmoid
class Sigmoid(Layer):
    def __init__(self):
        super().__init__()
        self.top = None

    def forward(self, bottom):
        x = np.asarray(bottom)
        self.top = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
        return self.top

    def backward(self, top_diff):
        y = self.top
        return top_diff * y * (1 - y)
