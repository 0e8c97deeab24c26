"""Images divided by 255.0 straight from uint8, which gives float64 instead of float32."""
# %% load_cifar100
def load_cifar100(folder, label_mode="fine"):
    """Load CIFAR-100 (a student's version)."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f"bad label_mode {label_mode!r}")
    folder = Path(folder)
    out = []
    for name in ("train", "test"):
        batch = read_cifar_batch(folder / name)
        out.append(batch["data"].reshape(-1, 3, 32, 32) / 255.0)
        out.append(np.array(batch[label_mode + "_labels"], dtype=np.int64))
    meta = read_cifar_batch(folder / "meta")
    return (*out, list(meta[label_mode + "_label_names"]))
