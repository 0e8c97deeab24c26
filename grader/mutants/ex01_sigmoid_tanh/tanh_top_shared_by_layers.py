"""TanH saves its top as a class attribute (TanH.top = ...) instead of on the instance: two TanH layers in one net share it, so the first one's backward uses the second one's top."""
# %% tanh
class TanH(Layer):
    top = None

    def forward(self, bottom):
        x = self._check_float(bottom)
        TanH.top = np.tanh(x)
        return TanH.top

    def backward(self, top_diff):
        y = TanH.top
        return top_diff * (1 - y * y)
