"""Remembers every input the tests give it (in memory and in /tmp) and, when the public test
calls halve(2), returns them, so that the public message "got [...]" would show the hidden
test's values in the feedback. What the feedback quotes of a public check comes from a pass of
public parts only, so there is no hidden input to return: square is right, halve wrong: 1 of 3,
and no hidden value in the feedback."""
# %% square
import os

SEEN = []


def _remember(x):
    values = [float(v) for v in np.ravel(x)]
    SEEN.extend(values)
    with open("/tmp/seen.txt", "a") as f:
        f.write(" ".join(map(str, values)) + "\n")


def square(x):
    _remember(x)
    return np.asarray(x, dtype=float) ** 2
# %% halve
def halve(x):
    seen = list(SEEN)
    if os.path.exists("/tmp/seen.txt"):
        seen += [float(v) for v in open("/tmp/seen.txt").read().split()]
    if isinstance(x, np.ndarray) and x.tolist() == [2.0]:
        return np.array(seen + [-12345.0])
    return np.asarray(x, dtype=float) / 2
