"""Tiny CIFAR files in the exact official format, for tests (no network, no real data).

The official "python version" files were written by Python 2's cPickle (protocol 2): every
string is a Python 2 ``str``, i.e. a SHORT_BINSTRING ('U') or BINSTRING ('T') opcode, and
numpy arrays are pickled through ``numpy.core.multiarray._reconstruct`` with their raw bytes
as such a string. :class:`Py2Pickler` writes the same opcodes, so the files decode under
``pickle.load(f, encoding="latin1")`` exactly as the real ones do (str keys and names).

>>> from cifar_fixtures import write_cifar10, write_cifar100, make_tar_gz
"""

import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np

__all__ = ["Py2Pickler", "dump_py2", "dumps_py2", "random_batch", "write_cifar10", "write_cifar100",
           "make_tar_gz", "CIFAR10_NAMES"]

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


class Py2Pickler(pickle._Pickler):
    """Protocol-2 pickler writing ``str`` and ``bytes`` as Python 2 str, like cPickle."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file):
        super().__init__(file, protocol=2)

    def save_py2_str(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else bytes(obj)
        n = len(data)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + data)
        self.memoize(obj)

    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str

    def save_global(self, obj, name=None):
        """numpy 2 lives in ``numpy._core``; Python 2 files name ``numpy.core`` (still loadable)."""
        module = getattr(obj, "__module__", "") or ""
        if module.startswith("numpy._core"):
            module = "numpy.core" + module[len("numpy._core"):]
            name = name or obj.__qualname__
            self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("ascii"))
            self.memoize(obj)
        else:
            super().save_global(obj, name)


def dumps_py2(obj):
    """Bytes of ``obj`` pickled as Python 2's cPickle.dump(obj, f, 2) would."""
    buf = io.BytesIO()
    Py2Pickler(buf).dump(obj)
    return buf.getvalue()


def dump_py2(obj, path):
    Path(path).write_bytes(dumps_py2(obj))


def random_batch(rng, n, label_keys, batch_label, num_classes=(10,)):
    """A batch dict like the official ones: uint8 'data' (n, 3072), label lists, filenames."""
    d = {"batch_label": batch_label, "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
    for key, k in zip(label_keys, num_classes):
        d[key] = [int(v) for v in rng.integers(0, k, n)]
    d["filenames"] = [f"img_{batch_label.replace(' ', '_')}_{i}.png" for i in range(n)]
    return d


def write_cifar10(root, n_per_batch=4, n_test=6, seed=0):
    """Write ``root/cifar-10-batches-py`` with the 7 official files; returns (folder, dict of the batches)."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = {}
    for i in range(1, 6):
        batches[f"data_batch_{i}"] = random_batch(rng, n_per_batch, ["labels"], f"training batch {i} of 5")
    batches["test_batch"] = random_batch(rng, n_test, ["labels"], "testing batch 1 of 1")
    batches["batches.meta"] = {"num_cases_per_batch": n_per_batch, "label_names": CIFAR10_NAMES,
                               "num_vis": 3072}
    for name, d in batches.items():
        dump_py2(d, folder / name)
    (folder / "readme.html").write_text("<html>CIFAR-10</html>\n")
    return folder, batches


def write_cifar100(root, n_train=8, n_test=4, seed=0):
    """Write ``root/cifar-100-python`` with train, test, meta (fine/coarse labels); returns (folder, dicts)."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-100-python"
    folder.mkdir(parents=True)
    keys, k = ["fine_labels", "coarse_labels"], (100, 20)
    files = {"train": random_batch(rng, n_train, keys, "training batch 1 of 1", k),
             "test": random_batch(rng, n_test, keys, "testing batch 1 of 1", k),
             "meta": {"fine_label_names": [f"fine_{i}" for i in range(100)],
                      "coarse_label_names": [f"coarse_{i}" for i in range(20)]}}
    for name, d in files.items():
        dump_py2(d, folder / name)
    (folder / "file.txt~").write_text("")
    return folder, files


def make_tar_gz(folder, extra=()):
    """Bytes of a .tar.gz holding ``folder`` under its own name (the official layout).

    extra: (name, bytes) members to add as they are, e.g. a hostile '../evil'.
    """
    folder = Path(folder)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder, arcname=folder.name)
        for name, data in extra:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
