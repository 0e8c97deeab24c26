"""compare runs only the first seed."""
# %% compare
def compare(builders, seeds, X_fit, y_fit, X_val, y_val, iterations, batch_size=100, lr=0.01):
    rows = []
    for name, build in builders.items():
        out = train_budget(build(seed=seeds[0]), X_fit, y_fit, X_val, y_val, iterations, seed=seeds[0],
                           batch_size=batch_size, lr=lr)
        rows.append({"name": name, "seed": seeds[0], **out})
    return rows
