"""Softplus backward differentiates only the outer log: 1 / (1 + e^x), forgetting the inner factor e^x of the chain rule."""
# %% softplus
class Softplus(Layer):
    def __init__(self):
        super().__init__()
        self.bottom = None

    def forward(self, bottom):
        x = self.bottom = np.asarray(bottom)
        return np.logaddexp(0, x)

    def backward(self, top_diff):
        x = self.bottom
        return top_diff / (1 + np.exp(x))
