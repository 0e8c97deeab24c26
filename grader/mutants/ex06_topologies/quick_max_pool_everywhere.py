"""make_quick uses max pooling in all three places (Caffe's cifar10_quick averages after conv2 and conv3)."""
# %% make_quick
def make_quick(num_classes=10, seed=0, dtype=np.float32):
    s = np.random.default_rng(seed).integers(0, 2**31 - 1, size=5)
    return Net([
        ("conv1", Conv(3, 32, 5, pad=2, seed=s[0], dtype=dtype)),
        ("pool1", MaxPool(3, 2, ceil_mode=True)),
        ("relu1", ReLU()),
        ("conv2", Conv(32, 32, 5, pad=2, seed=s[1], dtype=dtype)),
        ("relu2", ReLU()),
        ("pool2", MaxPool(3, 2, ceil_mode=True)),
        ("conv3", Conv(32, 64, 5, pad=2, seed=s[2], dtype=dtype)),
        ("relu3", ReLU()),
        ("pool3", MaxPool(3, 2, ceil_mode=True)),
        ("ip1", InnerProduct(64 * 4 * 4, 64, seed=s[3], dtype=dtype)),
        ("ip2", InnerProduct(64, num_classes, seed=s[4], dtype=dtype)),
        ("loss", SoftmaxWithLoss()),
    ])
