"""The square cell defines a right square, then segfaults the worker (so the cell is not
replayed and square never exists for the tests); halve is right: 2 of 3."""
# %% square
import ctypes


def square(x):
    return np.asarray(x, dtype=float) ** 2


ctypes.string_at(0)
