"""make_strided returns cifar10_quick (same parameter shapes, but pooling instead of strides)."""
# %% make_strided
def make_strided(num_classes=10, seed=0, dtype=np.float32):
    return cifar10_quick(num_classes=num_classes, seed=seed, dtype=dtype)
