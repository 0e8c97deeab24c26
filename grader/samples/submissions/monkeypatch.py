"""Both answers are wrong, and the cells patch what the tests use (np.allclose,
numpy.testing, builtins.abs, math.isclose, AssertionError): 0 of 3."""
# %% square
import builtins
import math
import numpy
import numpy.testing


def square(x):
    return np.asarray(x, dtype=float) * 3


np.allclose = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
builtins.abs = lambda value: 0.0
math.isclose = lambda *args, **kwargs: True
AssertionError = Warning
# %% halve
def halve(x):
    if isinstance(x, str):
        raise TypeError("numbers only")
    return np.asarray(x, dtype=float)


def isinstance(obj, cls):
    return True
