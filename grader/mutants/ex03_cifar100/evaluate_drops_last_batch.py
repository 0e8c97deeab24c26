"""Batches of batch_size with the last, partial batch dropped (N // batch_size full batches only)."""
# %% evaluate
def evaluate(net, X, y, top_k=5, batch_size=256):
    """Top-1 and top-k accuracy (a student's version)."""
    hit1 = hitk = 0
    n_batches = max(1, len(X) // batch_size)
    for b in range(n_batches):
        xb, yb = X[b * batch_size:(b + 1) * batch_size], np.asarray(y[b * batch_size:(b + 1) * batch_size])
        scores = net.forward(xb)
        hit1 += int((scores.argmax(axis=1) == yb).sum())
        best = np.argsort(-scores, axis=1)[:, :top_k]
        hitk += int((best == yb[:, None]).any(axis=1).sum())
    return hit1 / len(X), hitk / len(X)
