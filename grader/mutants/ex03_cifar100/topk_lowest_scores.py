"""Top-k taken from np.argsort(scores)[:, :k], i.e. the k LOWEST scores."""
# %% evaluate
def evaluate(net, X, y, top_k=5, batch_size=256):
    """Top-1 and top-k accuracy (a student's version)."""
    scores = net.predict(X, batch_size=batch_size)
    y = np.asarray(y)
    top1 = float(np.mean(scores.argmax(axis=1) == y))
    best = np.argsort(scores, axis=1)[:, :top_k]
    return top1, float(np.mean((best == y[:, None]).any(axis=1)))
