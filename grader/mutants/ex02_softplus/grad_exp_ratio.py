"""Softplus backward as exp(x) / (1 + exp(x)): inf / inf = nan at x = 1000."""
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
        return top_diff * np.exp(x) / (1 + np.exp(x))
