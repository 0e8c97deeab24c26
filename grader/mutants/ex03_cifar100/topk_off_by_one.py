"""Top-k counts the label when at most k classes beat it (<= k), i.e. top-(k+1)."""
# %% evaluate
def evaluate(net, X, y, top_k=5, batch_size=256):
    """Top-1 and top-k accuracy (a student's version)."""
    scores = net.predict(X, batch_size=batch_size)
    y = np.asarray(y)
    label_score = scores[np.arange(len(y)), y]
    beaten_by = (scores > label_score[:, None]).sum(axis=1)
    return float(np.mean(beaten_by == 0)), float(np.mean(beaten_by <= top_k))
