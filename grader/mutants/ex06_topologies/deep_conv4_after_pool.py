"""make_deep puts the fourth convolution after the last pooling (on 4x4 maps instead of 8x8)."""
# %% make_deep
def make_deep(num_classes=10, seed=0, dtype=np.float32):
    s = np.random.default_rng(seed).integers(0, 2**31 - 1, size=6)
    return Net([
        ("conv1", Conv(3, 32, 5, pad=2, seed=s[0], dtype=dtype)),
        ("pool1", MaxPool(3, 2, ceil_mode=True)),
        ("relu1", ReLU()),
        ("conv2", Conv(32, 32, 5, pad=2, seed=s[1], dtype=dtype)),
        ("relu2", ReLU()),
        ("pool2", AvePool(3, 2, ceil_mode=True)),
        ("conv3", Conv(32, 64, 5, pad=2, seed=s[2], dtype=dtype)),
        ("relu3", ReLU()),
        ("pool3", AvePool(3, 2, ceil_mode=True)),
        ("conv4", Conv(64, 64, 3, pad=1, seed=s[3], dtype=dtype)),
        ("relu4", ReLU()),
        ("ip1", InnerProduct(64 * 4 * 4, 64, seed=s[4], dtype=dtype)),
        ("ip2", InnerProduct(64, num_classes, seed=s[5], dtype=dtype)),
        ("loss", SoftmaxWithLoss()),
    ])
