"""The net always has 100 outputs, also for the 20 coarse classes."""
# %% make_cifar100_net
def make_cifar100_net(label_mode="fine", seed=0):
    """cifar10_quick for CIFAR-100 (a student's version)."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f"bad label_mode {label_mode!r}")
    return cifar10_quick(num_classes=100, seed=seed)
