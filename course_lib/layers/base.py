"""The layer contract of the slides (Caffe's ``layer.hpp``): top shape, Forward, Backward.

A layer maps a *bottom* array to a *top* array. ``backward(top_diff)`` receives
dE/dtop from the layer above and

1. returns dE/dbottom (propagates the gradient down), and
2. **adds** dE/dparam into ``params[name].diff``.

Adding (not assigning) is Caffe's rule: a parameter used in several places -- a
convolution kernel slid over every pixel, or one layer shared by two branches --
gets the *sum* of the gradients of all its uses. The net (or solver) zeroes the
diffs once per iteration.
"""

import functools
import inspect

import numpy as np

from .geometry import conv_size, pooled_size  # noqa: F401  (their old home; kept for old imports)


def _takes_propagate_down(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True  # not introspectable: leave it alone
    return any(p.name == "propagate_down" or p.kind is p.VAR_KEYWORD for p in params)


def _as_top_shape(setup):
    @functools.wraps(setup)
    def top_shape(self, bottom_shape):
        return setup(self, bottom_shape)
    top_shape._old_setup = True
    return top_shape


def _with_propagate_down(backward):
    @functools.wraps(backward)  # inspect.getsource still shows the subclass's own code
    def backward_with_flag(self, *args, propagate_down=True, **kwargs):
        bottom_diff = backward(self, *args, **kwargs)
        return bottom_diff if propagate_down else None
    return backward_with_flag


class Blob:
    """A parameter: ``data`` and its gradient ``diff`` (dE/d data), same shape.

    ``lr_mult`` and ``decay_mult`` scale the solver's learning rate and weight decay for this
    parameter (Caffe's ``param { lr_mult: 2 }``, which its example nets give every bias).
    """

    def __init__(self, data, lr_mult=1.0, decay_mult=1.0):
        self.data = np.asarray(data)
        self.diff = np.zeros_like(self.data)
        self.lr_mult, self.decay_mult = float(lr_mult), float(decay_mult)

    @property
    def shape(self):
        return self.data.shape

    def zero_diff(self):
        self.diff[...] = 0

    def __repr__(self):
        mults = "" if (self.lr_mult, self.decay_mult) == (1, 1) else \
            f", lr_mult={self.lr_mult:g}, decay_mult={self.decay_mult:g}"
        return f"Blob(shape={self.data.shape}, dtype={self.data.dtype}{mults})"


class _OldForms:
    """Keeps layers written against the contract's old forms working (students' notebooks subclass
    Layer), so that :class:`Layer` itself shows only the contract:

    - ``setup`` is the old name of ``top_shape``: calling it calls ``top_shape``, and a subclass that
      defines only ``setup`` gets it as its ``top_shape`` too;
    - a subclass's ``backward(self, top_diff)`` without ``propagate_down`` is adapted once, when the
      class is created: it still computes dE/dbottom, and None is returned when nobody wants it.
    """

    def setup(self, bottom_shape):
        for klass in type(self).__mro__:  # the nearest real top_shape (not a subclass's setup under that name)
            top_shape = klass.__dict__.get("top_shape")
            if top_shape is not None and not getattr(top_shape, "_old_setup", False):
                return top_shape(self, bottom_shape)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        setup = cls.__dict__.get("setup")
        if callable(setup) and "top_shape" not in cls.__dict__:
            cls.top_shape = _as_top_shape(setup)
        fn = cls.__dict__.get("backward")
        if callable(fn) and not _takes_propagate_down(fn):
            cls.backward = _with_propagate_down(fn)


class Layer(_OldForms):
    """Base class: subclasses implement ``top_shape``, ``forward`` and ``backward``.

    - ``top_shape(bottom_shape)`` checks the bottom's shape and returns the top's shape
      (Caffe's Reshape). ``forward`` calls it, so a bad input fails with the layer's name.
    - ``forward(bottom)`` computes the top and keeps what ``backward`` needs.
    - ``backward(top_diff, propagate_down=True)`` returns dE/dbottom and accumulates the
      parameters' diffs; with ``propagate_down=False`` (Caffe's flag, for a bottom that needs
      no gradient, such as the images) it may skip dE/dbottom and return None.
    """

    def __init__(self):
        self.params = {}

    # -- the contract -----------------------------------------------------
    def top_shape(self, bottom_shape):
        return tuple(bottom_shape)

    def forward(self, bottom):
        raise NotImplementedError

    def backward(self, top_diff, propagate_down=True):
        raise NotImplementedError

    # -- helpers shared by all layers ---------------------------------------
    def zero_diff(self):
        for blob in self.params.values():
            blob.zero_diff()

    def astype(self, dtype):
        """Cast the parameters (and reset their diffs) to ``dtype``; returns self."""
        for blob in self.params.values():
            blob.data = blob.data.astype(dtype)
            blob.diff = np.zeros_like(blob.data)
        return self

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"{self.name}()"

    def _check_float(self, x, what="bottom"):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"{self.name}: {what} must be a floating-point array, got dtype {x.dtype} "
                            f"(convert with x.astype(np.float32) or np.float64)")
        return x

    def _check_rank(self, shape, ndim, layout):
        if len(shape) != ndim:
            raise ValueError(f"{self.name}: expected a {ndim}-D bottom {layout}, got shape {tuple(shape)}")

    def _check_top_diff(self, top_diff, expected_shape):
        top_diff = self._check_float(top_diff, "top_diff")
        if top_diff.shape != tuple(expected_shape):
            raise ValueError(f"{self.name}: top_diff has shape {top_diff.shape}, expected the top's shape "
                             f"{tuple(expected_shape)}")
        return top_diff

    def _need_forward(self, cache):
        if cache is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        return cache


class LossLayer(Layer):
    """A layer at the top of the net (Caffe's LossLayer): ``forward(scores, labels)`` returns the
    loss E (a float); ``backward()`` returns dE/dscores. Its top is the scalar E, so the
    top_diff that starts back-propagation is dE/dE = 1 (the default)."""

    def top_shape(self, bottom_shape):
        self._check_rank(bottom_shape, 2, "of scores (N, C)")
        return ()

    def forward(self, scores, labels):
        raise NotImplementedError

    def backward(self, top_diff=1.0, propagate_down=True):
        raise NotImplementedError


def param_dtype(bottom, blob):
    """Compute in the parameters' dtype (float64 by default; float32 after ``astype``)."""
    return bottom.astype(blob.data.dtype, copy=False)
