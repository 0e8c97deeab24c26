"""make_strided pads by 1 instead of 2: 32 -> 15 -> 7 -> 3, and a smaller first inner product."""
# %% make_strided
def make_strided(num_classes=10, seed=0, dtype=np.float32):
    s = np.random.default_rng(seed).integers(0, 2**31 - 1, size=5)
    return Net([
        ("conv1", Conv(3, 32, 5, stride=2, pad=1, seed=s[0], dtype=dtype)),
        ("relu1", ReLU()),
        ("conv2", Conv(32, 32, 5, stride=2, pad=1, seed=s[1], dtype=dtype)),
        ("relu2", ReLU()),
        ("conv3", Conv(32, 64, 5, stride=2, pad=1, seed=s[2], dtype=dtype)),
        ("relu3", ReLU()),
        ("ip1", InnerProduct(64 * 3 * 3, 64, seed=s[3], dtype=dtype)),
        ("ip2", InnerProduct(64, num_classes, seed=s[4], dtype=dtype)),
        ("loss", SoftmaxWithLoss()),
    ])
