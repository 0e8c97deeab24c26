"""The loss layer dropped while rebuilding the net by hand (scores come out, but no softmax loss)."""
# %% make_cifar100_net
def make_cifar100_net(label_mode="fine", seed=0):
    """cifar10_quick for CIFAR-100 (a student's version)."""
    k = {"fine": 100, "coarse": 20}[label_mode] if label_mode in ("fine", "coarse") else None
    if k is None:
        raise ValueError(f"bad label_mode {label_mode!r}")
    return Net(cifar10_quick(num_classes=k, seed=seed).layers[:-1])
