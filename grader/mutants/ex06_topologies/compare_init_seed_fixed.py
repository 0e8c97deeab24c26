"""compare builds every net with seed 0: the seeds change only the data order, not the initial weights."""
# %% compare
def compare(builders, seeds, X_fit, y_fit, X_val, y_val, iterations, batch_size=100, lr=0.01):
    rows = []
    for name, build in builders.items():
        for s in seeds:
            out = train_budget(build(seed=0), X_fit, y_fit, X_val, y_val, iterations, seed=s,
                               batch_size=batch_size, lr=lr)
            rows.append({"name": name, "seed": s, **out})
    return rows
