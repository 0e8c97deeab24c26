"""Both answers are right, but their cells call exit() and sys.exit() after the definitions: 3 of 3."""
# %% square
def square(x):
    return np.asarray(x, dtype=float) ** 2


exit()
# %% halve
import sys


def halve(x):
    if isinstance(x, str):
        raise TypeError("numbers only")
    return np.asarray(x, dtype=float) / 2


sys.exit(0)
