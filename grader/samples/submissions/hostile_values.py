"""Both answers are wrong, and they return values meant to break or fool the tester: an object
whose __array__ and __eq__ lie, an ndarray subclass whose comparisons are always true, a huge
integer, a deeply nested list, an object array, a str subclass. The tester decodes data only
(plain dtypes, limited size and depth); the rest arrives as opaque handles or is refused: 0 of 3."""
# %% square
class Liar:
    def __array__(self, dtype=None, copy=None):
        return np.array([1.0, 4.0])

    def __eq__(self, other):
        return True


class Always(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)


CALLS = [0]


def square(x):
    CALLS[0] += 1
    n = CALLS[0] % 4
    if n == 0:
        return Liar()
    if n == 1:
        return np.asarray(x, dtype=float).view(Always)
    if n == 2:
        nested = []
        for _ in range(100_000):
            nested = [nested]
        return nested
    return np.array([10 ** 400, "x"], dtype=object)
# %% halve
class Text(str):
    def __eq__(self, other):
        return True


def halve(x):
    if isinstance(x, str):
        return Text("no error")
    return 10 ** 10000
