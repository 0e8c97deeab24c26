"""Softplus backward with sigmoid(-x) (1 / (1 + e^x)) instead of sigmoid(x)."""
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
        e = np.exp(-np.abs(x))
        return top_diff * np.where(x >= 0, e / (1 + e), 1 / (1 + e))
