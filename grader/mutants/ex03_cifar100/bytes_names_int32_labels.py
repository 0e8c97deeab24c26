"""Loaded with encoding='bytes': names stay bytes, and labels are left as int32 arrays."""
# %% load_cifar100
def load_cifar100(folder, label_mode="fine"):
    """Load CIFAR-100 (a student's version)."""
    import pickle
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f"bad label_mode {label_mode!r}")
    folder = Path(folder)
    out = []
    for name in ("train", "test"):
        with open(folder / name, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        out.append(batch[b"data"].reshape(-1, 3, 32, 32).astype(np.float32) / 255)
        out.append(np.array(batch[(label_mode + "_labels").encode()], dtype=np.int32))
    with open(folder / "meta", "rb") as f:
        meta = pickle.load(f, encoding="bytes")
    return (*out, list(meta[(label_mode + "_label_names").encode()]))
