"""MyConv.backward assigns the parameter gradients (diff = dw) instead of adding them (Caffe's diffs accumulate)."""
# %% my_conv
class MyConv(Conv):
    """Conv whose backward uses conv_backward."""

    def forward(self, bottom):
        top = super().forward(bottom)
        self._x = np.asarray(bottom, dtype=self.params["weight"].data.dtype)
        return top

    def backward(self, top_diff):
        W, b = self.params["weight"], self.params["bias"]
        dx, dw, db = conv_backward(np.asarray(top_diff), self._x, W.data, self.stride, self.pad)
        W.diff = dw
        b.diff = db
        return dx
