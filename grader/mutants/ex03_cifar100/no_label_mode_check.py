"""No ValueError: any label_mode other than 'fine' silently gives coarse labels."""
# %% load_cifar100
def load_cifar100(folder, label_mode="fine"):
    """Load CIFAR-100 (a student's version)."""
    folder = Path(folder)
    mode = "fine" if label_mode == "fine" else "coarse"
    out = []
    for name in ("train", "test"):
        batch = read_cifar_batch(folder / name)
        out.append(batch["data"].reshape(-1, 3, 32, 32).astype(np.float32) / 255)
        out.append(np.array(batch[mode + "_labels"], dtype=np.int64))
    meta = read_cifar_batch(folder / "meta")
    return (*out, list(meta[mode + "_label_names"]))
