"""Softmax with log-loss (slide "Softmax with LogLoss Layer")."""

import numpy as np

from .base import LossLayer


class SoftmaxWithLoss(LossLayer):
    """E = mean_n -log p[n, y_n] with p = softmax(scores).

    scores (N, C) float, labels (N,) integers in [0, C) -> a float.

    p_k = exp(s_k - max s) / sum_j exp(s_j - max s)   (max-shifted: never overflows)
    Backward (slide): dE/ds_k = p_k for k != y, and p_y - 1 for the right class,
    i.e. dE/ds = (p - onehot(y)) / N for the batch mean.
    """

    def __init__(self):
        super().__init__()
        self._cache = None

    def forward(self, scores, labels):
        scores = self._check_float(scores, "scores")
        self.top_shape(scores.shape)
        labels = np.asarray(labels)
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"{self.name}: labels must be integers, got dtype {labels.dtype}")
        if labels.shape != (scores.shape[0],):
            raise ValueError(f"{self.name}: labels have shape {labels.shape}, expected ({scores.shape[0]},) "
                             f"to match scores {scores.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= scores.shape[1]):
            raise ValueError(f"{self.name}: labels must lie in [0, {scores.shape[1]}), "
                             f"got min {labels.min()}, max {labels.max()}")
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self._cache = (np.exp(log_p), labels)
        self.prob = self._cache[0]
        return float(-log_p[np.arange(len(labels)), labels].mean())

    def backward(self, top_diff=1.0, propagate_down=True):
        p, labels = self._need_forward(self._cache)
        if not propagate_down:
            return None
        d = p.copy()
        d[np.arange(len(labels)), labels] -= 1
        return d * (top_diff / len(labels))
