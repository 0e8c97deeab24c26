"""make_deep ignores its seed argument: every call starts from the same weights, so seeds cannot vary the runs."""
# %% make_deep
def make_deep(num_classes=10, seed=0, dtype=np.float32):
    return Net([
        ("conv1", Conv(3, 32, 5, pad=2, seed=1, dtype=dtype)),
        ("pool1", MaxPool(3, 2, ceil_mode=True)),
        ("relu1", ReLU()),
        ("conv2", Conv(32, 32, 5, pad=2, seed=1, dtype=dtype)),
        ("relu2", ReLU()),
        ("pool2", AvePool(3, 2, ceil_mode=True)),
        ("conv3", Conv(32, 64, 5, pad=2, seed=1, dtype=dtype)),
        ("relu3", ReLU()),
        ("conv4", Conv(64, 64, 3, pad=1, seed=1, dtype=dtype)),
        ("relu4", ReLU()),
        ("pool3", AvePool(3, 2, ceil_mode=True)),
        ("ip1", InnerProduct(64 * 4 * 4, 64, seed=1, dtype=dtype)),
        ("ip2", InnerProduct(64, num_classes, seed=1, dtype=dtype)),
        ("loss", SoftmaxWithLoss()),
    ])
