"""make_strided without ReLUs: three strided convolutions and two inner products make one linear map."""
# %% make_strided
def make_strided(num_classes=10, seed=0, dtype=np.float32):
    s = np.random.default_rng(seed).integers(0, 2**31 - 1, size=5)
    return Net([
        ("conv1", Conv(3, 32, 5, stride=2, pad=2, seed=s[0], dtype=dtype)),
        ("conv2", Conv(32, 32, 5, stride=2, pad=2, seed=s[1], dtype=dtype)),
        ("conv3", Conv(32, 64, 5, stride=2, pad=2, seed=s[2], dtype=dtype)),
        ("ip1", InnerProduct(64 * 4 * 4, 64, seed=s[3], dtype=dtype)),
        ("ip2", InnerProduct(64, num_classes, seed=s[4], dtype=dtype)),
        ("loss", SoftmaxWithLoss()),
    ])
