"""summarize uses the population standard deviation (np.std's default ddof=0): too small a spread for two seeds."""
# %% summarize
def summarize(rows):
    table = {}
    for name in dict.fromkeys(r["name"] for r in rows):
        acc = np.array([r["val_acc"] for r in rows if r["name"] == name])
        secs = np.array([r["seconds"] for r in rows if r["name"] == name])
        table[name] = {"mean": acc.mean(), "std": acc.std(), "seconds": secs.mean(), "runs": len(acc)}
    return table
