"""The training loop of Caffe's SGDSolver: mini-batches, the update, evaluation, snapshots.

One iteration: zero the diffs, forward a mini-batch, backward, then for every parameter the
update rule of :mod:`course_lib.optim` (momentum SGD), with the parameter's own multipliers

    v <- momentum * v + lr(t) * lr_mult * (diff + weight_decay * decay_mult * data)      data <- data - v

Mini-batches walk a fresh permutation of the training set each epoch (every example once
per epoch). Everything that decides the next step -- weights, velocities, the iteration, the
epoch's permutation and position, the random generator -- goes into a snapshot
(:mod:`course_lib.snapshot`), so a restored run continues exactly as the uninterrupted one would have.
"""

import numpy as np
from tqdm.auto import tqdm

from . import optim, snapshot
from .layers import SoftmaxWithLoss
from .replicas import Replicas
from .threads import Plan, ThreadTuner

LR_POLICIES = tuple(optim.LR_POLICIES)


class SGDSolver:
    """SGD with momentum, weight decay and Caffe's learning-rate policies (see :meth:`learning_rate`).

    Each parameter's learning rate and weight decay are scaled by its Blob's ``lr_mult`` and
    ``decay_mult`` (Caffe's per-parameter multipliers; the example nets give biases lr_mult 2).
    """

    def __init__(self, net, lr=0.01, momentum=0.9, weight_decay=5e-4, lr_policy="fixed",
                 gamma=0.1, power=0.75, stepsize=None, batch_size=64, seed=0):
        if lr_policy not in LR_POLICIES:
            raise ValueError(f"SGDSolver: lr_policy must be one of {LR_POLICIES}, got {lr_policy!r}")
        if lr_policy == "step" and not stepsize:
            raise ValueError("SGDSolver: lr_policy 'step' needs a stepsize")
        if batch_size < 1:
            raise ValueError(f"SGDSolver: batch_size must be >= 1, got {batch_size}")
        self.net = net
        self.hyper = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, lr_policy=lr_policy,
                          gamma=gamma, power=power, stepsize=stepsize, batch_size=batch_size, seed=seed)
        self.rng = np.random.default_rng(seed)
        self.velocity = {k: optim.velocity_like(b.data) for k, b in net.params().items()}
        self.iter = 0
        self.epoch = 0
        self._perm, self._cursor = None, 0
        self._tuner = None  # course_lib.threads.ThreadTuner, made by the first train(threads="auto")
        self._replicas = None  # course_lib.replicas.Replicas, made by the first step that splits its batch
        self.threads_used = None
        self.history = {"iter": [], "loss": [], "lr": [],
                        "eval_iter": [], "epoch": [], "train_acc": [], "val_acc": [], "val_loss": []}

    # -- one step -------------------------------------------------------------
    def learning_rate(self, t=None):
        """lr(t), the rate at iteration t (default: now) under Caffe's ``lr_policy``:

        lr(t) = lr                                  "fixed"
              = lr * gamma ** floor(t / stepsize)   "step"
              = lr * (1 + gamma * t) ** -power      "inv"  (LeNet's solver: gamma 1e-4, power 0.75)
              = lr * gamma ** t                     "exp"
        """
        h = self.hyper
        return optim.learning_rate(h["lr_policy"], h["lr"], self.iter if t is None else t,
                                   gamma=h["gamma"], power=h["power"], stepsize=h["stepsize"])

    def step(self, xb, yb, replicas=1):
        """One SGD iteration on a mini-batch; returns its loss. ``replicas > 1`` splits the batch
        across that many replicas of the net running at once (:mod:`course_lib.replicas`): the
        same gradient, computed on several cores."""
        if replicas > 1:
            loss = self._replicas_of(replicas).forward_backward(xb, yb)
        else:
            self.net.zero_diff()
            loss = self.net.forward(xb, yb)
            self.net.backward(input_diff=False)  # nothing learns from dE/dx of the images
        lr, mu, wd = self.learning_rate(), self.hyper["momentum"], self.hyper["weight_decay"]
        for name, blob in self.net.params().items():
            blob.data[...], self.velocity[name] = optim.sgd_momentum(
                blob.data, blob.diff, self.velocity[name], lr * blob.lr_mult, mu, wd * blob.decay_mult)
        self.history["iter"].append(self.iter)
        self.history["loss"].append(loss)
        self.history["lr"].append(lr)
        self.iter += 1
        return loss

    def _replicas_of(self, n):
        r = self._replicas
        if r is None or r.n != n or r.net is not self.net:
            if r is not None:
                r.close()
            self._replicas = r = Replicas(self.net, n)
        return r

    def _next_batch(self, n):
        """Indices of the next mini-batch; a new permutation starts each epoch."""
        if self._perm is None or len(self._perm) != n or self._cursor >= n:
            if self._perm is not None and self._cursor >= n:
                self.epoch += 1
            self._perm, self._cursor = self.rng.permutation(n), 0
        idx = self._perm[self._cursor:self._cursor + self.hyper["batch_size"]]
        self._cursor += len(idx)
        return idx

    # -- training loop ------------------------------------------------------------
    def train(self, X, y, epochs=None, iterations=None, val=None, eval_every=None,
              progress=True, train_eval_size=1000, threads="auto"):
        """Train for ``epochs`` passes (or ``iterations`` steps) over (X, y); returns ``history``.

        Every ``eval_every`` iterations (default: once per epoch) and at the end, records the
        accuracy on up to ``train_eval_size`` training examples and on ``val`` = (X_val, y_val).
        ``threads="auto"`` times steps on one core (one BLAS thread) and with one replica of the net
        per core, and keeps the faster (:mod:`course_lib.threads`); an integer
        n trains n replicas with one BLAS thread each (1: one core); None leaves the BLAS's own
        setting and uses one replica.
        """
        X, y = self._check_data(X, y)
        per_epoch = -(-len(X) // self.hyper["batch_size"])
        if iterations is None:
            iterations = per_epoch * (1 if epochs is None else epochs)
        eval_every = eval_every or per_epoch
        if threads == "auto":
            if self._tuner is None or self._tuner.fixed:
                self._tuner = ThreadTuner()
            tuner = self._tuner
        elif threads is None:
            tuner = None
        elif isinstance(threads, (int, np.integer)) and not isinstance(threads, bool) and threads >= 1:
            tuner = ThreadTuner(plans=[Plan(int(threads), 1)])
        else:
            raise ValueError(f"SGDSolver.train: threads must be 'auto', None or a count >= 1, got {threads!r}")
        bar = tqdm(range(iterations), desc="train", unit="it", disable=not progress, leave=True)
        try:
            for i in bar:
                idx = self._next_batch(len(X))
                if tuner:
                    loss = tuner.run(lambda: self.step(X[idx], y[idx], replicas=tuner.replicas))
                else:
                    loss = self.step(X[idx], y[idx])
                if progress and (i % 10 == 0 or i == iterations - 1):
                    bar.set_postfix(loss=f"{loss:.3f}", epoch=self.epoch,
                                    **({"cores": f"{tuner.replicas}x{tuner.threads}"} if tuner and tuner.threads else {}))
                if (i + 1) % eval_every == 0 or i == iterations - 1:
                    self._evaluate(X, y, val, train_eval_size)
        finally:
            self.threads_used = tuner.choice if tuner else None
            if tuner:
                tuner.restore()
            bar.close()
        return self.history

    def _evaluate(self, X, y, val, train_eval_size):
        h = self.history
        h["eval_iter"].append(self.iter)
        h["epoch"].append(self.epoch + self._cursor / len(X))
        h["train_acc"].append(self.accuracy(X[:train_eval_size], y[:train_eval_size]))
        if val is not None:
            Xv, yv = self._check_data(*val)
            scores = self.net.predict(Xv)
            h["val_acc"].append(_accuracy(scores, yv))
            h["val_loss"].append(SoftmaxWithLoss().forward(scores, yv))

    def accuracy(self, X, y, batch_size=256):
        """Fraction of examples whose highest score is the label."""
        return _accuracy(self.net.predict(X, batch_size), y)

    @staticmethod
    def _check_data(X, y):
        X, y = np.asarray(X), np.asarray(y)
        if len(X) != len(y):
            raise ValueError(f"SGDSolver: {len(X)} examples but {len(y)} labels")
        if len(X) == 0:
            raise ValueError("SGDSolver: empty training set")
        return X, y

    # -- snapshots -----------------------------------------------------------------
    def snapshot(self, path):
        """Save weights, velocities and the solver's state to ``path`` (.npz), atomically."""
        state = {"iter": self.iter, "epoch": self.epoch, "cursor": self._cursor, "hyper": self.hyper,
                 "rng": self.rng.bit_generator.state, "history": self.history}
        arrays = {f"param/{k}": b.data for k, b in self.net.params().items()}
        arrays.update({f"velocity/{k}": v for k, v in self.velocity.items()})
        if self._perm is not None:
            arrays["perm"] = self._perm
        return snapshot.save(path, arrays, state)

    def restore(self, path):
        """Load a snapshot written by :meth:`snapshot` into this solver and its net."""
        try:
            arrays, state = snapshot.load(path)
        except ValueError as e:
            raise ValueError(f"SGDSolver.restore: {e}") from e
        params = self.net.params()
        for name, blob in params.items():
            saved = arrays.get(f"param/{name}")
            if saved is None or saved.shape != blob.data.shape:
                raise ValueError(f"SGDSolver.restore: snapshot {path} does not fit this net: parameter {name} "
                                 f"expected shape {blob.data.shape}, found "
                                 f"{None if saved is None else saved.shape}")
        for name, blob in params.items():
            blob.data[...] = arrays[f"param/{name}"]
            self.velocity[name] = arrays[f"velocity/{name}"].astype(blob.data.dtype)
        self.iter, self.epoch, self._cursor = state["iter"], state["epoch"], state["cursor"]
        self.hyper = state["hyper"]
        self.rng.bit_generator.state = state["rng"]
        self.history = state["history"]
        self._perm = arrays.get("perm")
        return self


def _accuracy(scores, y):
    return float((scores.argmax(axis=1) == np.asarray(y)).mean())

