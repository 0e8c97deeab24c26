"""Sigmoid saves its top in a module-level variable instead of on the layer (self): two Sigmoid layers in one net share it, so the first one's backward uses the second one's top."""
# %% sigmoid
_saved_sigmoid_top = {}


class Sigmoid(Layer):
    def __init__(self):
        super().__init__()
        self.top = None

    def forward(self, bottom):
        x = self._check_float(bottom)
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        _saved_sigmoid_top["y"] = y
        return y

    def backward(self, top_diff):
        y = _saved_sigmoid_top["y"]
        return top_diff * y * (1 - y)
