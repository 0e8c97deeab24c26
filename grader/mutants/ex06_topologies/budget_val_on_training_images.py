"""train_budget measures the accuracy on training images (as many as the validation set has)."""
# %% train_budget
def train_budget(net, X_fit, y_fit, X_val, y_val, iterations, seed, batch_size=100, lr=0.01):
    solver = SGDSolver(net, lr=lr, momentum=0.9, weight_decay=0.004, batch_size=batch_size, seed=seed)
    t0 = time.perf_counter()
    history = solver.train(X_fit, y_fit, iterations=iterations, progress=False)
    return {"loss": list(history["loss"]), "val_acc": solver.accuracy(X_fit[:len(y_val)], y_fit[:len(y_val)]),
            "seconds": time.perf_counter() - t0}
