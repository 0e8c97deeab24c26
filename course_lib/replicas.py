"""Data parallelism on the CPU's cores: one mini-batch split across replicas of the net.

Caffe trains on several GPUs the same way (``P2PSync``): every device holds a replica of the
net, runs forward and backward on its share of the mini-batch, and the gradients are summed
before one update. Here the devices are CPU cores and the replicas run in threads: numpy lets
go of Python's lock inside its GEMMs and array copies, which is where a step spends its time.

- A replica is a copy of the net whose parameters **share** the original's ``data`` (one set
  of weights, updated once) but own their ``diff`` and every layer's forward state (the cols,
  the max-pool switches, ...), so the replicas never write to the same array.
- The batch of N is cut into parts of n_i; each part's loss layer divides by its own n_i. The
  gradient of the mean loss over the whole batch is therefore

      dE/dw = sum_i (n_i / N) * dE_i/dw,        E = sum_i (n_i / N) * E_i,

  and that is what lands in the original net's diffs. The result equals a single pass over
  the whole batch up to float rounding (tests/test_replicas.py checks it against one).
- Each replica should use one BLAS thread (two replicas on two cores, not four threads on two):
  :class:`course_lib.threads.ThreadTuner` sets that while it runs them.
"""

import copy
from concurrent.futures import ThreadPoolExecutor

import numpy as np


class Replicas:
    """``Replicas(net, n).forward_backward(x, labels)``: zero the diffs, forward and backward
    ``n`` parts of the batch at once; returns the mean loss and leaves dE/dw in ``net``'s diffs.

    Replica 0 is ``net`` itself (its ``tops`` then hold the first part only). Parameters are
    re-linked before every step, so a net whose weights were replaced (``restore``, ``astype``)
    still trains one set of weights.
    """

    def __init__(self, net, n):
        if n < 2:
            raise ValueError(f"Replicas: need at least 2 replicas, got {n}")
        self.net, self.n = net, int(n)
        self.copies = [copy.deepcopy(net) for _ in range(self.n - 1)]
        self._pool = ThreadPoolExecutor(max_workers=self.n - 1, thread_name_prefix="course_lib-replica")

    def _link(self):
        """Every copy's parameters become views of the original's current weights."""
        params = self.net.params()
        for c in self.copies:
            theirs = c.params()
            if theirs.keys() != params.keys():
                raise RuntimeError("Replicas: the net's layers changed since the replicas were made; make new Replicas")
            for name, blob in params.items():
                mine = theirs[name]
                mine.data = blob.data
                if mine.diff.shape != blob.data.shape or mine.diff.dtype != blob.data.dtype:
                    mine.diff = np.zeros_like(blob.data)

    def forward_backward(self, x, labels):
        """One mini-batch (N, ...) with its labels -> its mean loss; dE/dw in the net's diffs."""
        n_total = len(x)
        if n_total < self.n:  # too few examples to share: one pass
            return _forward_backward(self.net, x, labels)
        self._link()
        bounds = np.linspace(0, n_total, self.n + 1).round().astype(int)
        parts = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        futures = [self._pool.submit(_forward_backward, c, x[p], labels[p]) for c, p in zip(self.copies, parts[1:])]
        losses = [_forward_backward(self.net, x[parts[0]], labels[parts[0]])]
        losses += [f.result() for f in futures]  # re-raises a replica's exception here
        weights = [(p.stop - p.start) / n_total for p in parts]
        theirs = [c.params() for c in self.copies]
        for name, blob in self.net.params().items():
            blob.diff *= weights[0]
            for params, w in zip(theirs, weights[1:]):
                blob.diff += w * params[name].diff
        return float(sum(w * loss for w, loss in zip(weights, losses)))

    def close(self):
        self._pool.shutdown(wait=True)


def _forward_backward(net, x, labels):
    net.zero_diff()
    loss = net.forward(x, labels)
    net.backward(input_diff=False)  # nothing learns from dE/dx of the images
    return loss
