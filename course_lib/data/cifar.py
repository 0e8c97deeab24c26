"""CIFAR-10 / CIFAR-100 "python version" files (https://www.cs.toronto.edu/~kriz/cifar.html).

Each file is a Python 2 cPickle of a dict. Batches hold ``data``: uint8 (N, 3072), each row
1024 red, then 1024 green, then 1024 blue values of a 32x32 image in row-major order, plus
label lists: ``labels`` (CIFAR-10) or ``fine_labels`` and ``coarse_labels`` (CIFAR-100).
Meta files hold the class names: ``label_names`` (CIFAR-10 ``batches.meta``) or
``fine_label_names`` and ``coarse_label_names`` (CIFAR-100 ``meta``).
"""

import pickle
from pathlib import Path

import numpy as np

__all__ = ["read_cifar_batch", "load_cifar10", "cifar_images", "CIFAR10_FILES"]

CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta")
CIFAR_HINT = ("run course_lib.data.download_cifar10() / download_cifar100() (needs the network), "
              "or download and unpack the python version from https://www.cs.toronto.edu/~kriz/cifar.html")


def _str_keys(obj):
    """Decode bytes keys (files read with encoding='bytes') to str; values are left as stored."""
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _check_batch(d, path):
    """A batch's ``data`` must be uint8 (N, 3072) and every ``*labels`` list must have N entries."""
    data = d["data"]
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == 3 * 32 * 32):
        raise ValueError(f"{path}: 'data' must be uint8 of shape (N, 3072), got "
                         f"{getattr(data, 'dtype', type(data).__name__)} {np.shape(data)}")
    for key in (k for k in d if k.endswith("labels")):
        if len(d[key]) != data.shape[0]:
            raise ValueError(f"{path}: '{key}' has {len(d[key])} entries for {data.shape[0]} images")


def read_cifar_batch(path):
    """Read one CIFAR pickle (a batch or a meta file) -> dict with str keys, values as stored.

    Works on any of CIFAR-10's ``data_batch_*``, ``test_batch``, ``batches.meta`` and
    CIFAR-100's ``train``, ``test``, ``meta``; keys are whatever the file has (e.g. 'data',
    'labels', 'fine_labels', 'coarse_labels', 'filenames', 'label_names', ...).
    Batches are checked: 'data' uint8 (N, 3072), each '*labels' list of length N.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file ({CIFAR_HINT})")
    try:
        with open(path, "rb") as f:
            d = pickle.load(f, encoding="latin1")  # Python 2 str -> str; numpy arrays decode too
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as err:
        raise ValueError(f"{path}: corrupt or truncated CIFAR pickle ({type(err).__name__}: {err})") from None
    if not isinstance(d, dict):
        raise ValueError(f"{path}: expected a pickled dict, got {type(d).__name__}")
    d = _str_keys(d)
    if "data" in d:
        _check_batch(d, path)
    return d


def cifar_images(data):
    """uint8 rows (N, 3072) -> float32 images (N, 3, 32, 32) in [0, 1] (channel-major, like the file)."""
    X = np.asarray(data).reshape(-1, 3, 32, 32).astype(np.float32)
    X /= np.float32(255)  # exact: correctly rounded x / 255
    return X


def _labels(d, path, key="labels", num_classes=10):
    y = np.asarray(d[key], dtype=np.int64)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{path}: '{key}' must be in 0..{num_classes - 1}, found {y.min()}..{y.max()}")
    return y


def _batch(path):
    d = read_cifar_batch(path)
    if "data" not in d or "labels" not in d:
        raise ValueError(f"{path}: a CIFAR-10 batch needs 'data' and 'labels', found {sorted(d)}")
    return d["data"], _labels(d, path)


def cifar10_folder(folder):
    """``folder`` itself or its ``cifar-10-batches-py`` subfolder, whichever holds the files."""
    folder = Path(folder)
    if (folder / CIFAR10_DIR).is_dir():
        folder = folder / CIFAR10_DIR
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder ({CIFAR_HINT})")
    missing = [name for name in CIFAR10_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder}: missing CIFAR-10 files {missing} ({CIFAR_HINT})")
    return folder


def load_cifar10(folder):
    """CIFAR-10 from its unpacked folder (or the folder containing ``cifar-10-batches-py``).

    Returns X_train float32 (50000, 3, 32, 32) in [0, 1], y_train int64 (50000,),
    X_test float32 (10000, 3, 32, 32), y_test int64 (10000,), class_names (list of 10 str).
    """
    folder = cifar10_folder(folder)
    train = [_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    data_test, y_test = _batch(folder / "test_batch")
    meta = read_cifar_batch(folder / "batches.meta")
    names = meta.get("label_names")
    if not (isinstance(names, list) and len(names) == 10):
        raise ValueError(f"{folder / 'batches.meta'}: expected 10 'label_names', got {names!r}")
    X_train = cifar_images(np.concatenate([data for data, _ in train]))
    y_train = np.concatenate([y for _, y in train])
    return X_train, y_train, cifar_images(data_test), y_test, [str(n) for n in names]
