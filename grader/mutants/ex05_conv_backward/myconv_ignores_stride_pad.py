"""MyConv.backward calls conv_backward with the default stride 1 and pad 0 instead of the layer's own."""
# %% my_conv
class MyConv(Conv):
    """Conv whose backward uses conv_backward."""

    def forward(self, bottom):
        top = super().forward(bottom)
        self._x = np.asarray(bottom, dtype=self.params["weight"].data.dtype)
        return top

    def backward(self, top_diff):
        W, b = self.params["weight"], self.params["bias"]
        dx, dw, db = conv_backward(np.asarray(top_diff), self._x, W.data)
        W.diff += dw
        b.diff += db
        return dx
