"""square is right; halve returns x itself: 1 of 3."""
# %% halve
def halve(x):
    if isinstance(x, str):
        raise TypeError("numbers only")
    return np.asarray(x, dtype=float)
