"""Both answers are right but warn and write to stderr on every call: 3 of 3."""
# %% square
import sys


def square(x):
    warnings.warn("square: this is only a warning")
    print("square: some noise on stderr", file=sys.stderr)
    np.float64(1.0) / np.float64(0.0)  # a RuntimeWarning from numpy
    return np.asarray(x, dtype=float) ** 2
# %% halve
def halve(x):
    warnings.warn("halve: deprecated", DeprecationWarning)
    if isinstance(x, str):
        raise TypeError("numbers only")
    return np.asarray(x, dtype=float) / 2
