"""compare gives each net its own data order (seed + index of the net): an unfair comparison."""
# %% compare
def compare(builders, seeds, X_fit, y_fit, X_val, y_val, iterations, batch_size=100, lr=0.01):
    rows = []
    for k, (name, build) in enumerate(builders.items()):
        for s in seeds:
            out = train_budget(build(seed=s), X_fit, y_fit, X_val, y_val, iterations, seed=s + 100 * k,
                               batch_size=batch_size, lr=lr)
            rows.append({"name": name, "seed": s, **out})
    return rows
