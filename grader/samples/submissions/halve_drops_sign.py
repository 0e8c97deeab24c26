"""square is right; halve drops the sign (|x| / 2): it passes the public test and fails a hidden one: 1 of 3."""
# %% halve
def halve(x):
    if isinstance(x, str):
        raise TypeError("numbers only")
    return np.abs(np.asarray(x, dtype=float)) / 2
