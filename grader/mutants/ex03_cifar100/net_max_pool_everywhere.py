"""The CIFAR-100 net uses max pooling in all three pooling layers, where cifar10_quick averages in pool2 and pool3."""
# %% make_cifar100_net
from course_lib.layers import AvePool, MaxPool, ReLU
def make_cifar100_net(label_mode="fine", seed=0):
    num_classes = {"fine": 100, "coarse": 20}
    if label_mode not in num_classes:
        raise ValueError(f"make_cifar100_net: label_mode must be 'fine' or 'coarse', got {label_mode!r}")
    k = num_classes[label_mode]
    s = np.random.default_rng(seed).integers(0, 2**31 - 1, size=5)
    return Net([
        ("conv1", Conv(3, 32, 5, pad=2, seed=s[0])),
        ("pool1", MaxPool(3, 2, ceil_mode=True)),
        ("relu1", ReLU()),
        ("conv2", Conv(32, 32, 5, pad=2, seed=s[1])),
        ("relu2", ReLU()),
        ("pool2", MaxPool(3, 2, ceil_mode=True)),
        ("conv3", Conv(32, 64, 5, pad=2, seed=s[2])),
        ("relu3", ReLU()),
        ("pool3", MaxPool(3, 2, ceil_mode=True)),
        ("ip1", InnerProduct(64 * 4 * 4, 64, seed=s[3])),
        ("ip2", InnerProduct(64, k, seed=s[4])),
        ("loss", SoftmaxWithLoss()),
    ])
