"""train_budget trains for `iterations` epochs instead of iterations."""
# %% train_budget
def train_budget(net, X_fit, y_fit, X_val, y_val, iterations, seed, batch_size=100, lr=0.01):
    solver = SGDSolver(net, lr=lr, momentum=0.9, weight_decay=0.004, batch_size=batch_size, seed=seed)
    t0 = time.perf_counter()
    history = solver.train(X_fit, y_fit, epochs=iterations, progress=False)
    return {"loss": list(history["loss"]), "val_acc": solver.accuracy(X_val, y_val),
            "seconds": time.perf_counter() - t0}
