"""compare re-splits per net: each later net trains on fewer images (the earlier ones' validation share moved)."""
# %% compare
def compare(builders, seeds, X_fit, y_fit, X_val, y_val, iterations, batch_size=100, lr=0.01):
    rows = []
    for k, (name, build) in enumerate(builders.items()):
        keep = len(y_fit) - 2 * k
        for s in seeds:
            out = train_budget(build(seed=s), X_fit[:keep], y_fit[:keep], X_val, y_val, iterations, seed=s,
                               batch_size=batch_size, lr=lr)
            rows.append({"name": name, "seed": s, **out})
    return rows
