"""compare builds each net once and keeps training it for every seed (later seeds get more training)."""
# %% compare
def compare(builders, seeds, X_fit, y_fit, X_val, y_val, iterations, batch_size=100, lr=0.01):
    rows = []
    for name, build in builders.items():
        net = build(seed=seeds[0])
        for s in seeds:
            out = train_budget(net, X_fit, y_fit, X_val, y_val, iterations, seed=s, batch_size=batch_size, lr=lr)
            rows.append({"name": name, "seed": s, **out})
    return rows
