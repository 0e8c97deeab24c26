"""summarize sorts the names instead of keeping the order of the experiment."""
# %% summarize
def summarize(rows):
    table = {}
    for name in sorted({r["name"] for r in rows}):
        acc = np.array([r["val_acc"] for r in rows if r["name"] == name])
        secs = np.array([r["seconds"] for r in rows if r["name"] == name])
        table[name] = {"mean": acc.mean(), "std": acc.std(ddof=1), "seconds": secs.mean(), "runs": len(acc)}
    return table
