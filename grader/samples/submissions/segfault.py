"""The square cell defines a right square, then segfaults the kernel (so square is never
defined after the restart); halve is right: 2 of 3."""
# %% square
import ctypes


def square(x):
    return np.asarray(x, dtype=float) ** 2


ctypes.string_at(0)
