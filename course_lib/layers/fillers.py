"""Weight fillers (Caffe's ``filler.hpp``): how a layer's parameters start."""

import numpy as np


def xavier(shape, fan_in, rng, dtype=np.float64):
    """Caffe's "xavier" filler: U(-a, a) with a = sqrt(3 / fan_in), so Var(w) = 1 / fan_in
    and a layer keeps the variance of its input."""
    a = np.sqrt(3.0 / fan_in)
    return rng.uniform(-a, a, size=shape).astype(dtype)


def constant(shape, value=0.0, dtype=np.float64):
    """Caffe's "constant" filler (biases start at 0)."""
    return np.full(shape, value, dtype=dtype)


def gaussian(shape, std, rng, dtype=np.float64):
    """Caffe's "gaussian" filler: N(0, std^2), the std chosen by hand per layer in the prototxt."""
    return rng.normal(0.0, std, size=shape).astype(dtype)
